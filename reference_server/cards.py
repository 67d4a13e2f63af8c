"""The test cards: which behaviour the last four digits of `maskedCardNumber` select, and each FAIL's code."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from callback_core.spec import OUTCOME_EXTENSION, OUTCOMES, Contract, ErrorCode, format_code
from reference_server.errors import ConfigError

CARDS_FILE = Path(__file__).resolve().parent / "test_cards.yaml"


class Behaviour(enum.Enum):
    RESERVE = "reserve"
    CAPTURE = "capture"
    FAIL = "fail"
    SOFT_DECLINE = "soft_decline"
    SLOW_ISSUER = "slow_issuer"


@dataclass(frozen=True, slots=True)
class TestCard:
    """One test card; `last4` is None for the default behaviour of every other card.

    A FAIL names its meaning (`outcome`, an `x-outcome` value) and whether it should be `retryable`; the code it
    answers with is picked from the served document's catalogue (`pick_code`), never written in the card file.
    """

    __test__ = False  # not a pytest test class, despite the name

    last4: str | None
    behaviour: Behaviour
    description: str
    outcome: str | None = None
    retryable: bool | None = None
    error_code: str | int | None = None
    error_message: str | None = None
    late_status: str | None = None
    code_reason: str = ""  # how `error_code` was picked, for the start-up lines


@dataclass(frozen=True, slots=True)
class TestCards:
    """The card table plus the FAIL that closes a soft decline not approved."""

    __test__ = False

    cards: tuple[TestCard, ...]
    default: TestCard
    three_ds_failed: TestCard

    @property
    def three_ds_failed_code(self) -> str | int | None:
        return self.three_ds_failed.error_code

    @property
    def three_ds_failed_message(self) -> str:
        return str(self.three_ds_failed.error_message)

    def for_masked_number(self, masked_card_number: str) -> TestCard:
        last4 = masked_card_number[-4:]
        return next((card for card in self.cards if card.last4 == last4), self.default)


def load_cards(contract: Contract, path: Path = CARDS_FILE) -> TestCards:
    """Read the card file, check it against the contract's statuses, and pick each FAIL's code from its catalogue."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("cards"), list):
        raise ConfigError(f"{path}: needs a list 'cards'")
    cards = tuple(_card(entry, f"{path}: cards[{i}]") for i, entry in enumerate(raw["cards"]))
    default = _card({**(raw.get("default") or {}), "last4": None}, f"{path}: default")
    failed = {"description": "3-D Secure failed", **(raw.get("threeDSecureFailed") or {}), "behaviour": "fail",
              "last4": None}
    three_ds = _card(failed, f"{path}: threeDSecureFailed")
    seen = [card.last4 for card in cards]
    duplicates = sorted({d for d in seen if d is not None and seen.count(d) > 1})
    if duplicates:
        raise ConfigError(f"{path}: last four digits listed more than once: {', '.join(duplicates)}")
    for card in (*cards, default, three_ds):
        _check_against_contract(card, contract, path)
    picked = pick_codes((*cards, default, three_ds), contract)
    return TestCards(picked[:-2], picked[-2], picked[-1])


def pick_codes(cards: Sequence[TestCard], contract: Contract) -> tuple[TestCard, ...]:
    """Each FAIL card with the code of the catalogue entry declaring its outcome (`x-outcome`), else one with
    its retryability, preferring an entry no other card answers with (so that cards stay told apart), else any
    entry. A valid catalogue always yields a code: only an empty one cannot."""
    failing = [card for card in cards if card.outcome is not None]
    if failing and not contract.error_codes:
        raise ConfigError(f"{contract.source}: x-error-codes lists no code; the reference server has none to "
                          "answer FAIL with")
    declared = {entry.outcome for entry in contract.error_codes if entry.outcome is not None}
    used: list[ErrorCode] = []
    out: list[TestCard] = []
    for card in cards:
        if card.outcome is None:
            out.append(card)
            continue
        entry = contract.error_code_for(card.outcome)
        reason = f"{OUTCOME_EXTENSION}: {card.outcome}"
        if entry is None:
            entry, reason = _by_retryability(card, contract.error_codes, declared, used)
        used.append(entry)
        retry = "retryable" if entry.retryable else "final"
        out.append(replace(card, error_code=entry.code, code_reason=f"{retry}; {reason}"))
    return tuple(out)


