"""The checks of the flows that lose money: the second callback, the user's retry, card data echoed back."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from callback_core import fields, followups
from callback_core.schemas import validator_for
from callback_core.spec import Contract, format_code
from contract_tests.checks import answer_status, answer_value, judged_by_others
from contract_tests.models import Answer, Card, Check, Context, Exchange, Finding, Role, Severity

MIN_ECHO_LENGTH = 6  # shorter card values ("0", "12") would be found by chance in any answer


def _accepted_first_attempts(exchanges: list[Exchange]) -> list[Exchange]:
    return [ex for ex in exchanges if ex.probe.first_attempt and ex.answer is not None and ex.answer.status == 200]


def _mix(accepted: list[Exchange], ctx: Context) -> str:
    """The statuses the accepted callbacks got, most frequent first: "RESERVE 120, FAIL 20"."""
    counts = Counter(answer_status(ex.answer, ctx.contract) or "no status" for ex in accepted if ex.answer is not None)
    return ", ".join(f"{status} {count}" for status, count in counts.most_common())


def _unjudged(followed: int, what: str, sent: int, sent_what: str) -> str:
    return (f"{_count(followed, what)} followed by {_count(sent, sent_what)}, none answered in a way this check "
            "can judge (see CC002, CC003, CC006)")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _no_second_callback(exchanges: list[Exchange], ctx: Context) -> str:
    """What the run saw instead of a second callback to judge."""
    accepted = _accepted_first_attempts(exchanges)
    soft = [ex for ex in accepted if ex.answer is not None and answer_status(ex.answer, ctx.contract)
            == followups.SOFT_DECLINE]
    hint = "; name a card this PSP soft-declines with --test-cards FILE"
    if not accepted:
        return "no valid callback was accepted (200), so no answer could be followed" + hint
    if not soft:
        return (f"no SOFT_DECLINE among {_count(len(accepted), 'accepted callback')} ({_mix(accepted, ctx)}), so "
                "no second callback was sent" + hint)
    sent = sum(1 for ex in exchanges if ex.probe.role is Role.SECOND_CALLBACK)
    return _unjudged(len(soft), "SOFT_DECLINE answer", sent, "second callback")


def second_callback_answered(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    judged, findings = 0, []
    for ex in exchanges:
        if ex.probe.role is not Role.SECOND_CALLBACK or judged_by_others(ex) or ex.answer is None:
            continue
        if ctx.signed and ex.answer.status == 401:
            continue  # a correctly signed callback refused: CC006 reports it
        judged += 1
        first = ex.probe.after
        pair = (first, ex) if first is not None else (ex,)
        if ex.answer.status == 409:
            findings.append(Finding("the second callback after SOFT_DECLINE was answered 409: the user completed "
                                    "3-D Secure and the payment is lost", _snippet(ex.answer.body), pair))
        elif ex.answer.status != 200:  # a 200 whose body is broken is CC001's
            findings.append(Finding(f"the second callback after SOFT_DECLINE was answered {ex.answer.status}, not "
                                    "200: the payment is lost", _snippet(ex.answer.body), pair))
        elif answer_value(ex.answer, ctx.contract, fields.STATUS) == "SOFT_DECLINE":
            # Without a cryptogram the second callback is byte-identical to the first, and the document also
            # says an identical callback gets the identical answer: then it is only ever a warning.
            identical = first is not None and first.request.body == ex.request.body
            severity = Severity.DEFECT if ctx.strict and not identical else Severity.WARNING
            findings.append(Finding("the second callback after SOFT_DECLINE was answered SOFT_DECLINE again: a loop "
                                    "for the user", "it should be RESERVE, CAPTURE or FAIL"
                                    + (" (this second callback was byte-identical to the first: the body carries "
                                       "no cryptogram)" if identical else ""), pair, severity))
    return judged, findings


CC009 = Check("CC009", "soft-decline second callbacks are answered",
              "After every SOFT_DECLINE, the second callback (the same body and attempt id, a fresh "
              "cryptogram when the body carries one) gets 200, never a 409 or another 4xx, and a status of "
              "RESERVE, CAPTURE or FAIL. SOFT_DECLINE again loops the user: a warning unless --strict. (A 5xx is "
              "CC002's, a broken 200 body CC001's.)",
              second_callback_answered, not_exercised=_no_second_callback)


def retry_answered(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    judged, findings = 0, []
    retries: dict[int, list[Exchange]] = {}
    for ex in exchanges:
        first = ex.probe.after
        if ex.probe.role is not Role.RETRY or first is None or judged_by_others(ex) or ex.answer is None:
            continue
        if ctx.signed and ex.answer.status == 401:
            continue  # a correctly signed callback refused: CC006 reports it
        judged += 1
        retries.setdefault(id(first), []).append(ex)
        rule = _error_code(first, ctx.contract)
        # A code the catalogue does not list: the app offers the retry, but the PSP may have meant it final.
        severity = Severity.DEFECT if rule.listed or ctx.strict else Severity.WARNING
        why = "" if rule.listed else (f" (error code {_shown(rule.code)} is not in x-error-codes; the app treats it "
                                      "as retryable)")
        card = ex.probe.card or Card.SAME
        if ex.answer.status != 200:  # a 200 whose body is broken is CC001's
            findings.append(Finding(f"a user's retry after FAIL with {card} was answered {ex.answer.status}, not "
                                    "200: the user cannot pay" + why, _snippet(ex.answer.body), (first, ex), severity))
    for pair in retries.values():
        findings += _replayed(pair, ctx)
    return judged, findings


def _no_retry(exchanges: list[Exchange], ctx: Context) -> str:
    """What the run saw instead of a user's retry to judge."""
    accepted = _accepted_first_attempts(exchanges)
    fails = [ex for ex in accepted if ex.answer is not None and answer_status(ex.answer, ctx.contract)
             == followups.FAIL]
    retryable = [ex for ex in fails if _error_code(ex, ctx.contract).retryable]
    hint = "; name a card this PSP declines with a retryable error code with --test-cards FILE"
    if not accepted:
        return "no valid callback was accepted (200), so no answer could be followed" + hint
    if not fails:
        return (f"no FAIL among {_count(len(accepted), 'accepted callback')} ({_mix(accepted, ctx)}), so no retry "
                "was sent" + hint)
    if not retryable:
        codes = Counter(_shown(_error_code(ex, ctx.contract).code) for ex in fails)
        listed = ", ".join(f"{code} ({count})" for code, count in codes.most_common())
        return (f"{_count(len(fails), 'FAIL answer')}, none retryable (error codes {listed}: x-error-codes calls "
                "them final), so no retry was sent" + hint)
    sent = sum(1 for ex in exchanges if ex.probe.role is Role.RETRY)
    return _unjudged(len(retryable), "retryable FAIL answer", sent, "retry")


