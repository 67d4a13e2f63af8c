"""A body schema flattened into its variants: every field by its pointer, with the schema that governs it."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callback_core.errors import SpecError
from callback_core.spec import resolve_pointer

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


def escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def dotted(pointer: str) -> str:
    """`/cardInfo/maskedCardNumber` as a reader writes it: `cardInfo.maskedCardNumber`."""
    return ".".join(unescape(part) for part in pointer.split("/")[1:]) or "(body)"


# The discriminator values a combination of branches stands for, and the fields it has.
Combo = tuple[frozenset[str], dict[str, Field]]


class _Walker:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.discriminators: dict[str, Discriminator] = {}
        self.closed: set[str] = set()

    def resolve(self, node: Any, location: str) -> tuple[Any, str]:
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
            seen.add(node["$ref"])
            location = node["$ref"]
            try:
                node = resolve_pointer(self.document, location)
            except SpecError:
                return {}, location
        return node, location

    def merged(self, node: Any, location: str) -> tuple[Mapping[str, Any], str]:
        """The node with its `allOf` parts folded in (properties, required, closedness)."""
        node, location = self.resolve(node, location)
        if not isinstance(node, Mapping):
            return {}, location
        if not isinstance(node.get("allOf"), list):
            return node, location
        out: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        properties: dict[str, Any] = dict(out.get("properties", {}))
        required: list[str] = list(out.get("required", []))
        for index, part in enumerate(node["allOf"]):
            resolved, _ = self.merged(part, f"{location}/allOf/{index}")
            for name, prop in resolved.get("properties", {}).items():
                # Both schemas apply to a property defined twice; the node's own keywords win a conflict.
                mine = properties.get(name)
                if mine is None:
                    properties[name] = prop
                else:
                    properties[name] = {**self.merged(prop, location)[0], **self.merged(mine, location)[0]}
            required += [name for name in resolved.get("required", []) if name not in required]
            for key, value in resolved.items():
                if key not in ("properties", "required"):
                    out.setdefault(key, value)
        if properties:
            out["properties"] = properties
        if required:
            out["required"] = required
        return out, location

    def expand(self, node: Any, location: str, pointer: str, depth: int, seen: frozenset[str] = frozenset()) -> (
        list[Combo]
    ):
        ref = node.get("$ref") if isinstance(node, Mapping) else None
        if depth > MAX_DEPTH or ref in seen:
            return [(frozenset(), {})]  # a recursive schema: its fields were listed on the way in
        seen = seen | {ref} if isinstance(ref, str) else seen
        node, location = self.merged(node, location)
        branches = node.get("oneOf") or node.get("anyOf")
        if isinstance(branches, list):
            return self._branches(node, branches, location, pointer, depth, seen)
        properties = node.get("properties")
        if not isinstance(properties, Mapping):
            return [(frozenset(), {})]
        closed = node.get("additionalProperties") is False
        if closed:
            self.closed.add(pointer)
        required = set(node.get("required", ()))
        combos: list[Combo] = [(frozenset(), {})]
        for name, prop in properties.items():
            child = f"{pointer}/{escape(name)}"
            site = f"{location}/properties/{escape(name)}"
            resolved, _ = self.merged(prop, site)
            field = Field(child, resolved, name in required, site, closed)
            nested = self.expand(prop, site, child, depth + 1, seen)
            combos = [
                (values | more, {**fields, child: field, **extra})
                for (values, fields), (more, extra) in itertools.product(combos, nested)
            ][:MAX_VARIANTS]
        return combos

    def _branches(
        self,
        node: Mapping[str, Any],
        branches: list[Any],
        location: str,
        pointer: str,
        depth: int,
        seen: frozenset[str],
    ) -> list[Combo]:
        keyword = "oneOf" if "oneOf" in node else "anyOf"
        discriminator = node.get("discriminator") or {}
        name = discriminator.get("propertyName")
        mapping = discriminator.get("mapping") or {}
        out: list[Combo] = []
        all_values: set[str] = set()
        for index, branch in enumerate(branches):
            site = f"{location}/{keyword}/{index}"
            values = frozenset(_branch_values(self, branch, site, name, mapping))
            all_values |= values
            for more, fields in self.expand(branch, site, pointer, depth + 1, seen):
                out.append((values | more, fields))
        if isinstance(name, str):
            self.discriminators[pointer] = Discriminator(pointer, name, frozenset(all_values), location)
        return out[:MAX_VARIANTS]


def _branch_values(walker: _Walker, branch: Any, site: str, name: Any, mapping: Mapping[str, Any]) -> set[str]:
    """The discriminator values that select a branch: its mapping keys, else the enum of its property."""
    ref = branch.get("$ref") if isinstance(branch, Mapping) else None
    values = {str(key) for key, target in mapping.items() if ref is not None and target == ref}
    if values or not isinstance(name, str):
        return values
    resolved, _ = walker.merged(branch, site)
    prop, _ = walker.resolve(resolved.get("properties", {}).get(name, {}), site)
    enum = prop.get("enum") if isinstance(prop, Mapping) else None
    return {str(value) for value in enum} if isinstance(enum, list) else set()


def shape_of(document: Mapping[str, Any], schema: Any, location: str) -> Shape:
    """The variants of a body described by `schema` (declared at `location` in `document`)."""
    walker = _Walker(document)
    expanded = walker.expand(schema, location, "", 0)
    return Shape(
        variants=tuple(Variant(values, fields) for values, fields in expanded),
        discriminators=tuple(walker.discriminators.values()),
        objects=frozenset(walker.closed),
        location=walker.resolve(schema, location)[1],
    )

