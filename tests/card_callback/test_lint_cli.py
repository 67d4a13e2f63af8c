"""`card-callback lint` as a user runs it: one line per problem, exit 1, or OK and exit 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from card_callback.cli import main


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_bundled_document_is_clean() -> None:
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("card-callback.yaml: OK")


def test_dangling_ref_copy(tmp_path: Path, document: dict[str, Any]) -> None:
    media = document["paths"]["/psp-makepayment"]["post"]["requestBody"]["content"]["application/json"]
    media["schema"] = {"$ref": "#/components/schemas/Gone"}
    path = _write(tmp_path, document)
    result = CliRunner().invoke(main, ["lint", str(path)])
    assert result.exit_code == 1
    assert f"{path}: #/paths/~1psp-makepayment/post/requestBody/content/application~1json/schema/$ref:" in result.output


def test_bad_example_copy(tmp_path: Path, document: dict[str, Any]) -> None:
    media = document["paths"]["/psp-makepayment"]["post"]["requestBody"]["content"]["application/json"]
    media["examples"]["panCallback"]["value"]["cardIssuedInCountryCode"] = "DNK"
    result = CliRunner().invoke(main, ["lint", str(_write(tmp_path, document))])
    assert result.exit_code == 1
    assert "examples/panCallback/value: example does not match its schema at 'cardIssuedInCountryCode'" in result.output


def test_missing_description_copy(tmp_path: Path, document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["FailResponse"]["properties"]["errorMessage"]["description"]
    result = CliRunner().invoke(main, ["lint", str(_write(tmp_path, document))])
    assert result.exit_code == 1
    assert "#/components/schemas/FailResponse/properties/errorMessage: property has no description" in result.output


def test_unreadable_input_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("openapi: [unclosed", encoding="utf-8")
    result = CliRunner().invoke(main, ["lint", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 1
    assert "is not valid YAML" in result.output
    result = CliRunner().invoke(main, ["lint", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 1 and "no such file" in result.output


def test_a_draft_without_roles_passes_and_says_where_each_role_was_found() -> None:
    draft = Path(__file__).resolve().parents[1] / "documents" / "nested-revision.yaml"
    result = CliRunner().invoke(main, ["lint", str(draft)])
    assert result.exit_code == 0, result.output
    assert (f"{draft}: info: #/paths/~1psp-makepayment/post/x-field-roles/request: role 'maskedCardNumber' is not "
            "declared; inferred from its name at /cardInfo/maskedCardNumber") in result.output
    assert result.output.rstrip().endswith(f"{draft}: OK")
