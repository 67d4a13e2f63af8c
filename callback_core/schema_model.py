"""The one schema model: RFC 6901 pointers, `$ref` resolution and the schema walk every layer shares.

Pointers are the toolkit's one path notation inside: a field of a body is `/cardInfo/maskedCardNumber`, a
place in the document `#/components/schemas/Card`. Only reports turn them into dotted names (`dotted`).
References are followed with `referencing` (local `#/...` ones, chains included), once each: a document's
model caches what it resolved, and `model_for` keeps one model per document object, so a hot path that asks
twice pays once. Everything that reads a schema's structure (its properties, its `allOf` parts, its
`oneOf`/`anyOf` variants and their discriminator, `items`, `nullable`, `additionalProperties`) asks here;
tests/test_schema_model_guard.py keeps those words out of every other module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from referencing import Registry, Specification
from referencing.exceptions import Unresolvable

from callback_core.errors import SpecError

REF = "$ref"
NULLABLE, ADDITIONAL_PROPERTIES = "nullable", "additionalProperties"
ALL_OF, ONE_OF, ANY_OF = "allOf", "oneOf", "anyOf"
# The keywords whose value is one schema, a list of schemas, or a map of named schemas.
ONE_SCHEMA = ("items", "additionalProperties", "additionalItems", "not")
SCHEMA_LISTS = (ALL_OF, ANY_OF, ONE_OF)
SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
# A validation error's keyword for "one of these shapes" (the server words those errors its own way).
VARIANT_KEYWORDS = (ONE_OF, ANY_OF)
COMPONENT_SCHEMAS = "#/components/schemas/"
_BASE = "urn:card-callback:document"
MAX_DEPTH = 32  # a recursive schema is walked this deep, no deeper


# --- RFC 6901 pointers -------------------------------------------------------------------------------


def escape(part: str) -> str:
    """One pointer token: `~` and `/` escaped (RFC 6901, section 3)."""
    return part.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


@lru_cache(maxsize=1024)
def split_pointer(pointer: str) -> tuple[str, ...]:
    """RFC 6901: '/a~1b/c' -> ('a/b', 'c'); '' is the whole body."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/', not {pointer!r}")
    return tuple(unescape(token) for token in pointer[1:].split("/"))


def join_pointer(parts: Iterable[Any]) -> str:
    """('a/b', 'c') -> '/a~1b/c'; list indexes may be ints."""
    return "".join("/" + escape(str(part)) for part in parts)


def location(parts: Iterable[Any]) -> str:
    """A place in the document, as a `$ref` names it: ('paths', '/cb', 'post') -> '#/paths/~1cb/post'."""
    return "#" + join_pointer(parts)


def child(pointer: str, *parts: Any) -> str:
    """`pointer` extended by `parts` (each escaped)."""
    return pointer + join_pointer(parts)


def location_parts(where: str) -> tuple[str, ...]:
    """The tokens of a document location: '#/paths/~1cb' -> ('paths', '/cb')."""
    return split_pointer(where[1:] if where.startswith("#") else where)


def property_site(where: str, name: str) -> str:
    """Where property `name` of the schema at document location `where` is declared."""
    return child(where, "properties", name)


def dotted(pointer: str) -> str:
    """`/cardInfo/maskedCardNumber` as a reader writes it: `cardInfo.maskedCardNumber`."""
    return ".".join(split_pointer(pointer)) or "(body)"


# --- schema nodes ----------------------------------------------------------------------------------------


def ref_of(node: Any) -> str | None:
    """The `$ref` a node is, or None."""
    ref = node.get(REF) if isinstance(node, Mapping) else None
    return ref if isinstance(ref, str) else None


