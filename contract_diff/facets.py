"""How the constraints of one property changed: each facet loosened, tightened or just different."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from callback_core.schema_model import ADDITIONAL_PROPERTIES, NULLABLE, is_closed, is_nullable


class Direction(Enum):
    LOOSENED = "loosened"  # admits values the old revision refused
    TIGHTENED = "tightened"  # refuses values the old revision admitted
    CHANGED = "changed"  # neither can be told (a pattern or a format replaced by another)


@dataclass(frozen=True, slots=True)
class FacetChange:
    facet: str
    old: Any
    new: Any
    direction: Direction

    def describe(self) -> str:
        if self.old is None:
            return f"{self.facet} {_show(self.new)} added"
        if self.new is None:
            return f"{self.facet} {_show(self.old)} removed"
        return f"{self.facet} {_show(self.old)} -> {_show(self.new)}"


_LOWER = ("minLength", "minimum", "minItems", "minProperties")
_UPPER = ("maxLength", "maximum", "maxItems", "maxProperties")


def _show(value: Any) -> str:
    return f"`{value}`" if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def facet_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[FacetChange]:
    """Every changed constraint but `type` and enum values (their own rules judge them)."""
    for facet in ("pattern", "format"):
        a, b = old.get(facet), new.get(facet)
        if a == b:
            continue
        if a is None:
            yield FacetChange(facet, a, b, Direction.TIGHTENED)
        elif b is None:
            yield FacetChange(facet, a, b, Direction.LOOSENED)
        else:
            yield FacetChange(facet, a, b, Direction.CHANGED)
    for facet in _LOWER + _UPPER:
        a, b = _number(old.get(facet)), _number(new.get(facet))
        if a == b:
            continue
        wider = b is None or (a is not None and (b < a if facet in _LOWER else b > a))
        yield FacetChange(facet, a, b, Direction.LOOSENED if wider else Direction.TIGHTENED)
    for facet in ("exclusiveMinimum", "exclusiveMaximum", "uniqueItems"):
        a, b = old.get(facet) is True, new.get(facet) is True
        if a != b:
            yield FacetChange(facet, a, b, Direction.TIGHTENED if b else Direction.LOOSENED)
    a, b = is_nullable(old), is_nullable(new)
    if a != b:
        yield FacetChange(NULLABLE, a, b, Direction.LOOSENED if b else Direction.TIGHTENED)
    a, b = is_closed(old), is_closed(new)
    if a != b and (old.get("type") == "object" or new.get("type") == "object"):
        # `additionalProperties: false` is the closed form; anything else admits unknown properties.
        yield FacetChange(ADDITIONAL_PROPERTIES, not a, not b, Direction.TIGHTENED if b else Direction.LOOSENED)
    a_enum, b_enum = isinstance(old.get("enum"), list), isinstance(new.get("enum"), list)
    if a_enum != b_enum:
        direction = Direction.TIGHTENED if b_enum else Direction.LOOSENED
        yield FacetChange("enum", old.get("enum"), new.get("enum"), direction)


def enum_values(schema: Mapping[str, Any]) -> list[str] | None:
    values = schema.get("enum")
    return [str(v) for v in values] if isinstance(values, list) else None


def type_of(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    return str(kind) if kind is not None else None
