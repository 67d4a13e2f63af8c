"""A revision this project never saw works in every command, as issue 17's acceptance asks.

`card-callback-heldout.yaml` was written by hand from openapi/card-callback-v2.yaml, apart from the
project's own revisions: card fields in an `instrument` (a `card` summary, a `schemeToken` with its expiry
in `validTo`, an `encryptedCardNumber`), the discriminator renamed to `instrumentKind` with renamed values,
variants as `allOf` of a shared base, an integer catalogue of its own (with and without x-outcome), a 12 s
deadline, renamed auth and HMAC headers, the body, answers and parameters in components behind chains of
$refs, a nullable answer field and an extra optional request field. `card-callback-v1-components.yaml` is
the shipped v1 with its parameters, request body and answers moved into components.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from heldout_psp import PATH, Defect, make_heldout_psp
from process_support import stop

from callback_core.auth_header import AuthHeader
from callback_core.spec import Contract, bundled_document
from contract_tests.events import RunFinished
from contract_tests.models import Report, Severity, Verdict
from contract_tests.runner import Settings, document_sha256, run
from contract_tests.transport import asgi_transport

HERE = Path(__file__).resolve().parent
HELDOUT = HERE / "card-callback-heldout.yaml"
V1_COMPONENTS = HERE / "card-callback-v1-components.yaml"
V1, V2 = bundled_document("card-callback.yaml"), bundled_document("card-callback-v2.yaml")
CLI = str(Path(sys.executable).with_name("card-callback"))
SECRET = "heldout-secret/3b7e9a1c0f2d+=="
CREDENTIAL = "heldout-credential-81f0aa"
URL = "http://psp.test" + PATH
# The codes of the held-out catalogue the reference server picks for its test cards (by x-outcome where an
# entry declares the card's meaning, else by retryability).
CARD_CODES = {"0051": (4101, True), "0043": (4207, False), "0091": (5091, False)}
THREE_DS_FAILED = 4450
AUTH = AuthHeader("X-Callback-Credential", CREDENTIAL)


def _clean_env() -> dict[str, str]:
    """The environment without the toolkit's secrets: every secret in these runs comes from a file."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CARD_CALLBACK_")}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=_clean_env(), timeout=120)


def _run_suite(psp: Any, contract: Contract, seed: int, max_examples: int) -> Report:
    """The contract suite against `psp` in-process, signed, with the credential, SHOULD rules as defects."""
    settings = Settings(url=URL, contract=contract, spec_sha256=document_sha256(contract.source.encode()), seed=seed,
                        deadline=None, max_examples=max_examples, strict=True, secret=SECRET, auth=AUTH)
    with asgi_transport(psp) as transport:
        last = list(run(settings, transport))[-1]
    assert isinstance(last, RunFinished)
    return last.report


def _defects(report: Report) -> set[str]:
    return {f.code for f in report.failures if f.severity is Severity.DEFECT}


@pytest.mark.parametrize("document", [HELDOUT, V1_COMPONENTS], ids=["heldout", "v1-components"])
def test_lint_passes(document: Path) -> None:
    done = _cli("lint", str(document), "--fail-on", "warning")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"{document}: OK"


