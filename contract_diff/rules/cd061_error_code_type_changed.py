"""CD061: The catalogue's error codes changed type (string codes became integers, or back)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from callback_core.spec import ERROR_CODES_EXTENSION, format_code
from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding

RULE = Rule(
    id="CD061",
    title="error code type changed",
    level=Level.ERROR,
    breaks=Breaks.VIPPS,
    template="error codes are now {new} (were {old}): {examples}",
    action=(
        "A PSP built to the old document answers the old type (`\"51\"`, not `51`) and its FAIL answers are "
        "refused: answer each code in the new type."
    ),
)

_JSON_TYPES = {str: "strings", int: "integers"}


def _types(codes: Iterable[object]) -> str:
    kinds = sorted({_JSON_TYPES.get(type(code), type(code).__name__) for code in codes})
    return " and ".join(kinds) or "(none)"


def check(c: Comparison) -> Iterator[Finding]:
    old = [entry.code for entry in c.old.error_codes]
    new = [entry.code for entry in c.new.error_codes]
    before, after = _types(old), _types(new)
    if old and new and before != after:
        shown = ", ".join(f"{format_code(a)} -> {format_code(b)}" for a in old for b in new if str(a) == str(b)) or (
            f"e.g. {format_code(new[0])}")
        yield finding(RULE, c.location(ERROR_CODES_EXTENSION), old=before, new=after, examples=shown)
