"""Pure text for the terminal: progress while the run goes, a line per check, each failure with a curl."""

from __future__ import annotations

import shlex
import unicodedata

from contract_tests.coverage import FLOW_TITLES
from contract_tests.events import (
    CheckFinished,
    Event,
    Planned,
    RequestDone,
    RunFinished,
    RunStarted,
    SendingStopped,
)
from contract_tests.models import Coverage, Exchange, Failure, Outcome, Outgoing, Report, Severity, Verdict

PROGRESS_WIDTH = 50
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
BODY_LIMIT = 2000  # characters of an answer body shown; the request body is always shown whole
_OUTCOME = {
    Outcome.PASSED: "PASSED",
    Outcome.FAILED: "FAILED",
    Outcome.WARNING: "WARNING",
    Outcome.SKIPPED: "SKIPPED",
    Outcome.NOT_EXERCISED: "NOT EXERCISED",
}


def format_event(event: Event, replay: str | None = None) -> str:
    """The text for one event ('' when it shows nothing); lines end with a newline, progress does not.

    `replay`: the `card-callback replay` command that re-sends the failures (when a JSON report is written),
    shown under each failure's curl line."""
    return printable(_format_event(event, replay))


def printable(text: str) -> str:
    """`text` with every character a terminal would act on or hide shown as an escape (newlines kept).

    Generated callbacks and PSP answers may hold ESC sequences, bidi overrides or NEL; printed raw they
    would hide what was sent or rewrite the screen.
    """
    return "".join(ch if ch in "\n" or not _hidden(ch) else _escape(ch) for ch in text)


def _hidden(ch: str) -> bool:
    return ch != " " and unicodedata.category(ch) in _HIDDEN


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _format_event(event: Event, replay: str | None) -> str:
    if isinstance(event, RunStarted):
        signing = "HMAC-SHA256 with the given secret" if event.signed else "off (no secret given)"
        return (
            f"card-callback test {event.target}\n"
            f"  document  {event.spec_source} (sha256 {event.spec_sha256[:16]})\n"
            f"  seed      {event.seed} (the same cases again: --seed {event.seed})\n"
            f"  deadline  {event.deadline:g} s\n"
            f"  signing   {signing}\n"
            f"  strict    {'yes: SHOULD rules are defects' if event.strict else 'no: SHOULD rules only warn'}\n"
            "generating callbacks with Schemathesis ...\n"
        )
    if isinstance(event, Planned):
        kinds = ", ".join(f"{count} {role}" for role, count in event.by_role)
        # Follow-ups (second callbacks, retries) are planned from answers, so they come on top.
        return f"sending {event.total} requests ({kinds}) and the follow-ups their answers ask for\n"
    if isinstance(event, RequestDone):
        return format_progress(event)
    if isinstance(event, SendingStopped):
        pad = " " * (PROGRESS_WIDTH - event.sent % PROGRESS_WIDTH) if event.sent % PROGRESS_WIDTH else ""
        return f"{pad} {event.sent}/{event.total} stopped: {event.reason}\n"
    if isinstance(event, CheckFinished):
        return format_check_line(event.result.check.code, event.result.check.name, event.result.outcome,
                                 _check_note(event))
    if isinstance(event, RunFinished):
        return format_report_tail(event.report, replay)
    return ""


def format_progress(event: RequestDone) -> str:
    ex = event.exchange
    if event.late:
        mark = "T"
    elif ex.answer is None or ex.answer.status >= 500:
        mark = "E"
    else:
        mark = "."
    end = ""
    if event.index % PROGRESS_WIDTH == 0 or event.index == event.total:
        end = f" {event.index}/{event.total}\n"
    if event.index == event.total and event.index % PROGRESS_WIDTH:
        end = " " * (PROGRESS_WIDTH - event.index % PROGRESS_WIDTH) + end
    return mark + end


def format_check_line(code: str, name: str, outcome: Outcome, note: str) -> str:
    dots = "." * max(3, 52 - len(name))
    return f"{code} {name} {dots} {_OUTCOME[outcome]:<8}{(' ' + note) if note else ''}\n"


def _check_note(event: CheckFinished) -> str:
    result = event.result
    if result.outcome in (Outcome.SKIPPED, Outcome.NOT_EXERCISED):
        return result.reason or ""
    if result.failures:
        total = sum(f.count for f in result.failures)
        return f"({len(result.failures)} kind(s) of failure, {total} request(s); {result.judged} judged)"
    return f"({result.judged} judged)"


def format_report_tail(report: Report, replay: str | None = None) -> str:
    """Failures and warnings in full, latency, notes and the verdict."""
    parts = []
    defects = [f for f in report.failures if f.severity is Severity.DEFECT]
    warnings = [f for f in report.failures if f.severity is Severity.WARNING]
    if defects:
        parts.append("\nFAILURES\n" + "".join(format_failure(f, replay) for f in defects))
    if warnings:
        parts.append("\nWARNINGS (SHOULD rules; defects with --strict)\n"
                     + "".join(format_failure(f, replay) for f in warnings))
    parts.append("\n")
    if report.latency is not None:
        lat = report.latency
        parts.append(
            f"latency   p50 {_ms(lat.p50)}  p95 {_ms(lat.p95)}  max {_ms(lat.max)}  "
            f"(deadline {report.deadline:g} s, {lat.count} answers)\n"
        )
    parts.append(format_coverage(report.coverage))
    for note in report.notes:
        parts.append(f"note      {note}\n")
    parts.append(format_verdict(report) + "\n")
    return "".join(parts)


