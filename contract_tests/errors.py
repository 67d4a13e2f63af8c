"""The root exception of the contract suite and its readable subclasses."""

from __future__ import annotations

from callback_core.errors import CardCallbackError


class ContractTestError(CardCallbackError):
    """Root of every error the suite raises on purpose; `reason` is one line for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class OptionError(ContractTestError):
    """An option of a run is out of range or contradicts another."""


class GenerationError(ContractTestError):
    """Schemathesis could not load the document or generate callbacks from it."""


class TransportError(ContractTestError):
    """A request got no HTTP answer: the connection failed, dropped, or the answer did not come in time."""

    def __init__(self, reason: str, *, timed_out: bool = False, connect: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out
        self.connect = connect


class LoadError(ContractTestError):
    """A load run could not start or go on: its workers did not connect, or exited."""


class ReplayError(ContractTestError):
    """A JSON report cannot be replayed: not one, from another format, or without the exchanges replay needs."""