CC010 = Check("CC010", "retries after a FAIL are answered",
              "After a FAIL whose error code the catalogue (x-error-codes) does not call non-retryable, the user's "
              "retry (the same payment reference, a new attempt id; with the same card, then with another when "
              "that fails too) gets 200, never a 409 or another 4xx, and not the first attempt's answer replayed. "
              "(A 5xx is CC002's, a broken 200 body CC001's.)",
              retry_answered, not_exercised=_no_retry)


def _replayed(retries: list[Exchange], ctx: Context) -> Iterator[Finding]:
    """Both retries answered with the first attempt's answer, byte for byte, network transaction reference and
    all: a new attempt (another card, even) is a new network transaction, so the PSP answered from the old one."""
    first = retries[0].probe.after
    if first is None or first.answer is None or len(retries) < 2:
        return
    reference = answer_value(first.answer, ctx.contract, fields.NETWORK_TRANSACTION_REFERENCE)
    if not isinstance(reference, str) or not reference:
        return  # two identical FAILs are an ordinary outcome; only the reused reference proves the replay
    if all(ex.answer is not None and ex.answer.body == first.answer.body for ex in retries):
        yield Finding("a user's retry after FAIL got the first attempt's answer again, network transaction "
                      "reference and all", f"first attempt and both retries answered {_snippet(first.answer.body)} "
                      f"(network transaction reference {reference})", (first, *retries))


