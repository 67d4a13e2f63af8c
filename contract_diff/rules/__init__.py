"""Every rule of the revision diff, in report order; each module holds one rule and its check."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator
from types import ModuleType

from contract_diff.compare import Comparison
from contract_diff.model import Finding, Rule

# One module a rule, named by its id (cd001_..., cd002_...): their order is the report's order.
MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    if re.fullmatch(r"cd\d{3}_\w+", info.name)
)


def rules() -> tuple[tuple[Rule, Callable[[Comparison], Iterator[Finding]]], ...]:
    return tuple((module.RULE, module.check) for module in MODULES)
