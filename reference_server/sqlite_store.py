"""The default AttemptStore: SQLite in WAL mode, one connection owned by one writer thread."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from reference_server.errors import ConfigError
from reference_server.storage import Attempt, DuplicateCallback, StoredCallback, iso_time

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    attempt_id TEXT PRIMARY KEY,
    psp_reference TEXT NOT NULL,
    merchant_serial_number TEXT NOT NULL,
    masked_card_number TEXT NOT NULL,
    created_at TEXT NOT NULL,
    completed_redirect_url TEXT NOT NULL,
    three_ds_decision TEXT,
    three_ds_decided_at TEXT,
    late_status TEXT,
    late_recorded_at TEXT
);
CREATE TABLE IF NOT EXISTS callbacks (
    attempt_id TEXT NOT NULL REFERENCES attempts(attempt_id),
    sequence INTEGER NOT NULL,
    body_sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    answer BLOB NOT NULL,
    received_at TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (attempt_id, sequence)
);
"""


class SqliteAttemptStore:
    """Attempts in one SQLite file.

    A single thread owns the connection, so writes are serialized without locks and the event loop
    never blocks on the disk. Every write is committed before its answer leaves. WAL with
    `synchronous=NORMAL` keeps commits across a killed process (SIGKILL, a crash of the server);
    only an OS crash or power loss can drop the last commits (docs/performance.md).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attempt-store")
        try:
            self._conn = self._executor.submit(self._connect).result()
        except (sqlite3.Error, OSError) as exc:
            self._executor.shutdown(wait=False)
            raise ConfigError(f"cannot open the database {path}: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        if self._path.parent and not self._path.parent.exists():
            self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(_SCHEMA)
        return conn

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def get(self, attempt_id: str) -> Attempt | None:
        return await self._run(lambda: self._get(attempt_id))

    def _get(self, attempt_id: str) -> Attempt | None:
        row = self._conn.execute(
            "SELECT attempt_id, psp_reference, merchant_serial_number, masked_card_number, created_at,"
            " completed_redirect_url, three_ds_decision, three_ds_decided_at, late_status, late_recorded_at"
            " FROM attempts WHERE attempt_id = ?",
            (attempt_id,),
        ).fetchone()
        if row is None:
            return None
        callbacks = self._conn.execute(
            "SELECT sequence, body_sha256, status, error_code, answer, received_at, answered_at"
            " FROM callbacks WHERE attempt_id = ? ORDER BY sequence",
            (attempt_id,),
        ).fetchall()
        return Attempt(
            attempt_id=row[0],
            psp_reference=row[1],
            merchant_serial_number=row[2],
            masked_card_number=row[3],
            created_at=_time(row[4]),
            completed_redirect_url=row[5],
            three_ds_decision=row[6],
            three_ds_decided_at=_maybe_time(row[7]),
            late_status=row[8],
            late_recorded_at=_maybe_time(row[9]),
            callbacks=tuple(
                StoredCallback(c[0], c[1], c[2], c[3], bytes(c[4]), _time(c[5]), _time(c[6])) for c in callbacks
            ),
        )

    async def add_first_callback(self, attempt: Attempt) -> None:
        await self._run(lambda: self._add_first(attempt))

    def _add_first(self, attempt: Attempt) -> None:
        with _transaction(self._conn):
            try:
                self._conn.execute(
                    "INSERT INTO attempts (attempt_id, psp_reference, merchant_serial_number, masked_card_number,"
                    " created_at, completed_redirect_url) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        attempt.attempt_id,
                        attempt.psp_reference,
                        attempt.merchant_serial_number,
                        attempt.masked_card_number,
                        iso_time(attempt.created_at),
                        attempt.completed_redirect_url,
                    ),
                )
            except sqlite3.IntegrityError:
                raise DuplicateCallback(f"attempt {attempt.attempt_id!r} exists already") from None
            for callback in attempt.callbacks:
                self._insert_callback(attempt.attempt_id, callback)

    async def add_callback(self, attempt_id: str, callback: StoredCallback) -> None:
        await self._run(lambda: self._add_one(attempt_id, callback))

    def _add_one(self, attempt_id: str, callback: StoredCallback) -> None:
        with _transaction(self._conn):
            self._insert_callback(attempt_id, callback)

    def _insert_callback(self, attempt_id: str, c: StoredCallback) -> None:
        try:
            self._conn.execute(
                "INSERT INTO callbacks (attempt_id, sequence, body_sha256, status, error_code, answer,"
                " received_at, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (attempt_id, c.sequence, c.body_sha256, c.status, c.error_code, c.answer,
                 iso_time(c.received_at), iso_time(c.answered_at)),
            )
        except sqlite3.IntegrityError:
            raise DuplicateCallback(f"callback {c.sequence} of {attempt_id!r} exists already") from None

    async def set_three_ds_decision(self, attempt_id: str, decision: str, at: datetime) -> None:
        await self._run(lambda: self._update(
            "UPDATE attempts SET three_ds_decision = ?, three_ds_decided_at = ? WHERE attempt_id = ?",
            (decision, iso_time(at), attempt_id),
        ))

    async def set_late_outcome(self, attempt_id: str, status: str, at: datetime) -> None:
        await self._run(lambda: self._update(
            "UPDATE attempts SET late_status = ?, late_recorded_at = ? WHERE attempt_id = ?",
            (status, iso_time(at), attempt_id),
        ))

    def _update(self, sql: str, params: tuple[Any, ...]) -> None:
        with _transaction(self._conn):
            self._conn.execute(sql, params)

    async def close(self) -> None:
        await self._run(self._conn.close)
        self._executor.shutdown(wait=True)


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error (the connection is in autocommit mode)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else _time(text)
