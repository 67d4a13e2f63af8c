"""A valid OpenAPI 3.0 document the toolkit cannot use: every command says why in one line naming the place.

Each document below passes openapi-spec-validator; what makes it unusable is the toolkit's need (a JSON POST
callback, declared roles that point at properties). No command may answer with a traceback.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from openapi_spec_validator import OpenAPIV30SpecValidator

from callback_core.spec import bundled_spec_path, read_document
from card_callback.cli import main

SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
OP = "#/paths/~1psp-makepayment"


def _not_post(document: dict[str, Any]) -> None:
    item = document["paths"]["/psp-makepayment"]
    item["put"] = item.pop("post")


def _role_nowhere(document: dict[str, Any]) -> None:
    document["paths"]["/psp-makepayment"]["post"]["x-field-roles"]["request"]["attemptId"] = "/attempt/id"


def _no_json_body(document: dict[str, Any]) -> None:
    body = document["paths"]["/psp-makepayment"]["post"]["requestBody"]
    body["content"] = {"application/x-www-form-urlencoded": body["content"].pop("application/json")}


def _no_json_body_in_components(document: dict[str, Any]) -> None:
    # The same, with the request body written as a $ref into components: the place named is where it lives.
    _no_json_body(document)
    post = document["paths"]["/psp-makepayment"]["post"]
    document["components"]["requestBodies"] = {"Callback": post["requestBody"]}
    post["requestBody"] = {"$ref": "#/components/requestBodies/Callback"}


def _unknown_role(document: dict[str, Any]) -> None:
    # A reviewer's own name for a role (or a typo): no tool would ever look the field up by it.
    roles = document["paths"]["/psp-makepayment"]["post"]["x-field-roles"].setdefault("response", {})
    roles["authenticationUrl"] = "/softDeclineRedirectUrl"


def _needed_role_missing(document: dict[str, Any]) -> None:
    # The 3-D Secure page's field renamed with no role saying so: no tool can find it.
    del document["paths"]["/psp-makepayment"]["post"]["x-field-roles"]["response"]["softDeclineRedirectUrl"]
    for schema in document["components"]["schemas"].values():
        properties = schema.get("properties", {})
        if "softDeclineRedirectUrl" in properties:
            properties["authenticationUrl"] = properties.pop("softDeclineRedirectUrl")
            required = schema.get("required", [])
            schema["required"] = ["authenticationUrl" if name == "softDeclineRedirectUrl" else name
                                  for name in required]
    for example in document["paths"]["/psp-makepayment"]["post"]["responses"]["200"]["content"]["application/json"][
            "examples"].values():
        value = example.get("value", {})
        if "softDeclineRedirectUrl" in value:
            value["authenticationUrl"] = value.pop("softDeclineRedirectUrl")


CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    # name: (edit, the place the line names, words it says)
    "not-post": (_not_post, f"{OP}/put", "must be a POST operation"),
    "role-nowhere": (_role_nowhere, f"{OP}/post/x-field-roles/request/attemptId", "names no property"),
    "unknown-role": (_unknown_role, f"{OP}/post/x-field-roles/response/authenticationUrl",
                     "is not a response role the tools know"),
    "no-json-body": (_no_json_body, f"{OP}/post/requestBody", "no application/json content"),
    "no-json-body-in-components": (_no_json_body_in_components, "#/components/requestBodies/Callback",
                                   "no application/json content"),
}


def _document(tmp_path: Path, case: str) -> Path:
    document = copy.deepcopy(read_document(bundled_spec_path()))
    CASES[case][0](document)
    assert list(OpenAPIV30SpecValidator(document).iter_errors()) == []  # valid OpenAPI, only unusable
    path = tmp_path / f"{case}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _commands(spec: Path, tmp_path: Path) -> dict[str, list[str]]:
    body = tmp_path / "body.json"
    body.write_text("{}", encoding="utf-8")
    url = "http://127.0.0.1:9/psp-makepayment"  # never reached: the document is refused first
    return {
        "serve": ["serve", "--spec", str(spec), "--port", "0", "--db", str(tmp_path / "state.sqlite3")],
        "test": ["test", "--spec", str(spec), url],
        "send": ["send", "--spec", str(spec), url],
        "sign": ["sign", "--spec", str(spec), "--url", url, "--body-file", str(body)],
        "load": ["load", "--spec", str(spec), url],
        "diff-old": ["diff", str(spec), str(bundled_spec_path())],
        "diff-new": ["diff", str(bundled_spec_path()), str(spec)],
    }


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["serve", "test", "send", "sign", "load", "diff-old", "diff-new"])
def test_every_command_refuses_in_one_line_naming_the_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, command: str
) -> None:
    monkeypatch.setenv("CARD_CALLBACK_HMAC_SECRET", SECRET)
    spec = _document(tmp_path, case)
    args = _commands(spec, tmp_path)[command]
    _, place, words = CASES[case]
    if command == "load":
        # `load` re-executes itself (Locust must be imported first), so it runs as its own process.
        done = subprocess.run([str(Path(sys.executable).with_name("card-callback")), *args], capture_output=True,
                              text=True, timeout=120, check=False)
        exit_code, output = done.returncode, done.stdout + done.stderr
    else:
        result = CliRunner().invoke(main, args)
        assert isinstance(result.exception, SystemExit | None), result.exception  # no traceback
        exit_code, output = result.exit_code, result.output  # stdout and stderr, as a terminal shows them
    assert "Traceback" not in output
    assert exit_code == 2, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert place in lines[0] and words in lines[0], lines[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_lint_names_the_place_without_a_traceback(tmp_path: Path, case: str) -> None:
    spec = _document(tmp_path, case)
    result = CliRunner().invoke(main, ["lint", str(spec)])
    _, place, words = CASES[case]
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert result.exit_code != 0
    assert any(place in line and words in line for line in result.output.splitlines()), result.output


def test_a_field_the_reference_server_needs_is_refused_by_serve_and_lint_alike(tmp_path: Path) -> None:
    """A draft whose 3-D Secure page field no role finds: the suite can still judge a PSP on it, but the reference
    server cannot answer SOFT_DECLINE, so `serve` refuses it and lint warns of it (an error with --fail-on warning)."""
    document = copy.deepcopy(read_document(bundled_spec_path()))
    _needed_role_missing(document)
    assert list(OpenAPIV30SpecValidator(document).iter_errors()) == []
    spec = tmp_path / "needed-role-missing.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    serve = CliRunner().invoke(main, ["serve", "--spec", str(spec), "--port", "0", "--db", str(tmp_path / "s.db")])
    assert serve.exit_code == 2 and "softDeclineRedirectUrl" in serve.output, serve.output
    assert len([line for line in serve.output.splitlines() if line.strip()]) == 1
    lint = CliRunner().invoke(main, ["lint", str(spec), "--fail-on", "warning"])
    assert lint.exit_code == 1, lint.output
    assert any("CL016 warning" in line and "the response has no 'softDeclineRedirectUrl' field" in line
               for line in lint.output.splitlines()), lint.output
