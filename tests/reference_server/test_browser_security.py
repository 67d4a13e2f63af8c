"""What the server shows a browser: its headers, the return URLs it accepts and follows, and who may decide."""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from reference_helpers import client_for, decide, form_token, origin

pytestmark = pytest.mark.anyio
Make = Callable[..., dict[str, Any]]
COMPLETED = "https://vipps.example/mobileintercept?transactionId=1&responsecode=OK"
FIXED = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}


def _directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {name: rest for name, *rest in (part.split() for part in policy.split(";") if part.strip())}


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _assert_browser_headers(response: httpx.Response) -> dict[str, list[str]]:
    assert {name: response.headers.get(name) for name in FIXED} == FIXED, response.request.url
    directives = _directives(response)
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"][0] == "'self'"
    assert directives["base-uri"] == ["'none'"]
    return directives


async def _soft_declined(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    answer = await client.post("/psp-makepayment", json=body)
    assert answer.json()["status"] == "SOFT_DECLINE", answer.text
    return str(answer.json()["softDeclineRedirectUrl"])


async def test_every_answer_a_browser_may_see_carries_the_headers(tmp_path: Path, callback: Make) -> None:
    async with client_for(tmp_path) as client:
        url = await _soft_declined(client, callback("3000", "h-1", softDeclineCompletedRedirectUrl=COMPLETED))
        page = await client.get(url)
        decided = await decide(client, url, "approve")
        again = await decide(client, url, "approve", "x")
        decided_page = await client.get(url)
        missing = await client.get("https://psp.test/3ds/nobody")
        operator = await client.get("/attempts/h-1")
        ui = await client.get("/ui/")
        ui_script = await client.get("/ui/swagger-ui-bundle.js")
        unrouted = await client.get("/no/such/page")
        answer = await client.post("/psp-makepayment", json=callback("1234", "h-2"))
    assert (page.status_code, decided.status_code, again.status_code) == (200, 303, 403)
    assert (missing.status_code, operator.status_code, ui.status_code, unrouted.status_code) == (404, 200, 200, 404)
    for response in (page, decided, again, decided_page, missing, operator, ui, ui_script, unrouted):
        _assert_browser_headers(response)
    # The page's one style is allowed by its hash, and its form may be redirected only to the return URL's origin.
    style = re.search(r"<style>(.*?)</style>", page.text, re.S)
    assert style is not None
    directives = _directives(page)
    assert directives["style-src"] == [_hash(style.group(1))]
    assert directives["form-action"] == ["'self'", "https://vipps.example"]
    assert "script-src" not in directives
    assert _directives(decided_page)["form-action"] == ["'self'"]  # no form any more
    # The callback's answers are read by a server, not a browser: kept lean.
    assert answer.status_code == 200 and "content-security-policy" not in answer.headers


async def test_swagger_ui_gets_its_own_files_and_its_inline_code_by_hash(tmp_path: Path) -> None:
    async with client_for(tmp_path) as client:
        ui = await client.get("/ui/")
    directives = _assert_browser_headers(ui)
    scripts = re.findall(r"<script>(.*?)</script>", ui.text, re.S)
    styles = re.findall(r"<style>(.*?)</style>", ui.text, re.S)
    assert scripts and styles
    assert directives["script-src"] == ["'self'", *map(_hash, scripts)]
    assert directives["style-src"] == ["'self'", *map(_hash, styles)]
    assert directives["connect-src"] == ["'self'"]
    assert "'unsafe-inline'" not in ui.headers["content-security-policy"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.domain)",
        "http://psp.example.com/mobileintercept",
        "data:text/html,<script>alert(1)</script>",
        "https://vipps.example@evil.example/",
        "HTTP://127.0.0.1/x",
        "http://127.0.0.1.evil.example/",
    ],
)
async def test_a_return_url_that_is_not_https_is_refused(tmp_path: Path, callback: Make, url: str) -> None:
    async with client_for(tmp_path) as client:
        body = callback("3000", "bad-url", softDeclineCompletedRedirectUrl=url)
        response = await client.post("/psp-makepayment", json=body)
        stored = await client.get("/attempts/bad-url")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "softDeclineCompletedRedirectUrl" in response.json()["detail"]
    assert stored.status_code == 404


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/done?x=1", "http://localhost/done", "http://[::1]:8080/done"])
async def test_http_on_loopback_is_a_valid_return_url(tmp_path: Path, callback: Make, url: str) -> None:
    async with client_for(tmp_path) as client:
        page = await _soft_declined(client, callback("3000", "local", softDeclineCompletedRedirectUrl=url))
        decided = await decide(client, page, "approve")
    assert decided.status_code == 303 and decided.headers["location"] == url


