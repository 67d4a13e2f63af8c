"""What the lint rules share: the document walked node by node, pointers into it, the operation's place."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from callback_core import fields
from callback_core.lint import Subject, operation_pointer
from callback_core.schema_model import location
from callback_core.spec import Contract


def pointer(parts: tuple[Any, ...] | list[Any]) -> str:
    return location(parts)


def nodes(node: Any, parts: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every node of the document with its path (data, not schemas: no reference is followed)."""
    yield parts, node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from nodes(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from nodes(value, (*parts, index))


def contract_of(subject: Subject) -> Contract:
    """The Contract of a rule that needs one (the runner runs it only when there is one)."""
    if subject.contract is None:  # pragma: no cover - the runner's gate
        raise RuntimeError("a CONTRACT rule ran on a document the tools cannot use")
    return subject.contract


# Where the Contract refuses a catalogue code of the wrong type: CL008's, not CL004's, to name.
_CODE_TYPE_REFUSAL = re.compile(r"/x-error-codes/codes/[0-9]+/code$")


def is_code_type_refusal(pointer: str) -> bool:
    return _CODE_TYPE_REFUSAL.search(pointer) is not None


def at_operation(contract: Contract, *parts: str) -> str:
    return operation_pointer(contract) + fields.join_pointer(parts)
