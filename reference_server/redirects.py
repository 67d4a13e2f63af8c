"""Where the server may send a user's browser: https URLs, or http to a loopback host (local runs)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback_host(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1 (brackets allowed): a host only this machine can reach."""
    name = host.strip().lower().removeprefix("[").removesuffix("]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_redirect(url: str) -> bool:
    """Whether the browser may be sent to `url` (a link on a page, or a redirect).

    The rule of the callback document's `pattern`, checked again here because a stored URL may predate
    it, or come from a document without it, or from a database row written by hand. Printable ASCII
    only, no user information (`https://bank.example@evil.example` reads as the bank), no backslash
    (browsers read it as `/`, urllib does not, so the two would disagree on the host).
    """
    if not url or "\\" in url or any(not ("!" <= char <= "~") for char in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        return False
    if not host or "@" in parts.netloc:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and is_loopback_host(host)


def origin_of(url: str) -> str:
    """The origin of an absolute http(s) URL as a browser writes it: `scheme://host[:port]`, the scheme's
    default port left out, host in lower case."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"
