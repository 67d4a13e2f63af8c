"""A body schema flattened into its variants: every field by its pointer, with the schema that governs it."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callback_core.schema_model import (
    branches_of,
    child,
    discriminator_of,
    dotted,
    escape,
    is_closed,
    model_for,
    properties_of,
    property_site,
    ref_of,
    required_of,
    unescape,
)

__all__ = ["Discriminator", "Field", "Shape", "Variant", "dotted", "escape", "shape_of", "unescape"]

# Enough for a body with a few discriminated objects; beyond it the diff compares the first combinations only.
MAX_VARIANTS = 64
MAX_DEPTH = 12


@dataclass(frozen=True, slots=True)
class Field:
    """One property of the body in one variant."""

    pointer: str  # RFC 6901 pointer into the body, e.g. /cardInfo/maskedCardNumber
    schema: Mapping[str, Any]  # references followed, allOf merged
    required: bool
    location: str  # where the property is declared, e.g. #/components/schemas/TokenCardInfo/properties/cardType
    parent_closed: bool  # the object holding it refuses unknown properties

    @property
    def name(self) -> str:
        return unescape(self.pointer.rsplit("/", 1)[-1])

    @property
    def parent(self) -> str:
        return self.pointer.rsplit("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Variant:
    """One shape a body can take: the discriminator values that select it and its fields."""

    values: frozenset[str]
    fields: Mapping[str, Field]

    @property
    def label(self) -> str:
        return "|".join(sorted(self.values))


@dataclass(frozen=True, slots=True)
class Discriminator:
    """A discriminated `oneOf`: the object holding it, the deciding property, the values it maps."""

    owner: str  # body pointer of the object ("" for the body itself)
    name: str  # the deciding property
    values: frozenset[str]
    location: str

    @property
    def pointer(self) -> str:
        return f"{self.owner}/{escape(self.name)}"


@dataclass(frozen=True, slots=True)
class Shape:
    variants: tuple[Variant, ...]
    discriminators: tuple[Discriminator, ...]
    objects: frozenset[str]  # pointers of the body's objects whose unknown properties are refused
    location: str = "#"  # where the body's schema is declared

    def pointers(self) -> set[str]:
        return {pointer for variant in self.variants for pointer in variant.fields}

    def any_field(self, pointer: str) -> Field | None:
        return next((v.fields[pointer] for v in self.variants if pointer in v.fields), None)


# Combinations of variants, as a reader sees them: the discriminator values a combination stands for, its fields.
Combo = tuple[frozenset[str], dict[str, Field]]


class _Walker:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.model = model_for(document)
        self.discriminators: dict[str, Discriminator] = {}
        self.closed: set[str] = set()

    def expand(self, node: Any, where: str, pointer: str, depth: int, seen: frozenset[str] = frozenset()) -> (
        list[Combo]
    ):
        ref = ref_of(node)
        if depth > MAX_DEPTH or ref in seen:
            return [(frozenset(), {})]  # a recursive schema: its fields were listed on the way in
        seen = seen | {ref} if ref is not None else seen
        located = self.model.follow(node, where)
        merged = self.model.merged(located.node)
        if branches_of(merged) is not None:
            return self._branches(merged, located.location, pointer, depth, seen)
        properties = properties_of(merged)
        if not properties:
            return [(frozenset(), {})]
        closed = is_closed(merged)
        if closed:
            self.closed.add(pointer)
        required = set(required_of(merged))
        combos: list[Combo] = [(frozenset(), {})]
        for name, prop in properties.items():
            at = child(pointer, name)
            site = property_site(located.location, name)
            field = Field(at, self.model.merged(prop), name in required, site, closed)
            nested = self.expand(prop, site, at, depth + 1, seen)
            combos = [
                (values | more, {**fields, at: field, **extra})
                for (values, fields), (more, extra) in itertools.product(combos, nested)
            ][:MAX_VARIANTS]
        return combos

    def _branches(self, node: Mapping[str, Any], where: str, pointer: str, depth: int, seen: frozenset[str]) -> (
        list[Combo]
    ):
        keyword, branches = branches_of(node) or ("", [])
        discriminator = discriminator_of(node)
        out: list[Combo] = []
        all_values: set[str] = set()
        for index, branch in enumerate(branches):
            site = child(where, keyword, index)
            values = self.model.branch_values(discriminator, branch, self.model.merged(branch))
            all_values |= values
            for more, fields in self.expand(branch, site, pointer, depth + 1, seen):
                out.append((values | more, fields))
        if discriminator is not None:
            self.discriminators[pointer] = Discriminator(pointer, discriminator.property_name,
                                                         frozenset(all_values), where)
        return out[:MAX_VARIANTS]


def shape_of(document: Mapping[str, Any], schema: Any, location: str) -> Shape:
    """The variants of a body described by `schema` (declared at `location` in `document`)."""
    walker = _Walker(document)
    expanded = walker.expand(schema, location, "", 0)
    return Shape(
        variants=tuple(Variant(values, fields) for values, fields in expanded),
        discriminators=tuple(walker.discriminators.values()),
        objects=frozenset(walker.closed),
        location=walker.model.follow(schema, location).location,
    )

