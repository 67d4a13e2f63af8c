"""examples/payloads/v2: the same cases in the nested-cardInfo revision, linted and answered under that document."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from examples_support import reference_server
from test_example_payloads import REFERENCE_ANSWERS, SLOW

from callback_core.spec import Contract, bundled_document, bundled_spec_path
from card_callback.cli import main

PAYLOADS = Path(__file__).resolve().parents[2] / "examples" / "payloads"
V2_PAYLOADS = PAYLOADS / "v2"
V2 = bundled_document("card-callback-v2.yaml")


def test_each_folder_passes_the_linter_with_its_own_document_only() -> None:
    own = CliRunner().invoke(main, ["lint", str(V2), "--payloads", str(V2_PAYLOADS)])
    assert own.exit_code == 0, own.output
    count = len(list(V2_PAYLOADS.glob("*.json")))
    assert own.output.rstrip().endswith(f"v2: {count} payload(s) OK")
    crossed = CliRunner().invoke(main, ["lint", str(V2), "--payloads", str(PAYLOADS)])
    assert crossed.exit_code == 1
    assert "request-1234-reserve-token.json: #: CL015 error: 'cardInfo' is a required property" in crossed.output


def test_every_request_has_its_first_document_twin_and_is_listed() -> None:
    readme = (V2_PAYLOADS / "README.md").read_text()
    requests = sorted(p.name for p in V2_PAYLOADS.glob("request-*.json"))
    assert requests == sorted(name for name in REFERENCE_ANSWERS if "5555" not in name)
    for name in (p.name for p in V2_PAYLOADS.glob("*.json")):
        assert f"`{name}`" in readme, name
    v2 = Contract.from_file(V2)
    kinds = {json.loads((V2_PAYLOADS / name).read_text())["cardInfo"]["cardDataType"] for name in requests}
    assert kinds == {"TOKEN", "PAN"}
    assert {json.loads(p.read_text())["status"] for p in V2_PAYLOADS.glob("response-*.json")} == set(v2.statuses)


@pytest.mark.e2e
def test_serve_spec_v2_answers_each_request_as_its_twin(tmp_path: Path) -> None:
    first, v2 = Contract.from_file(bundled_spec_path()), Contract.from_file(V2)
    with reference_server(tmp_path, "--spec", str(V2)) as base:
        for file in sorted(V2_PAYLOADS.glob("request-*.json")):
            if file.name == SLOW:
                continue
            answer = httpx.post(f"{base}/psp-makepayment", content=file.read_bytes(),
                                headers={"Content-Type": "application/json"}, timeout=30)
            assert answer.status_code == 200, (file.name, answer.text)
            body = answer.json()
            status, twin_code = REFERENCE_ANSWERS[file.name]
            assert body["status"] == status, file.name
            if twin_code is None:
                assert "errorCode" not in body, file.name
                continue
            # The same meaning as the twin's code, in v2's own catalogue and type (an integer).
            entry, twin = v2.error_code(body["errorCode"]), first.error_code(twin_code)
            assert type(body["errorCode"]) is int and entry is not None and twin is not None, (file.name, body)
            assert entry.outcome == twin.outcome and entry.outcome is not None, file.name
        old_shape = httpx.post(f"{base}/psp-makepayment", content=(PAYLOADS / "request-0002-capture.json").read_bytes(),
                               headers={"Content-Type": "application/json"}, timeout=30)
    assert old_shape.status_code == 400
