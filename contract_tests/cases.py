"""Plan every request of a run: valid, invalid, extended, repeated and tampered callbacks."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from callback_core import fields, followups
from callback_core.schema_model import child
from callback_core.spec import Contract
from contract_tests import variations
from contract_tests.cards import DEFAULT_CARDS, CardTrigger, CardTriggers
from contract_tests.errors import GenerationError
from contract_tests.generation import Generated
from contract_tests.models import Group, GroupKind, Probe, Role, Source, Tamper
from contract_tests.mutations import Leniency, invalid_without_formats, known_properties, mutations, refused

# Unknown fields a PSP must ignore: FUTURE_FIELDS at the top level, FUTURE_NESTED inside every object the
# document defines (nested and discriminated ones too). Vendor-prefixed, so that no revision defines them.
FUTURE_FIELDS: dict[str, Any] = {
    "x-card-callback-unknown": {"nested": [1, {"deep": True}], "note": "ignore me"},
    "x-card-callback-count": 49900,
}
FUTURE_NESTED: dict[str, Any] = {"x-card-callback-unknown": True, "x-card-callback-id": "40010030273"}
# A revision that moves fields sends them in both places during its transition: the values of these roles,
# copied into an unknown object, stand for the new place.
FUTURE_COPY = "x-card-callback-card"
FUTURE_COPIED_ROLES = (fields.MASKED_CARD_NUMBER, fields.CARD_TYPE, fields.CARD_COUNTRY, fields.CARD_DATA_TYPE)
EXTENDED_GENERATED = 3  # generated callbacks that also get a forward-compatibility comparison
REPEATS = 2  # callbacks sent twice, identically
# Callbacks sent several times at the same moment: Vipps MobilePay's own retry of a callback whose connection
# broke can overlap the first try, and a PSP that checks "seen before?" and stores later authorizes twice.
AT_ONCE_GROUPS = 2
AT_ONCE_COPIES = 4

TAMPERS = (
    Tamper.UNSIGNED,
    Tamper.NO_AUTHORIZATION,
    Tamper.NO_DATE,
    Tamper.NO_CONTENT_SHA256,
    Tamper.BAD_SIGNATURE,
    Tamper.BODY_CHANGED,
    Tamper.BODY_CHANGED_REHASHED,
    Tamper.WRONG_SECRET,
    Tamper.WRONG_PATH,
    Tamper.WRONG_HOST,
)


def encode(data: Any) -> bytes:
    """Compact UTF-8 JSON, as a sender would put it on the wire."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Planner:
    """Builds the probes of one run; `new_id` makes the fresh identifiers every callback carries."""

    def __init__(
        self, contract: Contract, generated: Generated, new_id: Callable[[], str], cards: CardTriggers = DEFAULT_CARDS
    ) -> None:
        self.cards = cards
        self.contract = contract
        self.generated = generated
        self.new_id = new_id
        self.examples = {name: dict(body) for name, body in contract.request_examples().items()
                         if isinstance(body, dict) and contract.is_valid_request(body)}
        self.leniency = Leniency(contract)

    def plan(self, *, signed: bool, authenticated: bool = False) -> list[Probe]:
        """Every probe; signature tamperings when `signed`, auth header spoilings when `authenticated` (the run
        has the cardCallbackAuthHeader value)."""
        probes = [*self.valid(), *self.invalid(), *self.extended(), *self.repeated(), *self.at_once(),
                  *variations.varied(self)]
        if signed:
            probes += [*self.tampered(), *self.stale()]
        if authenticated:
            probes += self.unauthenticated()
        return probes

    def fresh(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """`body` as a new attempt: a fresh attempt id, payment reference and cryptogram (no PSP may refuse it
        as a replay, whatever it keys payments on)."""
        out = copy.deepcopy(dict(body))
        was_valid = self.contract.is_valid_request(out)
        for change in (self.new_attempt, self.new_reference, self.new_cryptogram):
            trial = copy.deepcopy(out)
            # A document that constrains these fields more tightly keeps the original value instead.
            if change(trial) and (not was_valid or self.contract.is_valid_request(trial)):
                out = trial
        return out

    def _refreshed(self, mutated: dict[str, Any], original: Mapping[str, Any]) -> dict[str, Any]:
        """A broken callback as its own attempt: every identifier the break left alone is made fresh, so a
        PSP that wrongly accepts one broken callback does not turn the next ones away as replays."""
        out = copy.deepcopy(mutated)
        for role, change in ((fields.ATTEMPT_ID, self.new_attempt), (fields.PSP_REFERENCE, self.new_reference),
                             (fields.CRYPTOGRAM, self.new_cryptogram)):
            if self._same_str(out, original, role):
                change(out)
        # Only if it stays broken the same way (a break that only a format sees, such as above int64, too).
        lenient_valid = not invalid_without_formats(self.contract, mutated)
        still = refused(self.contract, out) if lenient_valid else invalid_without_formats(self.contract, out)
        return out if still else mutated

    def _same_str(self, a: Any, b: Any, role: str) -> bool:
        value = self.contract.request_value(a, role)
        return isinstance(value, str) and value == self.contract.request_value(b, role)

    def _refreshed_raw(self, raw: bytes) -> bytes:
        """A generated invalid body with fresh identifiers where it has them as strings (see _refreshed)."""
        try:
            data = json.loads(raw)
        except ValueError:
            return raw
        if not isinstance(data, dict):
            return raw
        refreshed = self._refreshed(data, data)
        return encode(refreshed) if refreshed is not data else raw

    def _set(self, body: dict[str, Any], role: str, value: Any) -> bool:
        found = self.contract.request_role(role)
        return found is not None and fields.set_at(body, found.pointer, value)

    def new_attempt(self, body: dict[str, Any]) -> bool:
        """Give `body` a new attempt id; False when the document or the body has none."""
        return self._set(body, fields.ATTEMPT_ID, self.fresh_value(fields.ATTEMPT_ID, None))

    def new_reference(self, body: dict[str, Any]) -> bool:
        """Give `body` a new payment reference (a new payment); False when it has none."""
        reference = self.contract.request_value(body, fields.PSP_REFERENCE)
        return self._set(body, fields.PSP_REFERENCE, self.fresh_value(fields.PSP_REFERENCE, reference))

    def new_cryptogram(self, body: dict[str, Any]) -> bool:
        """Give `body` a fresh cryptogram; False when it carries none (a PAN callback)."""
        if not isinstance(self.contract.request_value(body, fields.CRYPTOGRAM), str):
            return False
        return self._set(body, fields.CRYPTOGRAM, self.fresh_value(fields.CRYPTOGRAM, None))

    def fresh_value(self, role: str, old: Any) -> str:
        """A fresh value for the attempt id, the payment reference (`old`: the one it replaces) or the cryptogram."""
        if role == fields.PSP_REFERENCE:
            suffix = self.new_id().replace("-", "")[:12]
            # Keeps some of the generated value and stays short (a PSP may store references in a narrow column).
            return f"{old[:20]}-{suffix}" if isinstance(old, str) and old else suffix
        if role == fields.CRYPTOGRAM:
            # A cryptogram is single-use; a careful PSP may refuse one it has seen.
            return followups.fresh_cryptogram(self.new_id())
        return self.new_id()

    def with_card(self, body: Mapping[str, Any], last4: str) -> dict[str, Any] | None:
        """`body` for the test card ending in `last4` (its masked card number changed), or None without one."""
        masked = self.contract.request_value(body, fields.MASKED_CARD_NUMBER)
        if not (isinstance(masked, str) and len(masked) > 4):
            return None
        out = copy.deepcopy(dict(body))
        self._set(out, fields.MASKED_CARD_NUMBER, masked[:-4] + last4)
        return out

    def _base(self) -> dict[str, Any]:
        """A realistic callback for the checks that need one: the first example, or a generated one."""
        if self.examples:
            return next(iter(self.examples.values()))
        if self.generated.valid:
            return self.clean(self.generated.valid[0])
        raise GenerationError(f"{self.contract.source} has no valid request example and Schemathesis generated none")

    def clean(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """`body` without the properties the document does not define (generation adds some)."""
        known = known_properties(self.contract, body)
        return _only_known(body, known, "")

    def valid(self) -> Iterator[Probe]:
        for name, body in self.examples.items():
            yield from self._valid(f"document example {name}", body, Source.EXAMPLE)
        base = self._base()
        for test_card in self.cards.cards:
            card = self.with_card(base, test_card.last4)
            if card is not None:
                yield from self._valid(f"test card ...{test_card.last4} ({test_card.status} expected)", card,
                                       Source.TEST_CARD, test_card)
        for index, body in enumerate(self.generated.valid, 1):
            yield from self._valid(f"generated callback #{index}", self.clean(body), Source.GENERATED)

    def _valid(self, label: str, body: Mapping[str, Any], source: Source,
               test_card: CardTrigger | None = None) -> Iterator[Probe]:
        fresh = self.fresh(body)
        if self.contract.is_valid_request(fresh):  # e.g. a test card the document's pattern does not admit
            yield Probe(label=label, role=Role.VALID, body=encode(fresh), source=source, test_card=test_card)

    def invalid(self) -> Iterator[Probe]:
        for name, body in self.examples.items():
            for mutation in mutations(self.contract, body):
                yield Probe(label=f"{name} with {mutation.label}", role=self._invalid_role(mutation.body),
                            body=encode(self._refreshed(mutation.body, body)))
        base = encode(self.fresh(self._base()))
        yield Probe("malformed JSON (cut short)", Role.INVALID, base[: len(base) // 2])
        yield Probe("malformed JSON (trailing comma)", Role.INVALID, base[:-1] + b",}")
        yield Probe("empty body", Role.INVALID, b"")
        yield Probe("a JSON array", Role.INVALID, b"[]")
        yield Probe("JSON null", Role.INVALID, b"null")
        yield Probe("a JSON string", Role.INVALID, b'"RESERVE"')
        # The document only defines application/json; accepting other types harms nobody, so only a SHOULD.
        yield Probe("a valid callback sent as text/plain", Role.INVALID_SHOULD, encode(self.fresh(self._base())),
                    content_type="text/plain")
        yield Probe("a valid callback without Content-Type", Role.INVALID_SHOULD, encode(self.fresh(self._base())),
                    content_type=None)
        for index, raw in enumerate(self.generated.invalid, 1):
            refreshed = self._refreshed_raw(raw)
            try:
                role = self._invalid_role(json.loads(refreshed))
            except ValueError:
                role = Role.INVALID
            yield Probe(f"generated invalid body #{index}", role, refreshed)

    def _invalid_role(self, body: Any) -> Role:
        return Role.INVALID_SHOULD if self.leniency.only_lenient_breaks(body) else Role.INVALID

    def extended(self) -> Iterator[Probe]:
        """Baseline, the same callback with unknown fields, baseline again (each a fresh attempt)."""
        sources: list[tuple[str, Mapping[str, Any], Mapping[str, Any], Source]] = [
            (f"document example {name}", body, {}, Source.EXAMPLE) for name, body in self.examples.items()
        ]
        with_extras = [b for b in self.generated.valid if self.clean(b) != b][:EXTENDED_GENERATED]
        sources += [(f"generated callback #{i}", self.clean(b), b, Source.GENERATED)
                    for i, b in enumerate(with_extras, 1)]
        for index, (label, body, generated, source) in enumerate(sources, 1):
            group = Group(GroupKind.EXTENDED, index)
            extended = self._extend(body, generated)
            if extended is None:
                continue
            # Alternated and twice each, so that a PSP whose outcome varies by itself is not blamed.
            yield Probe(f"{label} (before)", Role.BASELINE, encode(self.fresh(body)), group=group, source=source)
            yield Probe(f"{label} with unknown fields", Role.EXTENDED, encode(self.fresh(extended)), group=group,
                        source=source)
            yield Probe(f"{label} (after)", Role.BASELINE, encode(self.fresh(body)), group=group, source=source)
            yield Probe(f"{label} with unknown fields, again", Role.EXTENDED, encode(self.fresh(extended)),
                        group=group, source=source)

    def _extend(self, body: Mapping[str, Any], generated: Mapping[str, Any]) -> dict[str, Any] | None:
        """`generated` (or `body`) with unknown fields in every object whose schema admits them; None if none does."""
        known = known_properties(self.contract, body)
        start = copy.deepcopy(dict(generated or body))
        copied = {role: value for role in FUTURE_COPIED_ROLES
                  if (value := self.contract.request_value(body, role)) is not fields.MISSING}
        additions = [("", {**FUTURE_FIELDS, **({FUTURE_COPY: copied} if copied else {})})]
        additions += [(path, FUTURE_NESTED) for path in known if path]
        out = start
        for path, extra in additions:
            trial = copy.deepcopy(out)
            node = fields.get_at(trial, path)
            if not isinstance(node, dict):
                continue
            for key, value in extra.items():
                if key not in known.get(path, frozenset()):
                    node.setdefault(key, copy.deepcopy(value))
            # An object that refuses unknown properties keeps none; the others still get theirs.
            if self.contract.is_valid_request(trial):
                out = trial
        return out if out != start else None

    def repeated(self) -> Iterator[Probe]:
        bodies = list(self.examples.values()) or [self._base()]
        for index in range(REPEATS):
            body = encode(self.fresh(bodies[index % len(bodies)]))
            group = Group(GroupKind.REPEAT, index + 1)
            yield Probe(f"callback #{index + 1} sent once", Role.VALID, body, group=group)
            yield Probe(f"callback #{index + 1} sent again, identical", Role.REPEAT, body, group=group)

    def at_once(self) -> Iterator[Probe]:
        """The identical callback AT_ONCE_COPIES times at the same moment, then once more when all are answered."""
        bodies = list(self.examples.values()) or [self._base()]
        for index in range(AT_ONCE_GROUPS):
            body = encode(self.fresh(bodies[index % len(bodies)]))
            group = Group(GroupKind.AT_ONCE, index + 1)
            for copy_number in range(1, AT_ONCE_COPIES + 1):
                yield Probe(f"callback #{index + 1} sent {AT_ONCE_COPIES} times at once (copy {copy_number})",
                            Role.AT_ONCE, body, group=group, at_once=True)
            yield Probe(f"callback #{index + 1} sent again after those", Role.AT_ONCE, body, group=group)

    def tampered(self) -> Iterator[Probe]:
        base = self._base()
        for tamper in TAMPERS:
            body = self.fresh(base)
            if tamper in (Tamper.BODY_CHANGED, Tamper.BODY_CHANGED_REHASHED):
                # The attacker's edit: the same attempt, now for the card that captures at once.
                masked = str(self.contract.request_value(body, fields.MASKED_CARD_NUMBER) or "")
                first = self.cards.cards[0].last4
                changed = self.with_card(body, first if not masked.endswith(first) else self.cards.plain_card())
                if changed is None:  # no card number to change: change the payment reference instead
                    changed = copy.deepcopy(body)
                    self.new_reference(changed)
                yield Probe(f"signed callback, {tamper}", Role.TAMPERED, encode(changed), tamper=tamper,
                            signed_body=encode(body))
            else:
                yield Probe(f"signed callback, {tamper}", Role.TAMPERED, encode(body), tamper=tamper)

    def unauthenticated(self) -> Iterator[Probe]:
        """Valid callbacks without the cardCallbackAuthHeader value, or with a wrong one (given values only)."""
        for tamper in (Tamper.NO_AUTH_HEADER, Tamper.WRONG_AUTH_HEADER):
            yield Probe(f"callback with {tamper}", Role.UNAUTHENTICATED, encode(self.fresh(self._base())),
                        tamper=tamper)

    def stale(self) -> Iterator[Probe]:
        # Both sides of the window: a verifier that only rejects old dates accepts a signature made for later use.
        for tamper in (Tamper.STALE_DATE, Tamper.FUTURE_DATE):
            yield Probe(f"signed callback, {tamper}", Role.STALE, encode(self.fresh(self._base())), tamper=tamper)


def _only_known(body: Mapping[str, Any], known: Mapping[str, frozenset[str]], path: str) -> dict[str, Any]:
    names = known.get(path)
    out: dict[str, Any] = {}
    for key, value in body.items():
        if names is not None and key not in names:
            continue
        at = child(path, key)
        out[key] = _only_known(value, known, at) if isinstance(value, Mapping) and at in known else value
    return copy.deepcopy(out)
