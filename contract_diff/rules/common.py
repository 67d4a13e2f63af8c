"""What families of rules share: walking added, removed, moved and common fields, headers, media types."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from callback_core.spec import ErrorCode
from contract_diff.compare import Comparison, Move, Pair, Side
from contract_diff.facets import Direction, enum_values, facet_changes, type_of
from contract_diff.model import Finding, Rule
from contract_diff.shapes import Field, Shape, dotted, escape


def finding(rule: Rule, pointer: str, *, field: str = "", variant: str = "", **params: Any) -> Finding:
    return Finding(rule, pointer, tuple(sorted((k, str(v)) for k, v in params.items())), field, variant)


def of_field(rule: Rule, pair: Pair | None, f: Field, **params: Any) -> Finding:
    return finding(rule, f.location, field=f.pointer, variant=pair.label if pair else "", name=dotted(f.pointer),
                   **params)


def _discriminator_pointers(side: Side) -> set[str]:
    return {d.pointer for d in (*side.old.discriminators, *side.new.discriminators)}


def added_fields(rule: Rule, side: Side, *, required: bool | None, closed: bool) -> Iterator[Finding]:
    """Fields new in a variant; `closed`: only (or never) those whose old parent refused unknown properties."""
    renamed = {new.pointer for old, new in side.discriminators() if old is not None and new is not None}
    for pair, f in side.added():
        if (f.parent in side.old.objects) != closed or f.pointer in renamed:
            continue  # a renamed discriminator is reported by its own rule
        if required is None or f.required == required:
            yield of_field(rule, pair, f)


def removed_fields(rule: Rule, side: Side, *, required: bool | None, closed: bool | None = None) -> Iterator[Finding]:
    renamed = {old.pointer for old, new in side.discriminators() if old is not None and new is not None}
    for pair, f in side.removed():
        if f.pointer in renamed:
            continue  # a renamed discriminator is reported by its own rule
        if closed is not None and (side.follow(f.parent) in side.new.objects) != closed:
            continue
        if required is None or f.required == required:
            yield of_field(rule, pair, f)


def moved_fields(rule: Rule, side: Side, *, renamed: bool) -> Iterator[Move]:
    """Moves whose last name changed (`renamed`) or stayed; discriminators are left to their rules."""
    skip = _discriminator_pointers(side)
    for move in side.moves:
        if move.old in skip or move.new in skip:
            continue
        if (move.old.rsplit("/", 1)[-1] != move.new.rsplit("/", 1)[-1]) == renamed:
            yield move


def move_finding(rule: Rule, side: Side, move: Move) -> Finding:
    target = side.new.any_field(move.new)
    how = f" (field role `{move.role}`)" if move.role else ""
    return finding(rule, target.location if target else "#", field=move.new, name=dotted(move.old),
                   to=dotted(move.new), how=how)


def required_changes(rule: Rule, side: Side, *, became_required: bool) -> Iterator[Finding]:
    for pair, old, new in side.common():
        if not old.required and new.required and became_required:
            yield of_field(rule, pair, new)
        elif old.required and not new.required and not became_required:
            yield of_field(rule, pair, new)


def type_changes(rule: Rule, side: Side) -> Iterator[Finding]:
    for pair, old, new in side.common():
        a, b = type_of(old.schema), type_of(new.schema)
        if a != b and (a is not None or b is not None):
            yield of_field(rule, pair, new, old=a or "(any)", new=b or "(any)")


def facet_findings(rule: Rule, side: Side, direction: Direction) -> Iterator[Finding]:
    for pair, old, new in side.common():
        for change in facet_changes(old.schema, new.schema):
            if change.direction is direction:
                yield of_field(rule, pair, new, change=change.describe())
    # The body itself is no field; whether it admits unknown properties is judged here too.
    was, now = "" in side.old.objects, "" in side.new.objects
    if was != now and (Direction.TIGHTENED if now else Direction.LOOSENED) is direction:
        yield finding(rule, side.new.location, name=dotted(""), change=f"additionalProperties {not was} -> {not now}")


def enum_findings(rule: Rule, side: Side, *, added: bool) -> Iterator[Finding]:
    skip = _discriminator_pointers(side)
    for pair, old, new in side.common():
        if new.pointer in skip:
            continue  # a discriminator's values are judged as variants by the discriminator rules
        a, b = enum_values(old.schema), enum_values(new.schema)
        if a is None or b is None:
            continue  # becoming (or ceasing to be) an enum is a facet change
        for value in (v for v in b if v not in a) if added else (v for v in a if v not in b):
            yield of_field(rule, pair, new, value=value)


def discriminator_renames(rule: Rule, side: Side) -> Iterator[Finding]:
    for old, new in side.discriminators():
        # Matched by where it went or by the values it maps, so a rename, a move or both show here.
        if old is not None and new is not None and old.pointer != new.pointer:
            changes = (("renamed", old.name != new.name), ("moved", old.owner != new.owner))
            how = " and ".join(word for word, changed in changes if changed)
            values = ", ".join(sorted(new.values))
            yield finding(rule, new.location, field=new.pointer, name=dotted(old.pointer), to=dotted(new.pointer),
                          how=how, values=values)


def discriminator_values(rule: Rule, side: Side, *, added: bool) -> Iterator[Finding]:
    """Values that select a variant, added or removed; on a side without the discriminator (it was added or
    removed), the values its property's enum admits there, so that a rename hidden by the removal shows."""
    for old, new in side.discriminators():
        if old is not None and new is not None:
            before, after, where = old.values, new.values, new
        elif old is not None:
            before, after, where = old.values, _enum_values(side.new, side.follow(old.pointer)), old
        elif new is not None:
            before, after, where = _enum_values(side.old, new.pointer), new.values, new
        else:
            continue
        if not before or not after:
            continue  # one side says nothing about the values: CD019 reports the discriminator itself
        pointer = side.follow(where.pointer) if where is old else where.pointer
        for value in sorted(after - before if added else before - after):
            yield finding(rule, where.location, field=pointer, name=dotted(pointer), value=value)


