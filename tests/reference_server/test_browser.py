"""The soft-decline round trip in a real headless Chromium: 3-D Secure page, redirect, second callback."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from reference_helpers import serve_process

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


@pytest.mark.parametrize(("decision", "status"), [("approve", "RESERVE"), ("reject", "FAIL")])
def test_soft_decline_round_trip_in_chromium(
    tmp_path: Path, token_callback: dict[str, Any], completed_url: str, decision: str, status: str
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    first = copy.deepcopy(token_callback)
    first.update(authorizationAttemptId=f"browser-{decision}", maskedCardNumber="47969485XXXX3000",
                 softDeclineCompletedRedirectUrl=completed_url)
    second = copy.deepcopy(first)
    second["networkToken"]["cryptogram"] = "AfterThreeDSecure=="
    with serve_process(tmp_path, tmp_path / "browser.sqlite3") as server:
        answer = httpx.post(server.callback_url, json=first).json()
        assert answer["status"] == "SOFT_DECLINE"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_default_timeout(15_000)
                page.goto(answer["softDeclineRedirectUrl"])
                generator = page.locator('meta[name="generator"]').get_attribute("content")
                assert generator == "card-callback reference server"
                assert page.locator("form").count() == 1
                page.click(f'button[name="decision"][value="{decision}"]')
                page.wait_for_url(completed_url)
                assert page.locator("#done").inner_text() == "Back in Vipps MobilePay"
            finally:
                browser.close()
        final = httpx.post(server.callback_url, json=second).json()
        attempt = httpx.get(f"{server.base_url}/attempts/browser-{decision}").json()
    assert final["status"] == status
    if status == "FAIL":
        assert final["errorCode"] == "3DS_FAILED"
    assert attempt["threeDSecure"]["decision"] == decision
