"""The load run's events and report: the progress line, the terminal summary, JSON for CI, self-contained HTML."""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contract_tests.catalogue import CHECKS
from contract_tests.charts import LOG_FLOOR, LogScale, tick_label
from contract_tests.load.judging import Conclusion
from contract_tests.load.settings import LoadSettings
from contract_tests.load.source import MAX_WAITING_FOLLOW_UPS, TEST_CARD_SHARE
from contract_tests.load.stats import ErrorSample, Percentiles, Recorder, bucket_value, percentiles
from contract_tests.models import Verdict

RULES = {check.code: check.name for check in CHECKS}


@dataclass(frozen=True, slots=True)
class Progress:
    elapsed: float
    rate: float
    requested_rate: float | None
    p50: float | None
    p99: float | None
    sent: int
    errors: int
    misses: int


@dataclass(frozen=True, slots=True)
class Stopped:
    """Sending stopped at `stopped` (epoch seconds); answers in flight were awaited."""

    started: float
    stopped: float


@dataclass(frozen=True, slots=True)
class Second:
    """One second of the run, for the charts: offset from the start, callbacks sent, latency percentiles."""

    offset: int
    count: int
    misses: int
    p50: float
    p99: float
    max: float


@dataclass(frozen=True, slots=True)
class LoadReport:
    target: str
    spec_source: str
    spec_sha256: str
    seed: int
    users: int
    spawn_rate: float
    requested_rate: float | None
    requested_duration: float
    deadline: float
    signed: bool
    workers: int
    test_cards: str | None  # where the test cards came from, when --test-cards was given
    started_at: str
    duration: float
    verdict: Verdict
    reasons: tuple[str, ...]
    measured_rate: float
    requests: int
    misses: int
    latency: Percentiles | None
    deadline_percentile: float
    cpu_busy: float
    outcomes: tuple[tuple[str, int], ...]
    errors: tuple[ErrorSample, ...]
    warnings: tuple[tuple[str, int], ...]
    seconds: tuple[Second, ...]
    follow_ups: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # kind, then its outcomes by count
    follow_ups_dropped: int


def build_report(settings: LoadSettings, conclusion: Conclusion, recorder: Recorder, stopped: Stopped,
                 started_at: str) -> LoadReport:
    first = int(stopped.started)
    seconds = []
    for second in sorted(recorder.windows):
        window = recorder.windows[second]
        top = min(bucket_value(max(window.histogram)), recorder.max_latency) if window.histogram else 0.0
        latency = percentiles(window.histogram, top)
        if latency is not None:
            seconds.append(Second(second - first, window.count, window.misses, latency.p50, latency.p99, latency.max))
    return LoadReport(
        target=settings.url, spec_source=settings.contract.source, spec_sha256=settings.spec_sha256,
        seed=settings.seed, users=settings.users, spawn_rate=settings.spawn_rate, requested_rate=settings.rate,
        requested_duration=settings.duration, deadline=settings.effective_deadline, signed=settings.secret is not None,
        workers=settings.workers, test_cards=settings.cards.source if settings.cards is not None else None,
        started_at=started_at,
        duration=stopped.stopped - stopped.started, verdict=conclusion.verdict, reasons=conclusion.reasons,
        measured_rate=conclusion.measured_rate, requests=conclusion.total.count, misses=conclusion.total.misses,
        latency=conclusion.latency, deadline_percentile=conclusion.deadline_percentile, cpu_busy=recorder.cpu_busy,
        outcomes=tuple(Counter(conclusion.total.outcomes).most_common()),
        errors=tuple(sorted(recorder.errors.values(), key=lambda e: (e.code, -e.count))),
        warnings=tuple(recorder.warnings.most_common()), seconds=tuple(seconds),
        follow_ups=_follow_ups(recorder), follow_ups_dropped=recorder.follow_ups_dropped,
    )


def _follow_ups(recorder: Recorder) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    kinds: dict[str, Counter[str]] = {}
    for (kind, outcome), count in sorted(recorder.follow_ups.items()):
        kinds.setdefault(kind, Counter())[outcome] += count
    return tuple((kind, tuple(outcomes.most_common())) for kind, outcomes in kinds.items())


