"""Pure renderings of a finished run for machines: the JSON report and JUnit XML."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from contract_tests.models import Coverage, Exchange, Failure, Outcome, Report, Severity
from contract_tests.terminal import format_curl, format_failure

JSON_FORMAT = "card-callback-report/1"
BODY_LIMIT = 65536  # bytes of an answer body kept in the JSON report
# Up to this many request bytes in all, the report records every exchange for `card-callback replay` (a default
# run sends ~550 requests, ~0.5 MB); past it, only the failures' exchanges, so a long run's report stays small.
RECORD_ALL_BYTES = 1 << 20


def report_dict(report: Report, exchanges: Sequence[Exchange] = (), replay: str | None = None) -> dict[str, Any]:
    """The JSON report as a dict; docs/report-format.md describes every field.

    `exchanges`: every exchange of the run in the order they finished (recorded for replay while they stay
    under RECORD_ALL_BYTES); `replay`: the command that re-sends the failures, shown beside each one.
    """
    recorded, complete = recorded_exchanges(report, exchanges)
    ids = {id(ex): number for number, ex in enumerate(recorded)}
    lat = report.latency
    return {
        "format": JSON_FORMAT,
        "verdict": report.verdict.value,
        "exitCode": report.verdict.exit_code,
        "target": report.target,
        "document": {"source": report.spec_source, "sha256": report.spec_sha256, "version": report.document_version},
        "seed": report.seed,
        "options": {
            "deadlineSeconds": report.deadline,
            "maxExamples": report.max_examples,
            "strict": report.strict,
            "signed": report.signed,
            "failOnNotExercised": report.fail_on_not_exercised,
        },
        "startedAt": report.started_at,
        "durationSeconds": round(report.duration, 3),
        "requests": report.requests,
        "latency": None if lat is None else {
            "count": lat.count,
            "p50Seconds": round(lat.p50, 6),
            "p95Seconds": round(lat.p95, 6),
            "maxSeconds": round(lat.max, 6),
            "deadlineSeconds": report.deadline,
        },
        "notes": list(report.notes),
        "notExercised": [r.check.code for r in report.not_exercised],
        "coverage": coverage_dict(report.coverage),
        "checks": [
            {
                "code": r.check.code,
                "name": r.check.name,
                "rule": r.check.rule,
                "should": r.check.should,
                "outcome": r.outcome.value,
                "judged": r.judged,
                "failures": len(r.failures),
                "reason": r.reason,
            }
            for r in report.results
        ],
        "failures": [_failure(f, ids, replay) for f in report.failures],
        "exchangesRecorded": "all" if complete else "failures",
        "exchanges": [_recorded(ex, ids) for ex in recorded],
    }


def coverage_dict(coverage: Coverage) -> dict[str, Any]:
    """The JSON report's `coverage` object: what the PSP answered, which flows ran, which fields were broken."""
    return {
        "answerStatuses": {"seen": dict(coverage.answer_statuses),
                           "documented": list(coverage.documented_answer_statuses),
                           "neverSeen": list(coverage.unseen_answer_statuses),
                           "undocumented": list(coverage.undocumented_answer_statuses)},
        "errorCodes": {"seen": dict(coverage.error_codes), "catalogue": list(coverage.catalogue_codes),
                       "neverSeen": list(coverage.unseen_error_codes), "unknown": list(coverage.unknown_error_codes)},
        "httpStatuses": {"seen": {str(status): count for status, count in coverage.http_statuses},
                         "documented": list(coverage.documented_http_statuses),
                         "neverSeen": list(coverage.unused_http_statuses),
                         "undocumented": list(coverage.undocumented_http_statuses)},
        "flows": dict(coverage.flows),
        "mutatedFields": {"seen": dict(coverage.mutated_fields), "requestFields": list(coverage.request_fields),
                          "neverMutated": list(coverage.unmutated_fields)},
    }


