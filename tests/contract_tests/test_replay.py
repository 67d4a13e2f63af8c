"""Replaying a JSON report's exchanges: what the report records, and the suite's own checks judging the answers."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from fixture_psps import PATH, Defect, make_psp
from suite_helpers import TEST_SECRET, run_suite

from callback_core.spec import Contract
from contract_tests import files
from contract_tests.checks import Context
from contract_tests.errors import ReplayError
from contract_tests.events import RequestDone
from contract_tests.models import Card, Exchange, GroupKind, Outcome, Outgoing, Report, Role
from contract_tests.replay import Recording, judge, replay_command, retarget, send
from contract_tests.transport import asgi_transport

URL = "http://psp.test" + PATH
DEFECTS = frozenset({Defect.SECOND_CALLBACK_CONFLICT, Defect.IGNORE_SIGNATURE})


def _run(contract: Contract) -> tuple[Report, list[Exchange]]:
    with asgi_transport(make_psp(secret=TEST_SECRET, defects=DEFECTS)) as transport:
        report, events = run_suite(transport, URL, contract, secret=TEST_SECRET, seed=4, max_examples=4)
    return report, [e.exchange for e in events if isinstance(e, RequestDone)]


@pytest.fixture(scope="module")
def recorded(contract: Contract) -> tuple[Report, list[Exchange], dict[str, Any]]:
    report, exchanges = _run(contract)
    data = json.loads(files.format_json_report(report, exchanges, replay=replay_command("r.json")))
    return report, exchanges, data


def _replayed(contract: Contract, data: dict[str, Any], defects: frozenset[Defect], *,
              only_failures: bool) -> dict[str, Outcome]:
    recording = Recording.from_report(data)
    chosen = recording.select(only_failures=only_failures)
    with asgi_transport(make_psp(secret=TEST_SECRET, defects=defects)) as transport:
        exchanges = list(send(chosen, url=URL, contract=contract, secret=TEST_SECRET, auth=None,
                              deadline=recording.deadline, transport=transport))
    ctx = Context(contract=contract, deadline=recording.deadline, signed=True, strict=False)
    return {r.check.code: r.outcome for r in judge(exchanges, ctx)}


def test_the_report_records_every_exchange_with_what_replay_needs(
        recorded: tuple[Report, list[Exchange], dict[str, Any]]) -> None:
    report, exchanges, data = recorded
    assert data["exchangesRecorded"] == "all" and len(data["exchanges"]) == len(exchanges) == report.requests
    by_id = {item["id"]: item for item in data["exchanges"]}
    second = next(item for item in data["exchanges"] if item["role"] == Role.SECOND_CALLBACK.value)
    assert second["after"] is not None and by_id[second["after"]]["id"] < second["id"]
    assert {item["tamper"] for item in data["exchanges"]} >= {"none", "bad-signature", "stale-date"}
    cc009 = next(f for f in data["failures"] if f["code"] == "CC009")
    assert cc009["replay"] == "card-callback replay r.json --only-failures"
    assert [ex["id"] for ex in cc009["exchanges"]] == [second["after"], second["id"]]


def test_replaying_the_failures_against_the_same_psp_fails_the_same_checks(
        contract: Contract, recorded: tuple[Report, list[Exchange], dict[str, Any]]) -> None:
    outcomes = _replayed(contract, recorded[2], DEFECTS, only_failures=True)
    assert outcomes["CC009"] is Outcome.FAILED and outcomes["CC006"] is Outcome.FAILED


def test_replaying_against_a_correct_psp_holds(
        contract: Contract, recorded: tuple[Report, list[Exchange], dict[str, Any]]) -> None:
    outcomes = _replayed(contract, recorded[2], frozenset(), only_failures=False)
    assert Outcome.FAILED not in outcomes.values()
    assert outcomes["CC009"] is Outcome.PASSED and outcomes["CC006"] is Outcome.PASSED


def test_only_the_failures_and_what_they_follow_when_the_run_is_large(
        monkeypatch: pytest.MonkeyPatch, recorded: tuple[Report, list[Exchange], dict[str, Any]]) -> None:
    report, exchanges, _ = recorded
    monkeypatch.setattr(files, "RECORD_ALL_BYTES", 0)
    data = json.loads(files.format_json_report(report, exchanges))
    assert data["exchangesRecorded"] == "failures"
    listed = {ex["id"] for f in data["failures"] for ex in f["exchanges"]}
    assert {item["id"] for item in data["exchanges"]} == listed
    bodies = [ex.request.body.decode("utf-8", "replace") for ex in exchanges]
    positions = [bodies.index(item["request"]["body"]) for item in data["exchanges"]]
    assert positions == sorted(positions)  # in the order they were sent: a follow-up after what it follows


def test_bytes_that_are_not_utf8_are_replayed_exactly(
        recorded: tuple[Report, list[Exchange], dict[str, Any]]) -> None:
    report, exchanges, _ = recorded
    raw = b'{"pspReference": "\xff\xfe"}'
    odd = replace(exchanges[0], probe=replace(exchanges[0].probe, body=raw),
                  request=Outgoing("POST", URL, (("Host", "psp.test"),), raw))
    data = json.loads(files.format_json_report(report, [*exchanges, odd]))
    item = data["exchanges"][-1]
    assert "body" not in item["request"] and "bodyBase64" in item["request"]
    assert Recording.from_report(data).exchanges[-1].probe.body == raw


def test_a_report_without_exchanges_is_refused_in_one_line(
        recorded: tuple[Report, list[Exchange], dict[str, Any]]) -> None:
    data = {k: v for k, v in recorded[2].items() if k != "exchanges"}
    with pytest.raises(ReplayError, match="records no exchanges"):
        Recording.from_report(data)
    with pytest.raises(ReplayError, match="not a card-callback JSON report"):
        Recording.from_report({"format": "something else"})


@pytest.mark.parametrize(("recorded_url", "url", "expected"), [
    ("http://psp.test/cb?tenant=a", None, "http://psp.test/cb?tenant=a"),
    ("http://psp.test/cb?tenant=a", "https://127.0.0.1:9443/other", "https://127.0.0.1:9443/other?tenant=a"),
    ("http://psp.test/cb?tenant=a", "http://127.0.0.1:1/x?tenant=b", "http://127.0.0.1:1/x?tenant=b"),
])
def test_url_replaces_scheme_host_port_and_path(recorded_url: str, url: str | None, expected: str) -> None:
    assert retarget(recorded_url, url) == expected


def test_a_run_that_sent_the_auth_header_is_known_from_its_redacted_value(
        recorded: tuple[Report, list[Exchange], dict[str, Any]]) -> None:
    data = json.loads(json.dumps(recorded[2]))
    assert not Recording.from_report(data).authenticated
    data["exchanges"][0]["request"]["headers"].append(["X-Card-Callback-Auth", "***"])
    assert Recording.from_report(data).authenticated


def test_groups_and_retry_cards_come_back_typed(recorded: tuple[Report, list[Exchange], dict[str, Any]]) -> None:
    # The checks read them (CC005, CC007 and CC012 compare a group; CC010 names the card): a replay must too.
    _, exchanges, data = recorded
    back = [(item.probe.group, item.probe.card) for item in Recording.from_report(data).exchanges]
    assert back == [(ex.probe.group, ex.probe.card) for ex in exchanges]
    assert {kind for group, _ in back if group is not None for kind in [group.kind]} == set(GroupKind)
    assert {card for _, card in back} == {None, Card.SAME, Card.OTHER}