def properties_of(schema: Any) -> Mapping[str, Any]:
    """A schema node's own `properties` (unresolved), empty when it has none."""
    found = schema.get("properties") if isinstance(schema, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def required_of(schema: Any) -> tuple[str, ...]:
    found = schema.get("required") if isinstance(schema, Mapping) else None
    return tuple(str(name) for name in found) if isinstance(found, list) else ()


def branches_of(schema: Any) -> tuple[str, list[Any]] | None:
    """(`oneOf` or `anyOf`, its branches) of a schema node, or None."""
    if not isinstance(schema, Mapping):
        return None
    for keyword in (ONE_OF, ANY_OF):
        found = schema.get(keyword)
        if isinstance(found, list) and found:
            return keyword, found
    return None


def parts_of(schema: Any) -> list[Any]:
    """A schema node's `allOf` parts."""
    found = schema.get(ALL_OF) if isinstance(schema, Mapping) else None
    return found if isinstance(found, list) else []


def is_closed(schema: Any) -> bool:
    """The object refuses properties it does not name (`additionalProperties: false`)."""
    return isinstance(schema, Mapping) and schema.get(ADDITIONAL_PROPERTIES) is False


def is_nullable(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get(NULLABLE) is True


def items_of(schema: Any) -> Any:
    return schema.get("items") if isinstance(schema, Mapping) else None


def is_object_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and (schema.get("type") == "object" or bool(properties_of(schema))
                                            or bool(parts_of(schema)))


def looks_like_schema(node: Any) -> bool:
    return isinstance(node, Mapping) and any(
        key in node for key in ("type", "pattern", "enum", "format", "properties", ONE_OF, ALL_OF, ANY_OF))


def without_openapi_keywords(node: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of one schema node without what only OpenAPI 3.0 reads (`discriminator`, `nullable`)."""
    return {key: value for key, value in node.items() if key not in ("discriminator", NULLABLE)}


def all_of(schemas: list[Any]) -> dict[str, Any]:
    return {ALL_OF: schemas}


def one_of_values(name: str, mapping: Mapping[str, str]) -> dict[str, Any]:
    """The constraint a discriminator's explicit mapping makes: the value is a key and the object its schema."""
    return {ANY_OF: [
        {"required": [name], "properties": {name: {"enum": [value]}}, ALL_OF: [{REF: ref}]}
        for value, ref in mapping.items() if value
    ]}


def map_schema(node: Any, transform: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """A copy of schema `node` with `transform` applied to every schema in it, innermost first."""
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ONE_SCHEMA and isinstance(value, Mapping):
            out[key] = map_schema(value, transform)
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [map_schema(item, transform) for item in value]
        elif key in SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {name: map_schema(item, transform) for name, item in value.items()}
        else:
            out[key] = value
    return transform(out)


def relaxed_properties(schema: Mapping[str, Any], keep: Callable[[str], bool]) -> dict[str, Any]:
    """A copy of one schema node whose properties `keep` refuses admit anything."""
    out = dict(schema)
    if properties_of(schema):
        out["properties"] = {name: (prop if keep(name) else {}) for name, prop in properties_of(schema).items()}
    return out


@dataclass(frozen=True, slots=True)
class SchemaProperty:
    """A property somewhere in a schema tree: its path in a body and its (resolved) schema."""

    parts: tuple[str, ...]
    schema: Mapping[str, Any]

    @property
    def pointer(self) -> str:
        return join_pointer(self.parts)


@dataclass(frozen=True, slots=True)
class Located:
    """A node with the document location it was found at (the last `$ref` followed, or where it sits)."""

    node: Any
    location: str


@dataclass(frozen=True, slots=True)
class Discriminator:
    """A `discriminator`: the deciding property and each value's target (the mapping, else component names)."""

    property_name: str
    mapping: Mapping[str, str]  # explicit entries
    implicit: Mapping[str, str]  # a `oneOf` member `#/components/schemas/Name` answers to `Name`

    def target(self, value: Any) -> str | None:
        """The `$ref` a discriminating value selects, or None."""
        if not isinstance(value, str) or not value:
            return None
        return self.mapping.get(value) or self.implicit.get(value)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.mapping, *self.implicit]))


def discriminator_of(schema: Any) -> Discriminator | None:
    """The discriminator of a `oneOf`/`anyOf` node (explicit and implicit mappings), or None."""
    raw = schema.get("discriminator") if isinstance(schema, Mapping) else None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("propertyName"), str):
        return None
    found_mapping = raw.get("mapping")
    mapping: Mapping[Any, Any] = found_mapping if isinstance(found_mapping, Mapping) else {}
    found = branches_of(schema)
    members = [ref for ref in (ref_of(b) for b in (found[1] if found else ())) if ref is not None]
    implicit = {ref[len(COMPONENT_SCHEMAS):]: ref for ref in members
                if ref.startswith(COMPONENT_SCHEMAS) and "/" not in ref[len(COMPONENT_SCHEMAS):]}
    return Discriminator(raw["propertyName"], {str(k): str(v) for k, v in mapping.items()}, implicit)


@dataclass(frozen=True, slots=True)
class Variant:
    """One branch of a `oneOf`/`anyOf` (or the schema itself): resolved, `allOf` folded in."""

    schema: Mapping[str, Any]
    location: str
    values: frozenset[str]  # the discriminator values that select it (empty without a discriminator)


# --- the model of one document -------------------------------------------------------------------------


