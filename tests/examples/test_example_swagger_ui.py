"""The reference server's Swagger UI in headless Chromium: the callback operation and its examples render."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from examples_support import artifacts_dir, reference_server
from playwright.sync_api import Browser, expect, sync_playwright

from callback_core.spec import Contract

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container has no user namespace for the sandbox
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`card-callback serve` as its own process, the way a spec reviewer starts it."""
    with reference_server(tmp_path_factory.mktemp("serve")) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_callback_operation_and_examples_render(server: str, browser: Browser, contract: Contract) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/ui/")
    tag = contract.operation["tags"][0]
    operation = page.locator(f"#operations-{tag}-{contract.operation_id}")
    expect(operation).to_be_visible(timeout=20_000)
    expect(page.locator(".info .title")).to_contain_text(contract.document["info"]["title"])
    expect(operation.locator(".opblock-summary-path")).to_have_text(contract.path)

    operation.locator(".opblock-summary").click()
    request_body = operation.locator(".opblock-section-request-body")
    expect(request_body).to_be_visible()
    media = contract.operation["requestBody"]["content"]["application/json"]
    request_select = request_body.locator("select.examples-select-element, .examples-select select").first
    summaries = [example["summary"] for example in media["examples"].values()]
    expect(request_select.locator("option")).to_have_text(summaries)
    # Every request example shows its own value once chosen, exactly as the document holds it.
    for name, value in contract.request_examples().items():
        request_select.select_option(label=media["examples"][name]["summary"])
        shown_value = request_body.locator(".microlight, pre").first
        expect(shown_value).to_contain_text(f'"pspReference": "{value["pspReference"]}"')
        shown = json.loads(shown_value.inner_text())
        assert shown == value, name

    responses = operation.locator(".responses-wrapper")
    success = responses.locator("tr.response[data-code='200']")
    expect(success).to_be_visible()
    response_media = contract.operation["responses"]["200"]["content"]["application/json"]
    response_select = success.locator("select").last
    expect(response_select.locator("option")).to_have_text(
        [example["summary"] for example in response_media["examples"].values()]
    )
    for code in sorted(contract.documented_statuses):
        expect(responses.locator(f"tr.response[data-code='{code}']")).to_have_count(1)

    shots = artifacts_dir()
    operation.screenshot(path=str(shots / "swagger-ui-callback-operation.png"))
    page.screenshot(path=str(shots / "swagger-ui.png"), full_page=True)
    assert errors == [], errors
