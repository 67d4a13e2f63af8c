"""Judge each answer by the contract suite's own rules, and the whole run by the load it got."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from callback_core import fields
from callback_core.spec import Contract
from contract_tests.checks import CC001, CC002, CC003, answer_problems, answer_status
from contract_tests.flow_checks import CC009, CC010
from contract_tests.load.settings import SATURATION, LoadSettings
from contract_tests.load.source import Kind
from contract_tests.load.stats import Percentiles, Recorder, Window, percentiles, share_within
from contract_tests.models import Answer, Severity, Verdict

SNIPPET = 200
BUSY = 0.9  # a generating process busier than this share of a core delays its own requests


@dataclass(frozen=True, slots=True)
class Judgement:
    """What one exchange came to: its outcome label, and each rule it broke (code, title, example)."""

    outcome: str
    late: bool
    defects: tuple[tuple[str, str, str], ...]
    warning: str | None = None
    answer: Any = None  # the parsed body of a 200 answer that calls for a follow-up (SOFT_DECLINE, FAIL)


def judge(
    contract: Contract, deadline: float, *, body: bytes, status: int | None,
    headers: tuple[tuple[str, str], ...], answer_body: bytes, elapsed: float, error: str | None,
    timed_out: bool, strict: bool = False, kind: Kind = Kind.FIRST, code_listed: bool = True, signed: bool = False,
) -> Judgement:
    """One exchange, judged as CC001 (a valid answer), CC002 (no server error) and CC003 (the deadline) do, and a
    follow-up as CC009 (a second callback is answered) and CC010 (a retry is answered) do."""
    if timed_out or status is None or elapsed > deadline or status != 200:
        request_id = request_name(contract, body)
    else:
        request_id = ""  # named below only if the answer turns out wrong: parsing every body would cost
    if timed_out:
        return Judgement("no answer in time", True,
                         ((CC003.code, f"no answer within the {deadline:g} s deadline", request_id),))
    if status is None:
        return Judgement("connection failed", elapsed > deadline,
                         ((CC002.code, "no answer: the connection failed", f"{request_id}: {error or ''}"),))
    late = elapsed > deadline
    defects: list[tuple[str, str, str]] = []
    if late:
        defects.append((CC003.code, f"answered after the {deadline:g} s deadline",
                        f"{request_id}: took {elapsed:.3f} s"))
    answer = Answer(status, headers, answer_body)
    problem = answer_problems(answer, contract, strict)
    example = "" if problem is None and status < 500 else \
        f"{request_id or request_name(contract, body)}: answered {status} {scrub(contract, answer_body, body)}"
    if status >= 500:
        defects.append((CC002.code, f"answered {status} to a valid callback", example))
        return Judgement(f"HTTP {status}", late, tuple(defects))
    if kind.follow_up and status != 200 and not (signed and status == 401):
        # A follow-up refused is the flow's rule, as in `test` (a signed one refused with 401 stays CC001's:
        # the signature's matter, like any other callback's).
        check = CC009 if kind is Kind.SECOND_CALLBACK else CC010
        title = f"the {kind} was answered {status}, not 200: the payment is lost"
        if kind is Kind.SECOND_CALLBACK or code_listed or strict:
            defects.append((check.code, title, f"{request_id}: answered {status} {scrub(contract, answer_body, body)}"))
            return Judgement(f"HTTP {status}", late, tuple(defects))
        # After a code the catalogue does not list, the PSP may have meant it final.
        return Judgement(f"HTTP {status}", late, tuple(defects), f"{title} (after an error code not in x-error-codes)")
    if problem is not None and problem.severity is Severity.DEFECT:
        defects.append((CC001.code, f"valid callback {problem.title}", example))
        return Judgement("invalid answer" if status == 200 else f"HTTP {status}", late, tuple(defects))
    warning = problem.title if problem is not None else None
    outcome = answer_status(answer, contract)
    followed = None
    if outcome in ("SOFT_DECLINE", "FAIL"):
        try:
            followed = answer.json()
        except ValueError:
            followed = None
    return Judgement(outcome or f"HTTP {status}", late, tuple(defects), warning, followed)


def request_name(contract: Contract, body: bytes) -> str:
    """How a report names a callback: its attempt id (the PSP's logs have it), else its body's SHA-256."""
    try:
        attempt = contract.request_value(json.loads(body), fields.ATTEMPT_ID)
    except ValueError:
        attempt = None
    if isinstance(attempt, str) and attempt:
        return f"attempt {attempt[:64]}"
    return f"callback sha256:{hashlib.sha256(body).hexdigest()[:16]}"


def scrub(contract: Contract, answer_body: bytes, request_body: bytes) -> str:
    """The answer as text, cut short, with any card data of the request it echoes masked: no report may carry it."""
    text = answer_body.decode("utf-8", "replace")
    try:
        request = json.loads(request_body)
    except ValueError:
        request = None
    text = fields.scrub(text, fields.card_values(request, contract.card_data_pointers))
    return text if len(text) <= SNIPPET else text[:SNIPPET] + "..."


@dataclass(frozen=True, slots=True)
class Conclusion:
    verdict: Verdict
    reasons: tuple[str, ...]
    measured_rate: float
    latency: Percentiles | None
    deadline_percentile: float  # the share of answers within the deadline, 0..1
    total: Window


def conclude(settings: LoadSettings, recorder: Recorder, started: float, stopped: float) -> Conclusion:
    """The verdict: defects found (1), else the load not produced (2), else conforms (0), with the reasons."""
    deadline = settings.effective_deadline
    total = Window()
    for window in recorder.windows.values():
        total.merge(window)
    latency = percentiles(total.histogram, recorder.max_latency)
    rate = measured_rate(settings, recorder, started, stopped)
    reasons: list[str] = []
    defects_by_code: Counter[str] = Counter()
    for error in recorder.errors.values():
        defects_by_code[error.code] += error.count
    answered = sum(n for outcome, n in total.outcomes.items() if outcome not in ("connection failed",
                                                                                 "no answer in time"))
    saturated = recorder.cpu_busy >= BUSY
    if not total.count or not answered:
        first = next(iter(recorder.errors.values()), None)
        reasons.append("tested nothing: no callback got an answer" + (f" ({first.example})" if first else ""))
        return Conclusion(Verdict.UNTESTED, tuple(reasons), rate, latency, 0.0, total)
    if (settings.secret is None or settings.auth is None) and total.outcomes.get("HTTP 401", 0) == total.count:
        missing = [what for what, given in (
            ("the HMAC secret (CARD_CALLBACK_HMAC_SECRET or --hmac-secret-file)", settings.secret),
            ("the auth header value (CARD_CALLBACK_AUTH_HEADER or --auth-header-file)", settings.auth)) if not given]
        reasons.append("tested nothing: every callback was refused with 401 (the endpoint authenticates "
                       f"callbacks); give {' and/or '.join(missing)}")
        return Conclusion(Verdict.UNTESTED, tuple(reasons), rate, latency, 0.0, total)
    within = share_within(total.histogram, deadline)
    answer_defects = sum(defects_by_code[code] for code in (CC001.code, CC002.code, CC009.code, CC010.code))
    misses = total.misses
    if answer_defects:
        reasons.append(f"{answer_defects} of {total.count} callbacks got no valid answer under load "
                       f"({_codes(defects_by_code, (CC001.code, CC002.code, CC009.code, CC010.code))})")
    if misses and saturated:
        reasons.append(f"{misses} answers after the {deadline:g} s deadline are not judged: the load generator "
                       f"was saturated ({recorder.cpu_busy:.0%} of a core), so its own delay is in those figures")
    elif misses:
        reasons.append(f"{misses} of {total.count} callbacks missed the {deadline:g} s deadline (CC003); the deadline "
                       f"falls at p{within * 100:.1f} of latency" + (f", p99.9 {latency.p999:.3f} s, max "
                                                                       f"{latency.max:.3f} s" if latency else ""))
    if reasons and (answer_defects or not saturated):
        return Conclusion(Verdict.DEFECTS, tuple(reasons), rate, latency, within, total)
    if saturated:
        reasons.append(f"the load generator saturated ({recorder.cpu_busy:.0%} of a core): add --workers or "
                       "hosts; the PSP is not blamed for the generator's limit")
    if settings.rate is not None and rate < SATURATION * settings.rate:
        reasons.append(_shortfall(settings, rate, latency, saturated))
    if reasons:
        return Conclusion(Verdict.UNTESTED, tuple(reasons), rate, latency, within, total)
    return Conclusion(Verdict.CONFORMS, tuple(reasons), rate, latency, within, total)


def _shortfall(settings: LoadSettings, rate: float, latency: Percentiles | None, saturated: bool) -> str:
    requested = settings.rate or 0.0
    text = (f"the run could not produce the load: measured {rate:.1f} callbacks/s, below {SATURATION:.0%} of the "
            f"requested {requested:g}/s")
    if saturated:
        return text + " (the generator was saturated)"
    if latency is not None and latency.p50 > 0:
        ceiling = settings.users / latency.p50
        if ceiling < requested:
            return text + (f": {settings.users} users waiting {latency.p50:.3f} s (p50) for each answer can send at "
                           f"most ~{ceiling:.0f}/s; raise --users")
    return text


def measured_rate(settings: LoadSettings, recorder: Recorder, started: float, stopped: float) -> float:
    """Callbacks per second sent in the whole seconds after the ramp-up and before the stop."""
    first, last = math.ceil(started + settings.ramp_up), math.floor(stopped)
    if last - first < 1:  # no steady second: the whole run, ramp-up included
        count = sum(w.count for w in recorder.windows.values())
        return count / max(stopped - started, 1e-9)
    return sum(w.count for second, w in recorder.windows.items() if first <= second < last) / (last - first)


def _codes(counts: Counter[str], codes: tuple[str, ...]) -> str:
    return ", ".join(f"{code}: {counts[code]}" for code in codes if counts[code])