def _follow_up_text(outcomes: tuple[tuple[str, int], ...]) -> str:
    return f"{sum(n for _, n in outcomes)} (" + ", ".join(f"{name} {n}" for name, n in outcomes) + ")"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def format_progress(p: Progress) -> str:
    of = f" (of {p.requested_rate:g}/s)" if p.requested_rate is not None else ""
    return (f"  {p.elapsed:5.0f} s  rate {p.rate:7.1f}/s{of}  p50 {_ms(p.p50)}  p99 {_ms(p.p99)}  "
            f"sent {p.sent}  errors {p.errors}  deadline misses {p.misses}\n")


def format_start(settings: LoadSettings, processes: int, remote: bool = False) -> str:
    rate = f"{settings.rate:g} callbacks/s" if settings.rate is not None else "as fast as answers come (--rate max)"
    where = (f"master of {processes} workers on other hosts" if remote
             else f"{processes} worker processes" if processes > 1 else "one process")
    signed = "signed (HMAC)" if settings.secret is not None else "unsigned"
    cards = (f"  test cards from {settings.cards.source}: one new callback in {TEST_CARD_SHARE} carries one\n"
             if settings.cards is not None else "")
    return (f"card-callback load {settings.url}\n"
            f"  {settings.users} users (spawn rate {settings.spawn_rate:g}/s), {rate}, for {settings.duration:g} s, "
            f"deadline {settings.effective_deadline:g} s, {signed}, seed {settings.seed}, {where}\n"
            f"{cards}  follow-ups as Vipps MobilePay sends them: a second callback after SOFT_DECLINE, the user's "
            "retries after a retryable FAIL\n")


def format_summary(report: LoadReport) -> str:
    lines = ["", f"sent {report.requests} callbacks in {report.duration:.1f} s: {report.measured_rate:.1f}/s after "
             f"the ramp-up" + (f" (requested {report.requested_rate:g}/s)" if report.requested_rate else "")]
    if report.latency is not None:
        lat = report.latency
        lines.append(f"latency p50 {_ms(lat.p50)}  p90 {_ms(lat.p90)}  p99 {_ms(lat.p99)}  p99.9 {_ms(lat.p999)}  "
                     f"max {_ms(lat.max)}  (deadline {report.deadline:g} s)")
    if report.misses:
        lines.append(f"deadline misses: {report.misses} of {report.requests}; the deadline falls at "
                     f"p{report.deadline_percentile * 100:.1f}")
    lines.append("outcomes: " + ", ".join(f"{name} {count}" for name, count in report.outcomes))
    for kind, outcomes in report.follow_ups:
        lines.append(f"  {kind}: {_follow_up_text(outcomes)}")
    if not report.follow_ups:
        lines.append("  no follow-ups: no answer was SOFT_DECLINE or a retryable FAIL"
                     + ("" if report.test_cards else " (name this PSP's test cards with --test-cards FILE)"))
    if report.follow_ups_dropped:
        lines.append(f"  {report.follow_ups_dropped} follow-ups not sent: more than {MAX_WAITING_FOLLOW_UPS} waited "
                     "at once")
    for error in report.errors:
        lines.append(f"  {error.code} {RULES.get(error.code, '')}: {error.title} x{error.count}")
        lines.append(f"      e.g. {error.example}")
    for warning, count in report.warnings:
        lines.append(f"  warning: {warning} x{count}")
    lines.append(f"load generator: {report.cpu_busy:.0%} of a core (busiest process)")
    for reason in report.reasons:
        lines.append(f"- {reason}")
    lines.append({Verdict.CONFORMS: "verdict: holds the deadline at this load (exit 0)",
                  Verdict.DEFECTS: "verdict: defects under load (exit 1)",
                  Verdict.UNTESTED: "verdict: not judged at this load, see above (exit 2)"}[report.verdict])
    return "\n".join(lines) + "\n"


def _latency_json(lat: Percentiles | None) -> dict[str, Any] | None:
    if lat is None:
        return None
    return {"count": lat.count, "p50Seconds": lat.p50, "p90Seconds": lat.p90, "p99Seconds": lat.p99,
            "p999Seconds": lat.p999, "maxSeconds": lat.max}


