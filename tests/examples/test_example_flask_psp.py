"""examples/flask_psp: an independent Flask PSP passes `card-callback test`, without and with a secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
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
        # CC013: the bundled document declares no auth header.
        expected = "skipped" if (code in signing_checks and not secret) or code == "CC013" else "passed"
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


@pytest.mark.e2e
def test_flask_psp_follows_the_attempt_rules_of_the_document(tmp_path: Path) -> None:
    example = yaml.safe_load((EXAMPLES.parent / "openapi" / "card-callback.yaml").read_text())
    body = example["paths"]["/psp-makepayment"]["post"]["requestBody"]["content"]["application/json"]
    callback = body["examples"]["tokenCallback"]["value"]

    def with_(**changes: Any) -> dict[str, Any]:
        token = {**callback["networkToken"], "cryptogram": changes.pop("cryptogram", "c1")}
        return {**callback, **changes, "networkToken": token}

    with running(APP, tmp_path / "psp.log") as url, httpx.Client(timeout=10) as client:
        first = client.post(url, json=with_(authorizationAttemptId="a-1"))
        assert first.status_code == 200 and first.json()["status"] == "RESERVE"
        assert client.post(url, json=with_(authorizationAttemptId="a-1")).json() == first.json()  # identical
        assert client.post(url, json=with_(authorizationAttemptId="a-1", cryptogram="c2")).status_code == 409

        masked = callback["maskedCardNumber"][:-4] + "3000"
        soft = client.post(url, json=with_(authorizationAttemptId="a-2", maskedCardNumber=masked))
        assert soft.json()["status"] == "SOFT_DECLINE"
        page = client.get(soft.json()["softDeclineRedirectUrl"])
        assert page.status_code == 303 and page.headers["location"] == callback["softDeclineCompletedRedirectUrl"]
        second = client.post(url, json=with_(authorizationAttemptId="a-2", maskedCardNumber=masked, cryptogram="c2"))
        assert second.status_code == 200 and second.json()["status"] == "RESERVE"

        assert client.post(url, json=with_(authorizationAttemptId="a-3", maskedCardNumber=masked)).json()["status"] \
            == "SOFT_DECLINE"
        second = client.post(url, json=with_(authorizationAttemptId="a-3", maskedCardNumber=masked, cryptogram="c2"))
        assert second.json() == {"status": "FAIL", "errorCode": "3DS_FAILED",
                                 "errorMessage": "3-D Secure not completed"}  # the page was never visited
