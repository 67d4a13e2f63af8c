"""The coded checks: each judges the exchanges of its concern and says how the PSP broke the contract."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from callback_core import fields
from callback_core.auth_header import AUTH_HEADER_ENV, auth_header_name
from callback_core.spec import Contract
from contract_tests.models import (
    Answer,
    Check,
    Context,
    Exchange,
    Finding,
    Group,
    GroupKind,
    Need,
    Outcome,
    Role,
    Severity,
    Tamper,
)

SUCCESS = ("RESERVE", "CAPTURE")
_VALID_BODIES = (Role.VALID, Role.BASELINE)
_FOLLOW_UPS = (Role.SECOND_CALLBACK, Role.RETRY)  # valid callbacks too; CC009/CC010 judge their refusals


def judged_by_others(ex: Exchange) -> bool:
    """No answer, or a 5xx: CC002/CC003 report it, and no other check can judge it."""
    return ex.answer is None or ex.answer.status >= 500


@dataclass(frozen=True, slots=True)
class Problem:
    title: str
    detail: str
    severity: Severity = Severity.DEFECT


def answer_problems(answer: Answer, contract: Contract, strict: bool = False) -> Problem | None:
    """What makes `answer` not a valid 200 answer, or None."""
    if answer.status != 200:
        return Problem(f"answered {answer.status}, not 200", _snippet(answer.body))
    if answer.media_type != "application/json":
        shown = answer.header("content-type") or "missing"
        return Problem(f"answer Content-Type is {shown}, not application/json", _snippet(answer.body))
    try:
        data = answer.json()
    except ValueError:
        return Problem("answer body is not JSON", _snippet(answer.body))
    errors = contract.response_errors(data)
    if not errors:
        return None
    status = answer_status(answer, contract)
    if isinstance(data, dict):
        # `"networkTransactionReference": null` breaks the letter of the schema (no `nullable`), but many
        # serializers write absent optional fields that way and no reader is misled: a warning, not a defect.
        present = {k: v for k, v in data.items() if v is not None}
        if present != data and not contract.response_errors(present):
            nulls = ", ".join(sorted(k for k, v in data.items() if v is None))
            return Problem(f"answer carries null for optional field(s) {nulls} (status {status!r})",
                           "the response schema allows no null there; leave such fields out",
                           Severity.DEFECT if strict else Severity.WARNING)
    return Problem(f"answer does not match the response schema (status {status!r})", "; ".join(errors))


def valid_answers(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    judged, findings = 0, []
    for ex in exchanges:
        if ex.probe.role not in (*_VALID_BODIES, *_FOLLOW_UPS) or judged_by_others(ex) or ex.answer is None:
            continue
        if ex.answer.status == 401 and (ctx.signed or ctx.authenticated):
            continue  # a signed or authenticated callback refused: CC006 or CC013 reports it
        if ex.probe.role in _FOLLOW_UPS and ex.answer.status != 200:
            continue
        judged += 1
        problem = answer_problems(ex.answer, ctx.contract, ctx.strict)
        if problem is not None:
            title = problem.title
            if ex.answer.status == 401:
                title += " (the endpoint seems to verify signatures: give the secret)"
            findings.append(Finding(f"valid callback {title}", problem.detail, (ex,), problem.severity))
    return judged, findings


CC001 = Check("CC001", "valid callbacks get a valid answer",
              "A valid callback (generated, a document example, a test card) gets 200, application/json, and a "
              "body valid against the response schema, including what each status requires. So does every 200 to "
              "a second callback or a retry (CC009 and CC010 judge their refusals).",
              valid_answers)


def no_server_errors(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    findings = []
    for ex in exchanges:
        if ex.answer is not None and ex.answer.status >= 500:
            findings.append(Finding(f"answered {ex.answer.status} to {_role_phrase(ex)}", _snippet(ex.answer.body),
                                    (ex,)))
        elif ex.answer is None and not ex.timed_out:
            findings.append(Finding(f"no usable answer to {_role_phrase(ex)}: the connection or the answer broke",
                                    ex.error or "", (ex,)))
    return len(exchanges), findings


CC002 = Check("CC002", "no server errors",
              "No request, valid or not, gets a 5xx or a dropped connection: Vipps MobilePay treats both as "
              "final for the paying user.",
              no_server_errors)


def within_deadline(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    findings = []
    for ex in exchanges:
        if ex.timed_out:
            findings.append(Finding(f"no answer within the {ctx.deadline:g} s deadline", ex.error or "", (ex,)))
        elif ex.answer is not None and ex.elapsed > ctx.deadline:
            findings.append(Finding(f"answered after the {ctx.deadline:g} s deadline",
                                    f"took {ex.elapsed:.3f} s", (ex,)))
    return sum(1 for ex in exchanges if ex.answer is not None or ex.timed_out), findings


CC003 = Check("CC003", "answers within the deadline",
              "Every answer arrives within the deadline (the document's x-response-deadline-seconds unless "
              "--deadline says otherwise).",
              within_deadline)


def invalid_refused(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    judged, findings = 0, []
    for ex in exchanges:
        if ex.probe.role not in (Role.INVALID, Role.INVALID_SHOULD) or judged_by_others(ex) or ex.answer is None:
            continue
        judged += 1
        if 400 <= ex.answer.status < 500:
            continue
        status = answer_status(ex.answer, ctx.contract) if ex.answer.status == 200 else None
        should = ex.probe.role is Role.INVALID_SHOULD
        what = _role_phrase(ex) if should else "invalid callback"
        if status in SUCCESS:
            title = f"{what} authorized: answered {ex.answer.status} {status}"
        else:
            title = f"{what} answered {ex.answer.status}{' ' + status if status else ''}, not 4xx"
        severity = Severity.WARNING if should and not ctx.strict else Severity.DEFECT
        findings.append(Finding(title, ex.probe.label, (ex,), severity))
    return judged, findings


CC004 = Check("CC004", "invalid callbacks are refused",
              "An invalid callback (each field broken in turn, malformed JSON, an empty body, a body that is not "
              "an object) gets a 4xx and is never answered RESERVE or CAPTURE. A valid body under a wrong or "
              "missing Content-Type should be refused too (a warning unless --strict).",
              invalid_refused, needs=(Need.ACCEPTED,))


def unknown_fields_ignored(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    """Fails only for what one group proves: the callback without the unknown fields was accepted just before
    and just after, and with them it was refused or answered with a broken body. Each request is a fresh attempt,
    so a status that differs between them may be the issuer's (a random or per-attempt outcome): a warning."""
    judged, findings = 0, []
    for group in _groups(exchanges, GroupKind.EXTENDED).values():
        extended = [(ex, ex.answer) for ex in group if ex.probe.role is Role.EXTENDED and ex.answer is not None
                    and not judged_by_others(ex)
                    and not ((ctx.signed or ctx.authenticated) and ex.answer.status == 401)]  # 401: CC006's, CC013's
        baselines = [ex for ex in group if ex.probe.role is Role.BASELINE]
        # A 200 without the extra fields is enough to compare with, even when that answer's body breaks the
        # schema (CC001 reports that): a PSP whose every answer is broken must still be caught refusing extras.
        answered = [ex for ex in baselines if ex.answer is not None and ex.answer.status == 200]
        accepted = [ex for ex in answered if ex.answer is not None and _accepted(ex.answer, ctx)]
        if not extended or not answered or len(answered) < len(baselines):
            continue  # nothing proven either way; CC001/CC002/CC003 report what went wrong
        judged += 1
        for ex, answer in extended:
            if answer.status == 429:
                continue  # a rate limiter's refusal says nothing about the fields
            if answer.status != 200:
                phrase = _answer_phrase(answer, ctx.contract)
                findings.append(Finding(f"callback with unknown fields answered {phrase}; without "
                                        "them it got 200 just before and after", _snippet(answer.body),
                                        (ex, answered[0])))
                break
            problem = answer_problems(answer, ctx.contract, ctx.strict)
            if accepted and problem is not None and problem.severity is Severity.DEFECT:
                findings.append(Finding(f"callback with unknown fields {problem.title}; without them it got a valid "
                                        "answer", problem.detail, (ex, accepted[0])))
                break
        else:
            without = {answer_status(ex.answer, ctx.contract) if ex.answer else None for ex in baselines}
            answered_extended = [answer for _, answer in extended if answer.status == 200]
            with_extras = {answer_status(answer, ctx.contract) for answer in answered_extended}
            # Different attempts may get different outcomes from a correct PSP: a hint, never a defect.
            if len(baselines) == len(answered_extended) == 2 and len(without) == len(with_extras) == 1 \
                    and None not in without | with_extras and without != with_extras:
                findings.append(Finding(
                    f"unknown fields may change the outcome: {without.pop()} without them, {with_extras.pop()} with "
                    "them", "sent alternately, twice each, as fresh attempts; a PSP whose outcome varies per attempt "
                    "may see this by chance", (extended[0][0], answered[0]), Severity.WARNING))
    return judged, findings


