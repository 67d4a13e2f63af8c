"""The reference PSP's behaviour: test cards, idempotent answers, soft decline, the slow issuer."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from reference_server.callback_fields import CallbackFields
from reference_server.cards import Behaviour, TestCard, TestCards
from reference_server.errors import Conflict, NotFound
from reference_server.storage import Attempt, AttemptStore, DuplicateCallback, StoredCallback

SOFT_DECLINE = "SOFT_DECLINE"
# Settled attempts kept in memory for replays: Vipps retries soon after the first try, and a fixed
# size keeps memory flat however many callbacks the server answers (each entry is well under 1 KiB).
SETTLED_CACHE_SIZE = 4096
logger = logging.getLogger("reference_server")


@dataclass(frozen=True, slots=True)
class Answered:
    """How one callback was answered: the exact bytes, and whether they were a stored replay."""

    attempt_id: str
    answer: bytes
    status: str
    error_code: str | None
    replay: bool


@dataclass(frozen=True, slots=True)
class ThreeDSecureView:
    """The 3-D Secure session of a soft-declined attempt, as its page shows it."""

    attempt_id: str
    state: str  # open | decided | closed
    decision: str | None
    completed_redirect_url: str


def canonical_sha256(body: Any) -> str:
    """The identity of a callback: the same JSON (whatever the key order or spacing) has the same hash."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def is_settled(attempt: Attempt) -> bool:
    """Whether every future callback of this attempt is a replay or a conflict, whatever happens elsewhere.

    True once the attempt has an answer other than SOFT_DECLINE: its stored answers never change.
    (A soft-declined attempt still waits for a 3-D Secure decision, perhaps recorded by another process.)
    """
    return bool(attempt.callbacks) and (len(attempt.callbacks) > 1 or attempt.callbacks[0].status != SOFT_DECLINE)


