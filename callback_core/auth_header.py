"""The cardCallbackAuthHeader: the header carrying the PSP's static value, where the value comes from, the check."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from callback_core.errors import SecretError, SpecError
from callback_core.secrets import load_value
from callback_core.spec import Contract

AUTH_HEADER_EXTENSION = "x-card-callback-auth-header"
AUTH_HEADER_ENV = "CARD_CALLBACK_AUTH_HEADER"
WHAT = "cardCallbackAuthHeader value"
REDACTED = "***"  # what reports show instead of the value


@dataclass(frozen=True, slots=True)
class AuthHeader:
    """The header the document names for the value, and the value configured for this run (a secret)."""

    name: str
    value: str = ""

    def __repr__(self) -> str:  # the value never reaches a log or a traceback through repr
        return f"AuthHeader(name={self.name!r}, value={REDACTED!r})"

    def accepts(self, received: str | None) -> bool:
        """Whether `received` is the configured value, compared in constant time."""
        if received is None:
            return False
        return hmac.compare_digest(received.encode("utf-8", "replace"), self.value.encode("utf-8"))

    def refusal(self, received: str | None) -> str | None:
        """Why a request carrying `received` is refused (a 401 detail without the value), or None."""
        if received is None:
            return f"the {self.name} header is missing"
        if not self.accepts(received):
            return f"the {self.name} header does not carry the value agreed for this PSP"
        return None


def auth_header_name(contract: Contract) -> str | None:
    """The header the document assigns to the cardCallbackAuthHeader value; None when it declares none."""
    raw = contract.operation.get(AUTH_HEADER_EXTENSION)
    if raw is None:
        return None
    op = contract.location
    name = raw.get("header") if isinstance(raw, Mapping) else None
    if not isinstance(name, str) or not name:
        where = f"{op}/{AUTH_HEADER_EXTENSION}"
        raise SpecError(contract.source, f"{AUTH_HEADER_EXTENSION} needs a header name", where)
    if name.lower() not in {slot.lower() for slot in contract.header_slots}:
        raise SpecError(
            contract.source,
            f"{AUTH_HEADER_EXTENSION} names {name!r}, which is not a declared header parameter",
            f"{op}/{AUTH_HEADER_EXTENSION}/header",
        )
    return name


def load_auth_header(
    contract: Contract, environ: Mapping[str, str], value_file: Path | None = None
) -> AuthHeader | None:
    """The configured value (a file wins over CARD_CALLBACK_AUTH_HEADER) under the document's header name.

    None when no value is configured. A file given for a document without the slot is an error: the value
    would silently be neither sent nor checked. The environment variable is ambient configuration, shared
    by runs on several documents, so a document without the slot simply does not use it.
    """
    value = load_value(environ, AUTH_HEADER_ENV, value_file, WHAT)
    if value is None or (value_file is None and auth_header_name(contract) is None):
        return None
    if not all(" " <= char <= "~" for char in value) or value != value.strip():
        # It travels as an HTTP header value: printable ASCII, no edge spaces (a proxy may trim them).
        raise SecretError("must be printable ASCII without leading or trailing spaces", WHAT)
    name = auth_header_name(contract)
    if name is None:
        raise SpecError(
            contract.source,
            f"a {WHAT} is configured, but the document declares no {AUTH_HEADER_EXTENSION} to carry it",
        )
    return AuthHeader(name, value)
