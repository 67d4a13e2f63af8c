"""examples/broken_psp: the suite fails the deliberately broken PSP with exactly the codes its README lists."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from examples_support import EXAMPLES, run_cli, running

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


def test_the_kept_report_is_the_listed_one() -> None:
    defects, _ = _listed("With")
    kept = (HERE / "report.txt").read_text()
    assert f"RESULT: defects found ({', '.join(sorted(defects))})" in kept
    for code in defects:
        assert re.search(rf"^{code} .* FAILED", kept, re.MULTILINE), code
