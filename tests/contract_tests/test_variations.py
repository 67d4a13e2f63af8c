"""Valid callbacks vary as real senders' do: every variation planned in every run, signed over the bytes sent,
sent as planned (header case on the wire), and a PSP that mishandles one is failed by a finding that names it."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fixture_psps import HEADERS_AS_SENT, PATH, Defect, Quirk, make_psp
from raw_host import raw_host
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from suite_helpers import TEST_SECRET, failed_codes, outcomes, run_against_app, run_suite

from callback_core import signing
from callback_core.spec import Contract, bundled_document
from contract_tests.auth import STALE_MARGIN_SECONDS, prepare
from contract_tests.cases import Planner
from contract_tests.generation import generate
from contract_tests.models import (
    Group,
    GroupKind,
    Outcome,
    Probe,
    Report,
    Role,
    Severity,
    Tamper,
    Variation,
    Verdict,
)
from contract_tests.transport import http_transport
from contract_tests.variations import LARGE_BODY_BYTES, NON_ASCII_TEXT, NOTE_FIELD, PAIRS, free_text_pointers

URL = "http://psp.test" + PATH
NOW = datetime(2026, 3, 30, 8, 38, 32, tzinfo=UTC)
FEW = 4  # generated callbacks per run here: the variations are planned whatever the count


def _plan(contract: Contract, seed: int) -> list[Probe]:
    counter = itertools.count()
    generated = generate(contract, seed=seed, max_examples=FEW, invalid_examples=1)
    return Planner(contract, generated, lambda: f"id-{next(counter)}").plan(signed=True)


def _pairs(probes: list[Probe]) -> Iterator[tuple[Probe, Probe]]:
    groups: dict[Group, list[Probe]] = {}
    for probe in probes:
        if probe.group and probe.group.kind is GroupKind.VARIATION:
            groups.setdefault(probe.group, []).append(probe)
    for group in groups.values():
        twin, varied = group
        yield twin, varied


@pytest.mark.parametrize("seed", [1, 2])
def test_every_variation_is_planned_in_pairs_and_stays_valid(contract: Contract, seed: int) -> None:
    probes = _plan(contract, seed)
    pairs = list(_pairs(probes))
    counts: dict[Variation | None, int] = {}
    for twin, varied in pairs:
        assert varied.role is Role.VARIED and twin.role is not Role.VARIED and twin.variation is None
        counts[varied.variation] = counts.get(varied.variation, 0) + 1
        assert contract.request_errors(json.loads(twin.body)) == [], twin.label
        assert contract.request_errors(json.loads(varied.body)) == [], varied.label
        assert twin.body.isascii(), twin.label  # only the variation may add non-ASCII bytes
        # Fresh attempts both: a PSP must not take the varied one for a conflicting replay of its twin.
        assert json.loads(twin.body)["authorizationAttemptId"] != json.loads(varied.body)["authorizationAttemptId"]
    assert counts == dict.fromkeys(Variation, PAIRS)
    by = {v.variation: v for _, v in pairs}
    assert by[Variation.PRETTY_PRINTED].body.startswith(b"{\n  ")
    assert by[Variation.CHARSET].content_type == "application/json; charset=utf-8"
    assert NON_ASCII_TEXT.encode("utf-8") in by[Variation.NON_ASCII_RAW].body
    escaped = by[Variation.NON_ASCII_ESCAPED].body
    assert escaped.isascii() and b"\\ud83d\\ude00" in escaped and NON_ASCII_TEXT in json.dumps(json.loads(escaped),
                                                                                               ensure_ascii=False)
    twin, reordered = next((json.loads(t.body), json.loads(v.body)) for t, v in pairs
                           if v.variation is Variation.KEY_ORDER)
    assert list(reordered) == list(reversed(list(twin)))
    assert LARGE_BODY_BYTES <= len(by[Variation.LARGE].body) < LARGE_BODY_BYTES + 64


def test_variations_are_the_same_for_a_seed(contract: Contract) -> None:
    first = [(p.label, p.body, p.content_type) for p in _plan(contract, 3) if p.role is Role.VARIED]
    assert first == [(p.label, p.body, p.content_type) for p in _plan(contract, 3) if p.role is Role.VARIED]


def test_free_text_fields_come_from_the_schema_not_from_names(contract: Contract) -> None:
    # v1: the only string without pattern, enum or format that is neither card data nor an identifier.
    assert free_text_pointers(contract) == ("/cardType",)
    renamed = json.loads(json.dumps(contract.document).replace('"cardType"', '"kortType"')
                         .replace('"/cardType"', '"/kortType"'))
    roles = renamed["paths"][contract.path][contract.method.lower()]["x-field-roles"]["request"]
    roles["cardType"] = roles.pop("kortType")  # the property is renamed; the role keeps its name
    assert free_text_pointers(Contract.from_dict(renamed)) == ("/kortType",)
    v2 = Contract.from_file(bundled_document("card-callback-v2.yaml"))
    found = free_text_pointers(v2)
    assert found and not set(found) & set(v2.card_data_pointers)


def test_without_free_text_fields_the_non_ascii_text_goes_in_an_unknown_field(contract: Contract) -> None:
    document = json.loads(json.dumps(contract.document))
    document["components"]["schemas"]["CardType"]["pattern"] = "^[A-Z-]+$"
    patterned = Contract.from_dict(document)
    assert free_text_pointers(patterned) == ()
    counter = itertools.count()
    generated = generate(patterned, seed=1, max_examples=FEW, invalid_examples=1)
    probes = Planner(patterned, generated, lambda: f"id-{next(counter)}").plan(signed=True)
    pairs = [(t, v) for t, v in _pairs(probes) if v.variation is Variation.NON_ASCII_RAW]
    assert len(pairs) == PAIRS
    for twin, varied in pairs:
        assert json.loads(varied.body)[NOTE_FIELD].endswith(NON_ASCII_TEXT) and NOTE_FIELD in json.loads(twin.body)
        assert twin.role is Role.EXTENDED and twin.body.isascii()


def test_signed_variations_verify_and_header_case_is_sent_as_planned(contract: Contract) -> None:
    probes = {p.variation: p for p in _plan(contract, 1) if p.role is Role.VARIED}
    for variation, probe in probes.items():
        request = prepare(probe, "https://psp.example/cb?x=1", TEST_SECRET, contract.hmac, NOW)
        names = [name for name, _ in request.headers]
        if variation is Variation.LOWER_CASE_HEADERS:
            assert names == [name.lower() for name in names] and "x-ms-date" in names
        else:
            assert "X-Ms-Date" in names
        assert request.body == probe.body  # signed over the exact bytes sent
        signing.verify(TEST_SECRET, method="POST", path_and_query="/cb?x=1", headers=dict(request.headers),
                       body=request.body, now=NOW, max_skew_seconds=300)


def test_lower_case_header_names_reach_the_wire(contract: Contract) -> None:
    seen: list[list[tuple[str, str]]] = []

    async def echo(request: Request) -> JSONResponse:
        seen.append(list(request.scope["extensions"][HEADERS_AS_SENT]))
        return JSONResponse({})

    probe = next(p for p in _plan(contract, 1) if p.variation is Variation.LOWER_CASE_HEADERS)
    with raw_host(Starlette(routes=[Route("/cb", echo, methods=["POST"])]), "/cb") as url, \
            http_transport() as transport:
        request = prepare(probe, url, TEST_SECRET, contract.hmac, NOW)
        assert transport.send(request, 10).status == 200
    sent = dict(seen[0])
    for name in ("host", "content-type", "x-ms-date", "x-ms-content-sha256", "authorization"):
        assert name in sent, seen[0]


def test_future_dates_are_planned_beyond_the_window(contract: Contract) -> None:
    future = next(p for p in _plan(contract, 1) if p.tamper is Tamper.FUTURE_DATE)
    assert future.role is Role.STALE
    date = prepare(future, URL, TEST_SECRET, contract.hmac, NOW).header("X-Ms-Date")
    assert date == signing.http_date(NOW + timedelta(seconds=300 + STALE_MARGIN_SECONDS))


def _titles(report: Report, code: str) -> str:
    return " | ".join(f"{f.title} {f.detail}" for f in report.failures if f.code == code)


@pytest.mark.parametrize(
    ("defect", "code", "named"),
    [
        (Defect.HASH_REPARSED_BODY, "CC006", "pretty-printed JSON"),
        (Defect.CHARSET_REFUSED, "CC014", "answered 415 to a valid callback with Content-Type: application/json; "
                                          "charset=utf-8, while the same callback without it got 200"),
        (Defect.ASCII_ONLY, "CC014", "answered 500 to a valid callback with non-ASCII characters"),
        (Defect.SMALL_BUFFER, "CC014", f"answered 500 to a valid callback with a large body ({LARGE_BODY_BYTES} bytes"),
    ],
    ids=str,
)
def test_a_psp_mishandling_a_variation_is_failed_by_name(
    contract: Contract, defect: Defect, code: str, named: str
) -> None:
    report = run_against_app(make_psp(secret=TEST_SECRET, defects=frozenset({defect})), URL, contract,
                             secret=TEST_SECRET, max_examples=FEW)
    assert code in failed_codes(report)
    assert named in _titles(report, code)


def test_hashing_a_reserialized_body_is_caught_by_whitespace_and_escapes_and_told_why(contract: Contract) -> None:
    report = run_against_app(make_psp(secret=TEST_SECRET, defects=frozenset({Defect.HASH_REPARSED_BODY})), URL,
                             contract, secret=TEST_SECRET, max_examples=FEW)
    assert failed_codes(report) == {"CC006"}
    titles = _titles(report, "CC006")
    assert str(Variation.PRETTY_PRINTED) in titles and str(Variation.NON_ASCII_ESCAPED) in titles
    assert "content hash must be computed over the raw bytes received" in titles
    # Compact callbacks with raw UTF-8 are what JSON.stringify writes: those pass, so only the variations catch it.
    assert str(Variation.NON_ASCII_RAW) not in titles and str(Variation.KEY_ORDER) not in titles


def test_a_case_sensitive_header_lookup_is_failed_by_name(contract: Contract) -> None:
    app = make_psp(secret=TEST_SECRET, defects=frozenset({Defect.CASE_SENSITIVE_DATE}))
    with raw_host(app, PATH) as url, http_transport() as transport:
        report = run_suite(transport, url, contract, secret=TEST_SECRET, max_examples=FEW)[0]
    assert failed_codes(report) == {"CC006"}
    titles = _titles(report, "CC006")
    assert "header names in lower case (as HTTP/2 sends them)" in titles
    assert "header names are case-insensitive" in titles


def test_accepting_any_future_date_warns_and_fails_when_strict(contract: Contract) -> None:
    for strict in (False, True):
        app = make_psp(secret=TEST_SECRET, defects=frozenset({Defect.ACCEPT_FUTURE_DATE}))
        report = run_against_app(app, URL, contract, secret=TEST_SECRET, strict=strict, max_examples=FEW)
        [failure] = report.failures
        assert failure.code == "CC008"
        assert failure.title.startswith("an X-Ms-Date beyond the allowed skew in the future was accepted")
        assert failure.severity is (Severity.DEFECT if strict else Severity.WARNING)
        assert report.verdict is (Verdict.DEFECTS if strict else Verdict.CONFORMS)


def test_gzip_answers_pass_in_process(contract: Contract) -> None:
    # The in-process bridge hands the client the still-encoded body, as the network does (decoded twice, every
    # gzip answer was "broken").
    app = make_psp(secret=TEST_SECRET, quirks=frozenset({Quirk.GZIP, Quirk.PRETTY_ANSWERS}))
    report = run_against_app(app, URL, contract, secret=TEST_SECRET, strict=True, max_examples=FEW)
    assert report.verdict is Verdict.CONFORMS, report.failures
    assert outcomes(report)["CC014"] is Outcome.PASSED


@pytest.mark.parametrize("seed", range(1, 11))
def test_correct_psps_pass_over_seeds(contract: Contract, seed: int) -> None:
    """A correct PSP that answers over HTTP/1.0 (no Content-Length, closing the connection), gzips its answers
    and pretty-prints its JSON, behind a server that keeps header names as sent, signed and strict."""
    app = make_psp(secret=TEST_SECRET, quirks=frozenset({Quirk.GZIP, Quirk.PRETTY_ANSWERS, Quirk.CHARSET}))
    with raw_host(app, PATH, http10=True) as url, http_transport() as transport:
        report, _ = run_suite(transport, url, contract, secret=TEST_SECRET, strict=True, seed=seed,
                              max_examples=FEW)
    assert report.verdict is Verdict.CONFORMS, report.failures
    assert {code for code, o in outcomes(report).items() if o is not Outcome.PASSED} == {"CC013"}
