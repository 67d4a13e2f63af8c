"""What the rules compare: both bodies flattened, their variants paired, moved fields followed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from callback_core.spec import Contract
from contract_diff.shapes import Discriminator, Field, Shape, Variant, escape, shape_of


@dataclass(frozen=True, slots=True)
class Move:
    """A field found at another pointer in the new revision (by its field role, or by its unique name)."""

    old: str
    new: str
    role: str = ""  # the field role that tied them; empty when only the name did


@dataclass(frozen=True, slots=True)
class Pair:
    """A variant of the old body and the one of the new body that carries the same discriminator values."""

    old: Variant
    new: Variant
    label: str
    moved: Mapping[str, Field]  # the old variant's fields, keyed by their pointer in the new revision


@dataclass
class Side:
    """One body (the callback request, or the 200 answer) in both revisions."""

    old: Shape
    new: Shape
    old_roles: Mapping[str, str] = field(default_factory=dict)  # role name -> pointer
    new_roles: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def moves(self) -> tuple[Move, ...]:
        return tuple(_moves(self.old, self.new, self.old_roles, self.new_roles))

    def follow(self, pointer: str) -> str:
        """Where an old pointer's field is in the new revision (itself when it did not move)."""
        for move in sorted(self.moves, key=lambda m: -len(m.old)):
            if pointer == move.old or pointer.startswith(move.old + "/"):
                return move.new + pointer[len(move.old):]
        return pointer

    @cached_property
    def pairs(self) -> tuple[Pair, ...]:
        out = []
        for old, new in _paired(self.old.variants, self.new.variants, self.follow):
            moved = {self.follow(pointer): f for pointer, f in old.fields.items()}
            out.append(Pair(old, new, new.label or old.label, moved))
        return tuple(out)

    def added(self) -> Iterator[tuple[Pair, Field]]:
        """Fields of a new variant that its old variant lacks (the top of each added subtree only)."""
        for pair in self.pairs:
            fresh = {p for p in pair.new.fields if p not in pair.moved}
            for pointer in sorted(fresh):
                if _parent(pointer) not in fresh:
                    yield pair, pair.new.fields[pointer]

    def removed(self) -> Iterator[tuple[Pair, Field]]:
        """Fields of an old variant that its new variant lacks, at their old pointer (subtree tops only)."""
        for pair in self.pairs:
            gone = {p for p, f in pair.moved.items() if p not in pair.new.fields}
            for pointer in sorted(gone):
                if not any(pointer.startswith(top + "/") for top in gone):  # moved deeper: any ancestor
                    yield pair, pair.moved[pointer]

    def common(self) -> Iterator[tuple[Pair, Field, Field]]:
        """(pair, old field, new field) for every field both variants carry, moved ones included."""
        for pair in self.pairs:
            for pointer, new in pair.new.fields.items():
                old = pair.moved.get(pointer)
                if old is not None:
                    yield pair, old, new

    def discriminators(self) -> Iterator[tuple[Discriminator | None, Discriminator | None]]:
        """Old and new discriminators matched by where they are (moves followed), else by shared values."""
        unmatched = list(self.new.discriminators)
        for old in self.old.discriminators:
            where = self.follow(old.pointer)
            match = next((d for d in unmatched if d.pointer == where), None)
            match = match or next((d for d in unmatched if d.values & old.values), None)
            if match is not None:
                unmatched.remove(match)
            yield old, match
        for new in unmatched:
            yield None, new


def _parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0]


def _paired(old: tuple[Variant, ...], new: tuple[Variant, ...], follow: Callable[[str], str]) -> (
    Iterator[tuple[Variant, Variant]]
):
    # A body without variants on one side is compared with every variant of the other.
    if len(old) == 1 and not old[0].values or len(new) == 1 and not new[0].values:
        for a in old:
            for b in new:
                yield a, b
        return
    unmatched: list[Variant] = []
    for b in new:
        best = max(old, key=lambda a: len(a.values & b.values))
        if best.values & b.values:
            yield best, b
        else:
            unmatched.append(b)
    # Variants whose every value was renamed (TOKEN -> NETWORK_TOKEN), or whose discriminator went, are
    # paired by what they carry, one to one: else none of their fields would be compared at all.
    left = [a for a in old if not any(a.values & b.values for b in new)]
    for b in unmatched:
        scored = [(_likeness(a, b, follow), index) for index, a in enumerate(left)]
        if not scored:
            return
        score, index = max(scored, key=lambda item: (item[0], -item[1]))
        if score > (0, 0):
            yield left.pop(index), b


