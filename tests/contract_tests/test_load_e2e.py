"""`card-callback load URL` as a process against fixture PSPs and the reference server: the verdicts and reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fixture_psps import PATH, Defect, make_psp
from load_psps import breaking_under_load, failing_one_in, serialised
from suite_helpers import serve, write

from callback_core.spec import Contract, bundled_spec_path, read_document
from card_callback.cli import main
from reference_server.app import create_app

CLI = Path(sys.executable).parent / "card-callback"
CHROMIUM = Path("/usr/bin/chromium")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Short numbers that keep the story of a 0.5 s-per-callback PSP at 50 users and a 20 s deadline: the queue
# (50 x 0.04 s = 2 s) is twice the deadline (1 s), while one at a time (the suite's 4 lanes) takes 0.16 s.
SERIAL_SECONDS = 0.04
SHORT_DEADLINE = 1.0
pytestmark = pytest.mark.e2e


def card_callback(*args: str, secret: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CARD_CALLBACK_HMAC_SECRET"}
    if secret is not None:
        env["CARD_CALLBACK_HMAC_SECRET"] = secret
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, env=env, timeout=timeout, check=False)


def short_deadline_document(folder: Path) -> Path:
    """The bundled document with a 2 s x-response-deadline-seconds: the document's deadline, made short."""
    document = read_document(bundled_spec_path())
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "x-response-deadline-seconds" in operation:
                operation["x-response-deadline-seconds"] = SHORT_DEADLINE
    return write(folder / "short-deadline.yaml", yaml.safe_dump(document, sort_keys=False))


