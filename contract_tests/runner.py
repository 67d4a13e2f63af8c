"""Run the suite against one callback URL through a transport, as a stream of events."""

from __future__ import annotations

import hashlib
import itertools
import math
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpx

from callback_core.auth_header import AUTH_HEADER_ENV, AuthHeader, auth_header_name
from callback_core.errors import CardCallbackError
from callback_core.spec import Contract
from contract_tests.auth import prepare, redacted
from contract_tests.cards import DEFAULT_CARDS, CardTriggers
from contract_tests.cases import Planner
from contract_tests.catalogue import CHECKS
from contract_tests.checks import outcome_of, unmet
from contract_tests.coverage import CoverageCounter
from contract_tests.errors import OptionError, TransportError
from contract_tests.events import (
    CheckFinished,
    Event,
    Planned,
    RequestDone,
    RunFinished,
    RunStarted,
    SendingStopped,
)
from contract_tests.flows import Flows
from contract_tests.generation import generate
from contract_tests.models import (
    Answer,
    CheckResult,
    Context,
    Exchange,
    Failure,
    Finding,
    Group,
    Latency,
    Outcome,
    Outgoing,
    Probe,
    Report,
    Role,
    Verdict,
)
from contract_tests.transport import Transport

DEFAULT_MAX_EXAMPLES = 100
STOP_AFTER_LATE = 3  # a PSP this slow would only make the run last minutes more; the defect is plain
STOP_AFTER_FAILED_CONNECTIONS = 3  # consecutive: the endpoint is gone
LANES = 4  # requests in flight at once (see _send_all)
_VALID = (Role.VALID, Role.BASELINE)  # callbacks planned valid (follow-ups are judged by their own checks)


def document_sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, slots=True)
class Settings:
    """One run's options, validated once by `validate`."""

    url: str
    contract: Contract
    spec_sha256: str
    seed: int
    deadline: float | None = None  # None: the document's
    max_examples: int = DEFAULT_MAX_EXAMPLES
    strict: bool = False
    secret: str | None = None
    test_cards: CardTriggers = DEFAULT_CARDS
    auth: AuthHeader | None = None  # the cardCallbackAuthHeader value, sent on every callback but CC013's
    fail_on_not_exercised: bool = False  # a check the run could not exercise makes the verdict "defects"

    @property
    def effective_deadline(self) -> float:
        return self.deadline if self.deadline is not None else self.contract.deadline_seconds

    def validate(self) -> Settings:
        url = httpx.URL(self.url) if _parses(self.url) else None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise OptionError(f"URL must be an absolute http(s) URL, not {self.url!r}")
        if self.deadline is not None and not (math.isfinite(self.deadline) and self.deadline > 0):
            raise OptionError(f"--deadline must be a positive number of seconds, not {self.deadline:g}")
        if self.max_examples < 1:
            raise OptionError(f"--max-examples must be at least 1, not {self.max_examples}")
        if not 0 <= self.seed < 2**64:
            raise OptionError(f"--seed must be between 0 and 2**64-1, not {self.seed}")
        return self


