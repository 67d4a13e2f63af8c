"""The callbacks a load run sends, built one at a time as users ask, and the follow-ups the PSP's answers call for.

Nothing is built before the clock starts, so a run never runs out of callbacks whatever its rate and length:
each callback is a template (a document example or a Schemathesis draw, checked once) with a fresh attempt id,
payment reference and cryptogram put into its bytes: no parse, no dump, no schema validation.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from callback_core import fields, followups
from callback_core.followups import Next
from callback_core.spec import Contract
from contract_tests.cards import CardTriggers
from contract_tests.cases import Planner, encode
from contract_tests.errors import GenerationError
from contract_tests.generation import generate

# Distinct shapes to start from: Schemathesis's draws plus the document's examples. Enough variety for a PSP's
# branches; every callback sent is still unique (fresh ids and cryptogram on each).
BASE_EXAMPLES = 20
# With --test-cards, one new callback in this many carries a test card (taking turns): enough soft declines
# and declines to load those paths, while most callbacks stay the ordinary payment a PSP mostly sees.
TEST_CARD_SHARE = 5
# Follow-ups waiting to be sent at once; past this, new ones are counted as dropped (memory stays bounded
# whatever the PSP answers).
MAX_WAITING_FOLLOW_UPS = 10_000


class Kind(StrEnum):
    """What a callback is in its payment's flow."""

    FIRST = "callback"
    SECOND_CALLBACK = "second callback after SOFT_DECLINE"
    RETRY_SAME_CARD = "retry after FAIL, same card"
    RETRY_OTHER_CARD = "retry after FAIL, another card"

    @property
    def follow_up(self) -> bool:
        return self is not Kind.FIRST


@dataclass(frozen=True, slots=True)
class Callback:
    """One callback to send: its bytes, its kind, and for a retry whether the code it follows is in the
    catalogue (a refused retry after an unlisted code is only a warning, as in `test`)."""

    body: bytes
    kind: Kind = Kind.FIRST
    code_listed: bool = True


