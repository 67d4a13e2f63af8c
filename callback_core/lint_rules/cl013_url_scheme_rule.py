"""CL013: a URL field says which schemes it admits; `format: uri` alone admits `javascript:`."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core import fields
from callback_core.lint import Level, LintRule, Needs, Subject
from callback_core.lint_rules.common import at_operation, contract_of

RULE = LintRule("CL013", "URL fields restrict their scheme", Level.WARNING, Needs.CONTRACT)

# Fields the browser is sent to: a redirect role is a URL whatever its schema says.
URL_ROLES = {"request": (fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL,), "response": (fields.SOFT_DECLINE_REDIRECT_URL,)}


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
            pattern = prop.schema.get("pattern")
            if not (isinstance(pattern, str) and "https" in pattern):
                # Located at the body's schema; the message names the field by its pointer in a body.
                yield (at_operation(contract, *body, "content", "application/json", "schema"),
                       f"URL field {prop.pointer} of the {side} has no pattern restricting its scheme to https "
                       "(`format: uri` admits javascript: and http: URLs)")
