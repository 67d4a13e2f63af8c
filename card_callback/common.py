"""What every command shares: the exit codes, the one-line error, and the --spec and report options."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:  # the document's parser and validators cost ~0.3 s to import: only the --spec callback pays
    from callback_core.spec import Contract

# The same three meanings on every command, so a CI script reads any of them alike.
EXIT_OK = 0
"""The target conforms, the documents agree, the answer was within the contract: nothing to act on."""
EXIT_DEFECTS = 1
"""The command ran and found defects (findings, breaking changes, a final answer)."""
EXIT_NOT_RUN = 2
"""The command could not run: bad options, an unreadable document or file, an unreachable target."""

EXIT_CODES_HELP = """\b
Exit status:
  0  ok: conforms, nothing found
  1  defects found
  2  could not run (bad options, unreadable document, unreachable target)"""
"""An epilog for commands whose exit codes need no more words than these."""

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> NoReturn:
    """Print `error: MESSAGE` as one line on stderr and exit 2 (could not run)."""
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(EXIT_NOT_RUN)


@dataclass(frozen=True, slots=True)
class Spec:
    """The contract document a command works on, read once when the options are parsed."""

    path: Path
    """The file read: the one --spec named, else the bundled document."""
    given: Path | None
    """What --spec said (None: the option was not given), for passing the choice on to another process."""
    contract: Contract


def _load_spec(ctx: click.Context, param: click.Parameter, value: Path | None) -> Spec | None:
    if ctx.resilient_parsing:  # shell completion: read nothing
        return None
    from callback_core.errors import CardCallbackError
    from callback_core.spec import Contract, bundled_spec_path

    path = value or bundled_spec_path()
    try:
        return Spec(path=path, given=value, contract=Contract.from_file(path))
    except CardCallbackError as exc:
        fail(str(exc))


def spec_option(f: F) -> F:
    """`--spec PATH`: the contract document (default: the bundled one), passed to the command as `spec: Spec`.

    The document is read and checked while the options are parsed; a document that cannot be used ends the
    command with one `error:` line and exit 2 before anything is sent or started.
    """
    return click.option(
        "--spec", "spec", type=click.Path(dir_okay=False, path_type=Path), callback=_load_spec,
        help="The contract document (default: the bundled openapi/card-callback.yaml).",
    )(f)


def _check_target(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    # Checked before the run, not after it: a report that cannot be written would waste the whole run.
    if value is not None and not ctx.resilient_parsing and not value.parent.is_dir():
        fail(f"{param.opts[0]}: the directory {value.parent} does not exist")
    return value


def _report_option(flag: str, dest: str, help_text: str, aliases: tuple[str, ...]) -> Callable[[F], F]:
    file_type = click.Path(dir_okay=False, writable=True, path_type=Path)

    def decorate(f: F) -> F:
        alias_dests = [f"{dest}__{alias.lstrip('-').replace('-', '_')}" for alias in aliases]

        @functools.wraps(f)
        def merged(*args: Any, **kwargs: Any) -> Any:
            # An old spelling fills the new one, so the command sees one parameter.
            for alias, alias_dest in zip(aliases, alias_dests, strict=True):
                value = kwargs.pop(alias_dest, None)
                if value is not None:
                    if kwargs.get(dest) is not None:
                        fail(f"{flag} and {alias} name the same report: give one")
                    kwargs[dest] = value
            return f(*args, **kwargs)

        decorated: Any = merged
        for alias, alias_dest in zip(aliases, alias_dests, strict=True):
            decorated = click.option(alias, alias_dest, type=file_type, hidden=True, callback=_check_target)(
                decorated)
        decorated = click.option(flag, dest, type=file_type, metavar="FILE", callback=_check_target,
                                 help=help_text)(decorated)
        return decorated  # type: ignore[no-any-return]

    return decorate


def json_option(*aliases: str) -> Callable[[F], F]:
    """`--json FILE`: write the JSON report, passed as `json_path`; `aliases` are hidden old spellings."""
    return _report_option("--json", "json_path", "Write the JSON report to FILE (docs/report-format.md).", aliases)


def junit_xml_option(*aliases: str) -> Callable[[F], F]:
    """`--junit-xml FILE`: write a JUnit XML report, passed as `junit_xml_path`."""
    return _report_option("--junit-xml", "junit_xml_path", "Write a JUnit XML report to FILE (a test case per "
                          "check).", aliases)


def html_option(*aliases: str) -> Callable[[F], F]:
    """`--html FILE`: write the self-contained HTML report, passed as `html_path`."""
    return _report_option("--html", "html_path", "Write a self-contained HTML report to FILE (opens offline).",
                          aliases)
