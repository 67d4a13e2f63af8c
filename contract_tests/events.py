"""The event stream of a run; the terminal, JUnit and JSON reports are all rendered from it."""

from __future__ import annotations

from dataclasses import dataclass

from contract_tests.models import CheckResult, Exchange, Report


@dataclass(frozen=True, slots=True)
class RunStarted:
    target: str
    spec_source: str
    spec_sha256: str
    seed: int
    deadline: float
    max_examples: int
    strict: bool
    signed: bool


@dataclass(frozen=True, slots=True)
class Planned:
    """The requests are generated; `total` will be sent."""

    total: int
    by_role: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class RequestDone:
    index: int
    total: int
    exchange: Exchange
    late: bool  # no answer, or one after the deadline


@dataclass(frozen=True, slots=True)
class SendingStopped:
    """The run stopped sending before the plan was done; `reason` says why."""

    sent: int
    total: int
    reason: str


@dataclass(frozen=True, slots=True)
class CheckFinished:
    result: CheckResult


@dataclass(frozen=True, slots=True)
class RunFinished:
    report: Report


Event = RunStarted | Planned | RequestDone | SendingStopped | CheckFinished | RunFinished
