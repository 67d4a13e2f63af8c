"""`card-callback send` against the reference server: every test card gets its documented classification."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from simulator_helpers import run_json, serve_in_thread

from callback_core.spec import bundled_spec_path, read_document
from reference_server.app import create_app

SECRET = "reference-secret/+=="
FINAL = "check the payment status at the merchant you came from"


def _reference(tmp_path: Path, **options: Any) -> Iterator[str]:
    with serve_in_thread(create_app(db_path=tmp_path / "state.sqlite", **options), lifespan="on") as base_url:
        yield f"{base_url}/psp-makepayment"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reference server with the bundled document, unsigned: the callback URL."""
    yield from _reference(tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def short_deadline_doc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the document with a 1 s deadline, so that the slow-issuer card is quick to test."""
    document = read_document(bundled_spec_path())
    document["paths"]["/psp-makepayment"]["post"]["x-response-deadline-seconds"] = 1
    path = tmp_path_factory.mktemp("doc") / "card-callback.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def signed_reference(tmp_path_factory: pytest.TempPathFactory, short_deadline_doc: Path) -> Iterator[str]:
    """The reference server with HMAC on and the 1 s deadline document."""
    yield from _reference(
        tmp_path_factory.mktemp("signed"), hmac_secret=SECRET, spec_path=short_deadline_doc, issuer_delay_seconds=1.5
    )


@pytest.mark.parametrize(
    ("last4", "outcome", "retryable", "error_code"),
    [
        ("1234", "RESERVE", False, None),
        ("0002", "CAPTURE", False, None),
        ("0051", "FAIL", True, "51"),
        ("0043", "FAIL", False, "43"),
    ],
)
def test_test_cards(reference: str, last4: str, outcome: str, retryable: bool, error_code: str | None) -> None:
    code, report = run_json(reference, "--card-last4", last4)
    assert code == 0
    assert (report["outcome"], report["retryable"], report["httpStatus"]) == (outcome, retryable, 200)
    assert report["attempts"][0].get("errorCode") == error_code
    assert report["userMessage"] != FINAL


def test_document_example(reference: str) -> None:
    code, report = run_json(reference, "--example", "tokenCallback")
    assert (code, report["outcome"]) == (0, "RESERVE")


@pytest.mark.parametrize(
    ("args", "outcome", "error_code"),
    [([], "RESERVE", None), (["--complete-3ds", "approve"], "RESERVE", None),
     (["--complete-3ds", "reject"], "FAIL", "3DS_FAILED")],
)
def test_soft_decline_round_trip(reference: str, args: list[str], outcome: str, error_code: str | None) -> None:
    code, report = run_json(reference, "--card-last4", "3000", *args)
    assert code == 0
    first, second = report["attempts"]
    assert first["outcome"] == "SOFT_DECLINE"
    attempt_id = first["request"]["body"]["authorizationAttemptId"]
    assert first["softDeclineRedirectUrl"] == reference.replace("/psp-makepayment", f"/3ds/{attempt_id}")
    three_ds = first["threeDSecure"]
    assert three_ds["referenceServer"] is True and three_ds["httpStatus"] == 303
    assert three_ds["location"] == first["request"]["body"]["softDeclineCompletedRedirectUrl"]
    assert second["request"]["body"]["authorizationAttemptId"] == attempt_id
    assert (report["outcome"], second.get("errorCode")) == (outcome, error_code)


def test_soft_decline_left_alone(reference: str) -> None:
    code, report = run_json(reference, "--card-last4", "3000", "--complete-3ds", "off")
    assert (code, report["outcome"], len(report["attempts"])) == (0, "SOFT_DECLINE", 1)


def test_retry_after_insufficient_funds(reference: str) -> None:
    _, report = run_json(reference, "--card-last4", "0051", "--retry")
    assert [a["outcome"] for a in report["attempts"]] == ["FAIL", "FAIL", "FAIL"]
    ids = {a["request"]["body"]["authorizationAttemptId"] for a in report["attempts"]}
    assert len(ids) == 3


def test_hmac_same_secret_is_accepted(signed_reference: str, short_deadline_doc: Path) -> None:
    env = {"CARD_CALLBACK_HMAC_SECRET": SECRET}
    code, report = run_json(signed_reference, "--card-last4", "3000", "--spec", str(short_deadline_doc), env=env)
    assert (code, report["outcome"]) == (0, "RESERVE")
    assert all(a["request"]["headers"]["authorization"].startswith("HMAC-SHA256 ") for a in report["attempts"])


@pytest.mark.parametrize("env", [{"CARD_CALLBACK_HMAC_SECRET": "not-the-secret"}, {}])
def test_hmac_wrong_or_no_secret_is_401_and_final(signed_reference: str, env: dict[str, str]) -> None:
    code, report = run_json(signed_reference, "--card-last4", "1234", env=env)
    assert code == 1
    assert (report["outcome"], report["retryable"], report["httpStatus"]) == ("ERROR", False, 401)
    assert report["userMessage"] == FINAL


def test_slow_issuer_fails_before_the_deadline(signed_reference: str, short_deadline_doc: Path) -> None:
    started = time.monotonic()
    code, report = run_json(
        signed_reference,
        "--card-last4",
        "0091",
        "--spec",
        str(short_deadline_doc),
        env={"CARD_CALLBACK_HMAC_SECRET": SECRET},
    )
    assert code == 0
    assert (report["outcome"], report["retryable"], report["attempts"][0]["errorCode"]) == ("FAIL", False, "91")
    assert report["attempts"][0]["answer"]["elapsedMs"] < 1000
    assert time.monotonic() - started < 1.5