def _coverage_properties(coverage: Coverage) -> list[tuple[str, str]]:
    def counted(items: tuple[tuple[object, int], ...]) -> str:
        return ",".join(f"{name}={count}" for name, count in items)

    def listed(names: tuple[object, ...]) -> str:
        return ",".join(map(str, names))

    return [("coverage.answerStatuses", counted(coverage.answer_statuses)),
            ("coverage.answerStatusesNeverSeen", listed(coverage.unseen_answer_statuses)),
            ("coverage.answerStatusesUndocumented", listed(coverage.undocumented_answer_statuses)),
            ("coverage.errorCodes", counted(coverage.error_codes)),
            ("coverage.errorCodesUnknown", listed(coverage.unknown_error_codes)),
            ("coverage.httpStatuses", counted(coverage.http_statuses)),
            ("coverage.httpStatusesUndocumented", listed(coverage.undocumented_http_statuses)),
            ("coverage.flows", counted(coverage.flows)),
            ("coverage.mutatedFields", counted(coverage.mutated_fields)),
            ("coverage.fieldsNeverMutated", listed(coverage.unmutated_fields))]


def format_json_report(report: Report, exchanges: Sequence[Exchange] = (), replay: str | None = None) -> str:
    return json.dumps(report_dict(report, exchanges, replay), indent=2, ensure_ascii=False) + "\n"


def recorded_exchanges(report: Report, exchanges: Sequence[Exchange]) -> tuple[list[Exchange], bool]:
    """The exchanges the report records for replay, in the order they were sent, and whether that is all of them:
    every one while their request bytes stay under RECORD_ALL_BYTES, else the failures' and those they follow."""
    if exchanges and sum(len(ex.request.body) for ex in exchanges) <= RECORD_ALL_BYTES:
        return list(exchanges), True
    needed: dict[int, Exchange] = {}
    for failure in report.failures:
        for shown in failure.exchanges:
            current: Exchange | None = shown
            while current is not None and id(current) not in needed:  # a follow-up needs what it followed
                needed[id(current)] = current
                current = current.probe.after
    order = {id(ex): position for position, ex in enumerate(exchanges)}
    # Failures' exchanges not in the stream (a report rendered without it) keep the order they are listed in.
    listed = sorted(needed.values(), key=lambda ex: (order.get(id(ex), len(order)), ex.probe.after is not None))
    return listed, False


def _failure(failure: Failure, ids: dict[int, int], replay: str | None) -> dict[str, Any]:
    return {
        "code": failure.code,
        "severity": failure.severity.value,
        "title": failure.title,
        "detail": failure.detail,
        "count": failure.count,
        "replay": replay,
        "exchanges": [{"id": ids.get(id(ex)), **_exchange(ex)} for ex in failure.exchanges],
    }


def _recorded(ex: Exchange, ids: dict[int, int]) -> dict[str, Any]:
    """What replay needs to send this request again as the run did (it re-signs; signatures are not reused)."""
    probe = ex.probe
    request: dict[str, Any] = {
        "method": ex.request.method,
        "url": ex.request.url,
        "headers": [[k, v] for k, v in ex.request.headers],
        "contentType": probe.content_type,
        **_bytes("body", ex.request.body),
    }
    if probe.signed_body is not None:
        request.update(_bytes("signedBody", probe.signed_body))
    return {
        "id": ids[id(ex)],
        "case": probe.label,
        "role": probe.role.value,
        "tamper": probe.tamper.name.lower().replace("_", "-"),
        "group": None if probe.group is None else str(probe.group),
        "atOnce": probe.at_once,
        "card": None if probe.card is None else probe.card.name.lower(),
        "after": None if probe.after is None else ids.get(id(probe.after)),
        "request": request,
        "answerStatus": None if ex.answer is None else ex.answer.status,
    }


