"""The 3-D Secure page in a real headless Chromium: the round trip, and what another origin cannot do with it."""

from __future__ import annotations

import copy
import html
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from reference_helpers import form_token, serve_process

from callback_core.spec import bundled_spec_path, read_document

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


class _Completed(BaseHTTPRequestHandler):
    """Stands in for Vipps MobilePay's softDeclineCompletedRedirectUrl, on loopback."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = b"<!DOCTYPE html><title>Completed</title><p id='done'>Back in Vipps MobilePay</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def completed_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Completed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mobileintercept?transactionId=42&responsecode=OK"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _OtherSite(BaseHTTPRequestHandler):
    """Another origin (another port of 127.0.0.1): serves whatever page the test gives it."""

    page = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextmanager
def other_site(page: str) -> Iterator[str]:
    handler = type("Site", (_OtherSite,), {"page": page.encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def _soft_declined(server: Any, first: dict[str, Any]) -> str:
    answer = httpx.post(server.callback_url, json=first).json()
    assert answer["status"] == "SOFT_DECLINE"
    return str(answer["softDeclineRedirectUrl"])


@pytest.mark.parametrize(("decision", "status"), [("approve", "RESERVE"), ("reject", "FAIL")])
def test_soft_decline_round_trip_in_chromium(
    tmp_path: Path, token_callback: dict[str, Any], completed_url: str, decision: str, status: str
) -> None:
    first = copy.deepcopy(token_callback)
    first.update(authorizationAttemptId=f"browser-{decision}", maskedCardNumber="47969485XXXX3000",
                 softDeclineCompletedRedirectUrl=completed_url)
    second = copy.deepcopy(first)
    second["networkToken"]["cryptogram"] = "AfterThreeDSecure=="
    with serve_process(tmp_path, tmp_path / "browser.sqlite3") as server:
        page_url = _soft_declined(server, first)
        with chromium() as page:
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(page_url)
            generator = page.locator('meta[name="generator"]').get_attribute("content")
            assert generator == "card-callback reference server"
            assert page.locator("form").count() == 1
            # The style is applied (allowed by its hash), and the policy refused nothing the page needs.
            assert page.locator("button#approve").evaluate("b => getComputedStyle(b).color") == "rgb(255, 255, 255)"
            page.click(f'button[name="decision"][value="{decision}"]')
            page.wait_for_url(completed_url)
            assert page.locator("#done").inner_text() == "Back in Vipps MobilePay"
            assert not [text for text in console if "Content Security Policy" in text]
        final = httpx.post(server.callback_url, json=second).json()
        attempt = httpx.get(f"{server.base_url}/attempts/browser-{decision}").json()
    assert final["status"] == status
    if status == "FAIL":
        assert final["errorCode"] == "3DS_FAILED"
    assert attempt["threeDSecure"]["decision"] == decision


def test_the_page_does_not_render_in_a_frame_of_another_origin(
    tmp_path: Path, token_callback: dict[str, Any], completed_url: str
) -> None:
    first = {**copy.deepcopy(token_callback), "authorizationAttemptId": "framed",
             "maskedCardNumber": "47969485XXXX3000", "softDeclineCompletedRedirectUrl": completed_url}
    with serve_process(tmp_path, tmp_path / "framed.sqlite3") as server:
        page_url = _soft_declined(server, first)
        frames = (f'<iframe id="psp" src="{html.escape(page_url)}"></iframe>'
                  f'<iframe id="plain" src="{html.escape(completed_url)}"></iframe>')
        with other_site(f"<!DOCTYPE html><title>Clickjacker</title>{frames}") as attacker, chromium() as page:
            page.goto(attacker)
            page.wait_for_load_state("load")
            plain = page.frame_locator("#plain").locator("#done")
            # The harness sees a framed page that renders (one without frame-ancestors) ...
            assert plain.inner_text() == "Back in Vipps MobilePay"
            # ... and the 3-D Secure page, framed the same way, shows nothing of itself.
            psp = page.frame_locator("#psp")
            assert psp.locator("button").count() == 0
            assert psp.locator('meta[name="generator"]').count() == 0
        # Opened on its own, the same page renders its form.
        with chromium() as page:
            page.goto(page_url)
            assert page.locator("button#approve").count() == 1


def test_a_decision_posted_from_another_origin_is_refused(
    tmp_path: Path, token_callback: dict[str, Any], completed_url: str
) -> None:
    first = {**copy.deepcopy(token_callback), "authorizationAttemptId": "cross-site",
             "maskedCardNumber": "47969485XXXX3000", "softDeclineCompletedRedirectUrl": completed_url}
    with serve_process(tmp_path, tmp_path / "cross.sqlite3") as server:
        page_url = _soft_declined(server, first)
        # The worst case: the attacker read the page itself (it needs no login) and copied its token.
        token = form_token(httpx.get(page_url).text)
        form = (f'<form method="post" action="{html.escape(page_url)}">'
                f'<input type="hidden" name="token" value="{html.escape(token)}">'
                '<button id="go" name="decision" value="approve">Win a prize</button></form>')
        with other_site(f"<!DOCTYPE html><title>Prize</title>{form}") as attacker, chromium() as page:
            page.goto(attacker)
            with page.expect_response(page_url) as posted:
                page.click("#go")
            refused = posted.value
            assert refused.status == 403
            assert "another origin" in refused.json()["detail"]
        state = httpx.get(f"{server.base_url}/attempts/cross-site").json()["threeDSecure"]
        assert (state["state"], state["decision"]) == ("open", None)
        # The page's own form still decides.
        with chromium() as page:
            page.goto(page_url)
            page.click("button#approve")
            page.wait_for_url(completed_url)
        assert httpx.get(f"{server.base_url}/attempts/cross-site").json()["threeDSecure"]["decision"] == "approve"


def test_swagger_ui_renders_under_its_policy(tmp_path: Path) -> None:
    with serve_process(tmp_path, tmp_path / "ui.sqlite3") as server, chromium() as page:
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
                else None)
        response = page.goto(f"{server.base_url}/ui/")
        assert response is not None and "'unsafe-inline'" not in response.headers["content-security-policy"]
        # The title comes from the document, fetched and rendered by Swagger UI's own scripts.
        title = read_document(bundled_spec_path())["info"]["title"]
        assert page.locator(".swagger-ui .info .title").inner_text().startswith(title)
        page.locator(".opblock-summary").first.click()
        page.locator(".opblock-body").first.wait_for()
        assert refused == []
