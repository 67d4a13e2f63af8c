"""The `card-callback diff` command: what a revision of the contract breaks, for whom."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from callback_core.errors import CardCallbackError
from callback_core.spec import Contract
from card_callback.common import EXIT_DEFECTS, EXIT_OK, fail, json_option
from contract_diff.engine import diff
from contract_diff.report import format_json, format_markdown, format_text

FORMATS = {"text": format_text, "markdown": format_markdown, "json": format_json}


@click.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "output", type=click.Choice(sorted(FORMATS)), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for tools.")
@json_option()
def diff_command(old: Path, new: Path, output: str, json_path: Path | None) -> None:
    """Report every change from the OLD contract document to the NEW one.

    Exit 1 when a change breaks PSPs built to OLD or Vipps reading their answers, 0 otherwise,
    2 when a document cannot be read.
    """
    try:
        report = diff(Contract.from_file(old), Contract.from_file(new))
    except CardCallbackError as exc:
        fail(str(exc))
    click.echo(FORMATS[output](report), nl=False)
    if json_path is not None:
        json_path.write_text(format_json(report), encoding="utf-8")
    sys.exit(EXIT_DEFECTS if report.breaking else EXIT_OK)


COMMANDS = (diff_command,)
