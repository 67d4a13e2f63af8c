"""The guides and example READMEs use commands and options that exist, so copying them works."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from examples_support import ROOT

from card_callback.cli import main

GUIDES = sorted(
    [ROOT / "docs" / "walkthrough.md", ROOT / "docs" / "spec-review.md", *(ROOT / "examples").glob("*/README.md")]
)


def _command_lines(text: str) -> list[str]:
    """`card-callback ...` invocations in console blocks, continuation lines joined."""
    blocks = re.findall(r"```(?:console|sh|yaml)\n(.*?)```", text, re.DOTALL)
    lines = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip().removeprefix("$ ").removeprefix("- ")
            match = re.search(r"(?:^|\s|/)card-callback (lint|serve|test|send|sign|diff)\b(.*)", line)
            if match and not line.startswith("#"):
                lines.append(f"{match.group(1)}{match.group(2)}".split("  #")[0].strip())
    return lines


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_commands_exist_with_their_options(guide: Path) -> None:
    lines = _command_lines(guide.read_text())
    for line in lines:
        name, *args = shlex.split(line)
        command = main.commands.get(name)
        assert isinstance(command, click.Command), f"{guide.name}: no command {name!r}"
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for arg in args:
            if arg.startswith("--"):
                assert arg.split("=")[0] in known, f"{guide.name}: `card-callback {name}` has no option {arg}"


def test_the_guides_show_every_command() -> None:
    shown = {line.split()[0] for guide in GUIDES for line in _command_lines(guide.read_text())}
    assert shown == {"lint", "serve", "test", "send", "sign", "diff"}
