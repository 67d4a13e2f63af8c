"""`card-callback lint` as a user runs it: a line per finding with its rule and level; exit 0, 1 or 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from markdown_it import MarkdownIt

from card_callback.cli import main

OP = "#/paths/~1psp-makepayment/post"


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["lint", *args])
    return result.exit_code, result.stdout, result.stderr


def test_bundled_document_passes() -> None:
    code, out, _ = run()
    assert code == 0, out
    last = out.rstrip().splitlines()[-1]
    assert last.endswith("card-callback.yaml: OK") or "card-callback.yaml: OK; 0 error(s)" in last


def test_dangling_ref_copy(tmp_path: Path, document: dict[str, Any]) -> None:
    media = document["paths"]["/psp-makepayment"]["post"]["requestBody"]["content"]["application/json"]
    media["schema"] = {"$ref": "#/components/schemas/Gone"}
    path = _write(tmp_path, document)
    code, out, err = run(str(path))
    assert code == 2  # the callback's body is behind it: no command can use the document
    assert f"{path}: {OP}/requestBody/content/application~1json/schema/$ref: CL001 error: $ref " in out
    assert out.rstrip().splitlines()[-1].startswith(f"{path}: NOT USABLE by the tools; 1 error(s)")
    assert err.startswith(f"error: {path}: the tools cannot use this document: ") and err.count("\n") == 1
    document["paths"]["/psp-makepayment"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/CardCallbackRequest"}
    document["components"]["schemas"]["Unused"] = {"$ref": "#/components/schemas/Gone"}
    code, out, _ = run(str(_write(tmp_path, document)))
    assert code == 1, out  # a dangling reference nothing uses: an error, but the tools can work
    assert out.rstrip().splitlines()[-1].startswith(f"{path}: FAILED (--fail-on error); 1 error(s)")


def test_bad_example_copy(tmp_path: Path, document: dict[str, Any]) -> None:
    media = document["paths"]["/psp-makepayment"]["post"]["requestBody"]["content"]["application/json"]
    media["examples"]["panCallback"]["value"]["cardIssuedInCountryCode"] = "DNK"
    code, out, _ = run(str(_write(tmp_path, document)))
    assert code == 1
    assert ("examples/panCallback/value: CL005 error: example does not match its schema at "
            "'cardIssuedInCountryCode'") in out


def test_a_missing_description_warns_and_fails_only_with_fail_on_warning(tmp_path: Path,
                                                                         document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["FailResponse"]["properties"]["errorMessage"]["description"]
    path = str(_write(tmp_path, document))
    code, out, _ = run(path)
    assert code == 0, out
    assert ("#/components/schemas/FailResponse/properties/errorMessage: CL012 warning: property has no description"
            in out)
    code, out, _ = run(path, "--fail-on", "warning")
    assert code == 1
    assert out.rstrip().splitlines()[-1].startswith(f"{path}: FAILED (--fail-on warning)")


def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("openapi: [unclosed", encoding="utf-8")
    code, out, err = run(str(tmp_path / "bad.yaml"))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "is not valid YAML" in err and err.strip().count("\n") == 0
    code, out, err = run(str(tmp_path / "absent.yaml"))
    assert code == 2 and "no such file" in err and err.strip().count("\n") == 0


def test_an_unusable_document_names_the_place_in_one_line_and_exits_2(tmp_path: Path,
                                                                       document: dict[str, Any]) -> None:
    post = document["paths"]["/psp-makepayment"].pop("post")
    document["paths"]["/psp-makepayment"]["put"] = post
    path = _write(tmp_path, document)
    code, out, err = run(str(path))
    assert code == 2
    assert err.strip().count("\n") == 0
    assert err.startswith(f"error: {path}: the tools cannot use this document: ")
    assert "must be a POST" in err and "PUT" in err
    assert "CL004 error: " in out and "must be a POST" in out


def test_spec_names_the_document_as_path_does(tmp_path: Path, document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["FailResponse"]["properties"]["errorMessage"]["description"]
    path = str(_write(tmp_path, document))
    assert run("--spec", path, "--fail-on", "warning")[0] == 1
    code, _, err = run(path, "--spec", str(tmp_path / "other.yaml"))
    assert code == 2 and "name two documents" in err


def test_json_and_markdown_reports(tmp_path: Path, document: dict[str, Any]) -> None:
    media = document["paths"]["/psp-makepayment"]["post"]["responses"]["200"]["content"]["application/json"]
    media["examples"]["fail"]["value"]["errorCode"] = "999"
    del document["components"]["schemas"]["NetworkToken"]["properties"]["eci"]["description"]
    path = str(_write(tmp_path, document))
    code, out, _ = run(path, "--format", "json", "--json", str(tmp_path / "lint.json"))
    assert code == 1
    report = json.loads(out)
    assert json.loads((tmp_path / "lint.json").read_text(encoding="utf-8")) == report
    assert report["failed"] is True and report["usable"] is True and report["failOn"] == "error"
    assert report["counts"]["error"] == 1 and report["counts"]["warning"] >= 1
    fail = next(f for f in report["findings"] if f["id"] == "CL009")
    assert fail == {"id": "CL009", "title": "example error codes are listed", "level": "error", "file": path,
                    "pointer": f"{OP}/responses/200/content/application~1json/examples/fail",
                    "message": "error code '999' is not in x-error-codes"}
    code, out, _ = run(path, "--format", "markdown")
    assert code == 1
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert html.count("<tr>") == len(report["findings"]) + 1 and "<strong>error</strong>" in html


def test_json_file_in_a_missing_directory_is_refused_before_linting(tmp_path: Path) -> None:
    code, _, err = run("--json", str(tmp_path / "nowhere" / "lint.json"))
    assert code == 2 and "does not exist" in err


def test_a_draft_without_roles_passes_and_says_where_each_role_was_found() -> None:
    draft = Path(__file__).resolve().parents[1] / "documents" / "nested-revision.yaml"
    code, out, _ = run(str(draft))
    assert code == 0, out
    assert (f"{draft}: {OP}/x-field-roles/request: CL014 info: role 'maskedCardNumber' is not declared; inferred "
            "from its name at /cardInfo/maskedCardNumber") in out
    assert f"{draft}: OK; 0 error(s)" in out.rstrip().splitlines()[-1]


def test_a_broken_operation_is_never_a_traceback(tmp_path: Path, document: dict[str, Any]) -> None:
    del document["paths"]["/psp-makepayment"]["post"]["responses"]
    code, out, err = run(str(_write(tmp_path, document)))
    assert code == 2 and "Traceback" not in out + err
    assert err.startswith("error: ") and err.strip().count("\n") == 0
    assert "CL003 error: " in out
