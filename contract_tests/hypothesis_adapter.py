"""Every use of Hypothesis internals, in one place: pinned in pyproject, watched by a canary test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# The exact version these internals were read from (pyproject pins the same); tests/contract_tests/
# test_adapters.py fails loudly when an install differs or the internals move.
PINNED_VERSION = "6.170.17"


def internals_present() -> bool:
    """Whether the local-constants internals are where `library_constants_only` expects them."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:
        return False
    return callable(getattr(providers, "_get_local_constants", None)) and hasattr(
        getattr(providers, "CONSTANTS_CACHE", None), "cache") and callable(Constants)


@contextmanager
def library_constants_only() -> Iterator[None]:
    """Keep Hypothesis from mixing the literals of the process's own modules into its draws.

    Hypothesis (6.131+) adds the string and number literals of every loaded module outside the standard
    library and site-packages to the values it draws. Those modules differ between `card-callback test`, the
    pytest form and a user's own test files, so the same seed drew different cases in each. There is no
    public setting for it: this patches the private provider hook, at the pinned version only.
    """
    if not internals_present():
        yield  # another layout: the canary test says so; a run still works, its seed less reproducible
        return
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    original, cache, empty = providers._get_local_constants, providers.CONSTANTS_CACHE, Constants()
    # The cache holds the permitted constants per kind of draw, local ones included: empty it on the way in
    # (values from earlier runs) and out (ours would hide the local constants from later runs).
    cache.cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()
