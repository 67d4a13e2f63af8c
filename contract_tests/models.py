"""Values of a run: what is sent, what came back, what the checks concluded."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from callback_core.spec import Contract
from contract_tests.cards import CardTrigger


class Role(StrEnum):
    """Why a request is sent; the checks pick the requests they judge by role."""

    VALID = "valid"  # a valid callback (generated, a document example, a test card)
    INVALID = "invalid"  # breaks the request schema, or is not JSON at all
    INVALID_SHOULD = "invalid-should"  # wrong Content-Type, or only a length / optional-field pattern broken
    EXTENDED = "extended"  # a valid callback plus unknown fields (forward compatibility)
    BASELINE = "baseline"  # the same callback without them, sent before and after
    REPEAT = "repeat"  # the identical callback sent a second time
    TAMPERED = "tampered"  # a valid callback whose signature is missing or wrong
    STALE = "stale"  # a valid callback signed with an X-Ms-Date beyond the allowed skew, in the past or future
    AT_ONCE = "at-once"  # the identical callback sent several times at the same moment, then once more
    SECOND_CALLBACK = "second-callback"  # after a SOFT_DECLINE: the same attempt again, a fresh cryptogram
    RETRY = "retry"  # after a retryable FAIL: the user's new attempt at the same payment
    UNAUTHENTICATED = "unauthenticated"  # a valid callback without the right cardCallbackAuthHeader value
    VARIED = "varied"  # a valid callback sent the way some real sender sends it (see Variation)


class Tamper(StrEnum):
    """How the signature of a request is spoiled (NONE: signed properly when a secret is given)."""

    NONE = "none"
    UNSIGNED = "no signature headers"
    NO_AUTHORIZATION = "the Authorization header missing"
    NO_DATE = "the X-Ms-Date header missing"
    NO_CONTENT_SHA256 = "the X-Ms-Content-Sha256 header missing"
    BAD_SIGNATURE = "a wrong signature"
    BODY_CHANGED = "the body changed after signing"
    BODY_CHANGED_REHASHED = "the body changed after signing, X-Ms-Content-Sha256 recomputed"
    WRONG_SECRET = "signed with a wrong secret"
    WRONG_PATH = "signed for another path"
    WRONG_HOST = "signed for another host"
    STALE_DATE = "X-Ms-Date older than the allowed clock skew"
    FUTURE_DATE = "X-Ms-Date later than the allowed clock skew"
    NO_AUTH_HEADER = "the auth header missing"
    WRONG_AUTH_HEADER = "a wrong auth header value"


class Variation(StrEnum):
    """How a valid callback differs from the suite's canonical bytes and headers, as real senders' do; the value
    is what a finding says."""

    LOWER_CASE_HEADERS = "header names in lower case (as HTTP/2 sends them)"
    CHARSET = "Content-Type: application/json; charset=utf-8"
    PRETTY_PRINTED = "pretty-printed JSON (indented, a space after every colon)"
    KEY_ORDER = "JSON keys in another order"
    NON_ASCII_RAW = "non-ASCII characters in free-text fields, as raw UTF-8 bytes"
    NON_ASCII_ESCAPED = "non-ASCII characters in free-text fields, \\u-escaped"
    LARGE = "a large body (padded with unknown fields)"


class Source(StrEnum):
    """Where a valid callback's body came from."""

    EXAMPLE = "document example"
    TEST_CARD = "test card"
    GENERATED = "generated"


class Card(StrEnum):
    """Which card a user's retry pays with."""

    SAME = "the same card"
    OTHER = "another card"


class GroupKind(StrEnum):
    """What the requests of a group are compared for."""

    EXTENDED = "extended"  # CC005: without and with unknown fields, alternately
    REPEAT = "repeat"  # CC007: the identical callback twice
    AT_ONCE = "at-once"  # CC012: copies at the same moment, then once more
    VARIATION = "variation"  # CC014: a callback as the suite usually sends it, then varied as real senders do


