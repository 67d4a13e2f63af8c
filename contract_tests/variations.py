"""Valid callbacks sent the ways real senders send them, each paired with its canonical twin, and their judges.

The suite's canonical callback is compact UTF-8 JSON under the usual header names. Vipps MobilePay's bytes
may differ on any day: HTTP/2 sends header names in lower case, a JSON serializer may indent, reorder keys
or escape non-ASCII characters, Content-Type may carry `; charset=utf-8`, a revision may make the body
larger. Every variation is planned in every run (PAIRS per variation, never left to chance), each varied
callback is signed over the exact bytes sent, and it goes right after its canonical twin (the same callback,
a fresh attempt, in the suite's usual form) in one lane. Only what a pair proves is a defect: the twin was
accepted and the varied callback was not, so the finding names the variation.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from callback_core import fields
from callback_core.spec import Contract
from contract_tests.checks import (
    CC006,
    CC013,
    answer_problems,
    auth_header_verified,
    judged_by_others,
    signatures_verified,
)
from contract_tests.models import (
    Check,
    Context,
    Exchange,
    Finding,
    Group,
    GroupKind,
    Need,
    Probe,
    Role,
    Severity,
    Variation,
)

if TYPE_CHECKING:
    from contract_tests.cases import Planner

PAIRS = 2  # per variation: two different callbacks, so one odd answer is not the whole evidence
# No body limit is published and the document states none; 7 KiB is several times today's callback (under
# 1 KiB) and far below any web server's default limit (1 MiB and more), so refusing it is the PSP's defect.
LARGE_BODY_BYTES = 7 * 1024
PADDING_FIELD = "x-card-callback-padding"  # vendor-prefixed, so that no revision defines it
NOTE_FIELD = "x-card-callback-note"  # carries the non-ASCII text when the document has no free-text field
# Latin-1, other BMP scripts, a character outside the BMP (a surrogate pair when \u-escaped), a soft hyphen.
NON_ASCII_TEXT = " – Blåbærsyltetøy Ærø ñ € 日本 \U0001f600 \u00ad"
_BODY_VARIATIONS = frozenset({Variation.PRETTY_PRINTED, Variation.KEY_ORDER, Variation.NON_ASCII_RAW,
                              Variation.NON_ASCII_ESCAPED, Variation.LARGE})
# Identifiers are the PSP's own or Vipps MobilePay's generated ids: no sender puts prose in them.
_IDENTIFIER_ROLES = (fields.ATTEMPT_ID, fields.PSP_REFERENCE)


def free_text_pointers(contract: Contract) -> tuple[str, ...]:
    """The request's free-text fields, from the schema: strings without pattern, enum, const or format, that
    are neither card data nor identifiers."""
    card_data = set(contract.card_data_pointers)
    identifiers = {role.pointer for name in _IDENTIFIER_ROLES if (role := contract.request_role(name))}
    found: dict[str, None] = {}
    for prop in contract.request_properties:
        schema = prop.schema
        if schema.get("type") != "string" or any(key in schema for key in ("pattern", "enum", "const", "format")):
            continue
        if schema.get(fields.CARD_DATA_EXTENSION) is True or prop.pointer in card_data | identifiers:
            continue
        found.setdefault(prop.pointer)
    return tuple(found)


def varied(planner: Planner) -> Iterator[Probe]:
    """Every variation, PAIRS times: the canonical twin (a VALID probe) then the varied callback (VARIED)."""
    contract = planner.contract
    bases = _bases(planner)
    if not bases:
        return
    for position, variation in enumerate(Variation):
        for index in range(PAIRS):
            source_label, base = bases[index % len(bases)]
            built = _build(contract, planner, variation, base)
            if built is None:
                continue  # the document forbids what the variation needs (e.g. no unknown fields at all)
            twin, varied_body, note, unknown = built
            group = Group(GroupKind.VARIATION, position * PAIRS + index + 1)
            # A twin with an unknown field (the large body's, short) is CC005's concern, not CC001's.
            yield Probe(f"{source_label}, as the suite usually sends it",
                        Role.EXTENDED if unknown else Role.VALID, twin, group=group)
            yield Probe(f"{source_label} with {describe(variation)}{note}", Role.VARIED, varied_body, group=group,
                        content_type="application/json; charset=utf-8" if variation is Variation.CHARSET
                        else "application/json", variation=variation)


def _bases(planner: Planner) -> list[tuple[str, dict[str, Any]]]:
    """ASCII-only valid callbacks (so that only the variation adds non-ASCII bytes): the document's examples,
    then this seed's generated callbacks."""
    candidates = [(f"document example {name}", dict(body)) for name, body in planner.examples.items()]
    candidates += [(f"generated callback #{i}", planner.clean(body)) for i, body in
                   enumerate(planner.generated.valid, 1)]
    out = [(label, body) for label, body in candidates
           if planner.contract.is_valid_request(body) and _compact(body).isascii()]
    # One example and one generated callback when both exist: the seed varies the second pair.
    examples = [c for c in out if c[0].startswith("document")]
    generated = [c for c in out if not c[0].startswith("document")]
    return (examples[:1] + generated[:1] + examples[1:2] + generated[1:2])[:PAIRS]