class SettledAttempts:
    """The most recently used settled attempts, for replays without a database read; at most `size`."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, Attempt] = OrderedDict()

    def get(self, attempt_id: str) -> Attempt | None:
        attempt = self._items.get(attempt_id)
        if attempt is not None:
            self._items.move_to_end(attempt_id)
        return attempt

    def put(self, attempt: Attempt) -> None:
        if self._size <= 0:
            return
        # Only what a replay needs: dropping the rest keeps each entry small.
        self._items[attempt.attempt_id] = replace(attempt, completed_redirect_url="")
        self._items.move_to_end(attempt.attempt_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def three_ds_state(attempt: Attempt) -> str:
    if len(attempt.callbacks) > 1:
        return "closed"
    return "decided" if attempt.three_ds_decision else "open"


class Psp:
    """Answers callbacks once per body and replays stored answers; all state lives in the store."""

    def __init__(
        self,
        *,
        fields: CallbackFields,
        cards: TestCards,
        store: AttemptStore,
        now: Callable[[], datetime],
        answer_budget_seconds: float,
        issuer_delay_seconds: float,
        settled_cache_size: int = SETTLED_CACHE_SIZE,
    ) -> None:
        self._fields = fields
        self._cards = cards
        self._store = store
        self._now = now
        self._budget = answer_budget_seconds
        self._issuer_delay = issuer_delay_seconds
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._settled = SettledAttempts(settled_cache_size)

    def _settle(self, attempt: Attempt) -> None:
        if is_settled(attempt):
            self._settled.put(attempt)

    @asynccontextmanager
    async def _attempt_lock(self, attempt_id: str) -> AsyncIterator[None]:
        # One lock per attempt id, dropped when nobody holds or waits for it, so memory stays flat.
        lock, users = self._locks.get(attempt_id, (asyncio.Lock(), 0))
        self._locks[attempt_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[attempt_id]
            if users <= 1:
                del self._locks[attempt_id]
            else:
                self._locks[attempt_id] = (lock, users - 1)

    async def callback(self, body: Mapping[str, Any], three_ds_url: Callable[[str], str]) -> Answered:
        attempt_id = self._fields.text(body, self._fields.attempt_id)
        body_sha256 = canonical_sha256(body)
        received = self._now()
        async with self._attempt_lock(attempt_id):
            attempt = self._settled.get(attempt_id)
            if attempt is None:
                card = self._card(body)
                if card.behaviour is not Behaviour.SLOW_ISSUER:
                    # Almost every callback is a first one: answer it and let the insert tell whether
                    # the attempt existed (a unique key), instead of paying a read for every callback.
                    # Answering is pure until stored; only the slow issuer has to look first.
                    with contextlib.suppress(DuplicateCallback):
                        return await self._first(body, body_sha256, received, three_ds_url)
                attempt = await self._store.get(attempt_id)
                if attempt is None:
                    try:
                        return await self._first(body, body_sha256, received, three_ds_url)
                    except DuplicateCallback:
                        # Another process sharing the database answered first: its answer is the answer.
                        attempt = await self._store.get(attempt_id)
                        if attempt is None:
                            raise
            return await self._later(attempt, body, body_sha256, received)

    async def _later(self, attempt: Attempt, body: Mapping[str, Any], body_sha256: str, received: datetime) -> Answered:
        self._settle(attempt)
        stored = attempt.callback_with_hash(body_sha256)
        if stored is not None:
            return Answered(attempt.attempt_id, stored.answer, stored.status, stored.error_code, replay=True)
        if len(attempt.callbacks) == 1 and attempt.callbacks[0].status == SOFT_DECLINE:
            return await self._second(attempt, body, body_sha256, received)
        raise Conflict(
            f"this {self._fields.attempt_name} was already answered for a different callback; only the second "
            "callback after a soft decline may reuse it"
        )

    async def _first(
        self, body: Mapping[str, Any], body_sha256: str, received: datetime, three_ds_url: Callable[[str], str]
    ) -> Answered:
        f = self._fields
        attempt_id = f.text(body, f.attempt_id)
        card = self._card(body)
        late: asyncio.Task[str] | None = None
        if card.behaviour is Behaviour.SLOW_ISSUER:
            answer, late = await self._ask_slow_issuer(card)
        elif card.behaviour is Behaviour.SOFT_DECLINE:
            answer = f.soft_decline(SOFT_DECLINE, three_ds_url(attempt_id))
        else:
            answer = self._answer_for(card)
        callback = self._stored(1, body_sha256, answer, received)
        attempt = Attempt(
            attempt_id=attempt_id,
            psp_reference=f.text(body, f.psp_reference),
            merchant_serial_number=f.text(body, f.merchant_serial_number),
            masked_card_number=f.text(body, f.masked_card_number),
            created_at=received,
            completed_redirect_url=f.text(body, f.completed_redirect_url),
            callbacks=(callback,),
        )
        try:
            await self._store.add_first_callback(attempt)
        except BaseException:
            if late is not None:
                late.cancel()
            raise
        if late is not None:
            self._keep(self._record_late_outcome(attempt_id, late))
        self._settle(attempt)
        return Answered(attempt_id, callback.answer, callback.status, callback.error_code, replay=False)

    async def _second(
        self, attempt: Attempt, body: Mapping[str, Any], body_sha256: str, received: datetime
    ) -> Answered:
        f = self._fields
        first = {
            f.psp_reference: attempt.psp_reference,
            f.merchant_serial_number: attempt.merchant_serial_number,
            f.masked_card_number: attempt.masked_card_number,
        }
        changed = [f.shown(role) for role in f.same_as_first if f.text(body, role) != first[role]]
        if changed:
            raise Conflict(
                f"the second callback after a soft decline must carry the first callback's {', '.join(changed)}"
            )
        if attempt.three_ds_decision == "approve":
            answer = self._answer_for(self._cards.default)
        else:
            answer = f.fail(self._cards.three_ds_failed_code, self._cards.three_ds_failed_message)
        callback = self._stored(2, body_sha256, answer, received)
        await self._store.add_callback(attempt.attempt_id, callback)
        self._settle(replace(attempt, callbacks=(*attempt.callbacks, callback)))
        return Answered(attempt.attempt_id, callback.answer, callback.status, callback.error_code, replay=False)

    def _stored(self, sequence: int, body_sha256: str, answer: Mapping[str, Any], received: datetime) -> StoredCallback:
        return StoredCallback(
            sequence=sequence,
            body_sha256=body_sha256,
            status=self._fields.status_of(answer),
            error_code=self._fields.error_code_of(answer),
            answer=json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
            received_at=received,
            answered_at=self._now(),
        )

    def _card(self, body: Mapping[str, Any]) -> TestCard:
        return self._cards.for_masked_number(self._fields.text(body, self._fields.masked_card_number))

    def _answer_for(self, card: TestCard) -> dict[str, Any]:
        if card.behaviour is Behaviour.CAPTURE:
            return self._fields.success("CAPTURE", _network_reference())
        if card.behaviour is Behaviour.FAIL:
            return self._fields.fail(card.error_code, card.error_message)
        return self._fields.success("RESERVE", _network_reference())

    async def _ask_slow_issuer(self, card: TestCard) -> tuple[dict[str, Any], asyncio.Task[str] | None]:
        issuer = asyncio.create_task(self._slow_issuer(card))
        try:
            status = await asyncio.wait_for(asyncio.shield(issuer), timeout=self._budget)
        except TimeoutError:
            # Answer before the deadline with "outcome unknown"; the issuer's answer is kept for patching.
            return self._fields.fail(card.error_code, card.error_message), issuer
        return self._fields.success(status, _network_reference()), None

    async def _slow_issuer(self, card: TestCard) -> str:
        await asyncio.sleep(self._issuer_delay)
        return str(card.late_status)

    async def _record_late_outcome(self, attempt_id: str, issuer: asyncio.Task[str]) -> None:
        status = await issuer
        await self._store.set_late_outcome(attempt_id, status, self._now())
        logger.info(json.dumps({"event": "late_outcome", self._fields.attempt_name: attempt_id, "status": status}))

    def _keep(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def shutdown(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._store.close()

    async def attempt(self, attempt_id: str) -> Attempt:
        attempt = await self._store.get(attempt_id)
        if attempt is None:
            raise NotFound("no authorization attempt with this id")
        return attempt

    async def three_ds(self, attempt_id: str) -> ThreeDSecureView:
        attempt = await self._store.get(attempt_id)
        if attempt is None or not attempt.callbacks or attempt.callbacks[0].status != SOFT_DECLINE:
            raise NotFound("no 3-D Secure session for this authorization attempt")
        return ThreeDSecureView(
            attempt_id, three_ds_state(attempt), attempt.three_ds_decision, attempt.completed_redirect_url
        )

    async def decide(self, attempt_id: str, decision: str) -> ThreeDSecureView:
        """Record the user's 3-D Secure decision, once: a session already decided is a Conflict, unchanged."""
        async with self._attempt_lock(attempt_id):
            view = await self.three_ds(attempt_id)
            if view.state == "closed":
                raise Conflict("this 3-D Secure session is closed: the second callback was already answered")
            decided = "this 3-D Secure session was already decided ({}); a decision is recorded only once"
            if view.decision is not None:
                raise Conflict(decided.format(view.decision))
            if not await self._store.set_three_ds_decision(attempt_id, decision, self._now()):
                # Another process sharing the database recorded a decision in between.
                raise Conflict(decided.format((await self.three_ds(attempt_id)).decision))
            return replace(view, state="decided", decision=decision)


# A simulated network reference is no secret: a seeded PRNG spares a getrandom() system call per
# callback, which released the GIL to the store's thread and showed up as ~6% of the samples.
_references = random.Random()


def _network_reference() -> str:
    return f"{_references.randrange(10**15):015d}"
