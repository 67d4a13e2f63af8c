"""The load report as JUnit XML: a test case per check load judges, and one for whether the load was produced."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from contract_tests.checks import CC001, CC002, CC003
from contract_tests.load.judging import BUSY
from contract_tests.load.report import LoadReport
from contract_tests.models import Check, Verdict

LOAD_CASE = "load produced at the requested rate"


def format_junit(report: LoadReport) -> str:
    """One test case per check load judges (CC001, CC002, CC003), failed with every kind of error it saw, and a
    case for the load itself, an error when the run could not produce or judge it (exit 2)."""
    untested = report.verdict is Verdict.UNTESTED
    cases: list[tuple[str, str, str | None, str]] = []  # name, outcome, message, text
    for check in (CC001, CC002):
        errors = [e for e in report.errors if e.code == check.code]
        if errors:
            text = "\n".join(f"{e.title} x{e.count}, e.g. {e.example}" for e in errors)
            cases.append((_name(check), "failure", "; ".join(e.title for e in errors), text))
        else:
            cases.append(_judged_or_not(check, untested))
    # Misses measured by a saturated generator carry its own delay: not the PSP's (as the verdict says).
    if report.misses and report.cpu_busy < BUSY:
        lat = report.latency
        latency = "" if lat is None else f"; p99.9 {lat.p999:.3f} s, max {lat.max:.3f} s"
        cases.append((_name(CC003), "failure", f"{report.misses} of {report.requests} callbacks missed the "
                      f"{report.deadline:g} s deadline",
                      f"the deadline falls at p{report.deadline_percentile * 100:.1f} of latency{latency}"))
    else:
        cases.append(_judged_or_not(CC003, untested or bool(report.misses)))
    cases.append((LOAD_CASE, "error", "; ".join(report.reasons), "\n".join(report.reasons)) if untested
                 else (LOAD_CASE, "passed", None, ""))
    failures = sum(outcome == "failure" for _, outcome, _, _ in cases)
    errored = sum(outcome == "error" for _, outcome, _, _ in cases)
    skipped = sum(outcome == "skipped" for _, outcome, _, _ in cases)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errored), "skipped": str(skipped),
              "time": f"{report.duration:.3f}"}
    suites = ET.Element("testsuites", {"name": "card-callback load", **counts})
    suite = ET.SubElement(suites, "testsuite", {"name": "card-callback load", "timestamp": report.started_at,
                                                **counts})
    props = ET.SubElement(suite, "properties")
    properties = [("target", report.target), ("seed", str(report.seed)), ("document.sha256", report.spec_sha256),
                  ("verdict", report.verdict.value), ("users", str(report.users)),
                  ("requestedRate", "" if report.requested_rate is None else f"{report.requested_rate:g}"),
                  ("measuredRate", f"{report.measured_rate:.1f}"), ("requests", str(report.requests)),
                  ("deadlineSeconds", f"{report.deadline:g}"), ("signed", str(report.signed).lower())]
    if report.latency is not None:
        properties += [("latency.p99Seconds", f"{report.latency.p99:.6f}"),
                       ("latency.p999Seconds", f"{report.latency.p999:.6f}"),
                       ("latency.maxSeconds", f"{report.latency.max:.6f}")]
    for name, value in properties:
        ET.SubElement(props, "property", name=name, value=value)
    for name, outcome, message, text in cases:
        case = ET.SubElement(suite, "testcase", classname="card_callback.load", name=name, time="0")
        if outcome != "passed":
            element = ET.SubElement(case, outcome, message=message or "")
            element.text = text or None
    if report.warnings:
        out = ET.SubElement(suite, "system-out")
        out.text = "\n".join(f"warning: {warning} x{count}" for warning, count in report.warnings)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _name(check: Check) -> str:
    return f"{check.code} {check.name}"


def _judged_or_not(check: Check, not_judged: bool) -> tuple[str, str, str | None, str]:
    if not_judged:
        return _name(check), "skipped", "not judged at this load (see the load case)", ""
    return _name(check), "passed", None, ""
