"""The callbacks Vipps MobilePay sends after an answer: the second callback after a soft decline, a user's retry."""

from __future__ import annotations

import json
import threading
from typing import Any

from callback_core import fields, followups
from callback_core.followups import Next
from contract_tests.cards import CardTriggers
from contract_tests.cases import Planner, encode
from contract_tests.checks import answer_status
from contract_tests.models import Card, Exchange, Probe, Role

# The answers followed per run, for each flow: this many SOFT_DECLINEs (one second callback each) and this many
# retryable FAILs (one or two retries each), whichever callbacks got them. Enough for a PSP whose declines come
# from its own rules, or at random, to show both flows many times; few enough that a PSP declining everything
# adds at most 75 requests to a run.
FOLLOWED_PER_FLOW = 25


class Flows:
    """Plans follow-ups from answers; the runner sends them next in the same lane as the callback they follow.

    Called from every lane at once: the count of answers followed is shared under a lock.
    """

    def __init__(self, planner: Planner, cards: CardTriggers) -> None:
        self.planner = planner
        self.contract = planner.contract
        self.cards = cards
        self._followed = {Next.SECOND_CALLBACK: 0, Next.RETRY: 0}
        self._lock = threading.Lock()

    def follow_up(self, exchange: Exchange) -> list[Probe]:
        """What the user and Vipps MobilePay do next: the second callback after a SOFT_DECLINE, a retry with the
        same card after a retryable FAIL, and when that retry fails too, one with another card."""
        answer, probe = exchange.answer, exchange.probe
        if answer is None or answer.status != 200:
            return []
        try:
            step = followups.next_step(self.contract, answer.json())
        except ValueError:
            return []
        if probe.role is Role.RETRY and probe.card is Card.SAME and probe.after is not None:
            # Only a user whose retry failed again tries another card; one whose payment went through is done,
            # and a PSP may rightly refuse a further attempt at a payment it has reserved.
            origin = _object(probe.after.probe.body)
            if step is Next.RETRY and origin is not None:
                return [self._retry(probe.after, origin, Card.OTHER)]
            return []
        body = _object(probe.body) if probe.first_attempt else None
        if body is None or step is Next.NOTHING or not self._take(step):
            return []
        if step is Next.SECOND_CALLBACK:
            return [self._second_callback(exchange, body)]
        return [self._retry(exchange, body, Card.SAME)]

    def _take(self, step: Next) -> bool:
        with self._lock:
            if self._followed[step] >= FOLLOWED_PER_FLOW:
                return False
            self._followed[step] += 1
            return True

    def unexpected_cards(self, exchanges: list[Exchange]) -> str | None:
        """The test cards whose callback did not get the status the card set promises, or None: when a flow is
        not exercised, this says whether the file or the PSP is to blame."""
        surprises = []
        for ex in exchanges:
            card = ex.probe.test_card
            if card is None or ex.answer is None:
                continue
            got = answer_status(ex.answer, self.contract) if ex.answer.status == 200 else None
            if got != card.status:
                surprises.append(f"...{card.last4} got {got or ex.answer.status}, not {card.status}")
        if not surprises:
            return None
        return f"test cards answered otherwise than {self.cards.source} says: {'; '.join(surprises)}"

    def _second_callback(self, first: Exchange, body: dict[str, Any]) -> Probe:
        second = followups.second_callback(self.contract, body, cryptogram=self._cryptogram())
        return Probe(f"second callback after SOFT_DECLINE to {first.probe.label}", Role.SECOND_CALLBACK,
                     encode(second), after=first)

    def _retry(self, first: Exchange, body: dict[str, Any], card: Card) -> Probe:
        retry = followups.retry(self.contract, body, attempt_id=self.planner.new_id(), cryptogram=self._cryptogram())
        if card is Card.OTHER:
            # Another card of the same user: last four digits that no test card uses, so the PSP answers its usual way.
            masked = self.contract.request_value(retry, fields.MASKED_CARD_NUMBER)
            last4 = self.cards.plain_card(masked[-4:] if isinstance(masked, str) else "")
            retry = followups.another_card(self.contract, retry, last4=last4, seed=self.planner.new_id())
        return Probe(f"retry after FAIL to {first.probe.label}, with {card}", Role.RETRY, encode(retry), after=first,
                     card=card)

    def _cryptogram(self) -> str:
        return followups.fresh_cryptogram(self.planner.new_id())


def _object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