def _likeness(old: Variant, new: Variant, follow: Callable[[str], str]) -> tuple[int, int]:
    """How alike two variants are: the required fields they share, then all the fields they share."""
    required = {follow(p) for p, f in old.fields.items() if f.required}
    present = {follow(p) for p in old.fields}
    return (len(required & {p for p, f in new.fields.items() if f.required}), len(present & set(new.fields)))


def _moves(old: Shape, new: Shape, old_roles: Mapping[str, str], new_roles: Mapping[str, str]) -> Iterator[Move]:
    before, after = old.pointers(), new.pointers()
    gone, fresh = before - after, after - before
    found: list[Move] = []
    for role in sorted(set(old_roles) & set(new_roles)):
        a, b = old_roles[role], new_roles[role]
        if a != b and a in gone and b in fresh:
            found.append(Move(a, b, role))
    # Without roles, a field whose name disappears at one place and appears at exactly one other moved.
    taken_old, taken_new = {m.old for m in found}, {m.new for m in found}
    for pointer in sorted(gone - taken_old, key=lambda p: p.count("/")):
        name = pointer.rsplit("/", 1)[-1]
        candidates = [p for p in fresh - taken_new if p.rsplit("/", 1)[-1] == name]
        same_name = [p for p in gone if p.rsplit("/", 1)[-1] == name]
        if len(candidates) == 1 and len(same_name) == 1:
            found.append(Move(pointer, candidates[0]))
            taken_new.add(candidates[0])
    # A field that moved with its parent is not a move of its own.
    tops: list[Move] = []
    for move in sorted(found, key=lambda m: m.old.count("/")):
        inherited = next((t for t in tops if move.old.startswith(t.old + "/")), None)
        if inherited is None or inherited.new + move.old[len(inherited.old):] != move.new:
            tops.append(move)
    yield from tops


def request_side(old: Contract, new: Contract) -> Side:
    return Side(_request_shape(old), _request_shape(new), roles(old, "request"), roles(new, "request"))


def response_side(old: Contract, new: Contract) -> Side:
    return Side(_response_shape(old), _response_shape(new), roles(old, "response"), roles(new, "response"))


def _operation_location(contract: Contract) -> str:
    return f"#/paths/{escape(contract.path)}/{contract.method.lower()}"


def _request_shape(contract: Contract) -> Shape:
    where = f"{_operation_location(contract)}/requestBody/content/application~1json/schema"
    return shape_of(contract.document, contract.request_schema, where)


def _response_shape(contract: Contract) -> Shape:
    where = f"{_operation_location(contract)}/responses/200/content/application~1json/schema"
    return shape_of(contract.document, contract.response_schema, where)


def roles(contract: Contract, side: str) -> dict[str, str]:
    """Role name -> body pointer, declared in x-field-roles or inferred from well-known names."""
    found = contract.request_roles if side == "request" else contract.response_roles
    return {name: role.pointer for name, role in found.items()}


@dataclass
class Comparison:
    """Two revisions of the contract, as the rules see them."""

    old: Contract
    new: Contract

    @cached_property
    def request(self) -> Side:
        return request_side(self.old, self.new)

    @cached_property
    def response(self) -> Side:
        return response_side(self.old, self.new)

    def location(self, *parts: str, old: bool = False) -> str:
        """A pointer into the operation of the new revision (or of the old one)."""
        base = _operation_location(self.old if old else self.new)
        return "/".join([base, *(escape(str(p)) for p in parts)])
