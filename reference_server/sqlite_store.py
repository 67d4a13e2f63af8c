"""The default AttemptStore: SQLite in WAL mode, one connection owned by one group-committing thread."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

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
CREATE TABLE IF NOT EXISTS server_keys (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""
_FORM_KEY = "3ds-decision-form"


class SqliteAttemptStore:
    """Attempts in one SQLite file, written with group commit.

    A single thread owns the connection, so writes are serialized without locks and the event loop
    never blocks on the disk. It takes every job waiting in its queue and runs them in order in one
    transaction (each write inside its own savepoint, so one failing write leaves the others), then
    commits once and only then hands back the results: every write is committed before its answer
    leaves, and under load many answers share a commit. WAL with `synchronous=NORMAL` keeps commits
    across a killed process (SIGKILL, a crash of the server); only an OS crash or power loss can drop
    the last commits (docs/performance.md). sqlite3 keeps each statement prepared (its statement cache).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        try:
            self._conn = self._connect()
            self.form_key = self._form_key()
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(f"cannot open the database {path}: {exc}") from None
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        # The thread holds the connection and the queue, not the store: a store dropped without
        # close() (an app never started) is collected, and the finalizer stops its thread.
        self._thread = threading.Thread(target=_serve, args=(self._conn, self._jobs), name="attempt-store",
                                        daemon=True)
        self._thread.start()
        self._finalizer = weakref.finalize(self, self._jobs.put, None)
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        if self._path.parent and not self._path.parent.exists():
            self._path.parent.mkdir(parents=True, exist_ok=True)
        # The writer thread takes the connection over; nothing else touches it afterwards.
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(_SCHEMA)
        return conn

    def _form_key(self) -> bytes:
        # Made once per database, so that every process sharing it, and the next start, sign alike; the first
        # writer wins and every other reads its key.
        self._conn.execute("INSERT OR IGNORE INTO server_keys (name, value) VALUES (?, randomblob(32))", (_FORM_KEY,))
        row = self._conn.execute("SELECT value FROM server_keys WHERE name = ?", (_FORM_KEY,)).fetchone()
        return bytes(row[0])

    async def _run(self, fn: Callable[[], T], *, write: bool = False) -> T:
        if self._closed:
            raise RuntimeError("the attempt store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(fn, write, loop, future))
        return await future

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
        await self._run(lambda: self._add_first(attempt), write=True)

    def _add_first(self, attempt: Attempt) -> None:
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
        await self._run(lambda: self._insert_callback(attempt_id, callback), write=True)

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

    async def set_three_ds_decision(self, attempt_id: str, decision: str, at: datetime) -> bool:
        # Only while undecided: of two processes deciding at once, one records and the other is told.
        return await self._run(lambda: self._update(
            "UPDATE attempts SET three_ds_decision = ?, three_ds_decided_at = ?"
            " WHERE attempt_id = ? AND three_ds_decision IS NULL",
            (decision, iso_time(at), attempt_id),
        ) > 0, write=True)

    async def set_late_outcome(self, attempt_id: str, status: str, at: datetime) -> None:
        await self._run(lambda: self._update(
            "UPDATE attempts SET late_status = ?, late_recorded_at = ? WHERE attempt_id = ?",
            (status, iso_time(at), attempt_id),
        ), write=True)

    def _update(self, sql: str, params: tuple[Any, ...]) -> int:
        return self._conn.execute(sql, params).rowcount

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._finalizer()  # puts the stop sign in the queue, once
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)


def _serve(conn: sqlite3.Connection, jobs: queue.SimpleQueue[_Job[Any] | None]) -> None:
    while True:
        first = jobs.get()
        if first is None:
            conn.close()
            return
        batch = [first]
        stop = False
        while True:
            try:
                job = jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                stop = True
                break
            batch.append(job)
        _deliver(_run_batch(conn, batch))
        if stop:
            conn.close()
            return

def _run_batch(conn: sqlite3.Connection, batch: list[_Job[Any]]) -> list[tuple[_Job[Any], Any, BaseException | None]]:
    done: list[tuple[_Job[Any], Any, BaseException | None]] = []
    in_transaction = False
    for job in batch:
        try:
            if job.write:
                if not in_transaction:
                    conn.execute("BEGIN IMMEDIATE")
                    in_transaction = True
                with _savepoint(conn):
                    done.append((job, job.fn(), None))
            else:
                done.append((job, job.fn(), None))
        except Exception as exc:  # handed to the waiting coroutine, which raises it
            done.append((job, None, exc))
    if in_transaction:
        try:
            conn.execute("COMMIT")
        except Exception as exc:
            # Nothing of this batch is durable: every job fails, none of its answers is sent.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            return [(job, None, exc) for job, _, _ in done]
    return done


@dataclass(frozen=True, slots=True)
class _Job(Generic[T]):
    """One call waiting for the writer thread, and where its result goes."""

    fn: Callable[[], T]
    write: bool
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


def _deliver(done: list[tuple[_Job[Any], Any, BaseException | None]]) -> None:
    # One wake-up per event loop and batch, not one per job.
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job[Any], Any, BaseException | None]]] = {}
    for item in done:
        by_loop.setdefault(item[0].loop, []).append(item)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_resolve, items)


def _resolve(items: list[tuple[_Job[Any], Any, BaseException | None]]) -> None:
    for job, result, error in items:
        if job.future.done():
            continue  # the waiting request was cancelled (client left); its write stands
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)


class _savepoint:
    """SAVEPOINT ... RELEASE, or ROLLBACK TO on an error: one write undone, its batch goes on."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("SAVEPOINT job")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._conn.execute("ROLLBACK TO job")
        self._conn.execute("RELEASE job")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else _time(text)
