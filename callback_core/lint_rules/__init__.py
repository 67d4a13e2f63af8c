"""Every lint rule, in report order; each module holds one rule (RULE) and its check."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from callback_core.lint import Check, LintRule

# One module a rule, named by its id (cl001_..., cl002_...): their order is the report's order.
MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    if re.fullmatch(r"cl\d{3}_\w+", info.name)
)


def rules() -> tuple[tuple[LintRule, Check], ...]:
    return tuple((module.RULE, module.check) for module in MODULES)
