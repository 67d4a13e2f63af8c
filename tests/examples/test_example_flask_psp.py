"""examples/flask_psp: an independent Flask PSP passes `card-callback test`, without and with a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from examples_support import EXAMPLES, run_cli, running

APP = EXAMPLES / "flask_psp" / "app.py"
SECRET = "flask-example-secret/+="  # looks like base64 on purpose: it must be used as written


@pytest.mark.e2e
@pytest.mark.parametrize("secret", [None, SECRET], ids=["unsigned", "signed"])
def test_flask_psp_conforms_even_strictly(secret: str | None, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    env = {"CARD_CALLBACK_HMAC_SECRET": secret} if secret else {}
    with running(APP, tmp_path / "psp.log", secret=secret) as url:
        result = run_cli("test", url, "--strict", "--json-report", str(report), env=env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    assert "RESULT: conforms" in result.stdout
    outcomes = {check["code"]: check["outcome"] for check in json.loads(report.read_text())["checks"]}
    signing_checks = {"CC006", "CC008"}
    for code, outcome in outcomes.items():
        expected = "skipped" if code in signing_checks and not secret else "passed"
        assert outcome == expected, (code, outcome)
    log = (tmp_path / "psp.log").read_text()
    assert "answered RESERVE" in log


@pytest.mark.e2e
def test_flask_psp_without_the_secret_tests_nothing(tmp_path: Path) -> None:
    """A PSP that checks signatures, tested without the secret, is not passed: the suite says why."""
    with running(APP, tmp_path / "psp.log", secret=SECRET) as url:
        result = run_cli("test", url, "--max-examples", "10")
    assert result.returncode == 2, result.stdout[-3000:]
    assert "tested nothing" in result.stdout