def _bytes(name: str, raw: bytes) -> dict[str, str]:
    """`name`: the bytes as text when they are UTF-8; else `nameBase64`, so replay sends them exactly."""
    try:
        return {name: raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {f"{name}Base64": base64.b64encode(raw).decode("ascii")}


def _exchange(ex: Exchange) -> dict[str, Any]:
    answer = None
    if ex.answer is not None:
        answer = {
            "status": ex.answer.status,
            "headers": [[k, v] for k, v in ex.answer.headers],
            "body": ex.answer.body[:BODY_LIMIT].decode("utf-8", "replace"),
        }
    return {
        "case": ex.probe.label,
        "role": ex.probe.role.value,
        "request": {
            "method": ex.request.method,
            "url": ex.request.url,
            "headers": [[k, v] for k, v in ex.request.headers],
            "body": ex.request.body.decode("utf-8", "replace"),
        },
        "answer": answer,
        "error": ex.error,
        "elapsedSeconds": round(ex.elapsed, 6),
        "curl": format_curl(ex.request),
    }


def format_junit(report: Report) -> str:
    """JUnit XML: one test case per check; a failed check carries every failure with its reproduction."""
    # With --fail-on-not-exercised a check not exercised is a failure: CI must show it red, not skipped.
    gated = (Outcome.NOT_EXERCISED,) if report.fail_on_not_exercised else ()
    failed = sum(r.outcome is Outcome.FAILED or r.outcome in gated for r in report.results)
    skipped = sum(r.outcome is Outcome.SKIPPED or (r.outcome is Outcome.NOT_EXERCISED and not gated)
                  for r in report.results)
    suites = ET.Element("testsuites", name="card-callback contract suite", tests=str(len(report.results)),
                        failures=str(failed), errors="0", skipped=str(skipped), time=f"{report.duration:.3f}")
    suite = ET.SubElement(suites, "testsuite", name="card-callback contract", tests=str(len(report.results)),
                          failures=str(failed), errors="0", skipped=str(skipped), time=f"{report.duration:.3f}",
                          timestamp=report.started_at)
    props = ET.SubElement(suite, "properties")
    properties = [("target", report.target), ("seed", str(report.seed)), ("document.sha256", report.spec_sha256),
                  ("verdict", report.verdict.value), ("signed", str(report.signed).lower()),
                  ("strict", str(report.strict).lower()), ("deadlineSeconds", f"{report.deadline:g}"),
                  ("notExercised", ",".join(r.check.code for r in report.not_exercised)),
                  ("failOnNotExercised", str(report.fail_on_not_exercised).lower()),
                  ("document.version", report.document_version or "")]
    if report.latency is not None:
        properties += [("latency.p50Seconds", f"{report.latency.p50:.6f}"),
                       ("latency.p95Seconds", f"{report.latency.p95:.6f}"),
                       ("latency.maxSeconds", f"{report.latency.max:.6f}")]
    properties += _coverage_properties(report.coverage)
    for name, value in properties:
        ET.SubElement(props, "property", name=name, value=value)
    for result in report.results:
        case = ET.SubElement(suite, "testcase", classname="card_callback.contract",
                             name=f"{result.check.code} {result.check.name}", time="0")
        defects = [f for f in result.failures if f.severity is Severity.DEFECT]
        warnings = [f for f in result.failures if f.severity is Severity.WARNING]
        if result.outcome is Outcome.FAILED:
            element = ET.SubElement(case, "failure", type=result.check.code,
                                    message="; ".join(f.title for f in defects))
            element.text = _clean("".join(format_failure(f) for f in defects))
        elif result.outcome is Outcome.SKIPPED:
            ET.SubElement(case, "skipped", message=result.reason or "skipped")
        elif result.outcome is Outcome.NOT_EXERCISED and gated:
            ET.SubElement(case, "failure", type="not-exercised",
                          message=f"not exercised (--fail-on-not-exercised): {result.reason or ''}".rstrip(": "))
        elif result.outcome is Outcome.NOT_EXERCISED:
            # JUnit has no such outcome; a skip that says so keeps it from counting as a pass.
            ET.SubElement(case, "skipped", message=f"not exercised: {result.reason or ''}".rstrip(": "))
        if warnings:
            out = ET.SubElement(case, "system-out")
            out.text = _clean("".join(format_failure(f) for f in warnings))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _clean(text: str) -> str:
    # XML 1.0 cannot carry most control characters, which generated bodies may contain.
    return "".join(ch if ch in "\t\n\r" or (" " <= ch and ch not in "\ufffe\uffff") else f"\\x{ord(ch):02x}"
                   for ch in text)
