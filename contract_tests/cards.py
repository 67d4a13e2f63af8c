"""A PSP's test cards (`--test-cards FILE`): which masked card number's last four digits give which status."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contract_tests.errors import OptionError

OPTION = "--test-cards"
# Last four digits tried, in order, for "another card" in a retry: the first that no card of the set uses.
_OTHER_CARDS = ("4242", "1234", "5678", "9876", "1111")


@dataclass(frozen=True, slots=True)
class CardTrigger:
    """A card the PSP answers in a known way: `status` when the masked card number ends in `last4`."""

    last4: str
    status: str


@dataclass(frozen=True, slots=True)
class CardTriggers:
    """The test cards of one run, and where they came from (a file, or the built-in set)."""

    cards: tuple[CardTrigger, ...]
    source: str

    def with_status(self, status: str) -> tuple[CardTrigger, ...]:
        return tuple(card for card in self.cards if card.status == status)

    def expected(self, last4: str) -> str | None:
        return next((card.status for card in self.cards if card.last4 == last4), None)

    def plain_card(self, *avoid: str) -> str:
        """Last four digits no test card uses (and not in `avoid`): a card this PSP answers its usual way."""
        used = {card.last4 for card in self.cards} | set(avoid)
        return next(last4 for last4 in (*_OTHER_CARDS, *(f"{n:04d}" for n in range(10000))) if last4 not in used)

    @classmethod
    def from_file(cls, path: Path, statuses: Iterable[str]) -> CardTriggers:
        """Read and check a test-card file (YAML or JSON); one OptionError line says what is wrong."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OptionError(f"{OPTION} {path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise OptionError(f"{OPTION} {path}: cannot be read: {exc}") from None
        except yaml.YAMLError as exc:
            raise OptionError(f"{OPTION} {path}: is neither YAML nor JSON: {_one_line(exc)}") from None
        return cls(_cards(data, tuple(statuses), f"{OPTION} {path}"), str(path))


# The default is what the suite always sent: the test cards of the reference server (and of the shared
# examples). A PSP that does not know them answers its usual way; the callbacks are valid either way. The
# slow-issuer card (0091) is left out: a PSP that simulates it answers just before the deadline by design,
# which would add ~15 s to every run and judge nothing the deadline check does not already judge.
DEFAULT_CARDS = CardTriggers(
    (CardTrigger("0002", "CAPTURE"), CardTrigger("0051", "FAIL"), CardTrigger("0043", "FAIL"),
     CardTrigger("3000", "SOFT_DECLINE")),
    "the built-in test cards (the reference server's)",
)


def _cards(data: Any, statuses: tuple[str, ...], where: str) -> tuple[CardTrigger, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("cards"), list) or not data["cards"]:
        raise OptionError(f"{where}: needs a non-empty list `cards`, each with last4 and status "
                          "(see examples/test-cards.yaml)")
    cards: list[CardTrigger] = []
    for index, entry in enumerate(data["cards"]):
        at = f"{where}: cards[{index}]"
        if not isinstance(entry, dict):
            raise OptionError(f"{at} must be a mapping with last4 and status")
        last4, status = entry.get("last4"), entry.get("status")
        if isinstance(last4, int) and not isinstance(last4, bool):
            raise OptionError(f"{at}.last4 must be four digits in quotes; unquoted, YAML reads {last4!r} as a number")
        if not (isinstance(last4, str) and len(last4) == 4 and last4.isascii() and last4.isdigit()):
            raise OptionError(f"{at}.last4 must be four digits, not {json.dumps(last4)}")
        if status not in statuses:
            raise OptionError(f"{at}.status must be one of {', '.join(statuses)}, not {json.dumps(status)}")
        if any(card.last4 == last4 for card in cards):
            raise OptionError(f"{at}.last4 {last4} is listed twice")
        cards.append(CardTrigger(last4, status))
    return tuple(cards)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
