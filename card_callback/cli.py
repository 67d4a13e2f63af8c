"""The `card-callback` click group and the `lint` command; other commands live beside it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from callback_core.errors import SpecError
from callback_core.spec import bundled_spec_path, read_document
from card_callback.common import EXIT_DEFECTS, EXIT_OK, fail, json_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="card-callback")
def main() -> None:
    """Contract tests and a reference PSP for the Vipps MobilePay card callback."""


LINT_FORMATS = ("text", "markdown", "json")


@main.command("lint")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
# Not common.spec_option: that one stops on a document the tools cannot use, and lint must read such a
# document to name what is wrong with it.
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The contract document (default: the bundled openapi/card-callback.yaml); the same as PATH.")
@click.option(
    "--payloads",
    "payloads_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also check the example payloads in DIR: request-*.json against the request schema, "
    "response-*.json against the 200 answer.",
)
@click.option("--fail-on", "fail_on", type=click.Choice(["error", "warning"]), default="error", show_default=True,
              help="Exit 1 when a finding is at this level or above (warning: style findings fail too).")
@click.option("--format", "output", type=click.Choice(LINT_FORMATS), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for tools.")
@json_option()
def lint_command(path: Path | None, spec_path: Path | None, payloads_dir: Path | None, fail_on: str, output: str,
                 json_path: Path | None) -> None:
    """Lint the contract document (default: the bundled one): each finding with its rule id and level.

    \b
    Exit status:
      0  no finding at or above --fail-on (error by default: a missing description does not fail)
      1  a finding at or above --fail-on
      2  could not run: the document cannot be read, or the tools cannot use it (said in one line)
    """
    # Imported here: openapi-spec-validator takes ~0.3 s to import, which every other command would pay.
    from callback_core.lint import Finding, Level, lint_report
    from callback_core.lint_report import format_json, format_markdown, format_text

    if path is not None and spec_path is not None and path != spec_path:
        fail(f"PATH {path} and --spec {spec_path} name two documents: give one")
    path = path or spec_path or bundled_spec_path()
    try:
        document = read_document(path)
    except SpecError as exc:
        fail(str(exc))
    report = lint_report(document, str(path))
    found: list[Finding] = []
    if payloads_dir is not None and report.contract is not None:
        from callback_core.lint_rules.cl015_payload_matches_schema import check_directory

        found = check_directory(report.contract, payloads_dir)
        report = report.with_findings(found)
    level = Level(fail_on)
    formats = {"text": format_text, "markdown": format_markdown, "json": format_json}
    click.echo(formats[output](report, level), nl=False)
    if payloads_dir is not None and output == "text" and report.contract is not None and not found:
        count = sum(1 for p in payloads_dir.glob("*.json") if p.is_file())
        click.echo(f"{payloads_dir}: {count} payload(s) OK")
    if json_path is not None:
        json_path.write_text(format_json(report, level), encoding="utf-8")
    if not report.usable:
        fail(f"{path}: the tools cannot use this document: {report.unusable_reason}")
    sys.exit(EXIT_DEFECTS if report.fails(level) else EXIT_OK)


def _register_commands() -> None:
    # Each command lives in its own module, so the server, the suite and the simulator change independently.
    from card_callback import diff, load, replay, send, serve, test

    for module in (serve, test, send, load, diff, replay):
        for command in module.COMMANDS:
            main.add_command(command)


_register_commands()