def format_json(report: LoadReport) -> str:
    data = {
        "format": "card-callback-load-report/1",
        "target": report.target,
        "document": {"source": report.spec_source, "sha256": report.spec_sha256},
        "seed": report.seed,
        "requested": {"users": report.users, "spawnRate": report.spawn_rate, "rate": report.requested_rate,
                      "durationSeconds": report.requested_duration, "workers": report.workers},
        "deadlineSeconds": report.deadline,
        "signed": report.signed,
        "testCards": report.test_cards,
        "startedAt": report.started_at,
        "durationSeconds": report.duration,
        "verdict": report.verdict.value,
        "exitCode": report.verdict.exit_code,
        "reasons": list(report.reasons),
        "measuredRate": report.measured_rate,
        "requests": report.requests,
        "deadlineMisses": report.misses,
        "deadlinePercentile": report.deadline_percentile * 100,
        "latency": _latency_json(report.latency),
        "generatorCpu": report.cpu_busy,
        "outcomes": dict(report.outcomes),
        "followUps": {kind: {"sent": sum(n for _, n in outcomes), "outcomes": dict(outcomes)}
                      for kind, outcomes in report.follow_ups},
        "followUpsDropped": report.follow_ups_dropped,
        "errors": [{"code": e.code, "rule": RULES.get(e.code), "title": e.title, "count": e.count,
                    "firstAt": datetime.fromtimestamp(e.first_at, UTC).isoformat(timespec="milliseconds"),
                    "example": e.example}
                   for e in report.errors],
        "warnings": dict(report.warnings),
        "seconds": [{"offset": s.offset, "count": s.count, "misses": s.misses, "p50Seconds": s.p50,
                     "p99Seconds": s.p99, "maxSeconds": s.max} for s in report.seconds],
    }
    return json.dumps(data, indent=2) + "\n"


_W, _H, _PAD = 760, 300, 50

def _chart(report: LoadReport) -> str:
    """Latency percentiles per second against the deadline, as inline SVG (the report needs no network)."""
    seconds = report.seconds
    span = max([s.offset for s in seconds] + [1])
    top = max([s.max for s in seconds] + [report.deadline]) * 1.1

    def x(offset: float) -> float:
        return _PAD + (_W - 2 * _PAD) * offset / span

    # A log scale: answers in milliseconds and a deadline in tens of seconds must both be readable.
    scale = LogScale(LOG_FLOOR, top, _H - _PAD, _PAD)
    y, decades = scale.at, scale.decades()

    def line(name: str, values: list[tuple[int, float]], color: str) -> str:
        points = " ".join(f"{x(o):.1f},{y(v):.1f}" for o, v in values)
        return f'<polyline class="series" data-series="{name}" fill="none" stroke="{color}" points="{points}"/>'

    dy = y(report.deadline)
    ticks = "".join(f'<text x="{_PAD - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{tick_label(v)}</text>'
                    f'<rect x="{_PAD}" y="{y(v):.1f}" width="{_W - 2 * _PAD}" height="1" fill="#eee"/>'
                    for v in decades)
    step = max(1, math.ceil(span / 5))  # whole seconds, at most six labels
    ticks += "".join(f'<text x="{x(t):.1f}" y="{_H - _PAD + 14}" text-anchor="middle">{t}</text>'
                     for t in range(0, int(span) + 1, step))
    return (
        f'<svg id="latency-chart" role="img" aria-label="latency percentiles per second against the deadline" '
        f'width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" font-size="11" font-family="sans-serif">'
        f'<rect x="{_PAD}" y="{_PAD}" width="{_W - 2 * _PAD}" height="{_H - 2 * _PAD}" fill="#fafafa" stroke="#ccc"/>'
        f'{ticks}<text x="12" y="{_PAD - 12}">latency (log scale)</text>'
        f'<text x="{_W / 2}" y="{_H - 12}" text-anchor="middle">seconds into the run (by the second sent)</text>'
        + line("max", [(s.offset, s.max) for s in seconds], "#bbb")
        + line("p99", [(s.offset, s.p99) for s in seconds], "#d62728")
        + line("p50", [(s.offset, s.p50) for s in seconds], "#1f77b4")
        # A 2-pixel rectangle rather than a <line>: a horizontal line has no height, and browsers treat it as hidden.
        + f'<rect id="deadline-line" x="{_PAD}" y="{dy - 1:.1f}" width="{_W - 2 * _PAD}" height="2" fill="#000"/>'
        f'<text id="deadline-label" x="{_W - _PAD}" y="{dy - 6:.1f}" text-anchor="end">deadline '
        f'{report.deadline:g} s</text>'
        '<text x="60" y="20" fill="#1f77b4">p50</text><text x="100" y="20" fill="#d62728">p99</text>'
        '<text x="140" y="20" fill="#999">max</text></svg>'
    )


