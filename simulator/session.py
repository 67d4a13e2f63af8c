"""Play one payment as the app does: send the callback, judge it, complete 3-D Secure, let the user retry."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlencode

import httpx

from callback_core import fields
from callback_core.auth_header import AuthHeader
from callback_core.signing import http_date
from callback_core.spec import Contract
from simulator.callbacks import Callback, retry_callback, second_callback
from simulator.errors import NotAnObject
from simulator.threeds import parse_page
from simulator.transport import USER_AGENT, Sent, describe, make_client, post, prepare
from simulator.verdict import Answer, Outcome, Verdict, classify, final

DEFAULT_MAX_RETRIES = 2


class ThreeDSMode(StrEnum):
    """What to do with a soft decline: complete it on the reference server's page, always, or never."""

    AUTO = "auto"
    APPROVE = "approve"
    REJECT = "reject"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Settings:
    url: str
    deadline_seconds: float
    secret: str | None = None
    retry: bool = False
    max_retries: int = DEFAULT_MAX_RETRIES
    complete_3ds: ThreeDSMode = ThreeDSMode.AUTO
    auth: AuthHeader | None = None  # the cardCallbackAuthHeader value and its header


@dataclass(frozen=True, slots=True)
class ThreeDSStep:
    """The user's visit to the PSP's 3-D Secure page. `broken`: the PSP did not follow the protocol."""

    page_url: str
    completed: bool
    broken: bool
    detail: str
    reference_server: bool = False
    decision: str | None = None
    post_status: int | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One callback sent and judged; `kind` says why it was sent."""

    kind: str
    sent: Sent
    answer: Answer
    verdict: Verdict
    three_ds: ThreeDSStep | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """Every attempt of one payment and the verdict the user ends with."""

    attempts: tuple[Attempt, ...]
    verdict: Verdict
    elapsed_ms: float

    @property
    def http_status(self) -> int | None:
        return self.attempts[-1].answer.http_status if self.attempts else None


def simulate_sync(
    contract: Contract,
    callback: Callback,
    settings: Settings,
    *,
    now: Callable[[], datetime] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Run:
    """`simulate` with its own event loop and client (the CLI's entry point)."""

    async def go() -> Run:
        async with make_client(settings.deadline_seconds, transport) as client:
            return await simulate(contract, callback, settings, client=client, now=now)

    return asyncio.run(go())


async def simulate(
    contract: Contract,
    callback: Callback,
    settings: Settings,
    *,
    client: httpx.AsyncClient,
    now: Callable[[], datetime] | None = None,
) -> Run:
    clock = now or (lambda: datetime.now(UTC))
    started = time.perf_counter()
    attempts: list[Attempt] = []
    retries_left = settings.max_retries if settings.retry else 0
    kind = "callback"
    while True:
        attempt = await _send(contract, callback, settings, client, clock(), kind)
        verdict = attempt.verdict
        if verdict.outcome is Outcome.SOFT_DECLINE and verdict.soft_decline_url:
            step = await _three_ds(client, verdict.soft_decline_url, settings, callback.completion_url,
                                   _name(contract, fields.SOFT_DECLINE_COMPLETED_REDIRECT_URL))
            attempt = dataclasses.replace(attempt, three_ds=step)
            attempts.append(attempt)
            if step.completed:
                second = await _send(
                    contract, second_callback(contract, callback), settings, client, clock(),
                    "second callback after 3-D Secure",
                )
                attempts.append(second)
                verdict = second.verdict
            elif step.broken:
                verdict = final(Outcome.ERROR, f"3-D Secure step: {step.detail}")
            else:
                verdict = dataclasses.replace(verdict, detail=f"{verdict.detail}; {step.detail}")
        else:
            attempts.append(attempt)
        if not (verdict.outcome is Outcome.FAIL and verdict.retryable and retries_left > 0):
            break
        try:
            callback = retry_callback(contract, callback)
        except NotAnObject as exc:
            verdict = dataclasses.replace(verdict, detail=f"{verdict.detail}; no retry: {exc}")
            break
        retries_left -= 1
        kind = f"retry (new {_name(contract, fields.ATTEMPT_ID)})"
    elapsed = (time.perf_counter() - started) * 1000
    return Run(tuple(attempts), verdict, elapsed)


async def _send(
    contract: Contract, callback: Callback, settings: Settings, client: httpx.AsyncClient, moment: datetime, kind: str
) -> Attempt:
    request = prepare(
        client, settings.url, callback.body, secret=settings.secret, scheme=contract.hmac, date=http_date(moment),
        auth=settings.auth,
    )
    answer = await post(client, request, settings.deadline_seconds)
    verdict = classify(answer, contract, deadline_seconds=settings.deadline_seconds)
    return Attempt(kind, describe(request, callback.body, settings.auth, signed=settings.secret is not None), answer,
                   verdict)


def _name(contract: Contract, role: str) -> str:
    """How the document names a role's field, for messages (the role's name when it has no such field)."""
    found = contract.request_role(role)
    return found.property_name if found is not None else role


async def _three_ds(
    client: httpx.AsyncClient, url: str, settings: Settings, expected: str | None, expected_name: str
) -> ThreeDSStep:
    mode = settings.complete_3ds
    auto = mode is ThreeDSMode.AUTO
    if mode is ThreeDSMode.OFF:
        return ThreeDSStep(url, False, False, "3-D Secure not completed (--complete-3ds off)")
    try:
        async with asyncio.timeout(settings.deadline_seconds):
            page = await client.get(url, headers={"Accept": "text/html", "User-Agent": USER_AGENT})
    except (TimeoutError, httpx.HTTPError, httpx.InvalidURL) as exc:
        # In auto mode an unreachable page may simply be a real ACS this machine cannot reach.
        return ThreeDSStep(url, False, not auto, f"could not load the 3-D Secure page ({type(exc).__name__})")
    if page.status_code != 200:
        return ThreeDSStep(url, False, not auto, f"the 3-D Secure page answered HTTP {page.status_code}")
    parsed = parse_page(page.text, str(page.url))
    if auto and not parsed.is_reference_server:
        return ThreeDSStep(
            url, False, False, "not the reference server's page; --complete-3ds approve|reject completes it"
        )
    decision = "reject" if mode is ThreeDSMode.REJECT else "approve"
    step = ThreeDSStep(url, False, True, "", reference_server=parsed.is_reference_server, decision=decision)
    form = parsed.decision_form()
    if form is None:
        return dataclasses.replace(step, detail="the page has no POST form with a 'decision' field")
    if decision not in form.decisions():
        offered = ", ".join(form.decisions())
        return dataclasses.replace(step, detail=f"the form offers no decision {decision!r} (only {offered})")
    try:
        async with asyncio.timeout(settings.deadline_seconds):
            answer = await client.post(
                form.action,
                content=urlencode(form.submission(decision)).encode("ascii"),
                # As a browser posts a form: its hidden fields (the session's token) and the page's Origin.
                headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT,
                         "Origin": parsed.origin},
            )
    except (TimeoutError, httpx.HTTPError, httpx.InvalidURL) as exc:
        return dataclasses.replace(step, detail=f"posting the decision failed ({type(exc).__name__})")
    location = answer.headers.get("location")
    step = dataclasses.replace(step, post_status=answer.status_code, location=location)
    # 303 is the right answer to a form POST; a 302 is followed with a GET by browsers too.
    if answer.status_code not in (302, 303):
        return dataclasses.replace(step, detail=f"posting the decision answered HTTP {answer.status_code}, not 303")
    if expected is None:
        # The PSP cannot be blamed for a redirect it was never told: the body sent had no URL to return to.
        return dataclasses.replace(
            step, broken=False, detail=f"the callback sent has no {expected_name}: nothing to return to"
        )
    if location != expected:
        return dataclasses.replace(
            step, detail=f"the page redirected to {location!r}, not to the callback's {expected_name}"
        )
    done = f"{decision} -> {answer.status_code} to {expected_name}"
    return dataclasses.replace(step, completed=True, broken=False, detail=done)
