"""The diff as text for a terminal, Markdown for a pull-request comment, and JSON for tools."""

from __future__ import annotations

import json
from typing import Any

from contract_diff.model import Breaks, Change, Level, Report


def _where(change: Change) -> str:
    only = f" ({', '.join(change.variants)} only)" if change.variants else ""
    return f"{change.message}{only}"


def summary(report: Report) -> str:
    if not report.changes:
        return "no changes"
    broken = [
        f"{sum(1 for c in report.changes if c.breaking and c.rule.breaks is side)} break {side.value}"
        for side in (Breaks.PSP, Breaks.VIPPS)
    ]
    counts = f"{report.count(Level.WARNING)} warning(s), {report.count(Level.INFO)} info"
    return f"{len(report.changes)} change(s): {', '.join(broken)}; {counts}"


def format_text(report: Report) -> str:
    lines = [f"{report.old} -> {report.new}", ""]
    for change in report.changes:
        rule = change.rule
        lines.append(f"{rule.id} {rule.level.value:<7} [{rule.breaks.value}] {_where(change)}")
        if change.field:
            lines.append(f"      field {change.field}")
        lines.append(f"      at    {change.pointer}")
        lines.append(f"      do    {change.action}")
    if report.changes:
        lines.append("")
    verdict = "breaking" if report.breaking else "nothing breaks"
    lines.append(f"RESULT: {verdict}; {summary(report)}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    # A pipe ends a table cell even inside backticks (patterns have them); a newline ends the row.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def format_markdown(report: Report) -> str:
    verdict = "**Breaking.**" if report.breaking else "Nothing breaks."
    lines = [f"### Contract diff: `{report.old}` → `{report.new}`", "", f"{verdict} {summary(report)}.", ""]
    if not report.changes:
        return "\n".join(lines)
    lines += ["| level | rule | breaks | change | where | what to do |", "| --- | --- | --- | --- | --- | --- |"]
    for change in report.changes:
        rule = change.rule
        level = f"**{rule.level.value}**" if rule.level is Level.ERROR else rule.level.value
        where = f"`{change.field}` in `{change.pointer}`" if change.field else f"`{change.pointer}`"
        cells = (level, rule.id, rule.breaks.value, _where(change), where, change.action)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> dict[str, Any]:
    return {
        "old": report.old,
        "new": report.new,
        "breaking": report.breaking,
        "summary": summary(report),
        "changes": [
            {
                "id": change.rule.id,
                "title": change.rule.title,
                "level": change.rule.level.value,
                "breaks": change.rule.breaks.name.lower(),
                "message": change.message,
                "field": change.field or None,
                "pointer": change.pointer,
                "variants": list(change.variants),
                "action": change.action,
                "oasdiff": list(change.rule.oasdiff),
            }
            for change in report.changes
        ],
    }


def format_json(report: Report) -> str:
    return json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n"
