"""What the server stores about an attempt, and the storage interface a server database can implement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from reference_server.errors import ReferenceServerError


def iso_time(moment: datetime) -> str:
    """A UTC ISO 8601 timestamp with microseconds, the one format stored and shown."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class DuplicateCallback(ReferenceServerError):
    """Another writer stored this (attempt, sequence) first; re-read and replay its answer."""

    status = 409


@dataclass(frozen=True, slots=True)
class StoredCallback:
    """One answered callback. `answer` holds the exact bytes sent; card data is never stored."""

    sequence: int
    body_sha256: str
    status: str
    error_code: str | None
    answer: bytes
    received_at: datetime
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """An authorization attempt: ids from the first callback, its callbacks, 3-D Secure, late outcome."""

    attempt_id: str
    psp_reference: str
    merchant_serial_number: str
    masked_card_number: str
    created_at: datetime
    completed_redirect_url: str
    callbacks: tuple[StoredCallback, ...]
    three_ds_decision: str | None = None
    three_ds_decided_at: datetime | None = None
    late_status: str | None = None
    late_recorded_at: datetime | None = None

    def callback_with_hash(self, body_sha256: str) -> StoredCallback | None:
        return next((c for c in self.callbacks if c.body_sha256 == body_sha256), None)


class AttemptStore(Protocol):
    """Durable attempts. Every write is committed before it returns (the answer is sent after)."""

    form_key: bytes  # signs the 3-D Secure decision forms; kept as long as the attempts are

    async def get(self, attempt_id: str) -> Attempt | None: ...

    async def add_first_callback(self, attempt: Attempt) -> None:
        """Store a new attempt with its first callback; DuplicateCallback if it exists already."""

    async def add_callback(self, attempt_id: str, callback: StoredCallback) -> None:
        """Store a later callback; DuplicateCallback if that sequence number is taken."""

    async def set_three_ds_decision(self, attempt_id: str, decision: str, at: datetime) -> bool:
        """Record the decision if the session has none yet; False if it was decided already."""

    async def set_late_outcome(self, attempt_id: str, status: str, at: datetime) -> None: ...

    async def close(self) -> None: ...
