"""The options and the error line every command shares (card_callback.common)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner

from card_callback.common import EXIT_NOT_RUN, html_option, json_option, junit_xml_option, spec_option

SEEN: dict[str, Any] = {}


@click.command()
@spec_option
@json_option("--json-report")
@junit_xml_option()
@html_option()
def command(**options: Any) -> None:
    SEEN.clear()
    SEEN.update(options)


def test_an_old_spelling_fills_the_new_one_and_stays_out_of_help(tmp_path: Path) -> None:
    result = CliRunner().invoke(command, ["--json-report", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert SEEN["json_path"] == tmp_path / "r.json"
    assert "json_path__json_report" not in SEEN
    help_text = CliRunner().invoke(command, ["--help"]).output
    assert "--json FILE" in help_text and "--junit-xml FILE" in help_text and "--html FILE" in help_text
    assert "--json-report" not in help_text


def test_both_spellings_at_once_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(command, ["--json", str(tmp_path / "a"), "--json-report", str(tmp_path / "b")])
    assert result.exit_code == EXIT_NOT_RUN
    assert result.stderr == "error: --json and --json-report name the same report: give one\n"


def test_a_report_in_a_missing_directory_is_refused_before_the_run(tmp_path: Path) -> None:
    SEEN.clear()
    result = CliRunner().invoke(command, ["--html", str(tmp_path / "missing" / "r.html")])
    assert result.exit_code == EXIT_NOT_RUN
    assert result.stderr == f"error: --html: the directory {tmp_path / 'missing'} does not exist\n"
    assert SEEN == {}  # the command never ran


def test_spec_is_read_once_into_a_contract(tmp_path: Path) -> None:
    result = CliRunner().invoke(command, [])
    assert result.exit_code == 0, result.output
    assert SEEN["spec"].given is None and SEEN["spec"].path.name == "card-callback.yaml"
    assert SEEN["spec"].contract.deadline_seconds > 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: [", encoding="utf-8")
    result = CliRunner().invoke(command, ["--spec", str(broken)])
    assert result.exit_code == EXIT_NOT_RUN
    assert result.stderr.startswith(f"error: {broken}: ") and result.stderr.count("\n") == 1
