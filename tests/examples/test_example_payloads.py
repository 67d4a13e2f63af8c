"""examples/payloads: a request per test card and instrument, a response per status, all valid."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from callback_core.spec import Contract
from card_callback.cli import main

PAYLOADS = Path(__file__).resolve().parents[2] / "examples" / "payloads"
TEST_CARDS = ("0002", "0051", "0043", "3000", "0091")


def _requests() -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(PAYLOADS.glob("request-*.json"))]


def test_linter_passes_the_payloads() -> None:
    result = CliRunner().invoke(main, ["lint", "--payloads", str(PAYLOADS)])
    assert result.exit_code == 0, result.output
    count = len(list(PAYLOADS.glob("*.json")))
    assert result.output.rstrip().endswith(f"payloads: {count} payload(s) OK")


def test_every_test_card_instrument_and_status_is_covered(contract: Contract) -> None:
    last_four = {str(body["maskedCardNumber"])[-4:] for body in _requests()}
    assert set(TEST_CARDS) <= last_four
    assert last_four - set(TEST_CARDS), "no request for a card that gets RESERVE"
    assert {body["paymentInstrument"] for body in _requests()} == {"TOKEN", "PAN"}
    statuses = {json.loads(p.read_text())["status"] for p in PAYLOADS.glob("response-*.json")}
    assert statuses == set(contract.statuses)


def test_every_payload_is_listed_in_the_readme() -> None:
    readme = (PAYLOADS / "README.md").read_text()
    for path in PAYLOADS.glob("*.json"):
        assert f"`{path.name}`" in readme, path.name


def test_a_broken_copy_fails_with_file_and_pointer(tmp_path: Path) -> None:
    shutil.copytree(PAYLOADS, tmp_path / "payloads")
    broken = tmp_path / "payloads" / "request-4321-reserve-pan.json"
    body = json.loads(broken.read_text())
    body["merchantSerialNumber"] = "12"
    broken.write_text(json.dumps(body))
    result = CliRunner().invoke(main, ["lint", "--payloads", str(tmp_path / "payloads")])
    assert result.exit_code == 1
    assert f"{broken}: #/merchantSerialNumber: '12' does not match '^[0-9]{{4,6}}$'" in result.output


def test_an_empty_directory_is_not_a_pass(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["lint", "--payloads", str(tmp_path)])
    assert result.exit_code == 1
    assert "holds no *.json payload files" in result.output