class SchemaModel:
    """One document's references (resolved once, cached) and the walks over its schemas."""

    def __init__(self, document: Mapping[str, Any], source: str = "<document>") -> None:
        self.document = document
        self.source = source
        resource = Specification.OPAQUE.create_resource(document)
        self._resolver = Registry().with_resource(_BASE, resource).resolver(_BASE)
        self._targets: dict[str, Any] = {}
        self._merged: dict[int, tuple[Any, Mapping[str, Any]]] = {}

    def lookup(self, ref: str, where: str = "") -> Any:
        """The node a local reference (`#/...`) points at, or SpecError naming it and where it was written."""
        found = self._targets.get(ref, _NOTHING)
        if found is not _NOTHING:
            return found
        at = f" (at {where})" if where else ""
        if not ref.startswith("#"):
            raise SpecError(self.source, f"$ref {ref!r}{at}: only local references (#/...) are supported", where or ref)
        try:
            found = self._resolver.lookup(ref).contents
        except Unresolvable:
            # The library's message quotes the whole document; the reference and its place are what helps.
            raise SpecError(self.source, f"$ref {ref!r}{at} points nowhere", where or ref) from None
        self._targets[ref] = found
        return found

    def at(self, pointer: str) -> Any:
        """The node at a document location such as `#/paths/~1callback/post`, or SpecError."""
        return self.lookup(pointer if pointer.startswith("#") else "#" + pointer)

    def follow(self, node: Any, where: str = "#") -> Located:
        """Follow `$ref`s (chains too) until a node that is not one; a cycle is a SpecError naming it."""
        seen: list[str] = []
        while (ref := ref_of(node)) is not None:
            if ref in seen:
                raise SpecError(self.source, f"$ref {ref!r} at {where} is circular: {' -> '.join([*seen, ref])}",
                                where)
            seen.append(ref)
            node = self.lookup(ref, where)
            where = ref
        return Located(node, where)

    def resolve(self, node: Any) -> Any:
        """`node` with its `$ref`s followed."""
        return self.follow(node).node if ref_of(node) is not None else node

    def merged(self, schema: Any) -> Mapping[str, Any]:
        """The schema, resolved, with its `allOf` parts folded in (properties, required, other keywords).

        Both parts' schemas apply to a property two parts define; the node's own keywords win a conflict. A
        `oneOf`/`anyOf` of one branch and no discriminator says what an `allOf` of it says, and is folded too."""
        node = self.resolve(schema)
        if not isinstance(node, Mapping):
            return {}
        found = branches_of(node)
        single = found if found is not None and len(found[1]) == 1 and discriminator_of(node) is None else None
        if not parts_of(node) and single is None:
            return node
        cached = self._merged.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        out: dict[str, Any] = {k: v for k, v in node.items() if k != ALL_OF and (single is None or k != single[0])}
        properties: dict[str, Any] = dict(properties_of(out))
        required = list(required_of(out))
        for part in [*parts_of(node), *(single[1] if single is not None else ())]:
            resolved = self.merged(part)
            for name, prop in properties_of(resolved).items():
                mine = properties.get(name)
                properties[name] = prop if mine is None else _both(self.merged(prop), self.merged(mine))
            required += [name for name in required_of(resolved) if name not in required]
            for key, value in resolved.items():
                if key not in ("properties", "required"):
                    out.setdefault(key, value)
        if properties:
            out["properties"] = properties
        if required:
            out["required"] = required
        self._merged[id(node)] = (node, out)
        return out

    def property_schema(self, schema: Any, name: str) -> Mapping[str, Any]:
        """The resolved schema of property `name` of an object schema (its `allOf` parts included), or {}."""
        found = self.resolve(properties_of(self.merged(schema)).get(name))
        return found if isinstance(found, Mapping) else {}

    def discriminator(self, schema: Any) -> Discriminator | None:
        return discriminator_of(self.resolve(schema))

    def variants(self, schema: Any, where: str = "#") -> tuple[Variant, ...]:
        """The shapes a body of `schema` takes: its `oneOf`/`anyOf` branches (each selecting discriminator
        values), or the schema itself."""
        located = self.follow(schema, where)
        node = self.merged(located.node)
        found = branches_of(node)
        if found is None:
            return (Variant(node, located.location, frozenset()),)
        keyword, branches = found
        discriminator = discriminator_of(node)
        out = []
        for index, branch in enumerate(branches):
            at = self.follow(branch, f"{located.location}/{keyword}/{index}")
            merged = self.merged(at.node)
            out.append(Variant(merged, at.location, self.branch_values(discriminator, branch, merged)))
        return tuple(out)

    def branch_values(self, discriminator: Discriminator | None, branch: Any, merged: Any) -> frozenset[str]:
        """The discriminator values that select a branch: the mapping's keys that name it, else the enum of its
        deciding property, else (implicitly) its component name."""
        if discriminator is None:
            return frozenset()
        ref = ref_of(branch)
        explicit = {value for value, target in discriminator.mapping.items() if ref is not None and target == ref}
        if explicit:
            return frozenset(explicit)
        enum = self.property_schema(merged, discriminator.property_name).get("enum")
        if isinstance(enum, list):
            return frozenset(str(value) for value in enum)
        return frozenset(value for value, target in discriminator.implicit.items() if target == ref)

    def enum_of(self, schema: Any, name: str) -> list[Any]:
        """The `enum` of property `name` of an object schema, or []."""
        enum = self.property_schema(schema, name).get("enum")
        return list(enum) if isinstance(enum, list) else []

    def type_of(self, schema: Any) -> str | None:
        """The JSON type a schema requires; for a `oneOf`/`anyOf`, the type all its branches share."""
        node = self.merged(schema)
        if "type" in node:
            return str(node["type"])
        found = branches_of(node)
        kinds = {self.merged(b).get("type") for b in found[1]} if found else set()
        return str(kinds.pop()) if len(kinds) == 1 and None not in kinds else None

    def walk(self, schema: Any, prefix: tuple[str, ...] = ()) -> Iterator[SchemaProperty]:
        """Every property of `schema`'s tree, through `$ref`s, `allOf` parts and `oneOf`/`anyOf` branches,
        outermost first; the same path may come once per branch that defines it."""
        yield from self._walk(self.resolve(schema), prefix, frozenset(), 0)

    def _walk(self, schema: Any, prefix: tuple[str, ...], seen: frozenset[int], depth: int) -> (
        Iterator[SchemaProperty]
    ):
        if not isinstance(schema, Mapping) or id(schema) in seen or depth > MAX_DEPTH:
            return  # a recursive schema is walked once per path
        seen = seen | {id(schema)}
        nested: list[tuple[tuple[str, ...], Any]] = []
        for name, raw in properties_of(schema).items():
            prop = self.resolve(raw)
            if isinstance(prop, Mapping):
                yield SchemaProperty((*prefix, str(name)), prop)
                nested.append(((*prefix, str(name)), prop))
        found = branches_of(schema)
        for branch in [*parts_of(schema), *(found[1] if found else ())]:
            yield from self._walk(self.resolve(branch), prefix, seen, depth + 1)
        for path, prop in nested:
            yield from self._walk(prop, path, seen, depth + 1)

    def references(self) -> Iterator[tuple[str, str]]:
        """(location of the `$ref`, the reference) for every reference written in the document."""
        stack: list[tuple[tuple[Any, ...], Any]] = [((), self.document)]
        while stack:
            parts, node = stack.pop()
            if isinstance(node, Mapping):
                ref = ref_of(node)
                if ref is not None:
                    yield location((*parts, REF)), ref
                stack.extend(((*parts, key), value) for key, value in reversed(list(node.items())))
            elif isinstance(node, list):
                stack.extend(((*parts, index), value) for index, value in reversed(list(enumerate(node))))

    def dangling(self) -> Iterator[tuple[str, str, str]]:
        """(location, reference, why) for every reference that does not resolve or is circular."""
        for where, ref in self.references():
            try:
                self.follow({REF: ref}, where)
            except SpecError as exc:
                yield where, ref, exc.reason


def _both(theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, Any]:
    """One property's schemas from two `allOf` parts: ours win a conflict, but a value must pass both enums,
    so a variant's `[TOKEN]` narrows its shared base's `[TOKEN, PAN]`."""
    out = {**theirs, **ours}
    if isinstance(theirs.get("enum"), list) and isinstance(ours.get("enum"), list):
        out["enum"] = [value for value in ours["enum"] if value in theirs["enum"]]
    return out


class _Nothing:
    pass


_NOTHING = _Nothing()
_MODELS: dict[int, tuple[Mapping[str, Any], SchemaModel]] = {}


def model_for(document: Mapping[str, Any], source: str = "<document>") -> SchemaModel:
    """The model of `document` (one per document object, kept while the document is)."""
    item = _MODELS.get(id(document))
    if item is None or item[0] is not document:
        if len(_MODELS) >= 64:
            _MODELS.pop(next(iter(_MODELS)))
        item = _MODELS[id(document)] = (document, SchemaModel(document, source))
    return item[1]
