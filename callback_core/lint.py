"""Lint a contract document: coded rules (callback_core/lint_rules/), each with an id and a level."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from callback_core import fields
from callback_core.errors import SpecError
from callback_core.schemas import validator_for
from callback_core.spec import Contract


class Level(Enum):
    """How much a finding matters: ERROR the tools cannot use the document (or an example lies), WARNING style."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]

    def at_least(self, other: Level) -> bool:
        return self.rank >= other.rank


class Needs(Enum):
    """What a rule needs before it can judge; a rule whose need is not met is not run (it would only repeat)."""

    DOCUMENT = "document"  # any parsed document
    SOUND = "sound"  # OpenAPI 3.0.x, valid, every $ref resolves
    CONTRACT = "contract"  # and the tools can read the callback operation from it
    PAYLOADS = "payloads"  # example payload files, checked on request (`lint --payloads DIR`)


@dataclass(frozen=True, slots=True)
class LintRule:
    """One coded lint rule with a stable id."""

    id: str
    title: str
    level: Level
    needs: Needs = Needs.SOUND
    gate: bool = False  # its errors make the document unsound: later rules would only repeat them


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule found, located by a JSON pointer into the document (or into a payload `file`)."""

    rule: LintRule
    pointer: str
    message: str
    file: str = ""  # a payload file; empty: the document itself

    @property
    def level(self) -> Level:
        return self.rule.level


@dataclass
class Subject:
    """What the rules look at: the document and, when the tools can use it, its `Contract`."""

    document: Mapping[str, Any]
    source: str = "<document>"
    contract: Contract | None = None
    unusable: tuple[str, str] | None = None  # (pointer, reason) when the tools cannot use the document
    sound: bool = True


@dataclass(frozen=True, slots=True)
class LintReport:
    """Every finding of one document (and its payloads), in rule order."""

    source: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    usable: bool = True
    unusable_reason: str = ""
    contract: Contract | None = field(default=None, compare=False, repr=False)  # when usable and sound

    def with_findings(self, more: list[Finding]) -> LintReport:
        return replace(self, findings=(*self.findings, *more))

    def count(self, level: Level) -> int:
        return sum(1 for finding in self.findings if finding.level is level)

    def fails(self, fail_on: Level) -> bool:
        return any(finding.level.at_least(fail_on) for finding in self.findings)


Check = Callable[[Subject], Iterator[tuple[str, str]]]


def lint(document: Mapping[str, Any]) -> list[Finding]:
    """Every finding of the document, at every level; empty when it is clean."""
    return list(lint_report(document).findings)


def lint_report(document: Mapping[str, Any], source: str = "<document>") -> LintReport:
    """Run every rule whose need is met; say whether the tools can use the document at all."""
    from callback_core.lint_rules import rules

    subject = Subject(document, source)
    found: list[Finding] = []
    for rule, check in rules():
        if rule.needs is Needs.PAYLOADS:
            continue
        if rule.needs is not Needs.DOCUMENT:
            if not subject.sound:
                continue
            if rule.needs is Needs.CONTRACT:
                use(subject)
                if subject.contract is None:
                    continue
        for pointer, message in check(subject):
            found.append(Finding(rule, pointer, message))
            if rule.gate and rule.level is Level.ERROR:
                subject.sound = False
    use(subject)
    unusable = subject.unusable
    return LintReport(source, tuple(found), usable=unusable is None,
                      unusable_reason=f"{unusable[0]}: {unusable[1]}" if unusable else "",
                      contract=subject.contract if subject.sound else None)


def use(subject: Subject) -> None:
    """Build the Contract once; remember why the tools cannot use the document when they cannot.

    A declared role pointing nowhere makes the document unusable too (every command stops on it), but the
    Contract is kept so that the rules run and CL006 names each such role.
    """
    if subject.contract is not None or subject.unusable is not None:
        return
    try:
        contract = Contract.from_dict(subject.document, source=subject.source, check_usable=False)
        problems = list(contract.unusable())
    except SpecError as exc:
        subject.unusable = (exc.pointer or "#", exc.reason)
        return
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # A document broken where the Contract does not look for trouble (CL003 says where): never a traceback.
        subject.unusable = ("#", f"the callback operation cannot be read ({type(exc).__name__}: {exc})")
        return
    if problems:
        subject.unusable = (problems[0].pointer or "#", problems[0].reason)
    if all(is_role_refusal(problem.pointer) for problem in problems):
        subject.contract = contract


def is_role_refusal(pointer: str) -> bool:
    """Whether the Contract refused a declared role (CL006 names each), not the operation itself."""
    return f"/{fields.ROLES_EXTENSION}/" in pointer


def operation_pointer(contract: Contract) -> str:
    return "#" + fields.join_pointer(("paths", contract.path, contract.method.lower()))


def format_finding(finding: Finding) -> str:
    return f"{finding.pointer or '#'}: {finding.rule.id} {finding.level.value}: {finding.message}"


# Example payload files ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a payload file, located by a JSON pointer into the payload."""

    pointer: str
    message: str


def format_problem(problem: Problem) -> str:
    return f"{problem.pointer or '#'}: {problem.message}"


def lint_payload(contract: Contract, name: str, raw: bytes) -> list[Problem]:
    """Problems of one example payload file, located by JSON pointers into the payload.

    `request-*.json` is checked against the callback request schema, `response-*.json` against the 200
    answer (a FAIL's error code must also be in the catalogue); any other name is itself a problem.
    """
    if name.startswith("request-"):
        schema = contract.request_schema
    elif name.startswith("response-"):
        schema = contract.response_schema
    else:
        return [Problem("#", "a payload file name must start with 'request-' or 'response-'")]
    duplicates: list[str] = []
    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_remember_duplicates(duplicates))
    except UnicodeDecodeError:
        return [Problem("#", "is not UTF-8")]
    except json.JSONDecodeError as exc:
        return [Problem("#", f"is not valid JSON: {exc}")]
    problems = [Problem("#", f"key {key!r} appears more than once in one object") for key in duplicates]
    errors = validator_for(contract.document, schema).iter_errors(body)
    for error in sorted(errors, key=lambda e: [str(part) for part in e.absolute_path]):
        where = "#" + fields.join_pointer(str(p) for p in error.absolute_path) if error.absolute_path else "#"
        problems.append(Problem(where, short_error(error)))
    if name.startswith("response-"):
        problems += [Problem("#" + pointer, message) for pointer, message in unlisted_code(contract, body)]
    return problems


def unlisted_code(contract: Contract, body: Any) -> Iterator[tuple[str, str]]:
    """(pointer into the body, message) when an answer carries an error code its catalogue does not list."""
    role = contract.response_role(fields.ERROR_CODE)
    code = fields.get_at(body, role.pointer) if role is not None else fields.MISSING
    if code is fields.MISSING or code is None:
        return
    # Compared with its type: 51 is not "51", and a PSP answering the other type is refused.
    if not any(type(entry.code) is type(code) and entry.code == code for entry in contract.error_codes):
        yield role.pointer if role is not None else "", f"error code {code!r} is not in x-error-codes"


def short_error(error: Any) -> str:
    from jsonschema.exceptions import best_match

    best = best_match(error.context) if error.context else error
    return str(best.message)


def _remember_duplicates(found: list[str]) -> Any:
    # json.loads keeps the last of duplicate keys silently; a PSP parser may keep the first.
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                found.append(key)
            seen.add(key)
        return dict(pairs)

    return hook