def format_html(report: LoadReport) -> str:
    e = html.escape
    lat = report.latency
    verdict = {Verdict.CONFORMS: "holds the deadline at this load", Verdict.DEFECTS: "defects under load",
               Verdict.UNTESTED: "not judged at this load (see the reasons)"}[report.verdict]
    latency_rows = "" if lat is None else "".join(
        f"<tr><th>{name}</th><td>{value:.3f} s</td></tr>"
        for name, value in (("p50", lat.p50), ("p90", lat.p90), ("p99", lat.p99), ("p99.9", lat.p999),
                            ("max", lat.max)))
    total = max(1, report.requests)
    outcomes = "".join(
        f'<tr><td>{e(name)}</td><td>{count}</td><td><div class="bar" style="width:{count / total * 300:.0f}px">'
        f'</div></td></tr>' for name, count in report.outcomes)
    errors = "".join(
        f"<tr><td>{e(err.code)}</td><td>{e(RULES.get(err.code, ''))}</td><td>{e(err.title)}</td><td>{err.count}</td>"
        f"<td><code>{e(err.example)}</code></td></tr>" for err in report.errors) or \
        '<tr><td colspan="5">none</td></tr>'
    follow_ups = "".join(
        f"<tr><td>{e(kind)}</td><td>{sum(n for _, n in outcomes)}</td>"
        f"<td>{e(', '.join(f'{name} {n}' for name, n in outcomes))}</td></tr>" for kind, outcomes in report.follow_ups
    ) or '<tr><td colspan="3">none: no answer was SOFT_DECLINE or a retryable FAIL</td></tr>'
    reasons = "".join(f"<li>{e(reason)}</li>" for reason in report.reasons)
    rate = f" (requested {report.requested_rate:g}/s)" if report.requested_rate is not None else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>card-callback load: {e(report.target)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }} table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }}
.bar {{ background: #1f77b4; height: 10px; }} .verdict-{report.verdict.value} {{ font-weight: bold; }}
code {{ font-size: 90%; word-break: break-all; }}
</style></head><body>
<h1>card-callback load</h1>
<p>{e(report.target)} &middot; started {e(report.started_at)} &middot; {report.users} users &middot;
{report.duration:.1f} s &middot; seed {report.seed} &middot; document {e(report.spec_source)}</p>
<p id="verdict" class="verdict-{report.verdict.value}">Verdict: {e(verdict)} (exit {report.verdict.exit_code})</p>
<ul id="reasons">{reasons}</ul>
<h2>Latency over time</h2>
{_chart(report)}
<h2>Summary</h2>
<table id="summary"><tr><th>callbacks sent</th><td>{report.requests}</td></tr>
<tr><th>rate after ramp-up</th><td>{report.measured_rate:.1f}/s{e(rate)}</td></tr>
<tr><th>deadline</th><td>{report.deadline:g} s (falls at p{report.deadline_percentile * 100:.1f})</td></tr>
<tr><th>deadline misses</th><td id="deadline-misses">{report.misses}</td></tr>{latency_rows}
<tr><th>load generator</th><td>{report.cpu_busy:.0%} of a core</td></tr></table>
<h2>Outcomes</h2>
<table id="outcomes"><tr><th>outcome</th><th>count</th><th></th></tr>{outcomes}</table>
<h2>Follow-ups</h2>
<p>What Vipps MobilePay sends after an answer: the second callback after SOFT_DECLINE, the user's retries after a
retryable FAIL (the same card, then another). They are in the outcomes above too.</p>
<table id="follow-ups"><tr><th>follow-up</th><th>sent</th><th>answers</th></tr>{follow_ups}</table>
<h2>Errors</h2>
<table id="errors"><tr><th>check</th><th>rule</th><th>what</th><th>count</th><th>first example</th></tr>{errors}</table>
<p>Card data is never shown: examples name a callback by its attempt id (else the SHA-256 of its body) and mask
any card data the answer echoes.</p>
</body></html>
"""