def test_v1_with_its_bodies_in_components_is_the_same_contract() -> None:
    done = _cli("diff", str(V1), str(V1_COMPONENTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RESULT: nothing breaks; no changes" in done.stdout


def _diff(old: Path, new: Path) -> tuple[int, list[dict[str, Any]]]:
    done = _cli("diff", str(old), str(new), "--format", "json")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)["changes"]


def _said(changes: list[dict[str, Any]], rule: str, *words: str) -> bool:
    return any(c["id"] == rule and all(w in c["message"] for w in words) for c in changes)


@pytest.mark.parametrize("old", [V1, V2], ids=["from-v1", "from-v2"])
def test_diff_from_a_shipped_document_names_what_breaks(old: Path) -> None:
    code, changes = _diff(old, HELDOUT)
    assert code == 1
    missing = [what for what, rule, words in [
        ("the discriminator's new values", "CD017", ("SCHEME_TOKEN",)),
        ("the discriminator's new values", "CD017", ("ENCRYPTED_CARD_NUMBER",)),
        ("the discriminator renamed and moved", "CD016", ("instrumentKind",)),
        ("the masked card number moved", "CD007", ("maskedNumber",)),
        ("the token expiry moved under validTo", "CD007", ("validTo",)),
        ("the shorter deadline", "CD051", ("12",)),
        ("the new auth header", "CD058", ("X-Callback-Credential",)),
        ("the renamed HMAC headers", "CD056", ("X-Vmp-Signature",)),
        ("the new optional request field", "CD001", ("paymentContext",)),
    ] if not _said(changes, rule, *words)]
    if old == V1:
        missing += [what for what, rule, words in [
            ("errorCode becoming an integer", "CD027", ("errorCode", "integer")),
            ("the required amount added", "CD002", ("amount",)),
        ] if not _said(changes, rule, *words)]
    assert missing == [], f"not named: {missing}"


@pytest.mark.parametrize("old", [V1, V2], ids=["from-v1", "from-v2"])
def test_diff_raises_no_false_alarm_for_fields_that_moved(old: Path) -> None:
    # Every required field of the shipped documents is in the held-out revision, renamed or moved by its role
    # (the token's expiry into schemeToken.validTo): no required field was removed, for any variant.
    _, changes = _diff(old, HELDOUT)
    assert [c["message"] for c in changes if c["id"] == "CD004"] == []


def test_diff_sees_a_tightened_field_across_renamed_discriminator_values(tmp_path: Path) -> None:
    # The held-out revision with merchantSerialNumber narrowed to six digits: a v2 PSP's four-digit test
    # merchants are refused. Every discriminator value changed between the two, which must not hide it.
    document = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    body = document["components"]["schemas"]["AuthorisationRequestBody"]
    body["properties"]["merchantSerialNumber"]["pattern"] = "^[0-9]{6}$"
    examples = document["components"]["requestBodies"]["CardAuthorisationV3"]["content"]["application/json"]
    examples["examples"]["encryptedCard"]["value"]["merchantSerialNumber"] = "343434"
    narrowed = tmp_path / "narrowed.yaml"
    narrowed.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    _, changes = _diff(V2, narrowed)
    assert _said(changes, "CD013", "merchantSerialNumber"), json.dumps(changes, indent=1)[:4000]


@pytest.fixture(scope="module")
def heldout() -> Contract:
    return Contract.from_file(HELDOUT)


@pytest.mark.parametrize("seed", range(1, 6))
def test_a_correct_psp_on_the_heldout_revision_conforms(heldout: Contract, seed: int) -> None:
    psp = make_heldout_psp(credential=CREDENTIAL, secret=SECRET)
    report = _run_suite(psp, heldout, seed, max_examples=30)
    assert report.verdict is Verdict.CONFORMS, [(f.code, f.title) for f in report.failures]


@pytest.mark.parametrize(("defect", "codes", "seed"), [
    (Defect.IGNORE_CREDENTIAL, {"CC013"}, 1),
    (Defect.IGNORE_SIGNATURE, {"CC006", "CC008"}, 2),
    (Defect.STRING_ERROR_CODE, {"CC001"}, 3),
    (Defect.REFUSE_RETRIES, {"CC010"}, 4),
    (Defect.READS_V2_SHAPE, {"CC002"}, 5),
    (Defect.TOKEN_ONLY, {"CC001"}, 1),
    (Defect.CLOSED_OBJECTS, {"CC005"}, 2),
    (Defect.CLOSED_EXPIRY, {"CC005"}, 3),
    (Defect.SECOND_CALLBACK_CONFLICT, {"CC009"}, 4),
    (Defect.REFUSES_RECURRING, {"CC001"}, 5),
    (Defect.LAX_KIND, {"CC004"}, 1),
])
def test_each_defect_of_a_heldout_psp_is_found(heldout: Contract, defect: Defect, codes: set[str], seed: int) -> None:
    psp = make_heldout_psp(credential=CREDENTIAL, secret=SECRET, defects=frozenset({defect}))
    # Fewer generated callbacks than for the correct PSP: every defect shows in the first dozen and its probes.
    report = _run_suite(psp, heldout, seed, max_examples=12)
    assert _defects(report) == codes, [(f.code, f.title) for f in report.failures]


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("heldout-secrets")
    (folder / "secret").write_text(SECRET, encoding="utf-8")
    (folder / "credential").write_text(CREDENTIAL, encoding="utf-8")
    return folder / "secret", folder / "credential"


def _serve(document: Path, folder: Path, secret: Path, credential: Path | None) -> tuple[subprocess.Popen[str], str]:
    """`card-callback serve --port 0` on `document`; the process and the callback URL its banner prints."""
    args = [CLI, "serve", "--port", "0", "--db", str(folder / "ref.sqlite3"), "--spec", str(document),
            "--hmac-secret-file", str(secret)]
    if credential is not None:
        args += ["--auth-header-file", str(credential)]
    # The server logs a line per callback: into a file, since a pipe nobody reads would fill up and stall it.
    log = folder / "serve.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True, env=_clean_env())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        banner = log.read_text(encoding="utf-8")
        if "Application startup complete" in banner:
            url = next(line.split("callback:", 1)[1].strip() for line in banner.splitlines()
                       if line.strip().startswith("callback:"))
            return process, url
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop(process)
    raise AssertionError("card-callback serve did not start:\n" + log.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def served_heldout(secrets: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = _serve(HELDOUT, tmp_path_factory.mktemp("heldout-serve"), *secrets)
    try:
        yield url
    finally:
        stop(process)


def _send(url: str, secrets: tuple[Path, Path], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CLI, "send", url, "--spec", str(HELDOUT), "--hmac-secret-file", str(secrets[0]), "--auth-header-file",
         str(secrets[1]), "--json", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_clean_env())


def _sent(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out + err
    result: dict[str, Any] = json.loads(out)
    assert CREDENTIAL not in out and SECRET not in out
    return result


@pytest.mark.e2e
def test_send_reaches_every_test_cards_outcome(served_heldout: str, secrets: tuple[Path, Path]) -> None:
    # The slow issuer answers after three quarters of the 12 s deadline: sent first, judged last.
    slow = _send(served_heldout, secrets, "--card-last4", "0091")
    outcomes = {last4: _sent(_send(served_heldout, secrets, "--card-last4", last4))
                for last4 in ("1234", "0002", "0051", "0043")}
    assert outcomes["1234"]["outcome"] == "RESERVE"
    assert outcomes["0002"]["outcome"] == "CAPTURE"
    outcomes["0091"] = _sent(slow)
    for last4, (code, retryable) in CARD_CODES.items():
        answer = outcomes[last4]["attempts"][-1]["answer"]["body"]
        assert (outcomes[last4]["outcome"], answer["errorCode"], outcomes[last4]["retryable"]) == (
            "FAIL", code, retryable), outcomes[last4]
        assert type(answer["errorCode"]) is int  # the catalogue's type, not "4101"
    assert outcomes["0091"]["attempts"][0]["answer"]["elapsedMs"] < 12_000

    approved = _sent(_send(served_heldout, secrets, "--card-last4", "3000", "--complete-3ds", "approve"))
    assert [a["outcome"] for a in approved["attempts"]] == ["SOFT_DECLINE", "RESERVE"], approved
    rejected = _sent(_send(served_heldout, secrets, "--card-last4", "3000", "--complete-3ds", "reject"))
    assert [a["outcome"] for a in rejected["attempts"]] == ["SOFT_DECLINE", "FAIL"], rejected
    assert rejected["attempts"][-1]["answer"]["body"]["errorCode"] == THREE_DS_FAILED


@pytest.mark.e2e
def test_the_served_heldout_reference_conforms(served_heldout: str, secrets: tuple[Path, Path]) -> None:
    done = _cli("test", served_heldout, "--spec", str(HELDOUT), "--hmac-secret-file", str(secrets[0]),
                "--auth-header-file", str(secrets[1]), "--max-examples", "30", "--seed", "1", "--strict")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"CC013 the auth header is verified \.+ PASSED", done.stdout)
    assert re.search(r"CC009 soft-decline second callbacks are answered \.+ PASSED", done.stdout)
    assert "RESULT: conforms" in done.stdout
    assert CREDENTIAL not in done.stdout and SECRET not in done.stdout


@pytest.mark.e2e
def test_the_served_v1_in_components_conforms(secrets: tuple[Path, Path], tmp_path: Path) -> None:
    process, url = _serve(V1_COMPONENTS, tmp_path, secrets[0], None)
    try:
        done = _cli("test", url, "--spec", str(V1_COMPONENTS), "--hmac-secret-file", str(secrets[0]),
                    "--max-examples", "30", "--seed", "2", "--strict")
    finally:
        stop(process)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"CC009 soft-decline second callbacks are answered \.+ PASSED", done.stdout)
    assert "RESULT: conforms" in done.stdout
