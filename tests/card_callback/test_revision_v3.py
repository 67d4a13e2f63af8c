"""Every command on a third revision written for the tests (tests/documents/card-callback-v3.yaml).

It groups the payment's fields in `payment`, renames the card data types (NETWORK_TOKEN, ENCRYPTED_PAN),
types error codes as integers, shortens the deadline to 15 s, renames the auth header, and keeps its bodies,
answers and parameters in `components`: the tools must follow it from the document alone.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from click.testing import CliRunner

from callback_core import fields
from callback_core.spec import Contract, bundled_document, bundled_spec_path, read_document
from card_callback.cli import main
from contract_tests.events import RunFinished
from contract_tests.models import Outcome, Verdict
from contract_tests.runner import Settings, document_sha256, run
from contract_tests.transport import asgi_transport
from reference_server import create_app

V1 = bundled_spec_path()
V2 = bundled_document("card-callback-v2.yaml")
V3 = Path(__file__).resolve().parents[1] / "documents" / "card-callback-v3.yaml"
AUTH_VALUE = "v3-auth-value-9c1e"
TEST_CARDS = ("1234", "0002", "0051", "0043", "3000", "0091")


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _short_deadline_copy(directory: Path) -> Path:
    """V3 with a 1 s deadline, so the slow-issuer card answers (before the deadline) in under a second."""
    document = read_document(V3)
    document["paths"]["/psp-makepayment"]["post"]["x-response-deadline-seconds"] = 1
    path = directory / "card-callback-v3-short.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _with_string_codes(source: Path, directory: Path) -> Path:
    """A revision-2 document whose error codes are strings, whatever the shipped v2 types them as."""
    document = read_document(source)
    operation = document["paths"]["/psp-makepayment"]["post"]
    for entry in operation["x-error-codes"]["codes"]:
        entry["code"] = str(entry["code"])
    failure = document["components"]["schemas"]["FailResponse"]["properties"]["errorCode"]
    failure["type"] = "string"
    failure.pop("example", None)
    answers = operation["responses"]["200"]["content"]["application/json"]["examples"]
    answers["fail"]["value"]["errorCode"] = str(answers["fail"]["value"]["errorCode"])
    path = directory / "revision-2-string-codes.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


# lint -------------------------------------------------------------------------------------------------------


def test_lint_is_clean_at_every_level() -> None:
    code, out, err = cli("lint", str(V3), "--fail-on", "warning")
    assert (code, err) == (0, ""), out + err
    assert out == f"{V3}: OK\n"


def test_the_revision_declares_every_role_it_moves() -> None:
    contract = Contract.from_file(V3)
    assert not [role.name for role in contract.request_roles.values() if role.inferred]
    assert contract.request_roles[fields.PSP_REFERENCE].pointer == "/payment/pspReference"
    assert contract.request_roles[fields.CARD_DATA_TYPE].pointer == "/cardInfo/cardDataType"
    assert contract.deadline_seconds == 15
    kinds: set[object] = {type(entry.code) for entry in contract.error_codes}
    assert kinds == {int}


# diff -------------------------------------------------------------------------------------------------------


def _changes(old: Path) -> list[dict[str, Any]]:
    code, out, err = cli("diff", str(old), str(V3), "--format", "json")
    assert code == 1, out + err
    return json.loads(out)["changes"]  # type: ignore[no-any-return]


def _said(changes: list[dict[str, Any]], rule: str) -> set[str]:
    return {c["message"] for c in changes if c["id"] == rule}


def test_diff_from_revision_2_with_string_codes_names_the_new_values_and_the_integer_code(tmp_path: Path) -> None:
    changes = _changes(_with_string_codes(V2, tmp_path))
    assert _said(changes, "CD017") == {"discriminator `cardInfo.cardDataType` may now be `NETWORK_TOKEN`",
                                       "discriminator `cardInfo.cardDataType` may now be `ENCRYPTED_PAN`"}
    assert "answer property `errorCode` changed type from string to integer (FAIL only)" in {
        c["message"] + (f" ({', '.join(c['variants'])} only)" if c["variants"] else "")
        for c in changes if c["id"] == "CD027"}
    (typed,) = [c for c in changes if c["id"] == "CD061"]
    assert typed["message"].startswith("error codes are now integers (were strings)")
    assert typed["level"] == "error" and typed["breaks"] == "vipps"
    for name in ("pspReference", "merchantSerialNumber", "amount"):
        assert f"`{name}` moved to `payment.{name}` (field role `{name}`)" in _said(changes, "CD006")
    assert _said(changes, "CD051") == {"the answer deadline went from 20 s to 15 s"}
    assert any("X-Psp-Callback-Token" in message for message in _said(changes, "CD058"))


def test_diff_from_a_revision_without_the_https_rule_says_whom_it_breaks(tmp_path: Path) -> None:
    document = read_document(_with_string_codes(V2, tmp_path))
    schemas = document["components"]["schemas"]
    schemas["SoftDeclineCompletedRedirectUrl"].pop("pattern", None)
    schemas["SoftDeclineResponse"]["properties"]["softDeclineRedirectUrl"].pop("pattern", None)
    old = tmp_path / "revision-2-any-scheme.yaml"
    old.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    by_field = {(c["id"], c["field"]): c for c in _changes(old)}
    # On the callback it costs PSPs nothing; on the answer it refuses old PSPs' http 3-D Secure pages.
    assert by_field[("CD012", "/softDeclineCompletedRedirectUrl")]["breaks"] == "nobody"
    answer = by_field[("CD028", "/softDeclineRedirectUrl")]
    assert answer["level"] == "error" and answer["breaks"] == "vipps" and "pattern" in answer["message"]


def test_diff_from_the_shipped_revision_2() -> None:
    changes = _changes(V2)
    assert "discriminator `cardInfo.cardDataType` may now be `NETWORK_TOKEN`" in _said(changes, "CD017")
    assert _said(changes, "CD051") == {"the answer deadline went from 20 s to 15 s"}


def test_diff_from_revision_1_follows_the_discriminator_into_cardinfo() -> None:
    changes = _changes(V1)
    assert any(m.startswith("discriminator `paymentInstrument` renamed and moved to `cardInfo.cardDataType`")
               for m in _said(changes, "CD016"))
    assert "discriminator `cardInfo.cardDataType` may now be `ENCRYPTED_PAN`" in _said(changes, "CD017")
    assert "`pspReference` moved to `payment.pspReference` (field role `pspReference`)" in _said(changes, "CD006")
    assert "`maskedCardNumber` moved to `cardInfo.maskedCardNumber` (field role `maskedCardNumber`)" in _said(
        changes, "CD006")
    assert _said(changes, "CD061")


def test_diff_of_the_revision_with_itself_inlined_reports_nothing(tmp_path: Path) -> None:
    document = read_document(V3)
    operation = document["paths"]["/psp-makepayment"]["post"]
    components = document["components"]
    operation["requestBody"] = copy.deepcopy(components["requestBodies"]["CardCallback"])
    operation["responses"] = {status: copy.deepcopy(components["responses"][ref["$ref"].rsplit("/", 1)[-1]])
                              for status, ref in operation["responses"].items()}
    operation["parameters"] = [copy.deepcopy(components["parameters"][ref["$ref"].rsplit("/", 1)[-1]])
                               for ref in operation["parameters"]]
    inlined = tmp_path / "inlined.yaml"
    inlined.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    code, out, _ = cli("diff", str(V3), str(inlined))
    assert code == 0 and out.rstrip().endswith("RESULT: nothing breaks; no changes"), out


# serve + test -----------------------------------------------------------------------------------------------


def test_the_suite_finds_the_reference_server_conforming_on_the_revision(tmp_path: Path) -> None:
    spec = _short_deadline_copy(tmp_path)
    contract = Contract.from_file(spec)
    app = create_app(db_path=tmp_path / "state.sqlite3", spec_path=spec, validate_responses=True)
    # A loopback host: the revision admits http redirect URLs (the server's 3-D Secure page) only there.
    settings = Settings(url="http://127.0.0.1/psp-makepayment", contract=contract,
                        spec_sha256=document_sha256(spec.read_bytes()), seed=3, max_examples=12)
    with asgi_transport(app) as transport:
        events = list(run(settings, transport))
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    report = finished.report
    failed = {r.check.code: [f.detail for f in r.failures] for r in report.results if r.outcome is Outcome.FAILED}
    assert failed == {}
    assert report.verdict is Verdict.CONFORMS


# send -------------------------------------------------------------------------------------------------------


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    """The app on 127.0.0.1 at a port the OS picks, in a thread, until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", ws="none",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the reference server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/psp-makepayment"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def v3_reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """The reference server on the revision (short deadline), requiring the auth header value."""
    directory = tmp_path_factory.mktemp("v3")
    spec = _short_deadline_copy(directory)
    auth = directory / "auth-header"
    auth.write_text(AUTH_VALUE + "\n", encoding="utf-8")
    app = create_app(db_path=directory / "state.sqlite3", spec_path=spec, auth_header_value=AUTH_VALUE)
    with _serve(app) as url:
        yield url, spec, auth


