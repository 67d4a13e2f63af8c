"""CD056: The HMAC signing scheme changed."""

from __future__ import annotations

from collections.abc import Iterator

from callback_core.spec import HMAC_EXTENSION
from contract_diff.compare import Comparison
from contract_diff.model import Breaks, Finding, Level, Rule
from contract_diff.rules.common import finding

RULE = Rule(
    id="CD056",
    title="HMAC scheme changed",
    level=Level.ERROR,
    breaks=Breaks.PSP,
    template="HMAC signing: {what}",
    action="PSPs that verify signatures the old way refuse every callback: verify the new way.",
)


def check(c: Comparison) -> Iterator[Finding]:
    old, new = c.old.hmac, c.new.hmac
    for what in ("algorithm", "signed_headers", "authorization_header", "date_header", "content_sha256_header"):
        a, b = getattr(old, what), getattr(new, what)
        if a != b:
            yield finding(RULE, c.location(HMAC_EXTENSION), what=f"{what} {a} -> {b}")
    if new.max_clock_skew_seconds > old.max_clock_skew_seconds:
        # Vipps may now sign further from the PSP's clock than a PSP built to the old window accepts.
        skew = f"clock skew {old.max_clock_skew_seconds} s -> {new.max_clock_skew_seconds} s"
        yield finding(RULE, c.location(HMAC_EXTENSION), what=skew)
