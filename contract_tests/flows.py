"""The callbacks Vipps MobilePay sends after an answer: the second callback after a soft decline, a user's retry."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

from callback_core import fields
from contract_tests.cards import CardTriggers
from contract_tests.cases import Planner, encode
from contract_tests.checks import answer_value
from contract_tests.flow_checks import OTHER_CARD, SAME_CARD
from contract_tests.models import Exchange, Probe, Role


class Flows:
    """Plans follow-ups from answers; the runner sends them next in the same lane as the callback they follow."""

    def __init__(self, planner: Planner, cards: CardTriggers) -> None:
        self.planner = planner
        self.contract = planner.contract
        self.cards = cards

    def follow_up(self, exchange: Exchange) -> list[Probe]:
        """What the user and Vipps MobilePay do next: the second callback after a SOFT_DECLINE, a retry with the
        same card after a retryable FAIL, and when that retry fails too, one with another card."""
        answer, probe = exchange.answer, exchange.probe
        if answer is None or answer.status != 200:
            return []
        status = answer_value(answer, self.contract, fields.STATUS)
        failed = status == "FAIL" and self._retryable(answer_value(answer, self.contract, fields.ERROR_CODE))
        if probe.role is Role.RETRY and probe.after is not None and SAME_CARD in probe.label:
            # Only a user whose retry failed again tries another card; one whose payment went through is done,
            # and a PSP may rightly refuse a further attempt at a payment it has reserved.
            origin = _object(probe.after.probe.body)
            return [self._retry(probe.after, origin, other_card=True)] if failed and origin is not None else []
        body = _object(probe.body) if probe.follow else None
        if body is None:
            return []
        if status == "SOFT_DECLINE":
            return [self._second_callback(exchange, body)]
        if failed:
            return [self._retry(exchange, body, other_card=False)]
        return []

    def unexpected_cards(self, exchanges: list[Exchange]) -> str | None:
        """The test cards whose callback did not get the status the card set promises, or None: when a flow is
        not exercised, this says whether the file or the PSP is to blame."""
        surprises = []
        for ex in exchanges:
            if not (ex.probe.follow and ex.probe.label.startswith("test card") and ex.answer is not None):
                continue
            masked = self.contract.request_value(json.loads(ex.probe.body), fields.MASKED_CARD_NUMBER)
            expected = self.cards.expected(masked[-4:]) if isinstance(masked, str) else None
            got = answer_value(ex.answer, self.contract, fields.STATUS) if ex.answer.status == 200 else None
            if expected is not None and got != expected:
                surprises.append(f"...{masked[-4:]} got {got or ex.answer.status}, not {expected}")
        if not surprises:
            return None
        return f"test cards answered otherwise than {self.cards.source} says: {'; '.join(surprises)}"

    def _retryable(self, code: Any) -> bool:
        # The app offers a retry unless the catalogue calls the code non-retryable; a code it does not list
        # is retried too (docs/report-format.md: a refusal then only warns unless --strict).
        entry = self.contract.error_code(code) if isinstance(code, str | int) else None
        return entry is None or entry.retryable

    def _second_callback(self, first: Exchange, body: dict[str, Any]) -> Probe:
        second = self._valid_change(body, self.planner.new_cryptogram)
        return Probe(f"second callback after SOFT_DECLINE to {first.probe.label}", Role.SECOND_CALLBACK,
                     encode(second), after=first)

    def _retry(self, first: Exchange, body: dict[str, Any], *, other_card: bool) -> Probe:
        retry = self._valid_change(body, self.planner.new_attempt)
        retry = self._valid_change(retry, self.planner.new_cryptogram)
        if other_card:
            retry = self._valid_change(retry, self._other_card)
        card = OTHER_CARD if other_card else SAME_CARD
        return Probe(f"retry after FAIL to {first.probe.label}, with {card}", Role.RETRY, encode(retry), after=first)

    def _valid_change(self, body: dict[str, Any], change: Any) -> dict[str, Any]:
        """`body` changed by `change` (a planner step that edits a body in place), unless that breaks it."""
        trial = copy.deepcopy(body)
        if change(trial) and self.contract.is_valid_request(trial):
            return trial
        return body

    def _other_card(self, body: dict[str, Any]) -> bool:
        """Another card of the same user: new last four digits (no test card's), token number and encrypted PAN."""
        changed = False
        masked = self.contract.request_role(fields.MASKED_CARD_NUMBER)
        value = fields.get_at(body, masked.pointer) if masked is not None else fields.MISSING
        last4 = self.cards.plain_card(value[-4:] if isinstance(value, str) else "")
        if masked is not None and isinstance(value, str) and len(value) > 4:
            changed |= fields.set_at(body, masked.pointer, value[:-4] + last4)
        token = self.contract.request_role(fields.TOKEN_NUMBER)
        number = fields.get_at(body, token.pointer) if token is not None else fields.MISSING
        if token is not None and isinstance(number, str) and len(number) > 4 and number.isdigit():
            changed |= fields.set_at(body, token.pointer, number[:-4] + last4)
        pan = self.contract.request_role(fields.ENCRYPTED_PAN)
        if pan is not None and isinstance(fields.get_at(body, pan.pointer), str):
            digest = hashlib.sha256(self.planner.new_id().encode()).digest()
            changed |= fields.set_at(body, pan.pointer, base64.urlsafe_b64encode(digest).decode().rstrip("="))
        return changed


def _object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
