"""The server, the suite and the simulator never spell a callback request field: they ask the field roles.

The names come from the request schemas of both bundled documents. A name may appear in comments and
docstrings (they explain), never in code: a string, an identifier or a keyword would break on the next
revision that moves or renames the field.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import source_scan

from callback_core.spec import Contract, bundled_document, bundled_spec_path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("reference_server", "simulator", "contract_tests")
DOCUMENTS = (bundled_spec_path(), bundled_document("card-callback-v2.yaml"))
# Plain words that are also field names, where the code means something else: HTML form attributes.
NOT_FIELDS = {
    ("simulator/threeds.py", "value"),
    # JSON Schema's type name, in the table of wrong-type values.
    ("contract_tests/mutations.py", "number"),
}


def request_field_names() -> frozenset[str]:
    names: set[str] = set()
    for path in DOCUMENTS:
        names.update(prop.parts[-1] for prop in Contract.from_file(path).request_properties)
    return frozenset(names)


def spelled_names(source: str, names: frozenset[str]) -> list[tuple[int, str]]:
    """(line, name) for each callback field name the code spells outside comments and docstrings."""
    tree = ast.parse(source)
    docstrings = source_scan.docstrings(tree)
    # A camelCase name is found inside any string; a plain word ("number", "value") only as the whole string.
    camel = {name for name in names if any(char.isupper() for char in name)}
    inside = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, sorted(camel))) + r")(?![A-Za-z0-9_])")
    hits = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in names:
                hits.append((line, node.value))
            hits += [(line, match) for match in inside.findall(node.value)]
        # An identifier is flagged only in camelCase: `number` or `value` is an ordinary Python name.
        elif isinstance(node, ast.Name) and node.id in camel:
            hits.append((line, node.id))
        elif isinstance(node, ast.arg) and node.arg in camel:
            hits.append((line, node.arg))
        elif isinstance(node, ast.Attribute) and node.attr in camel:
            hits.append((line, node.attr))
        elif isinstance(node, ast.keyword) and node.arg in camel:
            hits.append((line, str(node.arg)))
    return sorted(set(hits))


def test_the_names_come_from_both_documents() -> None:
    names = request_field_names()
    assert {"authorizationAttemptId", "maskedCardNumber", "paymentInstrument", "cardInfo", "cardDataType",
            "cryptogram", "encryptedPan", "amount", "currency"} <= names


def test_the_scan_finds_a_spelled_name_and_ignores_comments() -> None:
    names = frozenset({"maskedCardNumber", "number"})
    code = '"""Reads maskedCardNumber."""\n# maskedCardNumber in a comment\nx = body["maskedCardNumber"]\n' \
           'y = f"the {z} maskedCardNumber"\nnumber = 1\nlabel = "a number"\nw = t["number"]\n' \
           'def f(maskedCardNumber: str) -> None: ...\n'
    assert spelled_names(code, names) == [(3, "maskedCardNumber"), (4, "maskedCardNumber"), (7, "number"),
                                          (8, "maskedCardNumber")]


@pytest.mark.parametrize("package", CHECKED)
def test_no_request_field_name_is_spelled_in_code(package: str) -> None:
    names = request_field_names()
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, name in spelled_names(path.read_text(encoding="utf-8"), names)
        if (str(path.relative_to(ROOT)), name) not in NOT_FIELDS
    ]
    assert found == [], "ask the Contract for the field's role instead:\n" + "\n".join(found)