def _by_retryability(
    card: TestCard, catalogue: Sequence[ErrorCode], declared: set[str], used: Sequence[ErrorCode]
) -> tuple[ErrorCode, str]:
    wanted = "retryable" if card.retryable else "final"
    # An entry declaring another meaning is that meaning's; one another card already answers with is shared.
    free = [e for e in catalogue if e.outcome is None or e.outcome not in declared]
    none = f"no entry declares {card.outcome}"
    for candidates, reason in (
        ([e for e in free if e.retryable is card.retryable and e not in used], f"{none}; a {wanted} code"),
        ([e for e in free if e.retryable is card.retryable], f"{none}; a {wanted} code shared with another card"),
        ([e for e in catalogue if e.retryable is card.retryable], f"{none}; a {wanted} code declared for another "
         "meaning"),
        (list(catalogue), f"{none}, and no code is {wanted}: the catalogue's first code"),
    ):
        if candidates:
            return candidates[0], reason
    raise ConfigError("the catalogue is empty")  # pick_codes refuses an empty catalogue first


def format_card_codes(cards: TestCards) -> list[str]:
    """One line per FAIL test card: the code it answers with and why (ids and codes only, no card data)."""
    soft = next((card.last4 for card in cards.cards if card.behaviour is Behaviour.SOFT_DECLINE), None)
    lines = []
    for card in (*cards.cards, cards.three_ds_failed):
        if card.error_code is None:
            continue
        if card.last4 is not None:
            name = f"...{card.last4} {(card.outcome or '').replace('-', ' ')}"
        else:
            name = "3-D Secure failed" + (f" (...{soft}, second callback)" if soft else "")
        lines.append(f"{name}: FAIL {format_code(card.error_code)} ({card.code_reason})")
    return lines


def _card(entry: Any, where: str) -> TestCard:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: must be a mapping")
    last4 = entry.get("last4")
    if last4 is not None and not (isinstance(last4, str) and len(last4) == 4 and last4.isdigit()):
        raise ConfigError(f"{where}: last4 must be four digits as a string")
    try:
        behaviour = Behaviour(entry.get("behaviour"))
    except ValueError:
        choices = ", ".join(b.value for b in Behaviour)
        raise ConfigError(f"{where}: behaviour must be one of {choices}") from None
    if "errorCode" in entry:
        raise ConfigError(f"{where}: name the outcome (outcome: one of {', '.join(OUTCOMES)}), not an errorCode: "
                          "the code is picked from the served document's x-error-codes")
    outcome, retryable = entry.get("outcome"), entry.get("retryable")
    if behaviour in (Behaviour.FAIL, Behaviour.SLOW_ISSUER):
        if outcome not in OUTCOMES:
            raise ConfigError(f"{where}: outcome must be one of {', '.join(OUTCOMES)}")
        if not isinstance(retryable, bool):
            raise ConfigError(f"{where}: retryable must be true or false (used when no catalogue entry declares "
                              f"{outcome})")
        if not entry.get("errorMessage"):
            raise ConfigError(f"{where}: needs an errorMessage")
    return TestCard(
        last4=last4,
        behaviour=behaviour,
        description=str(entry.get("description", "")),
        outcome=outcome if behaviour in (Behaviour.FAIL, Behaviour.SLOW_ISSUER) else None,
        retryable=retryable if isinstance(retryable, bool) else None,
        error_message=entry.get("errorMessage"),
        late_status=entry.get("lateStatus"),
    )


def _check_against_contract(card: TestCard, contract: Contract, path: Path) -> None:
    name = card.last4 or "default"
    if card.behaviour is Behaviour.SLOW_ISSUER and card.late_status not in contract.statuses:
        raise ConfigError(f"{path}: card {name}: lateStatus must be one of {', '.join(contract.statuses)}")
    wanted = {
        Behaviour.RESERVE: "RESERVE",
        Behaviour.CAPTURE: "CAPTURE",
        Behaviour.FAIL: "FAIL",
        Behaviour.SOFT_DECLINE: "SOFT_DECLINE",
        Behaviour.SLOW_ISSUER: "FAIL",
    }[card.behaviour]
    if wanted not in contract.statuses:
        raise ConfigError(f"{path}: card {name} answers {wanted}, which the document's response schema lacks")