@dataclass(frozen=True, slots=True)
class Group:
    """The requests a check compares; they share a lane and go in order."""

    kind: GroupKind
    number: int

    def __str__(self) -> str:
        return f"{self.kind}-{self.number}"

    @classmethod
    def parse(cls, text: str) -> Group:
        """The group `str(group)` wrote (a JSON report's), e.g. "at-once-2"; ValueError when it is none."""
        kind, _, number = text.rpartition("-")
        return cls(GroupKind(kind), int(number))


# The callbacks whose answer is followed as Vipps MobilePay would (second callback, retries): every valid first
# attempt. Copies (a repeat, the at-once copies) are not: their answer is the first one's, already followed.
FIRST_ATTEMPTS = frozenset({Role.VALID, Role.BASELINE, Role.EXTENDED, Role.VARIED})


@dataclass(frozen=True, slots=True)
class Probe:
    """One request the suite plans to send, before it is signed. The label is for people; code reads the fields."""

    label: str
    role: Role
    body: bytes
    content_type: str | None = "application/json"
    tamper: Tamper = Tamper.NONE
    signed_body: bytes | None = None  # the body the signature covers, when it is not `body`
    group: Group | None = None  # ties the requests a check compares (baseline/extended, repeat, at once)
    at_once: bool = False  # sent together with the group's other at-once probes, not after them
    source: Source | None = None  # a valid callback's origin
    test_card: CardTrigger | None = None  # the test card it pays with, and the status the card promises
    card: Card | None = None  # a user's retry: which card it pays with
    after: Exchange | None = None  # for a follow-up: the exchange whose answer asked for it
    variation: Variation | None = None  # a VARIED probe (and its canonical twin): how its bytes or headers differ

    @property
    def first_attempt(self) -> bool:
        """A valid callback whose answer the suite follows, as Vipps MobilePay would."""
        return self.role in FIRST_ATTEMPTS


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A request exactly as it goes on the wire (headers in order, the body's bytes)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True, slots=True)
class Answer:
    """The PSP's HTTP answer."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The parsed body; raises ValueError when it is not JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and what came of it: an answer, or an error (no answer, or none in time)."""

    probe: Probe
    request: Outgoing
    answer: Answer | None
    elapsed: float
    error: str | None = None
    timed_out: bool = False
    unreachable: bool = False  # no connection at all: the run tested nothing, not a PSP defect


class Severity(StrEnum):
    DEFECT = "defect"
    WARNING = "warning"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"
    # The run never reached what the check judges (e.g. no SOFT_DECLINE to follow): not a pass.
    NOT_EXERCISED = "not-exercised"


@dataclass(frozen=True, slots=True)
class Context:
    """What the checks know of a run besides its exchanges."""

    contract: Contract
    deadline: float
    signed: bool
    strict: bool
    authenticated: bool = False  # the run was given the cardCallbackAuthHeader value
    accepted: bool = True  # the PSP accepted (200) at least one valid callback


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed judgement, before findings with the same title are grouped into a Failure."""

    title: str
    detail: str
    exchanges: tuple[Exchange, ...]
    severity: Severity = Severity.DEFECT


# (how many requests it judged, what it found)
Judge = Callable[[list[Exchange], Context], tuple[int, list[Finding]]]


class Need(StrEnum):
    """What a check needs before it can judge; without it the check is skipped, and says why."""

    SECRET = "the HMAC secret"
    AUTH_HEADER = "the auth header value"
    ACCEPTED = "an accepted callback"  # refusing everything proves nothing about validation, idempotency...


@dataclass(frozen=True, slots=True)
class Check:
    """A named, coded rule of the contract, described in one place: what it needs, how it judges, and why a
    complete run may leave it nothing to judge."""

    code: str
    name: str
    rule: str
    judge: Judge = field(compare=False, repr=False)
    should: bool = False  # a SHOULD of the document: a warning unless the run is strict
    needs: tuple[Need, ...] = ()
    # What the run saw instead of what the check judges (e.g. no SOFT_DECLINE to follow), when it judged nothing
    # although every request went out: "not exercised", never passed. None: judging nothing is a skip.
    not_exercised: Callable[[list[Exchange], Context], str] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Failure:
    """One way a check failed; `exchanges` reproduce it (the smallest case of `count` alike)."""

    code: str
    severity: Severity
    title: str
    detail: str
    exchanges: tuple[Exchange, ...]
    count: int = 1


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    outcome: Outcome
    judged: int
    failures: tuple[Failure, ...] = ()
    reason: str | None = None  # why it was skipped or not exercised


@dataclass(frozen=True, slots=True)
class Latency:
    count: int
    p50: float
    p95: float
    max: float
    samples: tuple[float, ...] = ()  # every answered request's latency, sorted (the HTML report's histogram)


@dataclass(frozen=True, slots=True)
class Coverage:
    """What a run reached: the answers the PSP gave, the flows Vipps MobilePay's follow-ups ran, the fields broken.

    Each count pairs a name with how often it was seen; the `documented_*` and `*_fields` tuples are what the
    document offers, so a report can say what was never seen.
    """

    answer_statuses: tuple[tuple[str, int], ...] = ()  # the status role's values in 200 answers
    documented_answer_statuses: tuple[str, ...] = ()
    error_codes: tuple[tuple[str | int, int], ...] = ()  # the error code role's values in 200 answers
    catalogue_codes: tuple[str | int, ...] = ()  # x-error-codes, typed as errorCode is
    http_statuses: tuple[tuple[int, int], ...] = ()
    documented_http_statuses: tuple[int, ...] = ()
    flows: tuple[tuple[str, int], ...] = ()  # every flow the suite can run, with its request count (0: never ran)
    mutated_fields: tuple[tuple[str, int], ...] = ()  # dotted request field names broken by an invalid callback
    request_fields: tuple[str, ...] = ()  # every field of the request schema, dotted

    @property
    def unseen_answer_statuses(self) -> tuple[str, ...]:
        seen = {name for name, _ in self.answer_statuses}
        return tuple(s for s in self.documented_answer_statuses if s not in seen)

    @property
    def undocumented_answer_statuses(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.answer_statuses if s not in self.documented_answer_statuses)

    @property
    def unknown_error_codes(self) -> tuple[str | int, ...]:
        return tuple(c for c, _ in self.error_codes if c not in self.catalogue_codes)

    @property
    def unseen_error_codes(self) -> tuple[str | int, ...]:
        seen = {code for code, _ in self.error_codes}
        return tuple(c for c in self.catalogue_codes if c not in seen)

    @property
    def undocumented_http_statuses(self) -> tuple[int, ...]:
        return tuple(s for s, _ in self.http_statuses if s not in self.documented_http_statuses)

    @property
    def unused_http_statuses(self) -> tuple[int, ...]:
        seen = {status for status, _ in self.http_statuses}
        return tuple(s for s in self.documented_http_statuses if s not in seen)

    @property
    def unmutated_fields(self) -> tuple[str, ...]:
        mutated = {name for name, _ in self.mutated_fields}
        return tuple(f for f in self.request_fields if f not in mutated)


class Verdict(StrEnum):
    CONFORMS = "conforms"
    DEFECTS = "defects"
    UNTESTED = "untested"

    @property
    def exit_code(self) -> int:
        return {Verdict.CONFORMS: 0, Verdict.DEFECTS: 1, Verdict.UNTESTED: 2}[self]


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a run concluded; every report format is rendered from it."""

    target: str
    spec_source: str
    spec_sha256: str
    seed: int
    deadline: float
    max_examples: int
    strict: bool
    signed: bool
    verdict: Verdict
    results: tuple[CheckResult, ...]
    latency: Latency | None
    requests: int
    duration: float
    started_at: str
    notes: tuple[str, ...] = field(default=())
    coverage: Coverage = field(default=Coverage())
    document_version: str | None = None  # the document's x-document-version
    fail_on_not_exercised: bool = False  # a check not exercised is a defect (--fail-on-not-exercised)

    @property
    def failures(self) -> tuple[Failure, ...]:
        return tuple(f for r in self.results for f in r.failures)

    @property
    def not_exercised(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.outcome is Outcome.NOT_EXERCISED)
