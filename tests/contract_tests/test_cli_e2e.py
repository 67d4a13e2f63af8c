"""`card-callback test URL` as a process, against fixture PSPs served by uvicorn on a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from fixture_psps import PATH, Defect, make_psp
from suite_helpers import TEST_SECRET, serve, write

from callback_core.spec import Contract, bundled_spec_path, read_document
from contract_tests.catalogue import CHECKS
from reference_server.app import create_app

CLI = Path(sys.executable).parent / "card-callback"
pytestmark = pytest.mark.e2e


def card_callback(*args: str, secret: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CARD_CALLBACK_HMAC_SECRET"}
    if secret is not None:
        env["CARD_CALLBACK_HMAC_SECRET"] = secret
    return subprocess.run([str(CLI), "test", *args], capture_output=True, text=True, env=env, timeout=timeout,
                          check=False)


def test_correct_psp_conforms_and_reports_are_written(tmp_path: Path) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    with serve(make_psp()) as base:
        done = card_callback(base + PATH, "--max-examples", "10", "--seed", "42", "--junit-xml", str(junit),
                             "--json-report", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "seed      42" in done.stdout
    assert "RESULT: conforms" in done.stdout
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["verdict"] == "conforms" and data["exitCode"] == 0 and data["seed"] == 42
    assert len(data["document"]["sha256"]) == 64
    assert [c["code"] for c in data["checks"]] == [check.code for check in CHECKS]
    assert {c["code"]: c["outcome"] for c in data["checks"]}["CC006"] == "skipped"
    assert data["latency"]["count"] == data["requests"] > 0
    assert data["latency"]["p50Seconds"] <= data["latency"]["p95Seconds"] <= data["latency"]["maxSeconds"]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(CHECKS) and suite.get("failures") == "0" and suite.get("skipped") == "3"


def test_test_cards_without_a_soft_decline_leave_the_second_callback_not_exercised(tmp_path: Path) -> None:
    cards = write(tmp_path / "cards.yaml", "cards:\n  - last4: '0051'\n    status: FAIL\n")
    with serve(make_psp()) as base:
        done = card_callback(base + PATH, "--max-examples", "5", "--test-cards", str(cards))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CC009 soft-decline second callbacks are answered" in done.stdout
    assert "NOT EXERCISED" in done.stdout and "--test-cards FILE" in done.stdout
    result = next(line for line in done.stdout.splitlines() if line.startswith("RESULT:"))
    assert result.startswith("RESULT: conforms") and "not exercised: CC009" in result


def test_fail_on_not_exercised_makes_a_flow_never_reached_exit_1_in_every_report(tmp_path: Path) -> None:
    cards = write(tmp_path / "cards.yaml", "cards:\n  - last4: '0051'\n    status: FAIL\n")
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    with serve(make_psp()) as base:
        done = card_callback(base + PATH, "--max-examples", "5", "--test-cards", str(cards), "--fail-on-not-exercised",
                             "--junit-xml", str(junit), "--json-report", str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    result = next(line for line in done.stdout.splitlines() if line.startswith("RESULT:"))
    assert result.startswith("RESULT: defects found (not exercised with --fail-on-not-exercised: CC009);")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert (data["verdict"], data["exitCode"], data["notExercised"]) == ("defects", 1, ["CC009"])
    assert data["coverage"]["flows"]["secondCallbacks"] == 0 and data["coverage"]["flows"]["retriesSameCard"] >= 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_a_bad_test_card_file_is_refused_up_front(tmp_path: Path) -> None:
    cards = write(tmp_path / "cards.yaml", "cards:\n  - last4: 0051\n    status: FAIL\n")
    done = card_callback("http://127.0.0.1:9/cb", "--test-cards", str(cards))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"error: --test-cards {cards}: cards[0].last4 must be four digits in quotes; unquoted, YAML reads 41 as "
        "a number"]


def test_signed_psp_conforms_with_the_secret_from_a_file(tmp_path: Path) -> None:
    secret_file = write(tmp_path / "secret", TEST_SECRET + "\n")
    with serve(make_psp(secret=TEST_SECRET)) as base:
        done = card_callback(base + PATH + "?tenant=demo", "--max-examples", "5",
                             "--hmac-secret-file", str(secret_file))
    assert done.returncode == 0, done.stdout + done.stderr
    assert TEST_SECRET not in done.stdout + done.stderr
    assert "CC006 HMAC signatures are verified" in done.stdout


def test_defect_exits_1_with_a_curl_that_reproduces_it(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    with serve(make_psp(secret=TEST_SECRET, defects=frozenset({Defect.TEXT_PLAIN_ANSWER}))) as base:
        done = card_callback(base + PATH, "--max-examples", "5", "--json-report", str(report), secret=TEST_SECRET)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "CC001 defect: valid callback answer Content-Type is text/plain" in done.stdout
        failure = next(f for f in json.loads(report.read_text())["failures"] if f["code"] == "CC001")
        curl = failure["exchanges"][0]["curl"]
        assert curl in done.stdout
        # The curl carries the exact bytes and the signature: the PSP accepts it and shows the same defect.
        again = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30, check=False)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("HTTP/1.1 200")
    assert "content-type: text/plain" in again.stdout.lower()


def test_crash_on_malformed_json_exits_1_naming_cc002(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    with serve(make_psp(defects=frozenset({Defect.CRASH_ON_MALFORMED_JSON}))) as base:
        done = card_callback(base + PATH, "--max-examples", "5", "--junit-xml", str(junit))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "RESULT: defects found (CC002)" in done.stdout
    failed = [c for c in ET.parse(junit).getroot().iter("testcase") if c.find("failure") is not None]
    assert [c.get("name", "")[:5] for c in failed] == ["CC002"]


def test_unreachable_url_exits_2() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        done = card_callback(f"http://127.0.0.1:{port}/callback", "--max-examples", "1")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "tested nothing: cannot connect" in done.stdout
    assert "RESULT: could not test" in done.stdout


def test_signing_psp_without_a_secret_exits_2_saying_it_tested_nothing() -> None:
    with serve(make_psp(secret=TEST_SECRET)) as base:
        done = card_callback(base + PATH, "--max-examples", "3")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "tested nothing: every valid callback was refused with 401" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://psp.example/cb"], "URL must be an absolute http(s) URL"),
        (["not a url"], "URL must be an absolute http(s) URL"),
        (["http://127.0.0.1:9/cb", "--max-examples", "0"], "--max-examples must be at least 1"),
        (["http://127.0.0.1:9/cb", "--deadline", "-1"], "--deadline must be a positive number"),
        (["http://127.0.0.1:9/cb", "--spec", "/nonexistent/spec.yaml"], "no such file"),
        (["http://127.0.0.1:9/cb", "--hmac-secret-file", "/nonexistent/secret"], "HMAC secret: cannot read"),
        (["http://127.0.0.1:9/cb", "--json-report", "/nonexistent/dir/r.json"], "does not exist"),
    ],
)
def test_bad_options_exit_2_with_one_line(args: list[str], message: str) -> None:
    done = card_callback(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr


@pytest.mark.parametrize("secret", [None, TEST_SECRET], ids=["unsigned", "signed"])
def test_reference_server_conforms_over_http(tmp_path: Path, secret: str | None) -> None:
    # The reference server's document with a 1 s deadline, so its slow-issuer test card answers in 0.75 s.
    document = read_document(bundled_spec_path())
    contract = Contract.from_dict(document)
    document["paths"][contract.path][contract.method.lower()]["x-response-deadline-seconds"] = 1
    spec = write(tmp_path / "card-callback.yaml", yaml.safe_dump(document, sort_keys=False))
    app = create_app(db_path=tmp_path / "attempts.sqlite3", hmac_secret=secret, spec_path=spec)
    report = tmp_path / "report.json"
    with serve(app) as base:
        done = card_callback(base + contract.path, "--spec", str(spec), "--max-examples", "20",
                             "--json-report", str(report), secret=secret)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    outcomes = {c["code"]: c["outcome"] for c in data["checks"]}
    expected_skips = {"CC013"} if secret else {"CC006", "CC008", "CC013"}  # CC013: no auth header in this document
    assert {code for code, outcome in outcomes.items() if outcome == "skipped"} == expected_skips
    assert set(outcomes.values()) <= {"passed", "skipped"}
