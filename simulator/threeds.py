"""Read a 3-D Secure page: is it the reference server's, and which form posts the user's decision."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

REFERENCE_GENERATOR = "card-callback reference server"
DECISION_FIELD = "decision"


@dataclass(frozen=True, slots=True)
class Form:
    """One form of the page: where it posts and what it would submit."""

    action: str
    method: str
    fields: tuple[tuple[str, str], ...]  # always sent (hidden and text inputs, checked boxes, selects)
    choices: tuple[tuple[str, str], ...]  # sent only when chosen (submit buttons, radio buttons, options)

    def decisions(self) -> tuple[str, ...]:
        offered = [value for name, value in self.choices + self.fields if name == DECISION_FIELD]
        return tuple(dict.fromkeys(offered))

    def submission(self, decision: str) -> list[tuple[str, str]]:
        """The form data a browser sends when the user picks `decision`."""
        data = [(name, value) for name, value in self.fields if name != DECISION_FIELD]
        return [*data, (DECISION_FIELD, decision)]


@dataclass(frozen=True, slots=True)
class Page:
    generator: str | None
    forms: tuple[Form, ...]
    origin: str = ""  # the page's origin, which a browser names in the Origin header of the form's post

    @property
    def is_reference_server(self) -> bool:
        return self.generator == REFERENCE_GENERATOR

    def decision_form(self) -> Form | None:
        """The first POST form that offers a `decision` field."""
        return next((f for f in self.forms if f.method == "post" and f.decisions()), None)


def parse_page(html: str, page_url: str) -> Page:
    parser = _PageParser(page_url)
    parser.feed(html)
    parser.close()
    return Page(parser.generator, tuple(parser.forms), origin_of(page_url))


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, as a browser writes an Origin header (the scheme's default port left out)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{host}" if port in (None, default) else f"{parts.scheme.lower()}://{host}:{port}"


class _PageParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.generator: str | None = None
        self.forms: list[Form] = []
        self._form: dict[str, str] | None = None
        self._fields: list[tuple[str, str]] = []
        self._choices: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen: str | None = None
        self._button: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "meta" and a.get("name", "").lower() == "generator" and self.generator is None:
            self.generator = a.get("content", "").strip()
        elif tag == "form":
            self._form, self._fields, self._choices = a, [], []
        elif self._form is None:
            return
        elif tag == "input":
            self._input(a)
        elif tag == "button" and "name" in a:
            self._button = a
        elif tag == "select" and "name" in a:
            self._select, self._select_first, self._select_chosen = a["name"], None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._choices.append((self._select, value))
            self._select_first = self._select_first if self._select_first is not None else value
            if "selected" in a:
                self._select_chosen = value

    def _input(self, a: dict[str, str]) -> None:
        name = a.get("name")
        if not name or "disabled" in a:
            return
        kind = a.get("type", "text").lower()
        if kind in ("submit", "image", "radio"):
            self._choices.append((name, a.get("value", "")))
        elif kind == "checkbox":
            if "checked" in a:
                self._fields.append((name, a.get("value", "on")))
        elif kind not in ("button", "reset", "file"):
            self._fields.append((name, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            # A <button> submits by default (type="submit"), so its name/value is a choice.
            if self._button.get("type", "submit").lower() == "submit":
                self._choices.append((self._button["name"], self._button.get("value", "")))
            self._button = None
        elif tag == "select" and self._select is not None:
            chosen = self._select_chosen if self._select_chosen is not None else self._select_first
            if chosen is not None and self._select != DECISION_FIELD:
                self._fields.append((self._select, chosen))
            self._select = None
        elif tag == "form":
            self._end_form()

    def close(self) -> None:
        super().close()
        self._end_form()  # browsers close a form left open at the end of the page

    def _end_form(self) -> None:
        if self._form is None:
            return
        action = urljoin(self.page_url, self._form.get("action") or self.page_url)
        method = (self._form.get("method") or "get").lower()
        self.forms.append(Form(action, method, tuple(self._fields), tuple(self._choices)))
        self._form = None