def card_data_not_echoed(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    judged, findings = 0, []
    severity = Severity.DEFECT if ctx.strict else Severity.WARNING
    pointers = ctx.contract.card_data_pointers
    card_like = _CardLike(ctx.contract)
    for ex in exchanges:
        if ex.answer is None or not pointers:
            continue
        values = [(p, v) for p, v in _card_values(ex.request.body, pointers) if card_like(p, v)]
        if not values:
            continue
        judged += 1
        text = _answer_text(ex.answer)
        leaked = [pointer for pointer, value in values if _contains(text, value)]
        if leaked:
            findings.append(Finding(
                f"an answer {ex.answer.status} echoes card data ({', '.join(sorted(set(leaked)))})",
                "the callback's card data must never come back in an answer (the document's Problem: "
                "'never contains card data')", (ex,), severity))
    return judged, findings


def _no_card_data(exchanges: list[Exchange], ctx: Context) -> str:
    return "no callback carried card data of the document's x-card-data fields long enough to recognise"


CC011 = Check("CC011", "card data is never echoed",
              "No answer, of any status, contains a card-data value (x-card-data in the document: the token "
              "number, the cryptogram, the encrypted PAN) of the callback it answers (a SHOULD: a warning unless "
              "--strict).", card_data_not_echoed, not_exercised=_no_card_data, should=True)
FLOW_CHECKS = (CC009, CC010, CC011)


class _CardLike:
    """Whether a value is one Vipps MobilePay could send in that card-data field (valid against the field's own
    schema). A broken value the suite made up (a token number with a trailing newline, 40 zeros) is not card
    data, and many validators quote the value they refuse: only real-looking card data counts as echoed."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.schemas: dict[str, list[Any]] = {}
        for prop in contract.request_properties:
            self.schemas.setdefault(prop.pointer, []).append(prop.schema)
        self.known: dict[tuple[str, str], bool] = {}

    def __call__(self, pointer: str, value: str) -> bool:
        key = (pointer, value)
        if key not in self.known:
            self.known[key] = not self.schemas.get(pointer) or any(
                validator_for(self.contract.document, schema).is_valid(value) for schema in self.schemas[pointer])
        return self.known[key]


def _card_values(raw: bytes, pointers: tuple[str, ...]) -> list[tuple[str, str]]:
    """(pointer, value) for each card-data string of the body long enough to recognise, and not also the value
    of a field that is not card data (which the PSP may show)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    found = [(p, v) for p in pointers if isinstance(v := fields.get_at(body, p), str) and len(v) >= MIN_ECHO_LENGTH]
    if not found:
        return []
    masked = fields.masked(body, pointers)
    others = set(_strings(masked))
    return [(p, v) for p, v in found if v not in others]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _answer_text(answer: Answer) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in answer.headers)
    return headers + "\n" + answer.body.decode("utf-8", "replace")


def _contains(text: str, value: str) -> bool:
    # As written, JSON-escaped, or percent-encoded (in a URL); bounded so that digits inside a longer number
    # (a timestamp, a reference) are not taken for a token number.
    forms = {value, json.dumps(value)[1:-1], value.replace("/", "\\/"), quote(value, safe="")}
    return any(form in text and re.search(rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])", text)
               for form in forms)


def _shown(code: str | int | None) -> str:
    return "(none)" if code is None else format_code(code)


def _error_code(first: Exchange, contract: Contract) -> followups.ErrorCodeRule:
    # Typed as answered: "300" is not code 300 of an integer catalogue.
    code = answer_value(first.answer, contract, fields.ERROR_CODE) if first.answer is not None else None
    return followups.error_code_rule(contract, code)


def _snippet(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "..."
