"""`card-callback send` against small test PSPs: classification, deadline, retries, 3-D Secure, HMAC, masking."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from simulator_helpers import run_json, run_send
from simulator_psps import HMAC_SECRET, TestPsp

FINAL = "check the payment status at the merchant you came from"
JSON_FIELDS = ["outcome", "retryable", "httpStatus", "elapsedMs", "userMessage", "attempts"]


@pytest.mark.parametrize(
    ("kind", "status", "why"),
    [
        ("500", 500, "HTTP 500 instead of 200: database unavailable"),
        ("400", 400, "HTTP 400 instead of 200"),
        ("broken-json", 200, "not JSON"),
        ("invalid", 200, "not a valid callback answer"),
    ],
)
def test_final_answers_are_errors(psp: TestPsp, kind: str, status: int, why: str) -> None:
    code, report = run_json(f"{psp.base_url}/answer/{kind}")
    assert code == 1
    assert list(report) == JSON_FIELDS
    assert report["outcome"] == "ERROR"
    assert report["retryable"] is False
    assert report["httpStatus"] == status
    assert report["userMessage"] == FINAL
    assert why in report["attempts"][0]["detail"]


@pytest.mark.parametrize("kind", ["slow", "trickle"])
def test_no_complete_answer_within_the_deadline_is_a_timeout(psp: TestPsp, kind: str) -> None:
    started = time.monotonic()
    code, report = run_json(f"{psp.base_url}/answer/{kind}", "--deadline", "0.5")
    took = time.monotonic() - started
    assert code == 1
    assert (report["outcome"], report["retryable"], report["httpStatus"]) == ("TIMEOUT", False, None)
    assert report["userMessage"] == FINAL
    assert report["attempts"][0]["answer"]["timedOut"] is True
    # The trickling PSP sends a byte every 0.15 s: only a total deadline stops it in time.
    assert 0.45 < took < 1.5


def test_nobody_listening_is_an_error(psp: TestPsp) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: the connection is refused
        code, report = run_json(f"http://127.0.0.1:{port}/cb", "--deadline", "2")
    assert code == 1
    assert (report["outcome"], report["httpStatus"], report["userMessage"]) == ("ERROR", None, FINAL)
    assert "ConnectError" in report["attempts"][0]["detail"]


@pytest.mark.parametrize(("kind", "outcome"), [("reserve", "RESERVE"), ("capture", "CAPTURE")])
def test_success(psp: TestPsp, kind: str, outcome: str) -> None:
    code, report = run_json(f"{psp.base_url}/answer/{kind}")
    assert code == 0
    assert (report["outcome"], report["retryable"], report["httpStatus"]) == (outcome, False, 200)
    assert report["attempts"][0]["answer"]["body"]["networkTransactionReference"] == "123456789012345"


@pytest.mark.parametrize(("last4", "code", "retryable"), [("0051", "51", True), ("0043", "43", False)])
def test_fail_retryable_from_the_catalogue(psp: TestPsp, last4: str, code: str, retryable: bool) -> None:
    exit_code, report = run_json(f"{psp.base_url}/cards/ref", "--card-last4", last4)
    assert exit_code == 0
    assert (report["outcome"], report["retryable"]) == ("FAIL", retryable)
    assert report["attempts"][0]["errorCode"] == code
    assert report["userMessage"] == ("Insufficient funds" if code == "51" else "Stolen card")


def test_unknown_error_code_is_retryable(psp: TestPsp) -> None:
    _, report = run_json(f"{psp.base_url}/answer/unknown-code")
    assert (report["outcome"], report["retryable"], report["userMessage"]) == ("FAIL", True, "Try another card")
    assert "not in the document's catalogue" in report["attempts"][0]["detail"]


def test_retry_uses_a_new_attempt_id_for_the_same_payment(psp: TestPsp) -> None:
    psp.reset()
    _, report = run_json(f"{psp.base_url}/cards/ref", "--card-last4", "0051", "--retry")
    assert [a["outcome"] for a in report["attempts"]] == ["FAIL", "FAIL", "FAIL"]  # first try and two retries
    assert report["outcome"] == "FAIL"
    sent = psp.bodies("/cards/ref")
    assert len({body["authorizationAttemptId"] for body in sent}) == 3
    assert len({body["pspReference"] for body in sent}) == 1
    assert len({body["networkToken"]["cryptogram"] for body in sent}) == 3


def test_no_retry_after_a_non_retryable_fail(psp: TestPsp) -> None:
    _, report = run_json(f"{psp.base_url}/cards/ref", "--card-last4", "0043", "--retry")
    assert len(report["attempts"]) == 1


@pytest.mark.parametrize(("decision", "outcome"), [("approve", "RESERVE"), ("reject", "FAIL")])
def test_soft_decline_round_trip(psp: TestPsp, decision: str, outcome: str) -> None:
    psp.reset()
    args = [f"{psp.base_url}/cards/ref", "--card-last4", "3000"]
    code, report = run_json(*args, *([] if decision == "approve" else ["--complete-3ds", "reject"]))
    assert code == 0
    assert report["outcome"] == outcome
    first, second = report["attempts"]
    assert first["outcome"] == "SOFT_DECLINE"
    assert first["softDeclineRedirectUrl"].startswith(f"{psp.base_url}/3ds/ref/")
    three_ds = first["threeDSecure"]
    assert (three_ds["referenceServer"], three_ds["decision"], three_ds["httpStatus"]) == (True, decision, 303)
    one, two = psp.bodies("/cards/ref")
    assert one["authorizationAttemptId"] == two["authorizationAttemptId"]
    assert one["networkToken"]["cryptogram"] != two["networkToken"]["cryptogram"]
    assert three_ds["location"] == one["softDeclineCompletedRedirectUrl"]
    if outcome == "FAIL":
        assert (second["errorCode"], report["retryable"]) == ("3DS_FAILED", True)


def test_soft_decline_on_a_foreign_page_stops_unless_asked(psp: TestPsp) -> None:
    code, report = run_json(f"{psp.base_url}/cards/other", "--card-last4", "3000")
    assert code == 0
    assert report["outcome"] == "SOFT_DECLINE"
    assert len(report["attempts"]) == 1
    assert report["userMessage"].startswith("Complete 3-D Secure at " + psp.base_url)
    assert "not the reference server's page" in report["attempts"][0]["threeDSecure"]["detail"]

    _, report = run_json(f"{psp.base_url}/cards/other", "--card-last4", "3000", "--complete-3ds", "approve")
    assert [a["outcome"] for a in report["attempts"]] == ["SOFT_DECLINE", "RESERVE"]


def test_soft_decline_off_never_fetches_the_page(psp: TestPsp) -> None:
    _, report = run_json(f"{psp.base_url}/cards/ref", "--card-last4", "3000", "--complete-3ds", "off")
    assert report["outcome"] == "SOFT_DECLINE"
    assert report["attempts"][0]["threeDSecure"]["decision"] is None


@pytest.mark.parametrize(
    ("flavour", "why"),
    [("wrong-redirect", "not to the callback's softDeclineCompletedRedirectUrl"), ("no-form", "no POST form")],
)
def test_broken_3ds_protocol_is_an_error(psp: TestPsp, flavour: str, why: str) -> None:
    code, report = run_json(f"{psp.base_url}/cards/{flavour}", "--card-last4", "3000", "--complete-3ds", "approve")
    assert code == 1
    assert (report["outcome"], report["retryable"], report["userMessage"]) == ("ERROR", False, FINAL)
    assert why in report["attempts"][0]["threeDSecure"]["detail"]
    assert len(report["attempts"]) == 1


def test_hmac_signed_with_the_right_secret_is_accepted(psp: TestPsp, tmp_path: Path) -> None:
    # A port and a percent-escaped query: both are part of what is signed.
    url = f"{psp.base_url}/hmac/cb%2Fx?ref=a%20b&x=%C3%A6"
    code, report = run_json(url, env={"CARD_CALLBACK_HMAC_SECRET": HMAC_SECRET})
    assert (code, report["outcome"]) == (0, "RESERVE"), report["attempts"][0]["detail"]
    headers = report["attempts"][0]["request"]["headers"]
    assert headers["authorization"].startswith("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&")
    assert HMAC_SECRET not in json.dumps(report)

    secret_file = tmp_path / "secret"
    secret_file.write_text(HMAC_SECRET + "\n", encoding="utf-8")
    code, report = run_json(url, "--hmac-secret-file", str(secret_file))
    assert (code, report["outcome"]) == (0, "RESERVE")


def test_hmac_wrong_secret_or_none_gets_401_and_an_error(psp: TestPsp) -> None:
    code, report = run_json(f"{psp.base_url}/hmac/cb", env={"CARD_CALLBACK_HMAC_SECRET": "wrong"})
    assert (code, report["outcome"], report["httpStatus"]) == (1, "ERROR", 401)
    assert "signature does not match" in report["attempts"][0]["detail"]
    code, report = run_json(f"{psp.base_url}/hmac/cb")
    assert (report["httpStatus"], "header is missing" in report["attempts"][0]["detail"]) == (401, True)


def test_card_data_is_masked_in_every_output(psp: TestPsp) -> None:
    psp.reset()
    code, report = run_json(f"{psp.base_url}/answer/echo")
    sent = psp.bodies("/answer/echo")[0]
    number, cryptogram = sent["networkToken"]["number"], sent["networkToken"]["cryptogram"]
    text = json.dumps(report)
    assert number not in text and cryptogram not in text
    token = report["attempts"][0]["request"]["body"]["networkToken"]
    assert token["number"] == "X" * (len(number) - 4) + number[-4:]
    assert token["cryptogram"] == "***"
    assert report["userMessage"].startswith("token " + "X" * (len(number) - 4))
    result = run_send(f"{psp.base_url}/answer/echo")
    assert psp.bodies("/answer/echo")[1]["networkToken"]["number"] not in result.output


def test_example_with_encrypted_pan_is_masked(psp: TestPsp) -> None:
    _, report = run_json(f"{psp.base_url}/answer/reserve", "--example", "panCallback")
    body = report["attempts"][0]["request"]["body"]
    assert body["encryptedPan"] == "***"
    assert body["authorizationAttemptId"] == "b7e4a3f0-5c1d-4e7b-9a2f-000000000001"


def test_body_file_is_sent_byte_for_byte_and_warned_about(psp: TestPsp, tmp_path: Path) -> None:
    psp.reset()
    raw = '{"pspReference": "p-1",  "note": "blåbær", "merchantSerialNumber": "12"}\n'.encode()
    path = tmp_path / "body.json"
    path.write_bytes(raw)
    result = run_send(f"{psp.base_url}/answer/reserve", "--body-file", str(path))
    assert result.exit_code == 0
    assert "warning: not a valid callback" in result.stderr
    assert "sending it anyway" in result.stderr
    assert psp.received[-1][2] == raw


def test_readable_text_output(psp: TestPsp) -> None:
    result = run_send(f"{psp.base_url}/cards/ref", "--card-last4", "0051")
    assert result.exit_code == 0
    assert "HTTP 200 after" in result.stdout
    assert "-> FAIL: errorCode '51': Insufficient funds. (retryable)" in result.stdout
    assert "outcome:   FAIL" in result.stdout
    assert "retryable: yes" in result.stdout
    assert "user sees: Insufficient funds" in result.stdout
    result = run_send(f"{psp.base_url}/answer/500")
    assert result.exit_code == 1
    assert f"user sees: {FINAL}" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--example", "nope"], "no request example 'nope' (it has: tokenCallback, panCallback)"),
        (["--example", "tokenCallback", "--card-last4", "0051"], "choose one of --card-last4, --example"),
        (["--card-last4", "12a4"], "--card-last4 must be four digits"),
        (["--body-file", "/nonexistent/x.json"], "cannot read /nonexistent/x.json"),
        (["--hmac-secret-file", "/nonexistent/secret"], "HMAC secret: cannot read"),
    ],
)
def test_bad_options_are_one_clear_line(args: list[str], message: str) -> None:
    result = run_send("http://127.0.0.1:9/cb", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_url_must_be_http() -> None:
    result = run_send("ftp://example.com/cb")
    assert result.exit_code == 2 and "must be http:// or https://" in result.stderr


def _scrubbed(text: str) -> str:
    text = re.sub(r"127\.0\.0\.1:\d+", "HOST", text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    return re.sub(r"\d+ ms", "N ms", text)


def test_soft_decline_text_snapshot(psp: TestPsp) -> None:
    result = run_send(f"{psp.base_url}/cards/ref", "--card-last4", "3000")
    assert _scrubbed(result.stdout) == (
        "#1 callback: POST http://HOST/cards/ref (unsigned, authorizationAttemptId UUID)\n"
        "   HTTP 200 after N ms -> SOFT_DECLINE: 3-D Secure is needed\n"
        "   softDeclineRedirectUrl: http://HOST/3ds/ref/UUID\n"
        "   3-D Secure: approve -> 303 to softDeclineCompletedRedirectUrl\n"
        "#2 second callback after 3-D Secure: POST http://HOST/cards/ref (unsigned, authorizationAttemptId UUID)\n"
        "   HTTP 200 after N ms -> RESERVE: the payment was reserved\n"
        "\n"
        "outcome:   RESERVE\n"
        "retryable: no\n"
        "user sees: Payment approved\n"
        "elapsed:   N ms in 2 callback(s)\n"
    )
