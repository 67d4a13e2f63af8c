"""The root exception of the revision diff."""

from __future__ import annotations

from callback_core.errors import CardCallbackError


class DiffError(CardCallbackError):
    """Two documents cannot be compared; `reason` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason
