"""The contract run as one self-contained offline page: no script, inline CSS and SVG, a CSP that fetches nothing."""

from __future__ import annotations

import base64
import hashlib
import html
import math
import shlex
from bisect import bisect_right
from itertools import pairwise

from contract_tests.charts import LOG_FLOOR, LogScale, tick_label
from contract_tests.coverage import FLOW_DESCRIPTIONS, FLOW_TITLES
from contract_tests.models import CheckResult, Coverage, Exchange, Failure, Outcome, Report, Severity, Verdict
from contract_tests.terminal import BODY_LIMIT, format_curl, printable

_CSS = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1b;background:#fff;margin:0 auto;
max-width:72rem;padding:1rem}
code,dd,td,li,p{overflow-wrap:anywhere}td:first-child{white-space:nowrap}td p{margin:0 0 .3rem}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
td ul{margin:0;padding-left:1.1rem}h3{font-size:1rem;margin:.2rem 0}h4{font-size:.95rem;margin:1rem 0 .2rem}
.verdict{padding:.6rem .8rem;border-radius:4px;font-weight:600;border:1px solid}
.v-conforms{background:#e7f6ea;border-color:#2e7d32}.v-defects{background:#fdecea;border-color:#c62828}
.v-untested{background:#fff4e5;border-color:#b26a00}
dl.run{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:1rem 0}
dl.run dt{font-weight:600}dl.run dd{margin:0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.o-passed{color:#2e7d32;font-weight:600}.o-failed{color:#c62828;font-weight:600}
.o-warning{color:#8a5a00;font-weight:600}.o-not-exercised,.o-skipped{color:#555;font-weight:600}
.gated{color:#c62828}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;border:1px solid #e2e2e2;padding:.5rem;
margin:.2rem 0;font-size:.85rem}
pre.cmd{background:#f0f4fa}
article.finding{border:1px solid #ddd;border-left:6px solid #c62828;padding:.5rem .8rem;margin:1rem 0}
article.finding.warning{border-left-color:#b26a00}
article.finding:target{outline:3px solid #1f5fbf}
.muted{color:#555}.tag{font-size:.8rem;padding:0 .3rem;border:1px solid #bbb;border-radius:3px}
svg{max-width:100%;height:auto}svg.bar{width:10rem;height:.8rem;vertical-align:middle}
@media (max-width:40rem){
body{padding:.6rem;font-size:14px}
table.stack thead{display:none}
table.stack tr{display:block;border:1px solid #ddd;margin:.4rem 0;padding:.2rem}
table.stack td{display:inline-block;border:0;padding:.15rem .4rem}table.stack td:empty{display:none}
table.stack td.wide{display:block}table.stack td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
dl.run{grid-template-columns:1fr}dl.run dd{margin-bottom:.3rem}
}
"""
# The page may fetch nothing: no script, no font, no image but data: URLs, its one style block by its hash.
_CSP = ("default-src 'none'; style-src 'sha256-" + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
        + "'; img-src data:; base-uri 'none'; form-action 'none'")
_OUTCOME = {Outcome.PASSED: "PASSED", Outcome.FAILED: "defect", Outcome.WARNING: "warning",
            Outcome.NOT_EXERCISED: "not exercised", Outcome.SKIPPED: "skipped"}
_VERDICT = {Verdict.CONFORMS: "conforms", Verdict.DEFECTS: "defects found", Verdict.UNTESTED: "could not test"}


def _short(seconds: float) -> str:
    return f"{seconds * 1000:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _e(text: object) -> str:
    """Text from anywhere (a PSP's answer included) made inert: hidden characters shown, markup escaped."""
    return html.escape(printable(str(text)), quote=True)


def anchor(code: str, number: int) -> str:
    """The id of a check's `number`th failure on the page; the checks table links to it."""
    return f"f-{code}-{number}"


def finding_anchors(report: Report) -> list[tuple[Failure, str]]:
    return [(failure, anchor(result.check.code, number))
            for result in report.results for number, failure in enumerate(result.failures, 1)]


def format_html(report: Report, json_report: str | None = None) -> str:
    """The page; `json_report` is the path of this run's JSON report, which `card-callback replay` reads."""
    replay = f"card-callback replay {shlex.quote(json_report) if json_report else 'REPORT.json'} --only-failures"
    anchors = finding_anchors(report)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="card-callback test">\n'
        f"<title>card-callback test: {_e(_VERDICT[report.verdict])}: {_e(report.target)}</title>\n"
        f"<style>{_CSS}</style></head><body>\n"
        + _header(report)
        + _checks(report)
        + _coverage(report.coverage)
        + _latency(report)
        + _findings(report, anchors, replay, json_report is not None)
        + "</body></html>\n"
    )


def _header(report: Report) -> str:
    verdict = _VERDICT[report.verdict]
    if report.verdict is Verdict.DEFECTS:
        codes = [r.check.code for r in report.results if r.outcome is Outcome.FAILED]
        if report.fail_on_not_exercised:
            codes += [f"{r.check.code} (not exercised)" for r in report.not_exercised]
        verdict += f": {', '.join(codes)}"
    version = report.document_version if report.document_version is not None else "none (no x-document-version)"
    rows = [
        ("target", f"<code>{_e(report.target)}</code>"),
        ("document", f"<code>{_e(report.spec_source)}</code>, x-document-version {_e(version)}, "
                     f"sha256 <code>{_e(report.spec_sha256[:16])}</code>"),
        ("seed", f"{report.seed} (the same cases again: <code>--seed {report.seed}</code>)"),
        ("deadline", f"{report.deadline:g} s"),
        ("signing", "on: HMAC-SHA256 with the given secret" if report.signed else "off (no secret given)"),
        ("strict", "yes: SHOULD rules are defects" if report.strict else "no: SHOULD rules only warn"),
        ("not exercised", "a defect (--fail-on-not-exercised)" if report.fail_on_not_exercised
         else "reported, not a defect"),
        ("started", _e(report.started_at)),
        ("requests", f"{report.requests} in {report.duration:.1f} s"),
    ]
    notes = "".join(f"<li>{_e(note)}</li>" for note in report.notes)
    return (
        "<header><h1>card-callback test</h1>\n"
        f'<p id="verdict" class="verdict v-{report.verdict.value}">Verdict: {_e(verdict)} '
        f"(exit {report.verdict.exit_code})</p>\n"
        '<dl class="run" id="run">' + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows) + "</dl>\n"
        + (f'<ul id="notes">{notes}</ul>\n' if notes else "")
        + "</header>\n"
    )


def _checks(report: Report) -> str:
    rows = "".join(_check_row(result, report.fail_on_not_exercised) for result in report.results)
    return (
        '<section id="checks"><h2>Checks</h2>\n<div class="scroll"><table class="stack" id="checks-table">'
        "<thead><tr><th>code</th><th>check</th><th>outcome</th><th>judged</th><th>why / findings</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div></section>\n"
    )


def _check_row(result: CheckResult, gated: bool) -> str:
    outcome = _OUTCOME[result.outcome]
    if result.outcome is Outcome.NOT_EXERCISED and gated:
        outcome += ' <span class="gated">(a defect: --fail-on-not-exercised)</span>'
    links = "".join(
        f'<li><a href="#{anchor(result.check.code, n)}">{"defect" if f.severity is Severity.DEFECT else "warning"}: '
        f"{_e(f.title)}</a> [{f.count}]</li>" for n, f in enumerate(result.failures, 1))
    why = f"<p>{_e(result.reason)}</p>" if result.reason else ""
    return (
        f'<tr id="check-{result.check.code}"><td>{result.check.code}</td><td>{_e(result.check.name)}</td>'
        f'<td class="o-{result.outcome.value}">{outcome}</td><td data-label="judged">{result.judged}</td>'
        f'<td class="wide">{why}{f"<ul>{links}</ul>" if links else ""}</td></tr>'
    )


def _bar(count: int, total: int) -> str:
    width = 100 * count / total if total else 0
    return (f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect width="100" height="10" fill="#eee"/><rect width="{width:.1f}" height="10" fill="#1f5fbf"/></svg>')


def _counted_table(table_id: str, head: tuple[str, str, str], rows: list[tuple[str, int, str]]) -> str:
    total = sum(count for _, count, _ in rows)
    body = "".join(
        f'<tr><td>{name}</td><td data-label="{head[1]}">{count} {_bar(count, total)}</td><td>{note}</td></tr>'
        for name, count, note in rows
    ) or '<tr><td colspan="3">none</td></tr>'
    return (f'<div class="scroll"><table class="stack" id="{table_id}"><thead><tr><th>{head[0]}</th><th>{head[1]}'
            f"</th><th>{head[2]}</th></tr></thead><tbody>{body}</tbody></table></div>")


def _never(label: str, names: tuple[object, ...]) -> str:
    return f'<p class="muted">{label}: {_e(", ".join(map(str, names)))}</p>' if names else ""


def _coverage(coverage: Coverage) -> str:
    documented = set(coverage.documented_answer_statuses)
    statuses = [(_e(name), count, "" if name in documented else "not in the document")
                for name, count in coverage.answer_statuses]
    codes = [(_e(code), count, "catalogue" if code in coverage.catalogue_codes else "not in the catalogue")
             for code, count in coverage.error_codes]
    http = [(str(status), count, "documented" if status in coverage.documented_http_statuses else "not documented")
            for status, count in coverage.http_statuses]
    flows = "".join(
        f'<tr><td>{_e(FLOW_TITLES.get(name, name))}</td><td class="wide">{_e(FLOW_DESCRIPTIONS.get(name, ""))}</td>'
        f'<td data-label="requests">{count}</td></tr>'
        for name, count in coverage.flows)
    fields = ", ".join(f"<code>{_e(name)}</code> ({count})" for name, count in coverage.mutated_fields) or "none"
    broken = len(coverage.request_fields) - len(coverage.unmutated_fields)
    return (
        '<section id="coverage"><h2>What the run reached</h2>\n'
        "<h3>Answer statuses (200 answers)</h3>"
        + _counted_table("answer-statuses", ("status", "answers", "note"), statuses)
        + _never("documented, never answered", coverage.unseen_answer_statuses)
        + "<h3>Error codes</h3>" + _counted_table("error-codes", ("code", "answers", "catalogue"), codes)
        + _never("in the catalogue, never answered", coverage.unseen_error_codes)
        + "<h3>HTTP statuses</h3>" + _counted_table("http-statuses", ("status", "answers", "document"), http)
        + _never("documented, never used", coverage.unused_http_statuses)
        + '<h3>Flows</h3><div class="scroll"><table class="stack" id="flows"><thead><tr><th>flow</th><th>what</th>'
        f"<th>requests</th></tr></thead><tbody>{flows}</tbody></table></div>"
        f'<h3>Request fields broken by invalid callbacks</h3><p id="mutated-fields">{broken} of '
        f"{len(coverage.request_fields)}: {fields}</p>"
        + _never("never broken", coverage.unmutated_fields)
        + "</section>\n"
    )


_CW, _CH, _CPAD = 760, 260, 48
_BINS_PER_DECADE = 5


def _latency(report: Report) -> str:
    lat = report.latency
    if lat is None or not lat.samples:
        return '<section id="latency"><h2>Latency</h2><p>No request was answered.</p></section>\n'
    return (
        '<section id="latency"><h2>Latency</h2>\n'
        f"<p>p50 {_short(lat.p50)}, p95 {_short(lat.p95)}, max {_short(lat.max)} over {lat.count} "
        f"answers; the deadline is {report.deadline:g} s.</p>\n"
        + histogram(lat.samples, report.deadline) + "</section>\n"
    )


def histogram(samples: tuple[float, ...], deadline: float) -> str:
    """Answers per latency bin on a log scale (milliseconds and a deadline in seconds both readable), the deadline
    a vertical line; bins past it red. `samples` sorted."""
    # Down to the power of ten below the fastest answer (a loopback PSP answers in microseconds), 1 us at least.
    floor = 10.0 ** max(-6, math.floor(math.log10(min(LOG_FLOOR, max(samples[0], 1e-6)))))
    scale = LogScale(floor, max(deadline, samples[-1]) * 1.2, _CPAD, _CW - _CPAD)
    # The deadline is an edge, so every bin is wholly within it or wholly late.
    edges = sorted({*(floor * 10 ** (i / _BINS_PER_DECADE) for i in range(int(scale.span * _BINS_PER_DECADE) + 2)),
                    deadline})
    bins = [(low, high, bisect_right(samples, high) - bisect_right(samples, low)) for low, high in pairwise(edges)]
    bins[0] = (bins[0][0], bins[0][1], bins[0][2] + bisect_right(samples, edges[0]))  # at or below the floor
    tallest = max(count for _, _, count in bins) or 1
    height = _CH - 2 * _CPAD
    bars = []
    for low, high, count in bins:
        if not count:
            continue
        x0, x1 = scale.at(low), scale.at(high)
        h = max(1.0, height * count / tallest)
        late = "late" if low >= deadline else "in-time"
        bars.append(f'<rect class="bin {late}" x="{x0 + 0.5:.1f}" y="{_CH - _CPAD - h:.1f}" '
                    f'width="{max(1.0, x1 - x0 - 1):.1f}" height="{h:.1f}" '
                    f'fill="{"#c62828" if low >= deadline else "#1f5fbf"}"><title>{count} answers between '
                    f"{_short(low)} and {_short(high)}</title></rect>")
    ticks = "".join(
        f'<rect x="{scale.at(v):.1f}" y="{_CPAD}" width="1" height="{height}" fill="#e4e4e4"/>'
        f'<text x="{scale.at(v):.1f}" y="{_CH - _CPAD + 16}" text-anchor="middle">{tick_label(v)}</text>'
        for v in scale.decades())
    dx = scale.at(deadline)
    return (
        f'<svg id="latency-histogram" role="img" aria-label="answers per latency, log scale, against the deadline" '
        f'width="{_CW}" height="{_CH}" viewBox="0 0 {_CW} {_CH}" font-size="12" font-family="sans-serif">'
        f'<rect x="{_CPAD}" y="{_CPAD}" width="{_CW - 2 * _CPAD}" height="{height}" fill="#fafafa" stroke="#ccc"/>'
        f"{ticks}{''.join(bars)}"
        f'<rect id="deadline-line" x="{dx - 1:.1f}" y="{_CPAD - 8}" width="2" height="{height + 8}" fill="#000"/>'
        f'<text x="{dx - 4:.1f}" y="{_CPAD - 12}" text-anchor="end">deadline {deadline:g} s</text>'
        f'<text x="{_CPAD}" y="{_CPAD - 12}">answers (tallest bin: {tallest})</text>'
        f'<text x="{_CW / 2}" y="{_CH - 8}" text-anchor="middle">latency (log scale)</text></svg>'
    )


def _findings(report: Report, anchors: list[tuple[Failure, str]], replay: str, has_json: bool) -> str:
    if not anchors:
        return '<section id="findings"><h2>Findings</h2><p>None.</p></section>\n'
    rules = {r.check.code: r.check.rule for r in report.results}
    where = "" if has_json else (' <span class="muted">(REPORT.json: this run\'s JSON report; this page was written '
                                 "without one)</span>")
    articles = "".join(_finding(failure, anchor, rules.get(failure.code, ""), replay, where)
                       for failure, anchor in anchors)
    return f'<section id="findings"><h2>Findings</h2>\n{articles}</section>\n'


def _finding(failure: Failure, anchor: str, rule: str, replay: str, where: str) -> str:
    kind = "defect" if failure.severity is Severity.DEFECT else "warning"
    exchanges = "".join(_exchange(ex, number) for number, ex in enumerate(failure.exchanges, 1))
    detail = f"<p><b>Why</b> {_e(failure.detail)}</p>" if failure.detail else ""
    return (
        f'<article class="finding {kind}" id="{anchor}"><h3>{failure.code} {kind}: {_e(failure.title)} '
        f'<span class="tag">{failure.count} request(s)</span></h3>'
        f"<p><b>Rule</b> {_e(rule)}</p>{detail}{exchanges}"
        f'<h4>Replay</h4><pre class="cmd replay">{_e(replay)}</pre>{where}'
        f'<p><a href="#check-{failure.code}">back to {failure.code} in the checks</a></p></article>\n'
    )


def _exchange(ex: Exchange, number: int) -> str:
    request = "".join(f"{name}: {value}\n" for name, value in ex.request.headers)
    request += "\n" + (ex.request.body.decode("utf-8", "replace") or "(empty body)")
    if ex.answer is None:
        answer_head = f"none after {_short(ex.elapsed)}: {ex.error or ''}"
        answer = ""
    else:
        answer_head = f"{ex.answer.status} in {_short(ex.elapsed)}"
        text = ex.answer.body.decode("utf-8", "replace")
        shown = (text[:BODY_LIMIT] + " ...") if len(text) > BODY_LIMIT else text or "(empty body)"
        answer = "".join(f"{name}: {value}\n" for name, value in ex.answer.headers) + "\n" + shown
    return (
        f"<h4>Request {number}: {_e(ex.probe.label)} <span class=\"tag\">{_e(ex.probe.role.value)}</span></h4>"
        f"<p>{_e(ex.request.method)} <code>{_e(ex.request.url)}</code></p><pre>{_e(request)}</pre>"
        f"<h4>Answer: {_e(answer_head)}</h4>" + (f"<pre>{_e(answer)}</pre>" if answer else "")
        + f'<h4>Reproduce</h4><pre class="cmd curl">{_e(format_curl(ex.request))}</pre>'
    )