def _enum_values(shape: Shape, pointer: str) -> frozenset[str]:
    """Every value the property at `pointer` may take in any variant of a body (its enums, united)."""
    values: set[str] = set()
    for variant in shape.variants:
        f = variant.fields.get(pointer)
        if f is not None:
            values.update(enum_values(f.schema) or ())
    return frozenset(values)


def discriminator_presence(rule: Rule, side: Side) -> Iterator[Finding]:
    for old, new in side.discriminators():
        if old is None and new is not None:
            yield finding(rule, new.location, field=new.pointer, name=dotted(new.pointer), what="added")
        elif new is None and old is not None:
            yield finding(rule, old.location, field=old.pointer, name=dotted(old.pointer), what="removed")


# Operation level ---------------------------------------------------------------------------------------------


def headers(c: Comparison, *, old: bool) -> dict[str, tuple[str, bool, str]]:
    """Header parameters by lower-cased name: (name as written, required, where declared).

    The header that carries the PSP's auth header value is left out: CD058/CD059 say what it is for.
    """
    contract = c.old if old else c.new
    item = contract.resolve(contract.document["paths"][contract.path])
    out: dict[str, tuple[str, bool, str]] = {}
    levels = ((item.get("parameters", []), f"#/paths/{escape(contract.path)}/parameters"),
              (contract.operation.get("parameters", []), c.location("parameters", old=old)))
    for params, base in levels:
        for index, param in enumerate(params):
            resolved = contract.resolve(param)
            if isinstance(resolved, Mapping) and resolved.get("in") == "header":
                name = str(resolved.get("name", ""))
                out[name.lower()] = (name, resolved.get("required") is True, f"{base}/{index}")
    out.pop((auth_header(c, old=old) or "").lower(), None)
    return out


def request_media_types(c: Comparison, *, old: bool) -> set[str]:
    contract = c.old if old else c.new
    body = contract.resolve(contract.operation.get("requestBody", {}))
    return set(body.get("content", {})) if isinstance(body, Mapping) else set()


def responses(c: Comparison, *, old: bool) -> dict[str, set[str]]:
    """Documented status -> its media types."""
    contract = c.old if old else c.new
    out: dict[str, set[str]] = {}
    for status, response in contract.operation.get("responses", {}).items():
        resolved = contract.resolve(response)
        out[str(status)] = set(resolved.get("content", {})) if isinstance(resolved, Mapping) else set()
    return out


def security(c: Comparison, *, old: bool) -> dict[str, str]:
    """Security scheme names the operation requires -> a short description of each."""
    contract = c.old if old else c.new
    requirements = contract.operation.get("security", contract.document.get("security", []))
    schemes = contract.document.get("components", {}).get("securitySchemes", {})
    out: dict[str, str] = {}
    for requirement in requirements or []:
        for name in requirement if isinstance(requirement, Mapping) else ():
            scheme = schemes.get(name, {})
            scheme = contract.resolve(scheme)
            kind = scheme.get("type", "?") if isinstance(scheme, Mapping) else "?"
            where = f" in {scheme.get('in')} `{scheme.get('name')}`" if kind == "apiKey" else ""
            out[str(name)] = f"{kind}{where}"
    return out


# The static header that carries the PSP's cardCallbackAuthHeader value (its name is the document's to say).
AUTH_HEADER_EXTENSION = "x-card-callback-auth-header"


def auth_header(c: Comparison, *, old: bool) -> str | None:
    raw = (c.old if old else c.new).operation.get(AUTH_HEADER_EXTENSION)
    header = raw.get("header") if isinstance(raw, Mapping) else None
    return str(header) if header else None


# Error codes ---------------------------------------------------------------------------------------------------


def codes(c: Comparison, *, old: bool) -> dict[str, ErrorCode]:
    """The catalogue by each code's text: 51 and "51" are the same code in another type (CD061 says so)."""
    return {str(entry.code): entry for entry in (c.old if old else c.new).error_codes}
