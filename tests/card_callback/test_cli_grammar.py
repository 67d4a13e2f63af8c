"""One grammar across the commands: the same report options and --spec in every --help, exit 2 for could not run,
and no import cycle between the command modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from card_callback.cli import main

PACKAGE = Path(__file__).resolve().parents[2] / "card_callback"
# At least these; lint and diff take --json too once their commands adopt card_callback.common, and the test
# above then holds them to the same wording.
REPORT_OPTIONS = {
    "test": ("--json", "--junit-xml"),
    "load": ("--json", "--junit-xml", "--html"),
}
WITH_SPEC = ("serve", "test", "load", "send", "sign", "replay")


def _help(command: str) -> str:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def _option_help(text: str, option: str) -> str:
    """The help of `option` in a --help text, its wrapped lines joined (click wraps each command differently)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s+{re.escape(option)}\b(?!-)", line))
    parts = [lines[start].strip()]
    for line in lines[start + 1:]:
        if not line.startswith(" " * 6) or line.strip().startswith("-"):
            break
        parts.append(line.strip())
    joined = " ".join(" ".join(parts).split())
    return re.sub(r"-\s(?=\w)", "-", joined)  # a word split at its hyphen by the wrapping


@pytest.mark.parametrize("option", ["--json", "--junit-xml", "--html"])
def test_a_report_option_reads_the_same_on_every_command_that_has_it(option: str) -> None:
    helps = {command: _help(command) for command in sorted(main.commands)}
    shown = {command: _option_help(text, option) for command, text in helps.items()
             if re.search(rf"^\s+{re.escape(option)} FILE\b", text, re.MULTILINE)}
    assert {command for command, options in REPORT_OPTIONS.items() if option in options} <= set(shown), shown
    assert len(set(shown.values())) == 1, shown
    assert next(iter(shown.values())).startswith(f"{option} FILE ")


@pytest.mark.parametrize("command", WITH_SPEC)
def test_every_command_takes_the_contract_document(command: str) -> None:
    assert _option_help(_help(command), "--spec").startswith("--spec FILE The contract document")


def test_old_spellings_still_work_but_are_not_shown(tmp_path: Path) -> None:
    assert "--json-report" not in _help("test")
    result = CliRunner().invoke(main, ["test", "http://127.0.0.1:9/cb", "--json-report",
                                       str(tmp_path / "missing" / "r.json")])
    assert result.exit_code == 2
    assert result.stderr == f"error: --json-report: the directory {tmp_path / 'missing'} does not exist\n"


@pytest.mark.parametrize("command", ["serve", "test", "send", "replay"])
def test_an_unreadable_document_is_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: [", encoding="utf-8")
    args = {"serve": [], "test": ["http://127.0.0.1:9/cb"], "send": ["http://127.0.0.1:9/cb"],
            "replay": [str(tmp_path / "r.json")]}[command]
    result = CliRunner().invoke(main, [command, *args, "--spec", str(broken)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {broken}: ") and result.stderr.count("\n") == 1


def _imports(path: Path) -> set[str]:
    """The card_callback modules `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "card_callback":
                found |= {f"card_callback.{alias.name}" for alias in node.names}
            elif node.module.startswith("card_callback."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("card_callback.")}
    return found


def test_the_command_modules_import_no_cycle() -> None:
    graph = {f"card_callback.{path.stem}": _imports(path) for path in PACKAGE.glob("*.py")}
    # cli imports every command module to register them; the commands never import cli back.
    state: dict[str, str] = {}

    def visit(module: str, trail: tuple[str, ...]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", "import cycle: " + " -> ".join((*trail, module))
        state[module] = "open"
        for imported in sorted(graph.get(module, set())):
            visit(imported, (*trail, module))
        state[module] = "done"

    assert "card_callback.load_run" in graph["card_callback.load"]  # the pair that used to import each other
    for module in sorted(graph):
        visit(module, ())
