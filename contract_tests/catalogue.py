"""Every check of the suite in code order, with its judge and what it needs to judge anything."""

from __future__ import annotations

from contract_tests import checks, flow_checks, variations
from contract_tests.checks import CC004, CC005, CC007, CC012, Judge
from contract_tests.models import Check

CHECKS: tuple[Check, ...] = tuple(sorted((*checks.CHECKS, *flow_checks.FLOW_CHECKS, *variations.CHECKS),
                                         key=lambda c: c.code))
JUDGES: dict[str, Judge] = {
    **checks.JUDGES,
    flow_checks.CC009.code: flow_checks.second_callback_answered,
    flow_checks.CC010.code: flow_checks.retry_answered,
    flow_checks.CC011.code: flow_checks.card_data_not_echoed,
    **variations.JUDGES,  # CC014, and CC006 and CC013 extended to the varied callbacks
}
NEEDS_SECRET = checks.NEEDS_SECRET
NEEDS_AUTH_HEADER = checks.NEEDS_AUTH_HEADER
# Refusing every callback (a wrong path's 404, a WAF's 403, a rate limiter's 429) is no evidence of
# validation, of ignoring unknown fields, of idempotency or of authorizing once: these are judged only
# once the PSP has accepted a valid callback.
NEEDS_ACCEPTED = frozenset({CC004.code, CC005.code, CC007.code, CC012.code, variations.CC014.code})
NOT_EXERCISED = flow_checks.NOT_EXERCISED
