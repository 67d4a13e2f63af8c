"""Re-send the exchanges a JSON report recorded and judge the answers with the suite's own checks."""

from __future__ import annotations

import base64
import binascii
import shlex
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from callback_core.auth_header import REDACTED, AuthHeader
from callback_core.spec import Contract
from contract_tests.catalogue import CHECKS
from contract_tests.checks import outcome_of, unmet
from contract_tests.errors import ReplayError
from contract_tests.files import JSON_FORMAT
from contract_tests.models import Card, CheckResult, Context, Exchange, Group, Outcome, Probe, Role, Tamper
from contract_tests.runner import Settings, _group, _send
from contract_tests.transport import Transport

NOTHING_TO_JUDGE = "nothing to judge among the replayed exchanges"


def replay_command(report_path: str, *, only_failures: bool = True) -> str:
    """The command that re-sends a JSON report's failures (or, without `only_failures`, all it recorded)."""
    words = ["card-callback", "replay", report_path, *(["--only-failures"] if only_failures else [])]
    return " ".join(shlex.quote(word) for word in words)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One recorded request: the probe to send again (its `after` unset) and the id of the exchange it followed."""

    id: int
    probe: Probe
    after: int | None
    answer_status: int | None


@dataclass(frozen=True, slots=True)
class Recording:
    """What a JSON report recorded for replay."""

    target: str
    signed: bool
    strict: bool
    deadline: float
    document_sha256: str
    exchanges: tuple[Recorded, ...]
    failed: frozenset[int]  # the ids of the failures' exchanges
    failed_codes: frozenset[str]  # the checks with a defect in the report
    complete: bool  # every exchange of the run was recorded, not only the failures'
    authenticated: bool  # the run sent the auth header value (the report shows it redacted)

    @classmethod
    def from_report(cls, data: Any) -> Recording:
        """Read a parsed JSON report; one ReplayError line for anything replay cannot use."""
        if not isinstance(data, Mapping) or data.get("format") != JSON_FORMAT:
            raise ReplayError(f"not a card-callback JSON report (format {JSON_FORMAT})")
        if not isinstance(data.get("exchanges"), list):
            raise ReplayError("the report records no exchanges: it was written by a version without replay; "
                              "run `card-callback test` again with --json")
        try:
            options = data["options"]
            exchanges = tuple(_recorded(item) for item in data["exchanges"])
            failures = data["failures"]
            failed = frozenset(ex["id"] for f in failures for ex in f["exchanges"] if isinstance(ex.get("id"), int))
            return cls(
                target=str(data["target"]), signed=bool(options["signed"]), strict=bool(options["strict"]),
                deadline=float(options["deadlineSeconds"]), document_sha256=str(data["document"]["sha256"]),
                exchanges=exchanges, failed=failed,
                failed_codes=frozenset(str(f["code"]) for f in failures if f.get("severity") == "defect"),
                complete=data.get("exchangesRecorded") == "all",
                authenticated=any(value == REDACTED for item in data["exchanges"]
                                  for _, value in item["request"]["headers"]),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ReplayError(f"the report's exchanges cannot be read ({type(exc).__name__}: {exc})") from None

    def select(self, *, only_failures: bool) -> list[Recorded]:
        """The exchanges to send, in recorded order: all, or the failures' and those they follow."""
        if not only_failures:
            return list(self.exchanges)
        by_id = {ex.id: ex for ex in self.exchanges}
        chosen: set[int] = set()
        for exchange_id in self.failed:
            current: int | None = exchange_id
            while current is not None and current in by_id and current not in chosen:
                chosen.add(current)
                current = by_id[current].after
        return [ex for ex in self.exchanges if ex.id in chosen]


def _recorded(item: Mapping[str, Any]) -> Recorded:
    request = item["request"]
    tamper = Tamper[str(item["tamper"]).upper().replace("-", "_")]
    probe = Probe(
        label=str(item["case"]), role=Role(item["role"]), body=_bytes(request, "body"),
        content_type=request["contentType"], tamper=tamper,
        signed_body=_bytes(request, "signedBody") if "signedBody" in request or "signedBodyBase64" in request
        else None,
        group=None if item["group"] is None else Group.parse(str(item["group"])), at_once=bool(item["atOnce"]),
        card=Card[str(item["card"]).upper()] if item.get("card") else None,
    )
    after = item["after"]
    return Recorded(id=int(item["id"]), probe=probe, after=None if after is None else int(after),
                    answer_status=item.get("answerStatus"))


def _bytes(request: Mapping[str, Any], name: str) -> bytes:
    if f"{name}Base64" in request:
        return base64.b64decode(request[f"{name}Base64"], validate=True)
    return str(request[name]).encode("utf-8")


def retarget(recorded: str, url: str | None) -> str:
    """`recorded` with `url`'s scheme, host, port and path (its own query, when it has one, else the recorded one)."""
    if url is None:
        return recorded
    new, old = httpx.URL(url), httpx.URL(recorded)
    return str(new if new.query else new.copy_with(query=old.query or None))


def send(
    recorded: list[Recorded], *, url: str, contract: Contract, secret: str | None, auth: AuthHeader | None,
    deadline: float, transport: Transport,
    now: Callable[[], datetime] = lambda: datetime.now(UTC), timer: Callable[[], float] = time.perf_counter,
) -> Iterator[Exchange]:
    """Send each recorded request again, one after another in recorded order, signed afresh (a new date) when
    there is a secret; a follow-up's `after` becomes the new exchange of what it followed, so the checks compare
    the answers of this replay, not the recorded ones."""
    settings = Settings(url=url, contract=contract, spec_sha256="", seed=0, deadline=deadline, secret=secret,
                        auth=auth)
    timeout = deadline + min(2.0, max(0.5, deadline / 2))  # as the run: a late answer is measured, not waited for
    sent: dict[int, Exchange] = {}
    for item in recorded:
        probe = replace(item.probe, after=None if item.after is None else sent.get(item.after))
        exchange = _send(probe, settings, transport, timeout, now, timer)
        sent[item.id] = exchange
        yield exchange


def judge(exchanges: list[Exchange], ctx: Context) -> tuple[CheckResult, ...]:
    """Every check of the suite over `exchanges`, with the suite's own judges; a check that needs a secret or
    the auth header value not given, or that finds nothing of its concern among them, is skipped."""
    results = []
    for check in CHECKS:
        missing = next((reason for need in check.needs if (reason := unmet(need, ctx)) is not None), None)
        if missing is not None:
            results.append(CheckResult(check, Outcome.SKIPPED, 0, reason=missing))
            continue
        judged, findings = check.judge(exchanges, ctx)
        results.append(CheckResult(check, outcome_of(findings, judged), judged, _group(check.code, findings),
                                   None if judged else NOTHING_TO_JUDGE))
    return tuple(results)
