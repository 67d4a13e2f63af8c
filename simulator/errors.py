"""The root exception of the simulator and its readable subclasses."""

from __future__ import annotations

from callback_core.errors import CardCallbackError


class SimulatorError(CardCallbackError):
    """Root of every error the simulator raises on purpose; `reason` is one line for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class UnknownExample(SimulatorError):
    """`--example` names no request example of the document."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"the document has no request example {name!r} (it has: {', '.join(known) or 'none'})")
        self.name = name
        self.known = known


class NotAnObject(SimulatorError):
    """A follow-up callback (retry, second callback) needs a body that is a JSON object."""
