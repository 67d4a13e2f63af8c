"""The lint report as text for a terminal, Markdown for a pull-request comment, and JSON for tools."""

from __future__ import annotations

import json
from typing import Any

from callback_core.lint import Finding, Level, LintReport


def summary(report: LintReport) -> str:
    return (f"{report.count(Level.ERROR)} error(s), {report.count(Level.WARNING)} warning(s), "
            f"{report.count(Level.INFO)} info")


def _file(report: LintReport, finding: Finding) -> str:
    return finding.file or report.source


def format_text(report: LintReport, fail_on: Level) -> str:
    """One line a finding, `file: pointer: RULE level: message`, then the verdict line."""
    lines = [f"{_file(report, f)}: {f.pointer or '#'}: {f.rule.id} {f.level.value}: {f.message}"
             for f in report.findings]
    if not report.usable:
        lines.append(f"{report.source}: NOT USABLE by the tools; {summary(report)}")
    elif report.fails(fail_on):
        lines.append(f"{report.source}: FAILED (--fail-on {fail_on.value}); {summary(report)}")
    elif report.findings:
        lines.append(f"{report.source}: OK; {summary(report)}")
    else:
        lines.append(f"{report.source}: OK")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    # A pipe ends a table cell even inside backticks (patterns have them); a newline ends the row.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def format_markdown(report: LintReport, fail_on: Level) -> str:
    verdict = ("**Not usable by the tools.**" if not report.usable
               else f"**Fails** (`--fail-on {fail_on.value}`)." if report.fails(fail_on) else "Passes.")
    lines = [f"### Contract lint: `{report.source}`", "", f"{verdict} {summary(report)}.", ""]
    if not report.findings:
        return "\n".join(lines)
    lines += ["| level | rule | where | finding |", "| --- | --- | --- | --- |"]
    for f in report.findings:
        level = f"**{f.level.value}**" if f.level is Level.ERROR else f.level.value
        where = f"`{f.file}` `{f.pointer}`" if f.file else f"`{f.pointer or '#'}`"
        lines.append("| " + " | ".join(_cell(c) for c in (level, f"{f.rule.id} {f.rule.title}", where, f.message))
                     + " |")
    return "\n".join(lines) + "\n"


def as_json(report: LintReport, fail_on: Level) -> dict[str, Any]:
    return {
        "document": report.source,
        "usable": report.usable,
        "unusableReason": report.unusable_reason or None,
        "failOn": fail_on.value,
        "failed": not report.usable or report.fails(fail_on),
        "counts": {level.value: report.count(level) for level in Level},
        "findings": [
            {
                "id": f.rule.id,
                "title": f.rule.title,
                "level": f.level.value,
                "file": _file(report, f),
                "pointer": f.pointer or "#",
                "message": f.message,
            }
            for f in report.findings
        ],
    }


def format_json(report: LintReport, fail_on: Level) -> str:
    return json.dumps(as_json(report, fail_on), indent=2, ensure_ascii=False) + "\n"
