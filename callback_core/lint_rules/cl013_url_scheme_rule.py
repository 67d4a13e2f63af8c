"""CL013: a URL field admits only https (http on loopback); `format: uri` alone admits `javascript:`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from callback_core import fields
from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import at_operation, contract_of

RULE = LintRule("CL013", "URL fields restrict their scheme", Level.WARNING, Needs.CONTRACT)

# Fields the browser is sent to: a redirect role is a URL whatever its schema says.
URL_ROLES = {"request": (fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL,), "response": (fields.SOFT_DECLINE_REDIRECT_URL,)}
# What a scheme rule must refuse (a stored script, a plain-http page off loopback), and what it must admit.
REFUSED = ("javascript:alert(document.domain)", "javascript://https.example.com/%0Aalert(1)",
           "data:text/html,<script>alert(1)</script>", "http://example.com/3ds")
ADMITTED = "https://example.com/3ds"


def check(subject: Subject) -> Iterator[tuple[str, str]]:
    contract = contract_of(subject)
    sides = (("request", contract.request_properties, contract.request_roles, ("requestBody",)),
             ("response", contract.response_properties, contract.response_roles, ("responses", "200")))
    for side, properties, roles, body in sides:
        urls = {roles[name].pointer for name in URL_ROLES[side] if name in roles}
        seen: set[str] = set()
        for prop in properties:
            is_url = prop.schema.get("format") in ("uri", "url") or prop.pointer in urls
            if not is_url or prop.pointer in seen:
                continue
            seen.add(prop.pointer)
            why = _weakness(prop.schema.get("pattern"))
            if why:
                # Located at the body's schema; the message names the field by its pointer in a body.
                yield (at_operation(contract, *body, "content", "application/json", "schema"),
                       f"URL field {prop.pointer} of the {side} {why}")


def _weakness(pattern: object) -> str:
    """Why a URL field's pattern is no https rule; empty when it is one."""
    if not isinstance(pattern, str):
        return "has no pattern restricting its scheme to https (`format: uri` admits javascript: and http: URLs)"
    try:
        compiled = re.compile(pattern)
    except re.error:
        return ""  # a pattern Python cannot read is judged by the validator's rules, not guessed at here
    # JSON Schema patterns are unanchored: a match anywhere admits the value.
    admitted = [value for value in REFUSED if compiled.search(value)]
    if admitted:
        return f"has a pattern that still admits {admitted[0]!r}: restrict it to https (http only on loopback)"
    if not compiled.search(ADMITTED):
        return f"has a pattern that refuses {ADMITTED!r}"
    return ""
