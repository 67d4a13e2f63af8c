"""The SQLite store's group commit: each write is committed when it returns, one bad write spoils no other."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reference_server.sqlite_store import SqliteAttemptStore
from reference_server.storage import Attempt, DuplicateCallback, StoredCallback

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _attempt(attempt_id: str) -> Attempt:
    callback = StoredCallback(1, "ab" * 32, "RESERVE", None, b'{"status":"RESERVE"}', NOW, NOW)
    return Attempt(attempt_id, "psp-ref", "123456", "47969485XXXX1234", NOW, "https://vipps.no/x", (callback,))


def _committed(db: Path, attempt_id: str) -> bool:
    # A separate connection sees only committed transactions.
    with sqlite3.connect(db) as other:
        return other.execute("SELECT 1 FROM attempts WHERE attempt_id = ?", (attempt_id,)).fetchone() is not None


async def test_concurrent_writes_are_committed_when_they_return(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite3"
    store = SqliteAttemptStore(db)
    seen: dict[str, bool] = {}

    async def write(attempt_id: str) -> None:
        await store.add_first_callback(_attempt(attempt_id))
        seen[attempt_id] = _committed(db, attempt_id)

    await asyncio.gather(*(write(f"a-{i}") for i in range(60)))
    await store.close()
    assert seen == {f"a-{i}": True for i in range(60)}


async def test_a_duplicate_in_a_batch_fails_alone(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite3"
    store = SqliteAttemptStore(db)
    await store.add_first_callback(_attempt("taken"))
    results = await asyncio.gather(
        *(store.add_first_callback(_attempt(name)) for name in ["x-1", "taken", "x-2", "x-3"]),
        return_exceptions=True,
    )
    assert [type(r).__name__ for r in results] == ["NoneType", DuplicateCallback.__name__, "NoneType", "NoneType"]
    stored = await store.get("taken")
    await store.close()
    assert stored is not None and len(stored.callbacks) == 1
    reopened = SqliteAttemptStore(db)
    found = [await reopened.get(name) for name in ["x-1", "x-2", "x-3"]]
    await reopened.close()
    assert all(a is not None and a.callbacks[0].answer == b'{"status":"RESERVE"}' for a in found)


async def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteAttemptStore(tmp_path / "store.sqlite3")
    await store.close()
    await store.close()  # twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        await store.get("x")
