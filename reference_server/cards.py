"""The test cards: which behaviour the last four digits of `maskedCardNumber` select."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from callback_core.spec import Contract
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
    """One test card; `last4` is None for the default behaviour of every other card."""

    __test__ = False  # not a pytest test class, despite the name

    last4: str | None
    behaviour: Behaviour
    description: str
    error_code: str | None = None
    error_message: str | None = None
    late_status: str | None = None


@dataclass(frozen=True, slots=True)
class TestCards:
    """The card table plus the FAIL that closes a soft decline not approved."""

    __test__ = False

    cards: tuple[TestCard, ...]
    default: TestCard
    three_ds_failed_code: str
    three_ds_failed_message: str

    def for_masked_number(self, masked_card_number: str) -> TestCard:
        last4 = masked_card_number[-4:]
        return next((card for card in self.cards if card.last4 == last4), self.default)


def load_cards(contract: Contract, path: Path = CARDS_FILE) -> TestCards:
    """Read the card file and check it against the contract's statuses and error-code catalogue."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("cards"), list):
        raise ConfigError(f"{path}: needs a list 'cards'")
    cards = tuple(_card(entry, f"{path}: cards[{i}]") for i, entry in enumerate(raw["cards"]))
    default = _card({**(raw.get("default") or {}), "last4": None}, f"{path}: default")
    failed = raw.get("threeDSecureFailed") or {}
    three_ds = TestCard(None, Behaviour.FAIL, "3-D Secure failed", failed.get("errorCode"), failed.get("errorMessage"))
    seen = [card.last4 for card in cards]
    duplicates = sorted({d for d in seen if d is not None and seen.count(d) > 1})
    if duplicates:
        raise ConfigError(f"{path}: last four digits listed more than once: {', '.join(duplicates)}")
    for card in (*cards, default, three_ds):
        _check_against_contract(card, contract, path)
    return TestCards(cards, default, str(three_ds.error_code), str(three_ds.error_message))


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
    return TestCard(
        last4=last4,
        behaviour=behaviour,
        description=str(entry.get("description", "")),
        error_code=entry.get("errorCode"),
        error_message=entry.get("errorMessage"),
        late_status=entry.get("lateStatus"),
    )


def _check_against_contract(card: TestCard, contract: Contract, path: Path) -> None:
    name = card.last4 or "default"
    needs_code = card.behaviour in (Behaviour.FAIL, Behaviour.SLOW_ISSUER)
    if needs_code:
        if not (card.error_code and card.error_message):
            raise ConfigError(f"{path}: card {name} needs errorCode and errorMessage")
        if contract.error_code(card.error_code) is None:
            raise ConfigError(
                f"{path}: card {name}: errorCode {card.error_code!r} is not in the document's x-error-codes"
            )
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
