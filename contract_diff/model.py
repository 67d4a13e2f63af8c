"""The values of a diff: rules (id, level, who breaks), the changes they find, the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Level(Enum):
    """How much a change matters: ERROR breaks someone, WARNING may, INFO needs nothing."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Breaks(Enum):
    """Whose existing implementation a change breaks.

    The revision is Vipps MobilePay's: new callbacks go to PSPs built to the old document, and answers
    from those PSPs are read by Vipps built to the new one.
    """

    PSP = "PSP reading requests"
    VIPPS = "Vipps reading answers"
    NOBODY = "nobody"


@dataclass(frozen=True, slots=True)
class Rule:
    """One coded kind of change, with a stable id; its `template` is filled from a finding's params."""

    id: str
    title: str
    level: Level
    breaks: Breaks
    template: str
    action: str
    # The oasdiff checker ids that detect the same change (their verdicts may differ, see docs/spec-review.md).
    oasdiff: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule saw in one variant of a body (e.g. the TOKEN callbacks), before variants are merged."""

    rule: Rule
    pointer: str  # where in the document (new revision; the old one for what was removed)
    params: tuple[tuple[str, str], ...]
    field: str = ""  # RFC 6901 pointer into the JSON body; empty for operation-level changes
    variant: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    """One reported change: the rule, its message, where it is, and the body variants it concerns."""

    rule: Rule
    message: str
    pointer: str
    field: str = ""
    variants: tuple[str, ...] = ()  # empty: every variant

    @property
    def action(self) -> str:
        return self.rule.action

    @property
    def breaking(self) -> bool:
        return self.rule.level is Level.ERROR


@dataclass(frozen=True, slots=True)
class Report:
    """Every change between two revisions, in rule order."""

    old: str
    new: str
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def breaking(self) -> bool:
        return any(change.breaking for change in self.changes)

    def count(self, level: Level) -> int:
        return sum(1 for change in self.changes if change.rule.level is level)
