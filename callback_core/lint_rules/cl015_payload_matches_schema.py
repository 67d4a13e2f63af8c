"""CL015: an example payload file (`lint --payloads DIR`) is valid JSON that matches its body's schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from callback_core.lint import Finding, Level, LintRule, Needs, Subject, lint_payload
from callback_core.spec import Contract

RULE = LintRule("CL015", "example payloads match their schema", Level.ERROR, Needs.PAYLOADS)


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    return iter(())  # payload files are not part of the document: see check_directory


def check_directory(contract: Contract, directory: Path) -> list[Finding]:
    """`request-*.json` against the request schema, `response-*.json` against the 200 answer."""
    files = sorted(p for p in directory.glob("*.json") if p.is_file())
    if not files:
        # A directory with nothing to check would otherwise pass silently.
        return [Finding(RULE, "#", f"{directory} holds no *.json payload files", str(directory))]
    return [Finding(RULE, problem.pointer, problem.message, str(file))
            for file in files for problem in lint_payload(contract, file.name, file.read_bytes())]
