"""The `card-callback` click group and the `lint` command; other commands live beside it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from callback_core.errors import SpecError
from callback_core.spec import Contract, bundled_spec_path, read_document


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="card-callback")
def main() -> None:
    """Contract tests and a reference PSP for the Vipps MobilePay card callback."""


@main.command("lint")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--payloads",
    "payloads_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also check the example payloads in DIR: request-*.json against the request schema, "
    "response-*.json against the 200 answer.",
)
def lint_command(path: Path | None, payloads_dir: Path | None) -> None:
    """Lint the contract document (default: the bundled one). Exit 1 on any problem."""
    # Imported here: openapi-spec-validator takes ~0.3 s to import, which every other command would pay.
    from callback_core.lint import format_problem, lint, role_notes

    path = path or bundled_spec_path()
    try:
        document = read_document(path)
    except SpecError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    problems = lint(document)
    for problem in problems:
        click.echo(f"{path}: {format_problem(problem)}")
    for note in role_notes(document):
        click.echo(f"{path}: info: {format_problem(note)}")
    if problems:
        click.echo(f"{len(problems)} problem(s) in {path}", err=True)
        sys.exit(1)
    click.echo(f"{path}: OK")
    if payloads_dir is not None:
        _lint_payloads(Contract.from_dict(document, source=str(path)), payloads_dir)


def _lint_payloads(contract: Contract, directory: Path) -> None:
    from callback_core.lint import format_problem, lint_payload

    files = sorted(p for p in directory.glob("*.json") if p.is_file())
    if not files:
        # A directory with nothing to check would otherwise pass silently.
        click.echo(f"error: {directory} holds no *.json payload files", err=True)
        sys.exit(1)
    count = 0
    for file in files:
        for problem in lint_payload(contract, file.name, file.read_bytes()):
            click.echo(f"{file}: {format_problem(problem)}")
            count += 1
    if count:
        click.echo(f"{count} problem(s) in the payloads of {directory}", err=True)
        sys.exit(1)
    click.echo(f"{directory}: {len(files)} payload(s) OK")


def _register_commands() -> None:
    # Each command lives in its own module, so the server, the suite and the simulator change independently.
    from card_callback import diff, load, replay, send, serve, test

    for module in (serve, test, send, load, diff, replay):
        for command in module.COMMANDS:
            main.add_command(command)


_register_commands()
