"""The headers of every answer a browser may see, set in one place: a strict CSP, no framing, caching or referrer."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY_KEY = "reference_server.page_policy"

# Beside the CSP: framing refused for browsers without frame-ancestors, no caching of a page that holds a
# one-attempt form, no Referer (the page URL carries the attempt id) and no content sniffing.
FIXED_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def source_hash(text: str) -> str:
    """The CSP source expression that allows one inline `<style>` or `<script>` with exactly this text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@dataclass(slots=True)
class PagePolicy:
    """What one answer needs beyond the strict policy, declared by its view while it runs."""

    # Origins a form on the page may be redirected to: Chromium checks form-action on the redirect that
    # answers a form post too, so the decision form's 303 to the return URL needs that URL's origin.
    form_targets: list[str] = field(default_factory=list)


def page_policy(scope: Scope) -> PagePolicy:
    """The request's PagePolicy; a throw-away one when the middleware is not in front (a bare app)."""
    policy = scope.get(POLICY_KEY)
    return policy if isinstance(policy, PagePolicy) else PagePolicy()


def strict_policy(style_hashes: Iterable[str], form_targets: Iterable[str] = ()) -> str:
    """Nothing loads but the page's own hashed styles; its forms post only to this server."""
    styles = " ".join(style_hashes)
    return "; ".join([
        "default-src 'none'",
        *([f"style-src {styles}"] if styles else []),
        " ".join(["form-action 'self'", *dict.fromkeys(form_targets)]),
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ])


def swagger_ui_policy(script_hashes: Iterable[str], style_hashes: Iterable[str]) -> str:
    """What Swagger UI needs: its own files, the inline start-up script and style of its page (by hash), data:
    images (its icons), and fetching the document from this server."""
    return "; ".join([
        "default-src 'none'",
        " ".join(["script-src 'self'", *script_hashes]),
        " ".join(["style-src 'self'", *style_hashes]),
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ])


class BrowserHeaders:
    """Adds the browser headers to every answer except those `skip` names (the callback's, read by a server).

    The policy is strict everywhere but under `ui_prefix`: Swagger UI's page starts itself with an inline
    script and style, which are allowed by their hashes, computed from the page as served. That page is
    Connexion's fixed template; its one variable is the document's URL under the server's own mount path,
    never request data, so hashing what it holds allows nothing an attacker wrote.
    """

    def __init__(
        self, app: ASGIApp, *, skip: Callable[[Scope], bool], style_hashes: Iterable[str], ui_prefix: str | None = None
    ) -> None:
        self.app = app
        self.skip = skip
        self.style_hashes = tuple(style_hashes)
        self.ui_prefix = ui_prefix.rstrip("/") if ui_prefix else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.skip(scope):
            await self.app(scope, receive, send)
            return
        policy = PagePolicy()
        scope = {**scope, POLICY_KEY: policy}
        path = str(scope.get("path", ""))
        if self.ui_prefix is not None and (path == self.ui_prefix or path.startswith(self.ui_prefix + "/")):
            await self.app(scope, receive, _SwaggerPage(send))
            return

        async def send_(message: Message) -> None:
            if message["type"] == "http.response.start":
                _set(message, strict_policy(self.style_hashes, policy.form_targets))
            await send(message)

        await self.app(scope, receive, send_)


def _set(message: Message, csp: str) -> None:
    headers = MutableHeaders(raw=message.setdefault("headers", []))
    headers["Content-Security-Policy"] = csp
    for name, value in FIXED_HEADERS.items():
        headers[name] = value


class _SwaggerPage:
    """A `send` that holds back an HTML answer until its inline scripts and styles are known, then sets the policy."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            content_type = MutableHeaders(raw=message.setdefault("headers", [])).get("content-type", "")
            if content_type.startswith("text/html"):
                self.start = message
                return
            _set(message, swagger_ui_policy((), ()))
        elif message["type"] == "http.response.body" and self.start is not None:
            self.chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(self.chunks)
            scripts, styles = _inline_blocks(body.decode("utf-8", "replace"))
            _set(self.start, swagger_ui_policy(map(source_hash, scripts), map(source_hash, styles)))
            await self.send(self.start)
            message = {"type": "http.response.body", "body": body, "more_body": False}
        await self.send(message)


def _inline_blocks(html: str) -> tuple[list[str], list[str]]:
    parser = _InlineBlocks()
    parser.feed(html)
    parser.close()
    return parser.scripts, parser.styles


class _InlineBlocks(HTMLParser):
    """The text of each inline `<script>` (one without `src`) and `<style>`, exactly as a browser hashes it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._open: list[str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._open, self._text = self.scripts, []
        elif tag == "style":
            self._open, self._text = self.styles, []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag in ("script", "style"):
            self._open.append("".join(self._text))
            self._open = None
