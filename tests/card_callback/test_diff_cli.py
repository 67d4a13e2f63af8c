"""`card-callback diff OLD NEW` as a reviewer runs it: what moved, what broke, for whom; exit 1, 0 or 2."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from markdown_it import MarkdownIt

from callback_core.spec import bundled_document, bundled_spec_path, read_document
from card_callback.cli import main

FLAT = str(bundled_spec_path())
# A hand-written draft that nests the card fields in cardInfo and declares no field roles.
DRAFT = str(Path(__file__).resolve().parents[1] / "documents" / "nested-revision.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["diff", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_nesting_draft_names_each_move_the_rename_and_what_was_added() -> None:
    code, out, _ = run(FLAT, DRAFT)
    assert code == 1
    for name in ("maskedCardNumber", "cardType", "cardIssuedInCountryCode", "networkToken", "encryptedPan"):
        assert f"`{name}` moved to `cardInfo.{name}`" in out
    assert "discriminator `paymentInstrument` renamed and moved to `cardInfo.cardDataType` (PAN, TOKEN)" in out
    assert "required property `amount` added to the callback" in out
    assert "required header `X-Callback-Auth` added to the callback" in out
    # Moved fields are not also reported as removed and added.
    assert "`maskedCardNumber` removed" not in out and "`cardInfo.maskedCardNumber` added" not in out
    assert out.rstrip().splitlines()[-1].startswith("RESULT: breaking;")


def test_the_same_document_changes_nothing_and_exits_0() -> None:
    code, out, _ = run(FLAT, FLAT)
    assert code == 0
    assert out.rstrip().endswith("RESULT: nothing breaks; no changes")


def test_markdown_renders_as_a_table_with_a_row_per_change() -> None:
    code, out, _ = run(FLAT, DRAFT, "--format", "markdown")
    _, as_json, _ = run(FLAT, DRAFT, "--format", "json")
    changes = json.loads(as_json)["changes"]
    assert code == 1
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert html.count("<table>") == 1
    # One header row and one row per change; a pattern's `|` must not split a cell.
    assert html.count("<tr>") == len(changes) + 1
    assert html.count("<td>") == 6 * len(changes)


def test_json_gives_each_change_its_pointer_side_and_action() -> None:
    code, out, _ = run(FLAT, DRAFT, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["breaking"] is True
    moved = next(c for c in report["changes"] if c["message"].startswith("`maskedCardNumber` moved"))
    assert moved["id"] == "CD006" and moved["level"] == "error" and moved["breaks"] == "psp"
    assert moved["field"] == "/cardInfo/maskedCardNumber"
    assert moved["pointer"].startswith("#/components/schemas/") and moved["action"]


def test_a_revision_that_only_adds_exits_0(tmp_path: Path) -> None:
    text = Path(FLAT).read_text(encoding="utf-8")
    anchor = '        softDeclineCompletedRedirectUrl: {$ref: "#/components/schemas/SoftDeclineCompletedRedirectUrl"}\n'
    assert anchor in text
    added = anchor + "        note:\n          description: A note.\n          type: string\n"
    (tmp_path / "added.yaml").write_text(text.replace(anchor, added), encoding="utf-8")
    code, out, _ = run(FLAT, str(tmp_path / "added.yaml"))
    assert code == 0, out
    assert "CD001 info    [nobody] optional property `note` added to the callback" in out


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, out, err = run(FLAT, str(tmp_path / "absent.yaml"))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "no such file" in err
    (tmp_path / "not-a-contract.yaml").write_text("openapi: 3.0.3\npaths: {}\n", encoding="utf-8")
    code, _, err = run(str(tmp_path / "not-a-contract.yaml"), FLAT)
    assert code == 2 and err.startswith("error: ") and err.strip().count("\n") == 0


V2 = str(bundled_document("card-callback-v2.yaml"))


def test_the_shipped_revision_names_each_move_the_rename_amount_and_the_auth_header() -> None:
    code, out, _ = run(FLAT, V2)
    assert code == 1
    for name in ("maskedCardNumber", "cardType", "cardIssuedInCountryCode", "networkToken", "encryptedPan"):
        assert f"`{name}` moved to `cardInfo.{name}`" in out
    assert "discriminator `paymentInstrument` renamed and moved to `cardInfo.cardDataType`" in out
    assert "required property `amount` added to the callback" in out
    assert "callbacks now carry the PSP's auth header value in `" in out


def test_json_file_holds_the_report_the_json_format_prints(tmp_path: Path) -> None:
    code, out, _ = run(FLAT, V2, "--json", str(tmp_path / "diff.json"))
    _, as_json, _ = run(FLAT, V2, "--format", "json")
    assert code == 1 and out.rstrip().splitlines()[-1].startswith("RESULT: breaking;")
    assert json.loads((tmp_path / "diff.json").read_text(encoding="utf-8")) == json.loads(as_json)
    code, _, err = run(FLAT, V2, "--json", str(tmp_path / "absent" / "diff.json"))
    assert code == 2 and "does not exist" in err


def _refactored(document: dict[str, Any]) -> dict[str, Any]:
    """The same contract with the request body, every answer and the parameters moved into `components`."""
    out = copy.deepcopy(document)
    operation = out["paths"]["/psp-makepayment"]["post"]
    components = out.setdefault("components", {})
    components.setdefault("requestBodies", {})["Callback"] = operation["requestBody"]
    operation["requestBody"] = {"$ref": "#/components/requestBodies/Callback"}
    for status, answer in list(operation["responses"].items()):
        components.setdefault("responses", {})[f"Answer{status}"] = answer
        operation["responses"][status] = {"$ref": f"#/components/responses/Answer{status}"}
    for index, parameter in enumerate(operation["parameters"]):
        components.setdefault("parameters", {})[f"P{index}"] = parameter
        operation["parameters"][index] = {"$ref": f"#/components/parameters/P{index}"}
    # And an inline schema chain: the body's schema behind one more reference.
    media = components["requestBodies"]["Callback"]["content"]["application/json"]
    components["schemas"]["Indirect"] = media["schema"]
    media["schema"] = {"$ref": "#/components/schemas/Indirect"}
    return out


def test_a_pure_ref_refactor_reports_nothing(tmp_path: Path) -> None:
    for shipped in (FLAT, V2):
        refactored = tmp_path / f"refactored-{Path(shipped).name}"
        refactored.write_text(yaml.safe_dump(_refactored(read_document(Path(shipped))), sort_keys=False),
                              encoding="utf-8")
        for old, new in ((shipped, str(refactored)), (str(refactored), shipped)):
            code, out, err = run(old, new)
            assert (code, err) == (0, ""), out
            assert out.rstrip().endswith("RESULT: nothing breaks; no changes"), out
