"""JSON-pointer escaping, `$ref` handling and schema walks live in callback_core/schema_model.py only.

Like the field-name test: every other module of the toolkit asks the schema model (or the `Contract`, or
`fields`' pointer functions, which are the model's) and never spells `~0`/`~1`, `$ref` or a schema
structure keyword in code. A second resolver or walker is how the crash of issue 17 came about: one walker
did not follow a request body moved into `components`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import source_scan

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("callback_core", "reference_server", "contract_tests", "simulator", "contract_diff", "card_callback")
MODEL = "callback_core/schema_model.py"
# Keywords that give a schema its structure: reading them is walking a schema.
WALK_KEYWORDS = frozenset({
    "$ref", "properties", "items", "allOf", "oneOf", "anyOf", "discriminator", "additionalProperties", "nullable",
    "propertyName",
})
# Where such a word means something else, with the reason.
NOT_A_WALK = {
    # The JUnit XML element <properties>, not a schema's.
    ("contract_tests/files.py", "properties"),
    ("contract_tests/load/junit.py", "properties"),
    # A validation error's keyword, read to word the server's message; no schema is walked.
    ("reference_server/bodies.py", "additionalProperties"),
    ("reference_server/bodies.py", "nullable"),
}


def violations(source: str) -> list[tuple[int, str]]:
    """(line, what) for each pointer escape, `$ref` or schema keyword the code spells (docstrings and comments
    may explain them)."""
    tree = ast.parse(source)
    docstrings = source_scan.docstrings(tree)
    hits: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace":
            texts = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            if any("~0" in text or "~1" in text for text in texts):
                hits.append((node.lineno, "RFC 6901 escaping (~0/~1)"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in WALK_KEYWORDS:
                hits.append((node.lineno, node.value))
    return sorted(set(hits))


def _sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_the_scan_finds_each_kind_of_violation() -> None:
    planted = (
        '"""Docstrings may say $ref, oneOf and ~1."""\n'
        "# comments may too: node['$ref'], properties\n"
        "def f(node, name):\n"
        "    escaped = name.replace('~', '~0').replace('/', '~1')\n"
        "    target = node.get('$ref')\n"
        "    for branch in node.get('oneOf') or ():\n"
        "        yield branch['properties']\n"
        "    return f\"{node['discriminator']}\"\n"
    )
    assert violations(planted) == [(4, "RFC 6901 escaping (~0/~1)"), (5, "$ref"), (6, "oneOf"), (7, "properties"),
                                   (8, "discriminator")]


def test_the_scan_passes_plain_code() -> None:
    assert violations("def f(body):\n    return body.get('status'), '#/paths/~1callback'\n") == []


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_pointer_escaping_ref_or_schema_walk_outside_the_model(path: Path) -> None:
    name = path.relative_to(ROOT).as_posix()
    if name == MODEL:
        return
    found = [(line, what) for line, what in violations(path.read_text(encoding="utf-8"))
             if (name, what) not in NOT_A_WALK]
    assert not found, "\n".join(
        f"{name}:{line}: {what} (use callback_core.schema_model, or the Contract)" for line, what in found)
