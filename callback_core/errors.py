"""The root exception of the shared core and its readable subclasses."""

from __future__ import annotations


class CardCallbackError(Exception):
    """Root of every error the toolkit raises on purpose."""


class SpecError(CardCallbackError):
    """The contract document cannot be read or lacks what the tools need from it."""

    def __init__(self, source: str, reason: str, pointer: str = "#") -> None:
        super().__init__(source, reason)
        self.source = source
        self.reason = reason
        self.pointer = pointer

    def __str__(self) -> str:
        # The place in the document, so that one line says what to fix and where.
        where = f" (at {self.pointer})" if self.pointer not in ("", "#") else ""
        return f"{self.source}: {self.reason}{where}"


class SecretError(CardCallbackError):
    """A secret (the HMAC secret, the auth header value) could not be read from where it was configured."""

    def __init__(self, reason: str, what: str = "HMAC secret") -> None:
        super().__init__(reason)
        self.reason = reason
        self.what = what

    def __str__(self) -> str:
        return f"{self.what}: {self.reason}"


class SignatureError(CardCallbackError):
    """A request's HMAC signature is missing, stale or wrong; `reason` says which, without secrets."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason
