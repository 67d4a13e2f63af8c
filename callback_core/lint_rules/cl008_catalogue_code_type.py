"""CL008: the catalogue's codes have the type of the answer's error-code field (string or integer)."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core import fields
from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import at_operation, contract_of
from callback_core.spec import ERROR_CODES_EXTENSION

RULE = LintRule("CL008", "error codes have the error-code field's type", Level.ERROR, Needs.CONTRACT)

_JSON_TYPES = {str: "string", int: "integer"}


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    contract = contract_of(subject)
    role = contract.response_role(fields.ERROR_CODE)
    if role is None:
        return
    # Each answer variant may declare the field; a code must fit every declaration.
    declared = {str(prop.schema["type"]) for prop in contract.response_properties
                if prop.pointer == role.pointer and isinstance(prop.schema.get("type"), str)}
    if not declared:
        return
    for index, entry in enumerate(contract.error_codes):
        kind = _JSON_TYPES.get(type(entry.code), type(entry.code).__name__)
        if kind not in declared and not (kind == "integer" and "number" in declared):
            yield (at_operation(contract, ERROR_CODES_EXTENSION, "codes", str(index), "code"),
                   f"error code {entry.code!r} is a {kind}, but the answer's {role.pointer} is a "
                   f"{' or '.join(sorted(declared))}: a PSP answering it is refused")