@contextmanager
def serial_psp() -> Iterator[str]:
    """A fresh instance each time: answers a client gave up on still hold the lock after a run."""
    with serve(serialised(SERIAL_SECONDS)) as base:
        yield base + PATH


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One process, 50 users, the bundled document and a shorter --deadline; the reports kept."""
    folder = tmp_path_factory.mktemp("serial")
    with serial_psp() as url:
        done = card_callback("load", url, "--users", "50", "--rate", "max", "--duration", "3s", "--deadline",
                             str(SHORT_DEADLINE),
                             "--seed", "7", "--json", str(folder / "load.json"), "--html", str(folder / "load.html"),
                             "--junit-xml", str(folder / "load.xml"))
    return {"done": done, "json": json.loads((folder / "load.json").read_text()), "html": folder / "load.html",
            "junit": ET.parse(folder / "load.xml").getroot()}


def test_serialising_psp_passes_the_contract_suite() -> None:
    with serial_psp() as url:
        done = card_callback("test", url, "--max-examples", "1", "--seed", "7", "--deadline", str(SHORT_DEADLINE))
    assert done.returncode == 0, done.stdout + done.stderr


def test_serialising_psp_fails_under_load_naming_the_misses(serial_run: dict[str, Any]) -> None:
    done, report = serial_run["done"], serial_run["json"]
    assert done.returncode == 1, done.stdout + done.stderr
    assert report["verdict"] == "defects"
    assert report["deadlineMisses"] > 0
    assert report["latency"]["maxSeconds"] > SHORT_DEADLINE
    assert report["deadlinePercentile"] < 100
    assert {error["code"] for error in report["errors"]} == {"CC003"}
    assert "deadline misses:" in done.stdout and "the deadline falls at p" in done.stdout
    assert f"missed the {SHORT_DEADLINE:g} s deadline (CC003)" in done.stdout


def test_the_junit_report_fails_the_deadline_case_and_passes_the_others(serial_run: dict[str, Any]) -> None:
    suite = serial_run["junit"].find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["CC001 valid callbacks get a valid answer", "CC002 no server errors",
                           "CC003 answers within the deadline", "load produced at the requested rate"]
    failure = cases["CC003 answers within the deadline"].find("failure")
    assert failure is not None and f"missed the {SHORT_DEADLINE:g} s deadline" in failure.get("message", "")
    assert all(not list(case) for name, case in cases.items() if not name.startswith("CC003"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "0")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["verdict"] == "defects" and properties["seed"] == "7"


def test_serialising_psp_fails_on_two_workers_with_the_documents_deadline(
    tmp_path: Path, serial_run: dict[str, Any]
) -> None:
    """The same verdict as the one-process run, with the same deadline read from the document, not an option."""
    with serial_psp() as url:
        done = card_callback("load", url, "--spec", str(short_deadline_document(tmp_path)), "--users", "50",
                             "--rate", "max", "--duration", "3s", "--seed", "7", "--workers", "2",
                             "--json", str(tmp_path / "load.json"))
    report = json.loads((tmp_path / "load.json").read_text())
    assert done.returncode == 1, done.stdout + done.stderr
    assert report["deadlineSeconds"] == SHORT_DEADLINE and report["requested"]["workers"] == 2
    assert report["deadlineMisses"] > 0
    one_process = serial_run["json"]
    assert (report["verdict"], report["exitCode"]) == (one_process["verdict"], one_process["exitCode"])
    assert {e["code"] for e in report["errors"]} == {e["code"] for e in one_process["errors"]} == {"CC003"}


@pytest.mark.browser
def test_html_report_shows_latency_against_the_deadline_in_chromium(serial_run: dict[str, Any]) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--headless"])
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(serial_run["html"].as_uri())
            chart = page.locator("svg#latency-chart")
            expect(chart).to_be_visible()
            expect(chart.locator("polyline[data-series=p99]")).to_have_count(1)
            deadline = chart.locator("#deadline-line")
            expect(deadline).to_be_visible()
            expect(chart.locator("#deadline-label")).to_have_text(f"deadline {SHORT_DEADLINE:g} s")
            # The deadline line sits below the p99 line's highest point: the misses are visible.
            box = deadline.bounding_box()
            top_of_p99 = chart.locator("polyline[data-series=p99]").bounding_box()
            assert box is not None and top_of_p99 is not None and top_of_p99["y"] < box["y"]
            expect(page.locator("#errors")).to_contain_text("CC003")
            assert requests == [serial_run["html"].as_uri()]  # self-contained: nothing fetched
        finally:
            browser.close()


def test_psp_answering_500_to_one_in_a_hundred_fails(tmp_path: Path) -> None:
    with serve(failing_one_in(100)) as base:
        done = card_callback("load", base + PATH, "--users", "20", "--rate", "300", "--duration", "2s", "--seed", "3",
                             "--json", str(tmp_path / "load.json"))
    report = json.loads((tmp_path / "load.json").read_text())
    assert done.returncode == 1, done.stdout + done.stderr
    errors = {error["code"]: error for error in report["errors"]}
    assert errors["CC002"]["title"] == "answered 500 to a valid callback"
    assert errors["CC002"]["count"] == report["requests"] // 100


def test_psp_breaking_the_answer_schema_under_load_fails(tmp_path: Path) -> None:
    with serve(breaking_under_load(5)) as base:
        done = card_callback("load", base + PATH, "--users", "30", "--rate", "max", "--duration", "2s", "--seed", "3",
                             "--json", str(tmp_path / "load.json"))
    report = json.loads((tmp_path / "load.json").read_text())
    assert done.returncode == 1, done.stdout + done.stderr
    assert [e["code"] for e in report["errors"]] == ["CC001"]
    assert "does not match the response schema" in report["errors"][0]["title"]
    assert report["outcomes"]["invalid answer"] == report["errors"][0]["count"]


def test_a_rate_the_generator_cannot_produce_exits_2_with_the_reason(tmp_path: Path) -> None:
    with serve(make_psp()) as base:
        done = card_callback("load", base + PATH, "--users", "1", "--rate", "3000", "--duration", "1s",
                             "--seed", "3", "--json", str(tmp_path / "load.json"))
    report = json.loads((tmp_path / "load.json").read_text())
    assert done.returncode == 2, done.stdout + done.stderr
    assert report["verdict"] == "untested" and report["errors"] == []
    assert any("could not produce the load" in reason and "below 90% of the requested 3000/s" in reason
               for reason in report["reasons"]), report["reasons"]


def test_an_unreachable_url_exits_2_early_saying_it_tested_nothing() -> None:
    done = card_callback("load", "http://127.0.0.1:9/callback", "--users", "5", "--duration", "30s", "--seed", "3",
                         timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "tested nothing: no callback got an answer" in done.stdout
    assert "Connection refused" in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--master", "--worker"], "--master and --worker exclude each other"),
    (["--master"], "--master needs --workers K"),
    (["--users", "0"], "--users must be at least 1"),
    (["--duration", "soon"], "--duration must look like 60, 60s, 2m or 1h"),
    (["--users", "100", "--spawn-rate", "10", "--duration", "5s"], "must not be shorter than the ramp-up"),
])
def test_bad_options_exit_2_with_one_line(args: list[str], message: str) -> None:
    # Checked before the load process starts (so in-process here: a valid command line would replace pytest).
    done = CliRunner().invoke(main, ["load", "http://127.0.0.1:9/callback", *args])
    assert done.exit_code == 2
    assert message in done.stderr and done.stderr.count("\n") == 1


def test_the_auth_header_value_goes_on_every_callback_under_load(tmp_path: Path) -> None:
    from v2_psp import PATH as V2_PATH
    from v2_psp import make_v2_psp

    from callback_core.spec import bundled_document

    value_file = write(tmp_path / "auth", "psp-chosen-value-7\n")
    v2 = str(bundled_document("card-callback-v2.yaml"))
    with serve(make_v2_psp(auth_value="psp-chosen-value-7")) as base:
        done = card_callback("load", base + V2_PATH, "--spec", v2, "--auth-header-file", str(value_file),
                             "--users", "5", "--rate", "50", "--duration", "2s", "--seed", "3",
                             "--json", str(tmp_path / "with.json"))
        without = card_callback("load", base + V2_PATH, "--spec", v2, "--users", "5", "--rate", "50",
                                "--duration", "2s", "--seed", "3", "--json", str(tmp_path / "without.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "psp-chosen-value-7" not in done.stdout + done.stderr + (tmp_path / "with.json").read_text()
    assert without.returncode == 2, without.stdout + without.stderr  # every callback refused: nothing was tested
    assert "--auth-header-file" in " ".join(json.loads((tmp_path / "without.json").read_text())["reasons"])


def test_test_cards_bring_soft_declines_and_declines_and_their_follow_ups_under_load(tmp_path: Path) -> None:
    app = create_app(db_path=tmp_path / "attempts.sqlite3")
    with serve(app) as base:
        done = card_callback("load", base + Contract.from_file().path, "--test-cards",
                             str(EXAMPLES / "test-cards.yaml"), "--users", "10",
                             "--rate", "60", "--duration", "3s", "--seed", "5", "--json", str(tmp_path / "load.json"))
    report = json.loads((tmp_path / "load.json").read_text())
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["outcomes"]["SOFT_DECLINE"] > 0 and report["outcomes"]["FAIL"] > 0
    follow_ups = report["followUps"]
    assert 0 < follow_ups["second callback after SOFT_DECLINE"]["sent"] <= report["outcomes"]["SOFT_DECLINE"]
    assert follow_ups["retry after FAIL, same card"]["sent"] > 0
    assert follow_ups["retry after FAIL, another card"]["sent"] > 0
    assert "second callback after SOFT_DECLINE" in done.stdout and report["testCards"].endswith("test-cards.yaml")


def test_the_default_rate_judges_a_fast_psp_without_running_out(tmp_path: Path) -> None:
    """No options but a shorter run: the default rate and users; callbacks are built as sent, so none run out."""
    with serve(make_psp()) as base:
        done = card_callback("load", base + PATH, "--duration", "4s", "--json", str(tmp_path / "load.json"))
    report = json.loads((tmp_path / "load.json").read_text())
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["requested"]["rate"] == 200
    assert report["verdict"] == "conforms" and report["reasons"] == []


def test_a_psp_refusing_every_retry_fails_under_load(tmp_path: Path) -> None:
    with serve(make_psp(defects=frozenset({Defect.RETRY_CONFLICT}))) as base:
        done = card_callback("load", base + PATH, "--test-cards", str(EXAMPLES / "test-cards.yaml"), "--users", "10",
                             "--rate", "60", "--duration", "2s", "--seed", "5", "--json", str(tmp_path / "load.json"))
    report = json.loads((tmp_path / "load.json").read_text())
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CC010" in {error["code"] for error in report["errors"]}
