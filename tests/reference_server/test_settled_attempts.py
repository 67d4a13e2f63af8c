"""The in-memory cache of settled attempts: only final attempts, most recently used first, bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from reference_server.psp import SettledAttempts, is_settled
from reference_server.storage import Attempt, StoredCallback

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _attempt(attempt_id: str, *statuses: str) -> Attempt:
    callbacks = tuple(
        StoredCallback(i + 1, f"{i}" * 64, status, None, b"{}", NOW, NOW) for i, status in enumerate(statuses)
    )
    return Attempt(attempt_id, "ref", "123456", "47969485XXXX1234", NOW, "https://vipps.no/x", callbacks)


def test_only_attempts_whose_answers_cannot_change_are_settled() -> None:
    assert is_settled(_attempt("a", "RESERVE"))
    assert is_settled(_attempt("a", "FAIL"))
    assert is_settled(_attempt("a", "SOFT_DECLINE", "RESERVE"))
    assert not is_settled(_attempt("a", "SOFT_DECLINE"))  # still waits for its 3-D Secure decision
    assert not is_settled(_attempt("a"))


def test_the_cache_keeps_the_most_recently_used_within_its_size() -> None:
    cache = SettledAttempts(3)
    for name in ["a", "b", "c"]:
        cache.put(_attempt(name, "RESERVE"))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put(_attempt("d", "RESERVE"))
    assert len(cache) == 3
    assert cache.get("b") is None
    assert [cache.get(name) is not None for name in ["a", "c", "d"]] == [True, True, True]
    for i in range(1000):
        cache.put(_attempt(f"x{i}", "CAPTURE"))
    assert len(cache) == 3


def test_a_cached_attempt_keeps_what_a_replay_needs() -> None:
    cache = SettledAttempts(1)
    cache.put(_attempt("a", "SOFT_DECLINE", "FAIL"))
    cached = cache.get("a")
    assert cached is not None
    assert [c.status for c in cached.callbacks] == ["SOFT_DECLINE", "FAIL"]
    assert cached.callback_with_hash("1" * 64) is not None


def test_size_zero_caches_nothing() -> None:
    cache = SettledAttempts(0)
    cache.put(_attempt("a", "RESERVE"))
    assert cache.get("a") is None
