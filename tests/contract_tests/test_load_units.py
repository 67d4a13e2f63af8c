"""The load mode's pure parts: histograms, judging each answer, the verdict of a run, reports."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import pytest

from callback_core.spec import Contract
from contract_tests.errors import OptionError
from contract_tests.load.judging import conclude, judge
from contract_tests.load.report import Stopped, build_report, format_html, format_json
from contract_tests.load.settings import LoadSettings, parse_duration
from contract_tests.load.stats import Recorder, percentiles
from contract_tests.models import Verdict

JSON = (("content-type", "application/json"),)
RESERVE = b'{"status":"RESERVE","networkTransactionReference":"1"}'
T0 = 1_700_000_000.0


def settings(contract: Contract, **overrides: Any) -> LoadSettings:
    values: dict[str, Any] = {"url": "http://127.0.0.1:9/cb", "contract": contract, "spec_sha256": "0" * 64,
                              "seed": 1, "users": 10, "spawn_rate": 10.0, "duration": 10.0, "deadline": 1.0}
    return LoadSettings(**{**values, **overrides}).validate()


def recorded(exchanges: list[tuple[float, float, int, bytes]], contract: Contract, deadline: float = 1.0) -> Recorder:
    """(offset, latency, status, answer) per exchange, judged as the load run judges them."""
    recorder = Recorder()
    for offset, latency, status, answer in exchanges:
        j = judge(contract, deadline, body=b"{}", status=status, headers=JSON, answer_body=answer,
                  elapsed=latency, error=None, timed_out=False)
        recorder.record(T0 + offset, latency, j.outcome, j.late, j.defects, j.warning)
    return recorder


def test_percentiles_are_within_one_percent_and_merge_across_processes() -> None:
    samples = [0.001 * (i + 1) for i in range(1000)]  # 1 ms .. 1 s
    a, b = Recorder(), Recorder()
    for i, latency in enumerate(samples):
        (a if i % 2 else b).record(T0, latency, "RESERVE", False)
    a.merge(Recorder.from_wire(json.loads(json.dumps(b.to_wire()))))  # as it travels from a worker
    total = a.windows[int(T0)]
    p = percentiles(total.histogram, a.max_latency)
    assert p is not None and p.count == 1000 and p.max == pytest.approx(1.0)
    for measured, exact in ((p.p50, 0.5), (p.p99, 0.99), (p.p999, 0.999)):
        assert math.isclose(measured, exact, rel_tol=0.011), (measured, exact)


def test_each_answer_is_judged_by_the_suites_rules(contract: Contract) -> None:
    def one(**kw: Any) -> Any:
        args: dict[str, Any] = {"body": b"{}", "status": 200, "headers": JSON,
                                "answer_body": RESERVE, "elapsed": 0.1, "error": None, "timed_out": False, **kw}
        return judge(contract, 1.0, **args)

    assert one().defects == () and one().outcome == "RESERVE"
    assert [d[0] for d in one(status=500, answer_body=b"oops").defects] == ["CC002"]
    assert [d[0] for d in one(answer_body=b'{"status":"RESERVED"}').defects] == ["CC001"]
    late = one(elapsed=1.5)
    assert late.late and late.outcome == "RESERVE" and [d[0] for d in late.defects] == ["CC003"]
    timed_out = one(status=None, timed_out=True, elapsed=1.5)
    assert timed_out.outcome == "no answer in time" and [d[0] for d in timed_out.defects] == ["CC003"]
    dropped = one(status=None, error="ConnectionResetError")
    assert [d[0] for d in dropped.defects] == ["CC002"]
    nulls = one(answer_body=b'{"status":"RESERVE","networkTransactionReference":null}')
    assert nulls.defects == () and nulls.warning is not None  # a warning, as in the suite


def test_examples_name_the_attempt_and_mask_card_data_the_answer_echoes(
    contract: Contract, token_callback: dict[str, Any]
) -> None:
    token = token_callback["networkToken"]
    echo = json.dumps({"status": "RESERVED", "note": f"token {token['number']} {token['cryptogram']}"}).encode()
    judged = judge(contract, 1.0, body=json.dumps(token_callback).encode(), status=200, headers=JSON,
                   answer_body=echo, elapsed=0.1, error=None, timed_out=False)
    example = judged.defects[0][2]
    assert example.startswith(f"attempt {token_callback['authorizationAttemptId']}: answered 200")
    assert token["number"] not in example and token["cryptogram"] not in example
    assert token["number"][-4:] in example  # a card number keeps its last four digits


def test_a_psp_whose_outcomes_vary_conforms(contract: Contract) -> None:
    fail = b'{"status":"FAIL","errorCode":"51","errorMessage":"Insufficient funds"}'
    exchanges = [(s + i / 20, 0.05, 200, RESERVE if i % 3 else fail) for s in range(12) for i in range(20)]
    done = conclude(settings(contract, rate=20.0), recorded(exchanges, contract), T0, T0 + 10)
    assert done.verdict is Verdict.CONFORMS, done.reasons
    assert done.total.outcomes["FAIL"] and done.total.outcomes["RESERVE"]


def test_deadline_misses_are_defects_with_the_deadlines_percentile(contract: Contract) -> None:
    exchanges = [(s, 0.5 if i < 15 else 1.5, 200, RESERVE) for s in range(10) for i in range(20)]
    done = conclude(settings(contract), recorded(exchanges, contract), T0, T0 + 10)
    assert done.verdict is Verdict.DEFECTS
    assert done.deadline_percentile == pytest.approx(0.75)
    assert "50 of 200 callbacks missed the 1 s deadline (CC003); the deadline falls at p75.0" in done.reasons[0]


def test_misses_while_the_generator_was_saturated_are_not_blamed_on_the_psp(contract: Contract) -> None:
    recorder = recorded([(s, 1.5, 200, RESERVE) for s in range(10)], contract)
    recorder.cpu_busy = 0.97
    done = conclude(settings(contract), recorder, T0, T0 + 10)
    assert done.verdict is Verdict.UNTESTED
    assert any("not judged: the load generator was saturated" in reason for reason in done.reasons)


def test_a_rate_below_ninety_percent_of_the_request_exits_2_saying_why(contract: Contract) -> None:
    exchanges = [(s + i / 50, 0.2, 200, RESERVE) for s in range(10) for i in range(50)]  # 50/s
    done = conclude(settings(contract, rate=100.0), recorded(exchanges, contract), T0, T0 + 10)
    assert done.verdict is Verdict.UNTESTED and done.measured_rate == pytest.approx(50, rel=0.05)
    assert "below 90% of the requested 100/s: 10 users waiting 0.200 s (p50)" in done.reasons[0]
    assert "raise --users" in done.reasons[0]


def test_a_saturated_generator_below_the_rate_says_so_and_exits_2(contract: Contract) -> None:
    recorder = recorded([(s + i / 50, 0.001, 200, RESERVE) for s in range(10) for i in range(50)], contract)
    recorder.cpu_busy = 0.99
    done = conclude(settings(contract, rate=1000.0, users=100, spawn_rate=100.0), recorder, T0, T0 + 10)
    assert done.verdict is Verdict.UNTESTED
    assert any("the load generator saturated (99% of a core)" in reason for reason in done.reasons)
    assert any("(the generator was saturated)" in reason for reason in done.reasons)


def test_every_callback_refused_with_401_without_a_secret_tested_nothing(contract: Contract) -> None:
    recorder = recorded([(s, 0.01, 401, b'{"title":"Unauthorized"}') for s in range(5)], contract)
    done = conclude(settings(contract), recorder, T0, T0 + 5)
    assert done.verdict is Verdict.UNTESTED and "refused with 401" in done.reasons[0]


def test_reports_carry_the_chart_and_no_card_data(contract: Contract, token_callback: dict[str, Any]) -> None:
    run = settings(contract)
    recorder = recorded([(s, 0.5 if s < 5 else 1.2, 200, RESERVE) for s in range(10)], contract)
    report = build_report(run, conclude(run, recorder, T0, T0 + 10), recorder, Stopped(T0, T0 + 10), "now")
    page, data = format_html(report), json.loads(format_json(report))
    assert 'id="latency-chart"' in page and 'id="deadline-line"' in page
    assert data["deadlineMisses"] == 5 and data["latency"]["maxSeconds"] == pytest.approx(1.2)
    assert [s["offset"] for s in data["seconds"]] == list(range(10))
    token = token_callback["networkToken"]
    assert token["number"] not in page and token["cryptogram"] not in page


@pytest.mark.parametrize(("text", "seconds"), [("60", 60), ("60s", 60), ("2m", 120), ("1h", 3600), ("0.5s", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_a_bad_duration_is_one_line() -> None:
    with pytest.raises(OptionError, match="--duration must look like 60, 60s, 2m or 1h"):
        parse_duration("soon")


def test_refused_connections_count_as_errors_but_not_as_latencies(contract: Contract) -> None:
    recorder = Recorder()
    j = judge(contract, 1.0, body=b"{}", status=None, headers=(), answer_body=b"", elapsed=0.001,
              error="ConnectionRefusedError", timed_out=False)
    recorder.record(T0, None, j.outcome, j.late, j.defects)
    recorder.record(T0, 0.2, "RESERVE", False)
    assert recorder.windows[int(T0)].count == 2 and sum(recorder.windows[int(T0)].histogram.values()) == 1
    assert recorder.max_latency == 0.2 and [e.code for e in recorder.errors.values()] == ["CC002"]


def test_outcome_counts_add_up(contract: Contract) -> None:
    recorder = recorded([(0, 0.1, 200, RESERVE), (0, 0.1, 500, b"x"), (1, 0.1, 200, b"{}")], contract)
    assert sum(Counter(recorder.windows[int(T0)].outcomes).values()) == 2
    assert recorder.windows[int(T0)].defects == 1 and recorder.windows[int(T0) + 1].defects == 1