@pytest.mark.parametrize("stored", ["javascript:alert(document.domain)", "http://psp.example.com/back"])
async def test_a_stored_url_that_is_not_https_is_never_linked_or_redirected_to(
    tmp_path: Path, callback: Make, stored: str
) -> None:
    db = tmp_path / "attempts.sqlite3"
    async with client_for(tmp_path, db_path=db) as client:
        url = await _soft_declined(client, callback("3000", "old-row", softDeclineCompletedRedirectUrl=COMPLETED))
        # A row from before the document's pattern, or written by hand.
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE attempts SET completed_redirect_url = ? WHERE attempt_id = 'old-row'", (stored,))
        page = await client.get(url)
        decided = await decide(client, url, "approve", form_token(page.text))
        after = await client.get(url)
        second = await client.post("/psp-makepayment", json={
            **callback("3000", "old-row", softDeclineCompletedRedirectUrl=COMPLETED),
            "networkToken": {**callback()["networkToken"], "cryptogram": "Fresh=="},
        })
    assert stored not in page.text and stored not in after.text and stored not in decided.text
    assert _directives(page)["form-action"] == ["'self'"]
    # The decision is recorded, but the browser stays here and is told why.
    assert decided.status_code == 200 and "location" not in decided.headers
    assert "is not an https URL" in decided.text and "Decision recorded: approve" in after.text
    _assert_browser_headers(decided)
    assert second.json()["status"] == "RESERVE"


async def test_a_post_from_another_origin_is_refused(tmp_path: Path, callback: Make) -> None:
    async with client_for(tmp_path) as client:
        url = await _soft_declined(client, callback("3000", "csrf", softDeclineCompletedRedirectUrl=COMPLETED))
        token = form_token((await client.get(url)).text)
        form = {"decision": "approve", "token": token}
        refused = [
            await client.post(url, data=form, headers=headers)
            for headers in (
                {"Origin": "https://evil.example"},
                {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
                {"Origin": "http://psp.test"},  # the page is on https: http is another origin
                {"Origin": "null", "Sec-Fetch-Site": "cross-site"},  # a sandboxed frame of another site
                {"Origin": "null"},  # nothing says where it came from
                {"Sec-Fetch-Site": "cross-site"},
                {"Sec-Fetch-Site": "same-site"},
            )
        ]
        state = (await client.get("/attempts/csrf")).json()["threeDSecure"]
        # What a browser sends for the page's own form: its no-referrer policy turns Origin into "null".
        own = await client.post(url, data=form, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    async with client_for(tmp_path, db_path=tmp_path / "scripted.sqlite3") as client:
        url = await _soft_declined(client, callback("3000", "csrf", softDeclineCompletedRedirectUrl=COMPLETED))
        token = form_token((await client.get(url)).text)
        # No Origin and no Sec-Fetch-Site: no current browser; the token alone decides.
        scripted = await client.post(url, data={"decision": "approve", "token": token})
    assert [r.status_code for r in refused] == [403] * 7
    assert all("origin" in r.json()["detail"] or "site" in r.json()["detail"] for r in refused)
    assert state["state"] == "open" and state["decision"] is None
    assert own.status_code == 303
    assert scripted.status_code == 303


@pytest.mark.parametrize("token", ["", "not-the-token", "ÿ" * 43, "other-attempt"])
async def test_a_token_that_is_not_the_sessions_is_refused(tmp_path: Path, callback: Make, token: str) -> None:
    async with client_for(tmp_path) as client:
        url = await _soft_declined(client, callback("3000", "tok", softDeclineCompletedRedirectUrl=COMPLETED))
        other = await _soft_declined(client, callback("3000", "other", softDeclineCompletedRedirectUrl=COMPLETED))
        if token == "other-attempt":
            token = form_token((await client.get(other)).text)
        refused = await client.post(url, data={"decision": "approve", "token": token}, headers={"Origin": origin(url)})
        missing = await client.post(url, data={"decision": "approve"}, headers={"Origin": origin(url)})
        state = (await client.get("/attempts/tok")).json()["threeDSecure"]
    assert refused.status_code == 403 and "token" in refused.json()["detail"]
    assert missing.status_code == 400
    assert state["decision"] is None


async def test_the_form_token_outlives_a_restart(tmp_path: Path, callback: Make) -> None:
    db = tmp_path / "kept.sqlite3"
    async with client_for(tmp_path, db_path=db) as client:
        url = await _soft_declined(client, callback("3000", "kept", softDeclineCompletedRedirectUrl=COMPLETED))
        token = form_token((await client.get(url)).text)
    async with client_for(tmp_path, db_path=db) as restarted:
        decided = await decide(restarted, url, "approve", token)
    async with client_for(tmp_path, db_path=tmp_path / "other.sqlite3") as elsewhere:
        await _soft_declined(elsewhere, callback("3000", "kept", softDeclineCompletedRedirectUrl=COMPLETED))
        foreign = await decide(elsewhere, url, "approve", token)
    assert decided.status_code == 303
    assert foreign.status_code == 403  # another database, another key