class CallbackSource:
    """Hands out unique valid callbacks forever, follow-ups first once the PSP's answers call for them."""

    def __init__(self, contract: Contract, *, seed: int, cards: CardTriggers | None = None,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self.contract = contract
        generated = generate(contract, seed=seed, max_examples=BASE_EXAMPLES, invalid_examples=0)
        self.planner = Planner(contract, generated, new_id)
        self.cards = cards if cards is not None else CardTriggers((), "no test cards")
        bases = [*self.planner.examples.values(), *(self.planner.clean(body) for body in generated.valid)]
        self.templates = [t for t in (_Template.of(self.planner, body) for body in bases) if t is not None]
        if not self.templates:
            raise GenerationError(f"{contract.source} has no valid request example and Schemathesis generated none "
                                  "that stays valid with a fresh attempt id")
        self.card_templates: list[_Template] = []
        for card in cards.cards if cards is not None else ():
            for template in self.templates:
                with_card = self.planner.with_card(template.body, card.last4)
                made = _Template.of(self.planner, with_card) if with_card is not None else None
                if made is not None:
                    self.card_templates.append(made)
                    break
        self.waiting: deque[Callback] = deque()
        self.dropped = 0
        self._count = 0

    def next(self) -> Callback:
        """A follow-up the PSP's answers called for, else a new callback."""
        if self.waiting:
            return self.waiting.popleft()
        self._count += 1
        if self.card_templates and self._count % TEST_CARD_SHARE == 0:
            template = self.card_templates[(self._count // TEST_CARD_SHARE) % len(self.card_templates)]
        else:
            template = self.templates[self._count % len(self.templates)]
        return Callback(template.fresh_bytes())

    def answered(self, sent: Callback, status: int, answer: Any) -> Kind | None:
        """What Vipps MobilePay and the user do after `sent` got `answer` (the parsed 200 body): queue it and
        say which kind it is, or None. Follow-ups are followed in turn only from a retry with the same card, as
        the suite does: a user whose retry fails again tries another card, and stops there."""
        if status != 200 or not isinstance(answer, dict) or sent.kind in (Kind.SECOND_CALLBACK, Kind.RETRY_OTHER_CARD):
            return None
        step = followups.next_step(self.contract, answer)
        follow: Callback | None = None
        fresh = self.planner.fresh_value
        if step is Next.SECOND_CALLBACK and sent.kind is Kind.FIRST:
            second = followups.second_callback(self.contract, json.loads(sent.body),
                                               cryptogram=fresh(fields.CRYPTOGRAM, None))
            follow = Callback(encode(second), Kind.SECOND_CALLBACK)
        elif step is Next.RETRY:
            rule = followups.error_code_rule(self.contract, self.contract.response_value(answer, fields.ERROR_CODE))
            retry = followups.retry(self.contract, json.loads(sent.body), attempt_id=fresh(fields.ATTEMPT_ID, None),
                                    cryptogram=fresh(fields.CRYPTOGRAM, None))
            kind = Kind.RETRY_SAME_CARD
            if sent.kind is Kind.RETRY_SAME_CARD:
                masked = self.contract.request_value(retry, fields.MASKED_CARD_NUMBER)
                last4 = self.cards.plain_card(masked[-4:] if isinstance(masked, str) else "")
                retry = followups.another_card(self.contract, retry, last4=last4, seed=self.planner.new_id())
                kind = Kind.RETRY_OTHER_CARD
            follow = Callback(encode(retry), kind, code_listed=rule.listed)
        if follow is None:
            return None
        if len(self.waiting) >= MAX_WAITING_FOLLOW_UPS:
            self.dropped += 1
            return None
        self.waiting.append(follow)
        return follow.kind


# What stands in a template for a value made fresh on every copy (found in the encoded bytes, then cut out).
_SLOT = "card-callback-fresh-value-{}"


@dataclass(frozen=True, slots=True)
class _Template:
    """A valid callback cut where its fresh values go: its bytes between them, and which value each slot takes
    (checked once, here, with real fresh values, so each copy is valid without a schema check)."""

    body: dict[str, Any]
    pieces: tuple[bytes, ...]
    slots: tuple[tuple[str, Any], ...]  # (role, the template's own value), one per gap between pieces
    planner: Planner

    @classmethod
    def of(cls, planner: Planner, body: dict[str, Any]) -> _Template | None:
        contract = planner.contract
        if not contract.is_valid_request(body):
            return None
        slots: list[tuple[str, Any]] = []
        marked = copy.deepcopy(body)
        for role in (fields.ATTEMPT_ID, fields.PSP_REFERENCE, fields.CRYPTOGRAM):
            found = contract.request_role(role)
            old = contract.request_value(body, role)
            if found is None or not isinstance(old, str):
                continue
            trial = copy.deepcopy(body)
            fields.set_at(trial, found.pointer, planner.fresh_value(role, old))
            # A document that constrains a field more tightly keeps the template's value for it.
            if contract.is_valid_request(trial):
                fields.set_at(marked, found.pointer, _SLOT.format(len(slots)))
                slots.append((role, old))
        if not any(role in (fields.ATTEMPT_ID, fields.PSP_REFERENCE) for role, _ in slots):
            return None  # every copy would be the same payment attempt: not a unique callback
        raw = encode(marked)
        marks = [json.dumps(_SLOT.format(index)).encode() for index in range(len(slots))]
        order = sorted(range(len(slots)), key=lambda index: raw.index(marks[index]))  # as they come in the bytes
        pieces: list[bytes] = []
        for index in order:
            before, _, raw = raw.partition(marks[index])
            pieces.append(before)
        return cls(body, (*pieces, raw), tuple(slots[index] for index in order), planner)

    def fresh_bytes(self) -> bytes:
        """A copy with fresh values: the pieces joined around them (no parse, no dump, no schema check)."""
        out = [self.pieces[0]]
        for (role, old), piece in zip(self.slots, self.pieces[1:], strict=True):
            out.append(json.dumps(self.planner.fresh_value(role, old)).encode())
            out.append(piece)
        return b"".join(out)