CC005 = Check("CC005", "unknown fields are ignored",
              "A valid callback with unknown fields (in every object, and the card fields again in a new place, as "
              "a revision that moves them sends them) is accepted "
              "when the same callback without them is accepted just before and after: never refused, never a "
              "broken answer. A status that differs (different attempts) is only a warning.",
              unknown_fields_ignored, needs=(Need.ACCEPTED,))


def _accepted(answer: Answer, ctx: Context) -> bool:
    problem = answer_problems(answer, ctx.contract, ctx.strict)
    return problem is None or problem.severity is Severity.WARNING


def signatures_verified(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    good = (*_VALID_BODIES, *_FOLLOW_UPS, Role.EXTENDED, Role.REPEAT, Role.AT_ONCE)
    return _credentials_checked(exchanges, ctx, Role.TAMPERED, good, "a correctly signed callback was refused "
                                "with 401 (or the secret given is not the PSP's)")


CC006 = Check("CC006", "HMAC signatures are verified",
              "With a secret: correctly signed callbacks are accepted; missing signature headers, a wrong "
              "signature, a body changed after signing, a wrong secret, path or host get 401, never RESERVE or "
              "CAPTURE.",
              signatures_verified, needs=(Need.SECRET,))


def auth_header_verified(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    # Signed runs leave a 401 to a good callback to CC006: the two causes cannot be told apart.
    good = () if ctx.signed else (*_VALID_BODIES, Role.EXTENDED, Role.REPEAT)
    return _credentials_checked(exchanges, ctx, Role.UNAUTHENTICATED, good, "a callback carrying the auth header "
                                "value was refused with 401 (or the value given is not the PSP's)")


CC013 = Check("CC013", "the auth header is verified",
              "With the cardCallbackAuthHeader value given: callbacks carrying it are accepted; a callback without "
              "the header, or with a wrong value, gets 401, never RESERVE or CAPTURE.",
              auth_header_verified, needs=(Need.AUTH_HEADER,))


def _credentials_checked(exchanges: list[Exchange], ctx: Context, spoiled: Role, good: tuple[Role, ...],
                         refused: str) -> tuple[int, list[Finding]]:
    """Requests whose credential is spoiled get 401; requests of a `good` role carrying it do not."""
    judged, findings = 0, []
    for ex in exchanges:
        if judged_by_others(ex) or ex.answer is None:
            continue
        if ex.probe.role is spoiled:
            judged += 1
            if ex.answer.status != 401:
                phrase = _answer_phrase(ex.answer, ctx.contract)
                findings.append(Finding(f"{ex.probe.tamper}: answered {phrase}, not 401", ex.probe.label, (ex,)))
        elif ex.probe.role in good and ex.probe.tamper is Tamper.NONE:
            judged += 1
            if ex.answer.status == 401:
                findings.append(Finding(refused, _snippet(ex.answer.body), (ex,)))
    return judged, findings


def identical_answers(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    judged, findings = 0, []
    severity = Severity.DEFECT if ctx.strict else Severity.WARNING
    for group in _groups(exchanges, GroupKind.REPEAT).values():
        if len(group) != 2 or any(judged_by_others(ex) for ex in group):
            continue
        first, second = group
        if first.answer is None or second.answer is None:
            continue
        judged += 1
        if _comparable(first.answer) != _comparable(second.answer):
            findings.append(Finding(
                "the identical callback sent twice got a different answer",
                f"first: {_answer_phrase(first.answer, ctx.contract)} {_snippet(first.answer.body)}; "
                f"second: {_answer_phrase(second.answer, ctx.contract)} {_snippet(second.answer.body)}",
                (first, second), severity))
    return judged, findings


CC007 = Check("CC007", "identical callbacks get identical answers",
              "The identical callback sent twice gets the identical answer (a SHOULD: a warning unless --strict).",
              identical_answers, should=True, needs=(Need.ACCEPTED,))


def stale_refused(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    judged, findings = 0, []
    severity = Severity.DEFECT if ctx.strict else Severity.WARNING
    for ex in exchanges:
        if ex.probe.role is not Role.STALE or judged_by_others(ex) or ex.answer is None:
            continue
        judged += 1
        if ex.answer.status != 401:
            date = ctx.contract.hmac.date_header
            phrase = _answer_phrase(ex.answer, ctx.contract)
            what = (f"an {date} beyond the allowed skew in the future" if ex.probe.tamper is Tamper.FUTURE_DATE
                    else f"a stale {date}")
            findings.append(Finding(f"{what} was accepted: answered {phrase}, not 401",
                                    f"{date}: {ex.request.header(date)}", (ex,), severity))
    return judged, findings


CC008 = Check("CC008", "stale signatures are refused",
              "With a secret: a callback correctly signed with an X-Ms-Date more than maxClockSkewSeconds in the past, "
              "or in the future, gets 401 (a SHOULD: a warning unless --strict).", stale_refused, should=True,
              needs=(Need.SECRET,))


def authorized_once(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    judged, findings = 0, []
    for group in _groups(exchanges, GroupKind.AT_ONCE).values():
        answered = [ex for ex in group if ex.answer is not None and not judged_by_others(ex)
                    and not ((ctx.signed or ctx.authenticated) and ex.answer.status == 401)]  # CC006's, CC013's
        if len(answered) < 2:
            continue
        judged += 1
        outcomes: dict[tuple[int, str | None, str], tuple[Exchange, Answer]] = {}
        for ex in answered:
            if ex.answer is not None:  # the first exchange of each outcome
                outcomes.setdefault(_outcome(ex.answer, ctx.contract), (ex, ex.answer))
        successes = [seen for (code, status, _), seen in outcomes.items() if code == 200 and status in SUCCESS]
        if len(successes) > 1:
            (first, a), (second, b) = successes[0], successes[1]
            findings.append(Finding(
                "the identical callback was authorized more than once: two different successful answers",
                f"{first.probe.label}: {_answer_phrase(a, ctx.contract)} {_snippet(a.body)}; "
                f"{second.probe.label}: {_answer_phrase(b, ctx.contract)} {_snippet(b.body)}", (first, second)))
    return judged, findings


CC012 = Check("CC012", "concurrent copies are authorized once",
              "The identical callback sent several times at the same moment, and once more afterwards, never gets "
              "two different successful answers (two authorizations, two reservations of the user's money). "
              "Refusing a copy (a 409 while the first is in flight) is not an authorization; CC007 judges "
              "whether identical callbacks get identical answers.",
              authorized_once, needs=(Need.ACCEPTED,))


def _outcome(answer: Answer, contract: Contract) -> tuple[int, str | None, str]:
    """An answer as Vipps MobilePay reads it: the HTTP status, the status field and the other response roles'
    values (extra fields, such as a timestamp, are not part of the outcome)."""
    try:
        data = answer.json()
    except ValueError:
        return answer.status, None, repr(answer.body)
    status = contract.response_value(data, fields.STATUS)
    others = [(role.name, fields.get_at(data, role.pointer)) for role in contract.response_roles.values()
              if role.name != fields.STATUS]
    return answer.status, status if isinstance(status, str) else None, repr(sorted(others, key=repr))


CHECKS = (CC001, CC002, CC003, CC004, CC005, CC006, CC007, CC008, CC012, CC013)


def unmet(need: Need, ctx: Context) -> str | None:
    """Why the run cannot give a check what it needs (the reason the check is skipped), or None."""
    if need is Need.SECRET and not ctx.signed:
        return "no HMAC secret given (set CARD_CALLBACK_HMAC_SECRET or pass --hmac-secret-file)"
    if need is Need.AUTH_HEADER and not ctx.authenticated:
        if auth_header_name(ctx.contract) is None:
            return "the document declares no auth header (x-card-callback-auth-header)"
        return f"no auth header value given (set {AUTH_HEADER_ENV} or pass --auth-header-file)"
    if need is Need.ACCEPTED and not ctx.accepted:
        # A wrong path's 404, a WAF's 403, a rate limiter's 429 refuse every callback alike.
        return ("not judged: no valid callback was accepted (200), and refusing everything proves nothing about "
                "this rule (see CC001)")
    return None


def outcome_of(findings: Iterable[Finding], judged: int) -> Outcome:
    severities = {f.severity for f in findings}
    if Severity.DEFECT in severities:
        return Outcome.FAILED
    if severities:
        return Outcome.WARNING
    return Outcome.PASSED if judged else Outcome.SKIPPED


def _groups(exchanges: list[Exchange], kind: GroupKind) -> dict[Group, list[Exchange]]:
    groups: dict[Group, list[Exchange]] = {}
    for ex in exchanges:
        if ex.probe.group is not None and ex.probe.group.kind is kind:
            groups.setdefault(ex.probe.group, []).append(ex)
    return groups


def _comparable(answer: Answer) -> tuple[int, object]:
    try:
        return answer.status, answer.json()
    except ValueError:
        return answer.status, answer.body


def _role_phrase(ex: Exchange) -> str:
    if ex.probe.role is Role.INVALID_SHOULD and ex.probe.content_type == "application/json":
        return "a callback breaking only a length rule or a rule inside an optional field"
    return {
        Role.VALID: "a valid callback",
        Role.BASELINE: "a valid callback",
        Role.INVALID: "an invalid callback",
        Role.INVALID_SHOULD: "a valid body under a wrong or missing Content-Type",
        Role.EXTENDED: "a callback with unknown fields",
        Role.REPEAT: "a repeated callback",
        Role.TAMPERED: "a callback with a bad signature",
        Role.STALE: "a callback with a stale signature",
        Role.AT_ONCE: "a callback sent several times at once",
        Role.SECOND_CALLBACK: "the second callback after a soft decline",
        Role.RETRY: "a user's retry after a FAIL",
        Role.UNAUTHENTICATED: "a callback without the right auth header value",
        Role.VARIED: f"a valid callback with {ex.probe.variation}",
    }[ex.probe.role]


def answer_value(answer: Answer, contract: Contract, role: str) -> Any:
    """The answer's field of `role` (fields.MISSING when absent, the body not JSON, or the role unknown)."""
    try:
        data = answer.json()
    except ValueError:
        return fields.MISSING
    return contract.response_value(data, role)


def answer_status(answer: Answer, contract: Contract) -> str | None:
    """The answer's status field (RESERVE, FAIL, ...), when it has one as a string."""
    status = answer_value(answer, contract, fields.STATUS)
    return status if isinstance(status, str) else None


def _answer_phrase(answer: Answer, contract: Contract) -> str:
    status = answer_status(answer, contract)
    return f"{answer.status} {status}" if status else str(answer.status)


def _snippet(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "..."