def format_coverage(coverage: Coverage) -> str:
    """What the run reached, a line each: what the PSP answered, which flows ran, which fields were broken."""
    if not coverage.http_statuses:
        return "coverage  nothing: no request was answered\n"

    def counted(items: tuple[tuple[object, int], ...]) -> str:
        return ", ".join(f"{name} ({count})" for name, count in items) or "none"

    def also(text: str, label: str, names: tuple[object, ...]) -> str:
        return f"{text}; {label}: {', '.join(map(str, names))}" if names else text

    statuses = also(counted(coverage.answer_statuses), "never answered", coverage.unseen_answer_statuses)
    statuses = also(statuses, "not in the document", coverage.undocumented_answer_statuses)
    codes = also(counted(coverage.error_codes), "not in the catalogue", coverage.unknown_error_codes)
    http = also(counted(coverage.http_statuses), "not documented", coverage.undocumented_http_statuses)
    http = also(http, "documented, never used", coverage.unused_http_statuses)
    flows = counted(tuple((FLOW_TITLES.get(name, name), count) for name, count in coverage.flows))
    broken = len(coverage.request_fields) - len(coverage.unmutated_fields)
    never = coverage.unmutated_fields
    shown = never if len(never) <= 6 else (*never[:5], f"and {len(never) - 5} more")
    fields = also(f"{broken} of {len(coverage.request_fields)} request fields broken by invalid callbacks",
                  "never", shown)
    return printable(
        f"coverage  answer statuses  {statuses}\n"
        f"          error codes      {codes}\n"
        f"          HTTP statuses    {http}\n"
        f"          flows            {flows}\n"
        f"          fields           {fields}\n"
    )


def format_verdict(report: Report) -> str:
    failed = [r.check.code for r in report.results if r.outcome is Outcome.FAILED]
    warned = [r.check.code for r in report.results if r.outcome is Outcome.WARNING]
    if report.verdict is Verdict.CONFORMS:
        head = "RESULT: conforms" + (f" (warnings: {', '.join(warned)})" if warned else "")
    elif report.verdict is Verdict.DEFECTS:
        gated = [r.check.code for r in report.not_exercised] if report.fail_on_not_exercised else []
        found = failed + ([f"not exercised with --fail-on-not-exercised: {', '.join(gated)}"] if gated else [])
        head = f"RESULT: defects found ({'; '.join(found) if gated else ', '.join(failed)})"
    else:
        judged = any(r.judged for r in report.results)
        head = f"RESULT: could not test ({'stopped before the end: see the note' if judged else 'nothing was judged'})"
    if report.not_exercised and report.verdict is not Verdict.UNTESTED and not report.fail_on_not_exercised:
        head += f"; not exercised: {', '.join(r.check.code for r in report.not_exercised)}"
    return f"{head}; {report.requests} requests in {report.duration:.1f} s; seed {report.seed}"


def format_failure(failure: Failure, replay: str | None = None) -> str:
    kind = "warning" if failure.severity is Severity.WARNING else "defect"
    lines = [f"\n{failure.code} {kind}: {failure.title}  [{failure.count} request(s)]\n"]
    if failure.detail:
        lines.append(f"  why       {failure.detail}\n")
    for ex in failure.exchanges:
        lines.append(format_exchange(ex))
    if replay:
        lines.append(f"  replay    {replay}\n")
    return printable("".join(lines))


def format_exchange(ex: Exchange) -> str:
    lines = [f"  case      {ex.probe.label}\n", f"  request   {ex.request.method} {ex.request.url}\n"]
    lines += [f"            {name}: {value}\n" for name, value in ex.request.headers]
    lines.append(_indent(ex.request.body.decode("utf-8", "replace") or "(empty body)"))
    if ex.answer is None:
        lines.append(f"  answer    none after {_ms(ex.elapsed)}: {ex.error}\n")
    else:
        lines.append(f"  answer    {ex.answer.status} in {_ms(ex.elapsed)}\n")
        lines += [f"            {name}: {value}\n"
                  for name, value in ex.answer.headers if name.lower() == "content-type"]
        text = ex.answer.body.decode("utf-8", "replace")
        lines.append(_indent((text[:BODY_LIMIT] + " ...") if len(text) > BODY_LIMIT else text or "(empty body)"))
    lines.append("  reproduce " + format_curl(ex.request) + "\n")
    return "".join(lines)


def format_curl(request: Outgoing) -> str:
    """A curl command that sends the same bytes with the same headers (signatures included)."""
    words = ["curl", "-sS", "-i", "-X", request.method, request.url]
    for name, value in request.headers:
        if name.lower() == "host":
            continue  # curl derives the same Host from the URL
        words += ["-H", f"{name}: {value}"]
    if request.header("content-type") is None:
        words += ["-H", "Content-Type:"]  # curl would otherwise add a form Content-Type of its own
    # --data-raw sends the string as it is; --data-binary would read a file for a body starting with @.
    words += ["--data-raw", request.body.decode("utf-8", "replace")]
    return " ".join(_shell_word(word) for word in words)


def _shell_word(word: str) -> str:
    """A shell word for `word`: POSIX quoting, or bash's $'...' when it holds characters a terminal would
    hide, so the printed command is both readable and byte-exact."""
    if not any(_hidden(ch) for ch in word if ch != "\n"):
        return shlex.quote(word)
    out = []
    for ch in word:
        if ch in "\\'":
            out.append("\\" + ch)
        elif _hidden(ch) or ch == "\n":
            out.append("".join(f"\\x{byte:02x}" for byte in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"


def _indent(text: str) -> str:
    # Only "\n" ends a line here: splitlines() would also split at (and swallow) NEL, FF or U+2028.
    return "".join(f"            {line}\n" for line in text.removesuffix("\n").split("\n"))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"
