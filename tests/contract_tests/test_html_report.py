"""`test --html`: the page opens offline in headless Chromium, fetches nothing, links every finding, fits a phone."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fixture_psps import PATH
from process_support import stop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from suite_helpers import run_suite, serve

from callback_core.spec import Contract, bundled_spec_path
from contract_tests.html_report import format_html
from contract_tests.transport import asgi_transport
from reference_server.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "card-callback"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PHONE = {"width": 375, "height": 740}


@dataclass(frozen=True)
class Page:
    name: str
    html: Path
    json: dict[str, Any]
    json_path: Path
    exit_code: int


def _test(url: str, folder: Path, name: str) -> Page:
    html, report = folder / f"{name}.html", folder / f"{name}.json"
    env = {k: v for k, v in os.environ.items() if k != "CARD_CALLBACK_HMAC_SECRET"}
    done = subprocess.run([str(CLI), "test", url, "--max-examples", "10", "--seed", "5", "--html", str(html),
                           "--json-report", str(report)], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert f"wrote {html}" in done.stdout, done.stdout[-3000:] + done.stderr
    return Page(name, html, json.loads(report.read_text(encoding="utf-8")), report, done.returncode)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Page]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium)")
    folder = tmp_path_factory.mktemp("html")
    contract = Contract.from_file(bundled_spec_path())
    with serve(create_app(db_path=folder / "attempts.sqlite3", hmac_secret=None)) as base:
        reference = _test(base + contract.path, folder, "reference")
    with _broken_psp(folder / "broken.log") as url:
        broken = _test(url, folder, "broken")
    return {"reference": reference, "broken": broken}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Opened:
    """A page opened in its own context, with every request it made and every console error or page error."""

    def __init__(self, browser: Any, path: Path, viewport: dict[str, int] | None = None) -> None:
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:  # never let it out, and remember that it tried
            self.requests.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("name", ["reference", "broken"])
def test_the_page_opens_offline_with_no_console_error_and_no_request(pages: dict[str, Page], chromium: Any,
                                                                       name: str) -> None:
    page = pages[name]
    opened = Opened(chromium, page.html)
    try:
        assert opened.errors == []
        assert [url for url in opened.requests if not url.startswith("file://")] == []
        text = opened.page.inner_text("body")
        csp = opened.page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    finally:
        opened.close()
    assert csp is not None and csp.startswith("default-src 'none'; style-src 'sha256-") and "script-src" not in csp
    data = page.json
    assert data["target"] in text and re.search(rf"seed\s+{data['seed']} \(the same cases again", text)
    assert f"x-document-version {data['document']['version']}" in text
    assert "deadline" in text and "off (no secret given)" in text
    verdict = {"conforms": "Verdict: conforms (exit 0)", "defects": "Verdict: defects found"}[data["verdict"]]
    assert verdict in text and page.exit_code == data["exitCode"]
    # What the PSP answered, as the JSON report counts it.
    seen = data["coverage"]["answerStatuses"]["seen"]
    assert seen and all(status in text for status in seen)


def test_the_reference_server_conforms_and_its_page_says_what_the_run_reached(pages: dict[str, Page],
                                                                               chromium: Any) -> None:
    page = pages["reference"]
    assert page.exit_code == 0
    assert set(page.json["coverage"]["answerStatuses"]["seen"]) == {"RESERVE", "CAPTURE", "FAIL", "SOFT_DECLINE"}
    opened = Opened(chromium, page.html)
    try:
        rows = opened.page.locator("#checks-table tbody tr")
        assert rows.count() == len(page.json["checks"])
        flows = opened.page.inner_text("#flows")
        assert re.search(r"second callbacks\s.*\s1\b", flows), flows
        assert opened.page.locator("#latency-histogram rect.bin").count() >= 1
        assert opened.page.locator("#deadline-line").is_visible()
        assert opened.page.inner_text("#findings").split() == ["Findings", "None."]
    finally:
        opened.close()


def test_every_defect_of_the_broken_psp_is_reachable_from_the_table_with_curl_and_replay(
        pages: dict[str, Page], chromium: Any) -> None:
    from playwright.sync_api import expect

    page = pages["broken"]
    assert page.exit_code == 1
    defects = [f for f in page.json["failures"] if f["severity"] == "defect"]
    assert {f["code"] for f in defects} >= {"CC002", "CC004", "CC005"}
    opened = Opened(chromium, page.html)
    try:
        links = opened.page.locator("#checks-table a[href^='#f-']")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        articles = opened.page.locator("article.finding")
        ids = [articles.nth(i).get_attribute("id") for i in range(articles.count())]
        assert len(ids) == len(page.json["failures"]) and sorted(hrefs) == sorted(f"#{i}" for i in ids)
        for i, href in enumerate(hrefs):
            opened.page.locator("#checks-table a[href^='#f-']").nth(i).click()
            target = opened.page.locator(str(href))
            assert opened.page.url.endswith(str(href))
            assert target.is_visible()
            expect(target).to_be_in_viewport()  # the link scrolled to it
        for failure in defects:
            article = opened.page.locator("article.finding.defect", has_text=failure["title"]).first
            assert article.locator("h3").inner_text().startswith(f"{failure['code']} defect: ")
            curl = article.locator("pre.curl").first.inner_text()
            assert curl == failure["exchanges"][0]["curl"]
            replay = article.locator("pre.replay").inner_text()
            assert replay == f"card-callback replay {page.json_path} --only-failures"
        assert opened.errors == []
    finally:
        opened.close()


@pytest.mark.parametrize("name", ["reference", "broken"])
def test_a_phone_sized_viewport_has_no_horizontal_overflow(pages: dict[str, Page], chromium: Any, name: str) -> None:
    opened = Opened(chromium, pages[name].html, PHONE)
    try:
        width = opened.page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
        assert max(width) <= PHONE["width"], width
        # Tables stack on a phone: the checks are still all there, one block each.
        assert opened.page.locator("#checks-table thead").is_hidden()
        chart = opened.page.locator("#latency-histogram").bounding_box()
        assert chart is not None and chart["width"] <= PHONE["width"]
    finally:
        opened.close()


def _hostile() -> Starlette:
    """Answers every callback 500 with markup that would fetch, script and restyle, were it not escaped."""
    body = ('<img src="http://127.0.0.1:9/beacon.png"><script>document.title="pwned"</script>'
            '<style>body{display:none}</style><a href="javascript:alert(1)">x</a>\x1b[2J\u202e')

    async def callback(request: Request) -> Response:
        await request.body()
        return Response(body, status_code=500, media_type="text/html")

    return Starlette(routes=[Route(PATH, callback, methods=["POST"])])


def test_an_answer_full_of_markup_is_shown_as_text_and_fetches_nothing(tmp_path: Path, chromium: Any,
                                                                         contract: Contract) -> None:
    with asgi_transport(_hostile()) as transport:
        report, _ = run_suite(transport, "http://psp.test" + PATH, contract, max_examples=2)
    html = tmp_path / "hostile.html"
    html.write_text(format_html(report), encoding="utf-8")
    assert "<img" not in html.read_text() and "<script" not in html.read_text()
    opened = Opened(chromium, html)
    try:
        assert opened.errors == [] and [u for u in opened.requests if not u.startswith("file://")] == []
        assert opened.page.title().startswith("card-callback test: defects found")
        answer = opened.page.locator("article.finding pre", has_text="beacon.png").first.inner_text()
        assert '<img src="http://127.0.0.1:9/beacon.png">' in answer and "\\x1b[2J\\u202e" in answer
        assert opened.page.locator("body").is_visible()
        # Without --json-report the replay line names the report it needs.
        assert opened.page.locator("pre.replay").first.inner_text() == (
            "card-callback replay REPORT.json --only-failures")
    finally:
        opened.close()


class _BrokenPsp:
    """examples/broken_psp as its own process on a free port (nothing imports examples/)."""

    def __init__(self, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "CARD_CALLBACK_HMAC_SECRET"}
        env.update(PORT="0", HOST="127.0.0.1", PYTHONUNBUFFERED="1")
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, str(ROOT / "examples" / "broken_psp" / "app.py")],
                                            env=env, stdout=out, stderr=subprocess.STDOUT)

    def __enter__(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            match = re.search(r"listening on (http://\S+)", self.log.read_text())
            if match:
                return match.group(1)
            time.sleep(0.1)
        stop(self.process)
        raise AssertionError(f"the broken PSP did not start:\n{self.log.read_text()}")

    def __exit__(self, *exc: object) -> None:
        stop(self.process)


def _broken_psp(log: Path) -> _BrokenPsp:
    return _BrokenPsp(log)