def _build(contract: Contract, planner: Planner, variation: Variation,
           base: Mapping[str, Any]) -> tuple[bytes, bytes, str, bool] | None:
    """The twin's bytes, the varied bytes, a note for the label and whether both carry an unknown field; None
    when the variation cannot be made."""
    twin = planner.fresh(base)
    body = planner.fresh(base)
    note = ""
    unknown = False
    if variation is Variation.PRETTY_PRINTED:
        raw = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    elif variation is Variation.KEY_ORDER:
        reordered = _reversed_keys(body)
        raw = _compact(reordered).encode("utf-8")
        if raw == _compact(body).encode("utf-8"):
            return None  # one key per object: no other order exists
    elif variation in (Variation.NON_ASCII_RAW, Variation.NON_ASCII_ESCAPED):
        texts = _with_text(contract, body)
        if texts is None:
            # No free-text field: the text goes in an unknown field, and the twin carries it in ASCII.
            twin, body = dict(twin, **{NOTE_FIELD: "note"}), dict(body, **{NOTE_FIELD: "note" + NON_ASCII_TEXT})
            if not (contract.is_valid_request(twin) and contract.is_valid_request(body)):
                return None
            pointers, unknown = [fields.join_pointer((NOTE_FIELD,))], True
        else:
            body, pointers = texts
        note = f" ({', '.join(pointers)})"
        raw = (_compact(body).encode("utf-8") if variation is Variation.NON_ASCII_RAW
               else json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii"))
    elif variation is Variation.LARGE:
        small, large = _padded(contract, twin, 16), _padded(contract, body, LARGE_BODY_BYTES)
        if small is None or large is None:
            return None
        return small, large, " (its twin carries the same unknown field, short)", True
    else:  # header variations: the bytes are the canonical ones
        raw = _compact(body).encode("utf-8")
    return _compact(twin).encode("utf-8"), raw, note, unknown


def _compact(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _reversed_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _reversed_keys(node[key]) for key in reversed(list(node))}
    if isinstance(node, list):
        return [_reversed_keys(item) for item in node]
    return node


def _with_text(contract: Contract, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
    """`body` with NON_ASCII_TEXT appended to each free-text field it carries (where the schema still admits
    the longer value); None when it carries none."""
    out, changed = copy.deepcopy(body), []
    for pointer in free_text_pointers(contract):
        value = fields.get_at(out, pointer)
        if not isinstance(value, str):
            continue
        trial = copy.deepcopy(out)
        fields.set_at(trial, pointer, value + NON_ASCII_TEXT)
        if contract.is_valid_request(trial):
            out = trial
            changed.append(pointer)
    return (out, changed) if changed else None


def _padded(contract: Contract, body: dict[str, Any], size: int) -> bytes | None:
    """`body` with an unknown field of ASCII text that makes it `size` bytes (at least); None when the document
    admits no unknown field at the top."""
    out = copy.deepcopy(body)
    out[PADDING_FIELD] = ""
    if not contract.is_valid_request(out):
        return None
    missing = max(0, size - len(_compact(out).encode("utf-8")))
    line = "unknown field padding, to be ignored. "
    out[PADDING_FIELD] = (line * (missing // len(line) + 1))[:missing]
    return _compact(out).encode("utf-8")


def _pairs(exchanges: list[Exchange]) -> Iterator[tuple[Exchange, Exchange]]:
    """(twin, varied) for every variation group whose twin was accepted with 200."""
    groups: dict[Group, list[Exchange]] = {}
    for ex in exchanges:
        if ex.probe.group is not None and ex.probe.group.kind is GroupKind.VARIATION:
            groups.setdefault(ex.probe.group, []).append(ex)
    for group in groups.values():
        twin = next((ex for ex in group if ex.probe.role is not Role.VARIED), None)
        varied_ex = next((ex for ex in group if ex.probe.role is Role.VARIED), None)
        if twin is None or varied_ex is None or twin.answer is None or twin.answer.status != 200:
            continue  # nothing proven: CC001 and the others report the twin's fate
        yield twin, varied_ex


def describe(variation: Variation | None) -> str:
    """The variation as findings name it."""
    if variation is Variation.LARGE:
        return f"a large body ({LARGE_BODY_BYTES} bytes, padded with unknown fields)"
    return str(variation)


def _phrase(ex: Exchange) -> str:
    return f"a valid callback with {describe(ex.probe.variation)}"


def varied_accepted(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    """CC014: a varied callback gets what its accepted twin got: a 200 with a valid answer."""
    judged, findings = 0, []
    credentials = ctx.signed or ctx.authenticated
    for twin, ex in _pairs(exchanges):
        if ex.answer is not None and (ex.answer.status == 429 or (credentials and ex.answer.status == 401)):
            continue  # a rate limiter says nothing; a 401 is CC006's or CC013's
        judged += 1
        if ex.answer is None:
            findings.append(Finding(f"no answer to {_phrase(ex)}, while the same callback without it got 200",
                                    ex.error or "", (ex, twin)))
        elif ex.answer.status != 200:
            findings.append(Finding(f"answered {ex.answer.status} to {_phrase(ex)}, while the same callback without "
                                    "it got 200", _snippet(ex.answer.body), (ex, twin)))
        elif twin.answer is not None and answer_problems(twin.answer, ctx.contract, ctx.strict) is None:
            problem = answer_problems(ex.answer, ctx.contract, ctx.strict)
            if problem is not None and problem.severity is Severity.DEFECT:
                findings.append(Finding(f"{_phrase(ex)}: {problem.title}, while the same callback without it got a "
                                        "valid answer", problem.detail, (ex, twin)))
    return judged, findings


CC014 = Check("CC014", "callbacks are accepted however they are sent",
              "A valid callback is accepted as real senders vary it: header names in lower case, Content-Type with "
              "`; charset=utf-8`, pretty-printed JSON, keys in another order, non-ASCII characters in free-text "
              "fields (raw and \\u-escaped), a large body padded with unknown fields. Judged by pairs: the same "
              "callback in the suite's usual form accepted, the varied one refused, answered 5xx or not at all.",
              varied_accepted, needs=(Need.ACCEPTED,))


def _refused_credential(exchanges: list[Exchange]) -> Iterator[tuple[Exchange, Exchange]]:
    for twin, ex in _pairs(exchanges):
        if ex.answer is not None and ex.answer.status == 401 and not judged_by_others(ex):
            yield twin, ex


def _hint(variation: Variation | None, header: str) -> str:
    if variation in _BODY_VARIATIONS:
        return ("the content hash must be computed over the raw bytes received, never over a parsed and "
                "re-serialized body (JSON.stringify, json.dumps): any whitespace, key order or escaping is valid JSON "
                "and is signed as sent")
    if variation is Variation.LOWER_CASE_HEADERS:
        return f"header names are case-insensitive: find {header} and the others whatever their case"
    return "the signature does not cover Content-Type; its parameters must not change the verdict"


def signatures_verified_varied(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    """CC006, with the variations: a correctly signed varied callback refused with 401 while its twin was not."""
    judged, findings = signatures_verified(exchanges, ctx)
    if not ctx.signed:
        return judged, findings
    for twin, ex in _refused_credential(exchanges):
        judged += 1
        answer = _snippet(ex.answer.body) if ex.answer else ""
        findings.append(Finding(
            f"a correctly signed callback with {describe(ex.probe.variation)} was refused with 401, while the same "
            "callback without it was accepted",
            f"{_hint(ex.probe.variation, ctx.contract.hmac.date_header)}; {answer}",
            (ex, twin)))
    return judged, findings


def auth_header_verified_varied(exchanges: list[Exchange], ctx: Context) -> tuple[int, list[Finding]]:
    """CC013, with the variations (unsigned runs only: in a signed run a 401 is CC006's)."""
    judged, findings = auth_header_verified(exchanges, ctx)
    if ctx.signed or not ctx.authenticated:
        return judged, findings
    for twin, ex in _refused_credential(exchanges):
        judged += 1
        findings.append(Finding(
            f"a callback with {describe(ex.probe.variation)} carrying the auth header value was refused with 401, "
            "while the same callback without it was accepted", "header names are case-insensitive", (ex, twin)))
    return judged, findings


def _snippet(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "..."


CHECKS = (CC014,)
# CC006 and CC013 judge the varied callbacks too (one correctly signed, or carrying the auth header value, refused
# while its twin was accepted): the same checks, with judges that add the pairs to their own.
WIDENED = (replace(CC006, judge=signatures_verified_varied), replace(CC013, judge=auth_header_verified_varied))
