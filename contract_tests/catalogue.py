"""Every check of the suite in code order; each describes itself (what it needs, its judge, its "not exercised")."""

from __future__ import annotations

from contract_tests import checks, flow_checks, variations
from contract_tests.models import Check

_WIDENED = {check.code: check for check in variations.WIDENED}
CHECKS: tuple[Check, ...] = tuple(sorted(
    (*(_WIDENED.get(check.code, check) for check in checks.CHECKS), *flow_checks.FLOW_CHECKS, *variations.CHECKS),
    key=lambda c: c.code))
