"""`x-hmac-signing` is read in full: a document that renames the signature headers still gives a conforming,
signed run of the reference server and the suite, both building names and the string to sign from it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from suite_helpers import TEST_SECRET, run_suite

from callback_core import signing
from callback_core.errors import SignatureError, SpecError
from callback_core.secrets import SECRET_ENV
from callback_core.spec import Contract
from contract_tests.events import RequestDone
from contract_tests.models import Outcome, Role, Verdict
from contract_tests.transport import asgi_transport
from reference_server.app import create_app

URL = "http://reference.test/psp-makepayment"
RENAMED = {"Authorization": "X-Psp-Signature", "X-Ms-Date": "X-Vipps-Date",
           "X-Ms-Content-Sha256": "X-Vipps-Body-Sha256"}


def renamed_document(document: dict[str, Any], path: Path) -> Path:
    """The document with every signature header renamed: the slots, the names and the signed-header list."""
    contract = Contract.from_dict(document)
    operation = document["paths"][contract.path][contract.method.lower()]
    scheme = operation["x-hmac-signing"]
    scheme["headers"] = {key: RENAMED[name] for key, name in scheme["headers"].items()}
    scheme["signedHeaders"] = [RENAMED.get(_title(name), name).lower() for name in scheme["signedHeaders"]]
    for parameter in operation["parameters"]:
        parameter["name"] = RENAMED.get(parameter["name"], parameter["name"])
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def test_a_document_with_renamed_signature_headers_conforms_signed(document: dict[str, Any], tmp_path: Path) -> None:
    spec = renamed_document(document, tmp_path / "renamed.yaml")
    contract = Contract.from_file(spec)
    assert contract.hmac.signed_headers == ("x-vipps-date", "host", "x-vipps-body-sha256")
    app = create_app(db_path=tmp_path / "attempts.sqlite3", hmac_secret=TEST_SECRET, spec_path=spec)
    with asgi_transport(app) as transport:
        report, events = run_suite(transport, URL, contract, secret=TEST_SECRET, strict=True)
    assert report.verdict is Verdict.CONFORMS, report.failures
    assert {r.check.code: r.outcome for r in report.results}["CC006"] is Outcome.PASSED
    valid = [e.exchange.request for e in events if isinstance(e, RequestDone) and e.exchange.probe.role is Role.VALID]
    assert valid and all(r.header("X-Vipps-Date") and r.header("X-Psp-Signature") for r in valid)
    assert not any(r.header("X-Ms-Date") or r.header("Authorization") for r in valid)


def test_both_sides_build_the_string_to_sign_from_the_scheme(document: dict[str, Any], tmp_path: Path) -> None:
    scheme = Contract.from_file(renamed_document(document, tmp_path / "renamed.yaml")).hmac
    body, date = b'{"a":1}', "Thu, 30 Mar 2023 08:38:32 GMT"
    headers = signing.sign(TEST_SECRET, method="POST", path_and_query="/cb", host="psp.test", body=body, date=date,
                           scheme=scheme).as_dict(scheme)
    assert set(headers) == {"X-Psp-Signature", "X-Vipps-Date", "X-Vipps-Body-Sha256"}
    assert headers["X-Psp-Signature"].startswith("HMAC-SHA256 SignedHeaders=x-vipps-date;host;x-vipps-body-sha256&")
    received = {name.lower(): value for name, value in headers.items()} | {"host": "psp.test"}
    signing.verify(TEST_SECRET, method="POST", path_and_query="/cb", headers=received, body=body,
                   now=signing.parsedate_to_datetime(date), max_skew_seconds=300, scheme=scheme)
    # The published names are not accepted in their place, and the published scheme's signature differs.
    with pytest.raises(SignatureError, match="x-vipps-date header is missing"):
        signing.verify(TEST_SECRET, method="POST", path_and_query="/cb", body=body, max_skew_seconds=300,
                       headers={k.lower(): v for k, v in signing.sign(
                           TEST_SECRET, method="POST", path_and_query="/cb", host="psp.test", body=body,
                           date=date).as_dict().items()} | {"host": "psp.test"},
                       now=signing.parsedate_to_datetime(date), scheme=scheme)


def test_a_signed_header_the_scheme_does_not_set_is_a_document_error(document: dict[str, Any]) -> None:
    contract = Contract.from_dict(document)
    document["paths"][contract.path][contract.method.lower()]["x-hmac-signing"]["signedHeaders"].append("x-other")
    with pytest.raises(SpecError, match="signedHeaders may only name host"):
        Contract.from_dict(document)


@pytest.mark.e2e
def test_make_run_conforms_with_the_renamed_document(document: dict[str, Any], tmp_path: Path) -> None:
    spec = renamed_document(document, tmp_path / "renamed.yaml")
    script = Path(__file__).resolve().parents[2] / "scripts" / "run_against_reference.py"
    env = {**os.environ, SECRET_ENV: TEST_SECRET}
    done = subprocess.run([sys.executable, str(script), "--spec", str(spec), "--max-examples", "5", "--seed", "2"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "RESULT: conforms" in done.stdout
    assert re.search(r"CC006 HMAC signatures are verified \.+ PASSED", done.stdout)
    assert TEST_SECRET not in done.stdout + done.stderr