def _send(reference: tuple[str, Path, Path], *args: str) -> tuple[int, dict[str, Any]]:
    url, spec, auth = reference
    result = CliRunner().invoke(main, ["send", url, "--spec", str(spec), "--auth-header-file", str(auth), "--json",
                                       *args])
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("last4", TEST_CARDS)
def test_send_reaches_each_test_card_outcome(v3_reference: tuple[str, Path, Path], last4: str) -> None:
    contract = Contract.from_file(v3_reference[1])
    code, report = _send(v3_reference, "--card-last4", last4)
    assert code == 0, report
    first = report["attempts"][0]
    body = first["request"]["body"]
    assert fields.get_at(body, contract.request_roles[fields.MASKED_CARD_NUMBER].pointer).endswith(last4)
    assert fields.get_at(body, "/payment/pspReference") is not fields.MISSING
    assert first["request"]["headers"]["x-psp-callback-token"] == "***"
    outcomes = [attempt["outcome"] for attempt in report["attempts"]]
    if last4 == "3000":
        # The 3-D Secure round trip: the server's page approved, then the second callback.
        assert outcomes == ["SOFT_DECLINE", "RESERVE"]
        return
    answer = first["answer"]["body"]
    if outcomes[0] == "FAIL":
        # A FAIL carries a code of the catalogue, in its type.
        listed: set[object] = {entry.code for entry in contract.error_codes}
        final: set[object] = {entry.code for entry in contract.error_codes if not entry.retryable}
        code = answer["errorCode"]
        assert code in listed and type(code) is int
        assert (last4 in ("0043", "0091")) == (code in final)
    expected = {"1234": "RESERVE", "0002": "CAPTURE", "0051": "FAIL", "0043": "FAIL", "0091": "FAIL"}[last4]
    assert outcomes[0] == expected
