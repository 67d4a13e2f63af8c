"""examples/payloads: a request per test card and instrument, a response per status, all valid."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from examples_support import reference_server

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
    assert f"{broken}: #/merchantSerialNumber: CL015 error: '12' does not match '^[0-9]{{4,6}}$'" in result.output


def test_an_empty_directory_is_not_a_pass(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["lint", "--payloads", str(tmp_path)])
    assert result.exit_code == 1
    assert "holds no *.json payload files" in result.output


# What the reference server answers to each request file sent in name order (the soft-decline pair
# without completing 3-D Secure in between, so the second callback fails). The slow-issuer card is
# answered just before the deadline by design (~16 s here); the reference server's tests time it.
SLOW = "request-0091-issuer-timeout.json"
REFERENCE_ANSWERS = {
    "request-0002-capture.json": ("CAPTURE", None),
    "request-0043-stolen-card.json": ("FAIL", "43"),
    "request-0051-insufficient-funds.json": ("FAIL", "51"),
    "request-0091-issuer-timeout.json": ("FAIL", "91"),
    "request-1234-reserve-token.json": ("RESERVE", None),
    "request-3000-1-soft-decline.json": ("SOFT_DECLINE", None),
    "request-3000-2-after-3ds.json": ("FAIL", "3DS_FAILED"),
    "request-4321-reserve-pan.json": ("RESERVE", None),
    "request-5555-reserve-future-fields.json": ("RESERVE", None),
}


@pytest.mark.e2e
def test_reference_server_answers_as_the_readme_says(tmp_path: Path) -> None:
    files = sorted(PAYLOADS.glob("request-*.json"))
    assert [f.name for f in files] == sorted(REFERENCE_ANSWERS)
    readme = (PAYLOADS / "README.md").read_text()
    with reference_server(tmp_path) as base:
        for file in (f for f in files if f.name != SLOW):
            answer = httpx.post(
                f"{base}/psp-makepayment", content=file.read_bytes(), headers={"Content-Type": "application/json"},
                timeout=30,
            )
            assert answer.status_code == 200, (file.name, answer.text)
            body = answer.json()
            assert (body["status"], body.get("errorCode")) == REFERENCE_ANSWERS[file.name], file.name
            row = next(line for line in readme.splitlines() if f"`{file.name}`" in line)
            assert f"`{body['status']}`" in row, row
