"""Dependencies are declared honestly: every runtime dependency is imported by the toolkit, and every
third-party module the toolkit imports is declared."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Our own packages, as the wheel ships them: a new one (contract_diff) is ours, not an undeclared dependency.
PACKAGES = tuple(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
# Imported by a dependency rather than by us, on purpose: jsonschema checks `format: uri` only when it can
# import rfc3986-validator (tests/reference_server checks that a bad URI is refused).
USED_THROUGH_ANOTHER = {"rfc3986-validator": "jsonschema's uri format"}


def _runtime_dependencies() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = set()
    for requirement in pyproject["project"]["dependencies"]:
        name = requirement.split(";")[0]
        for stop in "[=<>!~ ":
            name = name.split(stop)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - set(PACKAGES) - {"__future__"}


def _distributions(modules: set[str]) -> set[str]:
    by_module = packages_distributions()
    return {dist.lower().replace("_", "-") for module in modules for dist in by_module.get(module, [module])}


def test_every_runtime_dependency_is_imported() -> None:
    imported = _distributions(_imported_top_levels())
    unused = _runtime_dependencies() - imported - set(USED_THROUGH_ANOTHER)
    assert not unused, f"declared at run time but never imported: {sorted(unused)} (drop them or move them to test)"


def test_every_imported_module_is_declared() -> None:
    undeclared = _distributions(_imported_top_levels()) - _runtime_dependencies()
    assert not undeclared, f"imported but not declared in pyproject's dependencies: {sorted(undeclared)}"