def run(
    settings: Settings,
    transport: Transport,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    timer: Callable[[], float] = time.perf_counter,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> Iterator[Event]:
    """Generate, send, judge; yields progress as it goes and a RunFinished with the report last.

    Whatever goes wrong once the run has started, in the toolkit or in a library it uses, still ends in a
    RunFinished: an "untested" report with what was sent and judged so far and the reason as a note, so
    every report gets written and no verdict is made up.
    """
    settings = settings.validate()
    started_at, started = now(), timer()
    exchanges: list[Exchange] = []
    results: list[CheckResult] = []
    coverage = CoverageCounter(settings.contract)
    try:
        for event in _run(settings, transport, now, timer, new_id, started_at, started):
            if isinstance(event, RequestDone):
                exchanges.append(event.exchange)
                coverage.add(event.exchange)
            elif isinstance(event, CheckFinished):
                results.append(event.result)
            elif isinstance(event, RunFinished):
                event = RunFinished(_completed(event.report, settings, coverage))
            yield event
    except Exception as exc:  # noqa: BLE001 - the point: no exception may cost the user the report
        report = _aborted(settings, exchanges, results, _one_line(exc), started_at, timer() - started)
        yield RunFinished(_completed(report, settings, coverage))


def _completed(report: Report, settings: Settings, coverage: CoverageCounter) -> Report:
    """The report with what every report shows beside the checks: the coverage counted as requests came back,
    the document's version, the options that shaped the verdict."""
    version = settings.contract.document.get("x-document-version")
    return replace(report, coverage=coverage.result(), document_version=None if version is None else str(version),
                   fail_on_not_exercised=settings.fail_on_not_exercised)


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    if isinstance(exc, CardCallbackError):
        return text
    return f"internal error of the suite, not a PSP defect: {type(exc).__name__}: {text}"


def _aborted(settings: Settings, exchanges: list[Exchange], results: list[CheckResult], reason: str,
             started_at: datetime, duration: float) -> Report:
    done = {r.check.code for r in results}
    skipped = [CheckResult(check, Outcome.SKIPPED, 0, reason="not judged: the run stopped (see the note)")
               for check in CHECKS if check.code not in done]
    return Report(
        target=settings.url, spec_source=settings.contract.source, spec_sha256=settings.spec_sha256,
        seed=settings.seed, deadline=settings.effective_deadline, max_examples=settings.max_examples,
        strict=settings.strict, signed=settings.secret is not None, verdict=Verdict.UNTESTED,
        results=(*results, *skipped), latency=latency([ex.elapsed for ex in exchanges if ex.answer]),
        requests=len(exchanges), duration=duration, started_at=started_at.isoformat(timespec="seconds"),
        notes=(f"could not test: {reason}",),
    )


def _run(
    settings: Settings, transport: Transport, now: Callable[[], datetime], timer: Callable[[], float],
    new_id: Callable[[], str], started_at: datetime, started: float,
) -> Iterator[Event]:
    contract, deadline, signed = settings.contract, settings.effective_deadline, settings.secret is not None
    yield RunStarted(settings.url, contract.source, settings.spec_sha256, settings.seed, deadline,
                     settings.max_examples, settings.strict, signed)
    generated = generate(contract, seed=settings.seed, max_examples=settings.max_examples,
                         invalid_examples=max(5, settings.max_examples // 4))
    planner = Planner(contract, generated, new_id, cards=settings.test_cards)
    probes = planner.plan(signed=signed, authenticated=settings.auth is not None)
    flows = Flows(planner, settings.test_cards)
    yield Planned(len(probes), tuple(Counter(p.role.value for p in probes).items()))

    # Give a late answer a little time so the report can say how late, without waiting for ever.
    timeout = deadline + min(2.0, max(0.5, deadline / 2))
    notes: list[str] = []
    done: dict[int, Exchange] = {}
    late = failed_in_a_row = 0
    for index, exchange in _send_all(probes, settings, transport, timeout, now, timer, flows.follow_up):
        done[index] = exchange
        is_late = exchange.timed_out or exchange.elapsed > deadline
        yield RequestDone(len(done), len(probes), exchange, is_late)
        failed_in_a_row = failed_in_a_row + 1 if exchange.answer is None and not exchange.timed_out else 0
        late += is_late
        if index == 0 and exchange.unreachable:
            break  # nothing was tested, _untested_reason says why
        if late >= STOP_AFTER_LATE:
            notes.append(f"stopped after {len(done)} of {len(probes)} requests: {late} answers missed the deadline")
            break
        if failed_in_a_row >= STOP_AFTER_FAILED_CONNECTIONS:
            notes.append(f"stopped after {len(done)} of {len(probes)} requests: the last {failed_in_a_row} got no "
                         f"answer ({exchange.error})")
            break
    exchanges = [done[index] for index in sorted(done)]

    untested = _untested_reason(exchanges, signed, settings.auth is not None or auth_header_name(contract) is None)
    if len(exchanges) < len(probes):
        yield SendingStopped(len(exchanges), len(probes), (notes or [untested or ""])[0])
    if untested:
        notes.append(untested)
    refused = None if untested else refusals(exchanges)
    if refused:
        notes.append(refused)
    # A PSP that does not know the built-in cards answers them its usual way: only a file's promise is news.
    unexpected = None if untested or settings.test_cards is DEFAULT_CARDS else flows.unexpected_cards(exchanges)
    if unexpected:
        notes.append(unexpected)
    accepted = any(ex.probe.role in _VALID and ex.answer is not None and ex.answer.status == 200
                   for ex in exchanges)
    ctx = Context(contract=contract, deadline=deadline, signed=signed, strict=settings.strict,
                  authenticated=settings.auth is not None, accepted=accepted)
    results = []
    checked: Iterable[CheckResult]
    if untested:
        checked = (CheckResult(check, Outcome.SKIPPED, 0, reason="not judged: the run tested nothing (see the note)")
                   for check in CHECKS)
    else:
        checked = judge(exchanges, ctx, complete=len(exchanges) == len(probes), notes=notes)
    for result in checked:
        results.append(result)
        yield CheckFinished(result)

    if untested:
        verdict = Verdict.UNTESTED
    elif any(r.outcome is Outcome.FAILED for r in results) or (
            settings.fail_on_not_exercised and any(r.outcome is Outcome.NOT_EXERCISED for r in results)):
        verdict = Verdict.DEFECTS
    else:
        verdict = Verdict.CONFORMS
    yield RunFinished(Report(
        target=settings.url, spec_source=contract.source, spec_sha256=settings.spec_sha256, seed=settings.seed,
        deadline=deadline, max_examples=settings.max_examples, strict=settings.strict, signed=signed,
        verdict=verdict, results=tuple(results), latency=latency([ex.elapsed for ex in exchanges if ex.answer]),
        requests=len(exchanges), duration=timer() - started, started_at=started_at.isoformat(timespec="seconds"),
        notes=tuple(notes),
    ))


def judge(exchanges: list[Exchange], ctx: Context, *, complete: bool = True,
          notes: Sequence[str] = ()) -> Iterator[CheckResult]:
    """Every check's result on `exchanges`, in code order. `complete`: every planned request and follow-up went
    out (only then is a check that judged nothing "not exercised"); `notes`: why sending stopped, if it did."""
    for check in CHECKS:
        missing = next((reason for need in check.needs if (reason := unmet(need, ctx)) is not None), None)
        if missing is not None:
            yield CheckResult(check, Outcome.SKIPPED, 0, reason=missing)
            continue
        judged, findings = check.judge(exchanges, ctx)
        if not judged and check.not_exercised is not None and complete:
            yield CheckResult(check, Outcome.NOT_EXERCISED, 0, reason=check.not_exercised(exchanges, ctx))
            continue
        reason = None if judged else (
            f"not reached: {notes[0]}" if notes
            else "nothing to judge: the requests it needs got no usable answer (see the other checks)"
        )
        yield CheckResult(check, outcome_of(findings, judged), judged, _group(check.code, findings), reason)


def _lanes(probes: list[Probe]) -> list[list[tuple[int, Probe]]]:
    """Probes a check compares (one group) share a lane and go in order; every other probe is a lane of its own."""
    lanes: list[list[tuple[int, Probe]]] = []
    grouped: dict[Group, list[tuple[int, Probe]]] = {}
    for index, probe in enumerate(probes):
        if probe.group is None:
            lanes.append([(index, probe)])
        elif probe.group in grouped:
            grouped[probe.group].append((index, probe))
        else:
            grouped[probe.group] = [(index, probe)]
            lanes.append(grouped[probe.group])
    return lanes


def _send_all(
    probes: list[Probe], settings: Settings, transport: Transport, timeout: float,
    now: Callable[[], datetime], timer: Callable[[], float],
    follow_up: Callable[[Exchange], list[Probe]] = lambda exchange: [],
) -> Iterator[tuple[int, Exchange]]:
    """Every probe's exchange as it completes, with the probe's index; stops sending when the consumer stops.

    The first probe goes alone (an unreachable URL is then one request); the rest go LANES at a time.
    Vipps MobilePay sends callbacks for many users at once, and one slow answer (a test card whose issuer
    is slow) must not hold up every other request. `follow_up` plans, from an exchange, the requests Vipps
    would send next (the second callback after a soft decline, a user's retry after a FAIL); it is called in
    every lane, and they go at the end of that lane (next, unless the lane still holds the rest of a group a
    check compares) and are appended to `probes`, so their indexes follow the planned ones.
    """
    if not probes:
        return
    planned = len(probes)
    appending = threading.Lock()

    def extend(lane: list[tuple[int, Probe]], exchange: Exchange) -> None:
        extra = follow_up(exchange)
        with appending:
            for probe in extra:
                lane.append((len(probes), probe))
                probes.append(probe)

    first = _send(probes[0], settings, transport, timeout, now, timer)
    first_lane: list[tuple[int, Probe]] = []
    extend(first_lane, first)
    yield 0, first
    finished: queue.Queue[tuple[int, Exchange]] = queue.Queue()
    stop = threading.Event()

    def run_lane(lane: list[tuple[int, Probe]]) -> None:
        position = 0
        while position < len(lane) and not stop.is_set():  # the lane grows as answers ask for follow-ups
            together = list(itertools.takewhile(lambda item: item[1].at_once, lane[position:]))
            if together:
                for done in _send_at_once(together, settings, transport, timeout, now, timer):
                    finished.put(done)
                position += len(together)
            else:
                index, probe = lane[position]
                exchange = _send(probe, settings, transport, timeout, now, timer)
                extend(lane, exchange)
                finished.put((index, exchange))
                position += 1

    lanes = _lanes(probes[1:planned])
    for lane in lanes:
        lane[:] = [(index + 1, probe) for index, probe in lane]
    if first_lane:
        lanes.insert(0, first_lane)
    pool = ThreadPoolExecutor(max_workers=LANES, thread_name_prefix="card-callback-send")
    futures = [pool.submit(run_lane, lane) for lane in lanes]
    try:
        while True:
            try:
                yield finished.get(timeout=0.05)
            except queue.Empty:
                if all(f.done() for f in futures) and finished.empty():
                    break
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]


def _send_at_once(
    together: list[tuple[int, Probe]], settings: Settings, transport: Transport, timeout: float,
    now: Callable[[], datetime], timer: Callable[[], float],
) -> list[tuple[int, Exchange]]:
    """Send the probes at the same moment, each from its own thread (released together by a barrier): each request
    is signed and each thread's client made before the barrier, so the copies leave within a millisecond or so
    and a PSP's check-then-store window, often a few milliseconds, is really tested."""
    barrier = threading.Barrier(len(together))

    def send_one(probe: Probe) -> Exchange:
        request = prepare(probe, settings.url, settings.secret, settings.contract.hmac, now(), settings.auth)
        transport.ready()
        try:
            barrier.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass  # a thread that could not start in time: send anyway, a little later
        return _deliver(probe, request, settings, transport, timeout, timer)

    with ThreadPoolExecutor(max_workers=len(together), thread_name_prefix="card-callback-at-once") as pool:
        exchanges = list(pool.map(send_one, [probe for _, probe in together]))
    return [(index, exchange) for (index, _), exchange in zip(together, exchanges, strict=True)]


def _send(
    probe: Probe, settings: Settings, transport: Transport, timeout: float,
    now: Callable[[], datetime], timer: Callable[[], float],
) -> Exchange:
    request = prepare(probe, settings.url, settings.secret, settings.contract.hmac, now(), settings.auth)
    return _deliver(probe, request, settings, transport, timeout, timer)


def _deliver(
    probe: Probe, request: Outgoing, settings: Settings, transport: Transport, timeout: float,
    timer: Callable[[], float],
) -> Exchange:
    start = timer()
    try:
        answer = transport.send(request, timeout)
    except TransportError as exc:
        return Exchange(probe, redacted(request, settings.auth), None, timer() - start, error=exc.reason,
                        timed_out=exc.timed_out, unreachable=exc.connect)
    return Exchange(probe, redacted(request, settings.auth), answer, timer() - start)


def _untested_reason(exchanges: list[Exchange], signed: bool, authenticated: bool = True) -> str | None:
    """Why the run tested nothing, or None. `authenticated`: the auth header value was given, or the
    document has no slot for one."""
    answered = [ex for ex in exchanges if ex.answer is not None]
    if not answered and all(ex.unreachable for ex in exchanges):
        # A PSP that took the connection and then broke it (reset, garbage, a trickle past the deadline) was
        # tested: CC002 and CC003 report that. Only an endpoint nobody could connect to was not.
        reason = next((ex.error for ex in exchanges if ex.error), "no request got an answer")
        return f"tested nothing: {reason}"
    valid = [ex for ex in answered if ex.probe.role is Role.VALID]
    if (signed and authenticated) or not valid or any(ex.answer is None or ex.answer.status != 401 for ex in valid):
        return None
    hmac = "the secret in CARD_CALLBACK_HMAC_SECRET or with --hmac-secret-file"
    if authenticated:
        return ("tested nothing: every valid callback was refused with 401 (the endpoint verifies HMAC "
                f"signatures); give {hmac}")
    give = f"the auth header value in {AUTH_HEADER_ENV} or with --auth-header-file"
    if not signed:
        give += f" (and, if it signs, {hmac})"
    return ("tested nothing: every valid callback was refused with 401 (the endpoint verifies the auth header"
            f"{'' if signed else ' or HMAC signatures'}); give {give}")


def refusals(exchanges: list[Exchange]) -> str | None:
    """Every distinct reason the PSP gave for refusing valid callbacks, with its count, when it refused at least
    half of them: then the verdict rests on little (a wrong path, a document the PSP does not implement)."""
    valid = [ex for ex in exchanges if ex.probe.role in _VALID and ex.answer is not None]
    refused = [ex for ex in valid if ex.answer is not None and 400 <= ex.answer.status < 500]
    if not refused or len(refused) * 2 < len(valid):
        return None
    reasons = Counter(_refusal_reason(ex.answer) for ex in refused if ex.answer is not None)
    listed = "; ".join(f"{reason} ({count})" for reason, count in reasons.most_common())
    return f"{len(refused)} of {len(valid)} valid callbacks refused: {listed}"


def _refusal_reason(answer: Answer) -> str:
    try:
        data = answer.json()
    except ValueError:
        data = None
    text = ""
    if isinstance(data, dict):
        # problem+json's detail, else its title; other frameworks' usual keys after that.
        detail = data.get("detail")
        if isinstance(detail, list):  # FastAPI's 422: a list of {loc, msg, input}; the input may be card data
            text = "; ".join(f"{'.'.join(map(str, d.get('loc', ())))}: {d.get('msg')}" for d in detail
                             if isinstance(d, dict))
        else:
            text = next((str(data[k]) for k in ("detail", "title", "message", "error") if data.get(k)), "")
    text = " ".join((text or answer.body.decode("utf-8", "replace")).split()) or "(empty body)"
    return f"{answer.status} {text[:160]}{'...' if len(text) > 160 else ''}"


def _group(code: str, findings: list[Finding]) -> tuple[Failure, ...]:
    """One Failure per title; the reproduction is the smallest request that shows it."""
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.title, []).append(finding)
    failures = []
    for title, alike in grouped.items():
        smallest = min(alike, key=lambda f: sum(len(ex.request.body) for ex in f.exchanges))
        detail = smallest.detail
        others = sorted({f.exchanges[0].probe.label for f in alike} - {smallest.exchanges[0].probe.label})
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            detail += f" (also: {shown})"
        failures.append(Failure(code, smallest.severity, title, detail, smallest.exchanges, len(alike)))
    return tuple(failures)


def latency(samples: list[float]) -> Latency | None:
    if not samples:
        return None
    ordered = sorted(samples)

    def rank(p: float) -> float:
        # Nearest rank: a percentile that is one of the measured latencies.
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

    return Latency(count=len(ordered), p50=rank(0.50), p95=rank(0.95), max=ordered[-1], samples=tuple(ordered))


def _parses(url: str) -> bool:
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return False
    return True
