"""examples/broken_psp: the suite fails the deliberately broken PSP with exactly the codes its README lists."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from examples_support import EXAMPLES, reference_server, run_cli, running

HERE = EXAMPLES / "broken_psp"
SECRET = "broken-example-secret"


def _listed(mode: str) -> tuple[set[str], set[str]]:
    """The defect and warning codes the README promises for a run `without` or `with` a secret."""
    readme = (HERE / "README.md").read_text()
    match = re.search(rf"^{mode} a secret: defects ([A-Z0-9, ]+); warnings ([A-Z0-9, ]+)$", readme, re.MULTILINE)
    assert match, f"README.md has no line '{mode} a secret: defects ...; warnings ...'"
    defects, warnings = (set(re.findall(r"CC\d{3}", group)) for group in match.groups())
    return defects, warnings


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["Without", "With"])
def test_suite_fails_the_broken_psp_with_the_listed_codes(mode: str, tmp_path: Path) -> None:
    secret = SECRET if mode == "With" else None
    defects, warnings = _listed(mode)
    env = {"CARD_CALLBACK_HMAC_SECRET": secret} if secret else {}
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    with running(HERE / "app.py", tmp_path / "psp.log", secret=secret) as url:
        result = run_cli("test", url, "--json-report", str(report), "--junit-xml", str(junit), env=env)
    assert result.returncode == 1, result.stdout[-6000:] + result.stderr
    assert f"RESULT: defects found ({', '.join(sorted(defects))})" in result.stdout
    failures = json.loads(report.read_text())["failures"]
    assert {f["code"] for f in failures if f["severity"] == "defect"} == defects
    assert {f["code"] for f in failures if f["severity"] == "warning"} == warnings
    # Every failure can be reproduced by hand.
    assert all(exchange["curl"].startswith("curl ") for f in failures for exchange in f["exchanges"])
    failed_cases = {
        case.get("name", "").split()[0] for case in ET.parse(junit).iter("testcase") if case.find("failure") is not None
    }
    assert failed_cases == defects


@pytest.mark.e2e
def test_replay_still_fails_the_broken_psp_and_holds_against_the_reference_server(tmp_path: Path) -> None:
    defects, _ = _listed("Without")
    report = tmp_path / "report.json"
    with running(HERE / "app.py", tmp_path / "psp.log") as url:
        tested = run_cli("test", url, "--max-examples", "10", "--seed", "5", "--json", str(report))
        assert tested.returncode == 1, tested.stdout[-4000:] + tested.stderr
        replayed = run_cli("replay", str(report), "--only-failures")
    assert f"  replay    card-callback replay {report} --only-failures" in tested.stdout
    data = json.loads(report.read_text())
    assert data["exchangesRecorded"] == "all" and len(data["exchanges"]) == data["requests"]
    assert all(f["replay"] == f"card-callback replay {report} --only-failures" for f in data["failures"])
    assert replayed.returncode == 1, replayed.stdout[-4000:] + replayed.stderr
    assert f"RESULT: still failing ({', '.join(sorted(defects))})" in replayed.stdout
    with reference_server(tmp_path) as base:
        fixed = run_cli("replay", str(report), "--url", base + "/psp-makepayment")
    assert fixed.returncode == 0, fixed.stdout[-4000:] + fixed.stderr
    assert f"sending   {data['requests']} of {data['requests']} recorded exchanges" in fixed.stdout
    assert "RESULT: holds" in fixed.stdout
    gone = run_cli("replay", str(report), "--url", "http://127.0.0.1:9/psp-makepayment", "--only-failures")
    assert gone.returncode == 2
    assert gone.stderr.startswith("error: could not replay: ") and gone.stderr.count("\n") == 1


def test_the_kept_report_is_the_listed_one() -> None:
    defects, _ = _listed("With")
    kept = (HERE / "report.txt").read_text()
    assert f"RESULT: defects found ({', '.join(sorted(defects))})" in kept
    for code in defects:
        assert re.search(rf"^{code} .* FAILED", kept, re.MULTILINE), code
