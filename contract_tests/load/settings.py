"""The options of one load run, validated once."""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx

from callback_core.auth_header import AuthHeader
from callback_core.spec import Contract
from contract_tests.cards import CardTriggers
from contract_tests.errors import OptionError

# The rate a run asks for unless --rate says otherwise. Vipps MobilePay publishes no callback volume, so the
# figure comes from the generator: one load process signs, sends and judges about 5,000 callbacks per
# core-second (`make bench`), and 200/s keeps it under a tenth of a core, so a default run judges the PSP,
# never the generator, even with the PSP on the same two cores. 200/s is 720,000 callbacks an hour: set your
# own peak with --rate N, or --rate max to send as fast as answers come.
DEFAULT_RATE = 200.0
RATE_MAX = "max"
SATURATION = 0.9  # the run produced the load when it measured at least this share of the requested rate


@dataclass(frozen=True, slots=True)
class LoadSettings:
    """One load run's options (`rate` None: --rate max, each user sends again as soon as it has its answer)."""

    url: str
    contract: Contract
    spec_sha256: str
    seed: int
    users: int
    spawn_rate: float
    duration: float
    rate: float | None = DEFAULT_RATE
    deadline: float | None = None  # None: the document's
    secret: str | None = None
    auth: AuthHeader | None = None  # the cardCallbackAuthHeader value, sent on every callback
    workers: int = 0  # local worker processes under a master; 0: one process
    strict: bool = False
    cards: CardTriggers | None = None  # --test-cards: one new callback in TEST_CARD_SHARE carries one

    @property
    def effective_deadline(self) -> float:
        return self.deadline if self.deadline is not None else self.contract.deadline_seconds

    @property
    def timeout(self) -> float:
        """How long a request waits: past the deadline by a little, so a late answer shows how late."""
        deadline = self.effective_deadline
        return deadline + min(2.0, max(0.5, deadline / 2))

    @property
    def ramp_up(self) -> float:
        return self.users / self.spawn_rate

    def validate(self) -> LoadSettings:
        try:
            url = httpx.URL(self.url)
        except (httpx.InvalidURL, TypeError):
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise OptionError(f"URL must be an absolute http(s) URL, not {self.url!r}")
        check_numbers(users=self.users, spawn_rate=self.spawn_rate, duration=self.duration, rate=self.rate,
                      deadline=self.deadline, workers=self.workers)
        if not 0 <= self.seed < 2**64:
            raise OptionError(f"--seed must be between 0 and 2**64-1, not {self.seed}")
        return self


def check_numbers(*, users: int, spawn_rate: float | None, duration: float, rate: float | None,
                  deadline: float | None, workers: int) -> None:
    """The numeric options, each in range (OptionError with one line otherwise)."""
    if users < 1:
        raise OptionError(f"--users must be at least 1, not {users}")
    if spawn_rate is not None and not (math.isfinite(spawn_rate) and spawn_rate > 0):
        raise OptionError(f"--spawn-rate must be a positive number of users per second, not {spawn_rate:g}")
    if not (math.isfinite(duration) and duration > 0):
        raise OptionError(f"--duration must be positive, not {duration:g} s")
    ramp_up = users / spawn_rate if spawn_rate else 1.0
    if ramp_up > duration:
        # The rate is measured after the ramp-up: a run that is all ramp-up cannot show the requested load.
        raise OptionError(f"--duration ({duration:g} s) must not be shorter than the ramp-up ({users} users at "
                          f"{spawn_rate or users:g}/s = {ramp_up:g} s)")
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise OptionError(f"--rate must be a positive number of callbacks per second, not {rate:g}")
    if deadline is not None and not (math.isfinite(deadline) and deadline > 0):
        raise OptionError(f"--deadline must be a positive number of seconds, not {deadline:g}")
    if workers < 0:
        raise OptionError(f"--workers must be 0 (one process) or more, not {workers}")


def parse_rate(text: str | None) -> float | None:
    """`--rate`: callbacks per second, or `max` (None: as fast as answers come); absent: DEFAULT_RATE."""
    if text is None:
        return DEFAULT_RATE
    if text.strip().lower() == RATE_MAX:
        return None
    try:
        return float(text)
    except ValueError:
        raise OptionError(f"--rate must be a number of callbacks per second or {RATE_MAX}, not {text!r}") from None


def parse_duration(text: str) -> float:
    """`60`, `60s`, `2m`, `1h` as seconds; OptionError for anything else."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    raw = text.strip().lower()
    scale = units.get(raw[-1:], None)
    number = raw[:-1] if scale is not None else raw
    try:
        value = float(number) * (scale or 1.0)
    except ValueError:
        raise OptionError(f"--duration must look like 60, 60s, 2m or 1h, not {text!r}") from None
    return value
