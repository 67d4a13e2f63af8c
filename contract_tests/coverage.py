"""What a run reached, counted as its exchanges come in: answer statuses, error codes, HTTP statuses, flows, fields."""

from __future__ import annotations

import json
import re
from collections import Counter
from enum import StrEnum
from typing import Any

from callback_core import fields
from callback_core.spec import Contract
from contract_tests.models import Card, Coverage, Exchange, Probe, Role


class Flow(StrEnum):
    """A way Vipps MobilePay sends more than one callback for a payment; the value is the JSON report's key."""

    SECOND_CALLBACK = "secondCallbacks"
    RETRY_SAME_CARD = "retriesSameCard"
    RETRY_OTHER_CARD = "retriesOtherCard"
    CONCURRENT_COPIES = "concurrentCopies"
    REPEATS = "repeats"


# What each flow's count counts, for people (the reports key them by Flow's value).
FLOW_TITLES: dict[str, str] = {
    Flow.SECOND_CALLBACK: "second callbacks",
    Flow.RETRY_SAME_CARD: "retries with the same card",
    Flow.RETRY_OTHER_CARD: "retries with another card",
    Flow.CONCURRENT_COPIES: "concurrent copies",
    Flow.REPEATS: "repeated callbacks",
}
# The same, said in full (the HTML report's flow table).
FLOW_DESCRIPTIONS: dict[str, str] = {
    Flow.SECOND_CALLBACK: "after a SOFT_DECLINE: the same attempt again, with a fresh cryptogram",
    Flow.RETRY_SAME_CARD: "after a retryable FAIL: the user's new attempt at the same payment, same card",
    Flow.RETRY_OTHER_CARD: "after the retry failed too: a new attempt with another card",
    Flow.CONCURRENT_COPIES: "the identical callback sent several times at the same moment, then once more",
    Flow.REPEATS: "the identical callback sent a second time, after the first was answered",
}
# "<example> with <field>: <break>", or "<example> with <field> <VALUE> without <name>" (a switched variant);
# see contract_tests/mutations.py and Planner.invalid.
_MUTATION_LABEL = re.compile(r"^\S+ with (?P<field>[^\s:]+)(?:: | \S+ without \S+$)")


def flow_of(probe: Probe) -> Flow | None:
    """The flow a request belongs to, or None for a callback sent on its own."""
    if probe.role is Role.SECOND_CALLBACK:
        return Flow.SECOND_CALLBACK
    if probe.role is Role.RETRY:
        return Flow.RETRY_OTHER_CARD if probe.card is Card.OTHER else Flow.RETRY_SAME_CARD
    if probe.role is Role.AT_ONCE:
        return Flow.CONCURRENT_COPIES
    if probe.role is Role.REPEAT:
        return Flow.REPEATS
    return None


def mutated_field(probe: Probe) -> str | None:
    """The dotted name of the request field an invalid callback broke, or None (malformed JSON, Schemathesis'
    own negative cases: no one field)."""
    if probe.role not in (Role.INVALID, Role.INVALID_SHOULD):
        return None
    match = _MUTATION_LABEL.match(probe.label)
    return match.group("field") if match else None


class CoverageCounter:
    """Counts each exchange once, as the run receives it; `result` is the run's Coverage.

    Cheap by design: one JSON parse of a 200 answer's body (the checks parse it too, but a second validator
    pass would cost more than the run), no schema validation.
    """

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.answer_statuses: Counter[str] = Counter()
        self.error_codes: Counter[str | int] = Counter()
        self.http_statuses: Counter[int] = Counter()
        self.flows: Counter[Flow] = Counter()
        self.mutated: Counter[str] = Counter()

    def add(self, exchange: Exchange) -> None:
        probe, answer = exchange.probe, exchange.answer
        flow = flow_of(probe)
        if flow is not None:
            self.flows[flow] += 1
        name = mutated_field(probe)
        if name is not None:
            self.mutated[name] += 1
        if answer is None:
            return
        self.http_statuses[answer.status] += 1
        if answer.status != 200:
            return
        try:
            data: Any = json.loads(answer.body)
        except ValueError:
            return
        status = self.contract.response_value(data, fields.STATUS)
        if isinstance(status, str):
            self.answer_statuses[status] += 1
        code = self.contract.response_value(data, fields.ERROR_CODE)
        if isinstance(code, str | int) and not isinstance(code, bool):
            self.error_codes[code] += 1  # typed, as the catalogue is: 51 is an integer catalogue's code, "51" not

    def result(self) -> Coverage:
        contract = self.contract
        documented = contract.statuses
        return Coverage(
            answer_statuses=_ordered(self.answer_statuses, documented),
            documented_answer_statuses=documented,
            error_codes=_ordered(self.error_codes, tuple(entry.code for entry in contract.error_codes)),
            catalogue_codes=tuple(entry.code for entry in contract.error_codes),
            http_statuses=tuple(sorted(self.http_statuses.items())),
            documented_http_statuses=tuple(sorted(contract.documented_statuses)),
            flows=tuple((flow.value, self.flows[flow]) for flow in Flow),
            mutated_fields=_ordered(self.mutated, request_fields(contract)),
            request_fields=request_fields(contract),
        )


def request_fields(contract: Contract) -> tuple[str, ...]:
    """Every field of the request schema as a dotted name, in document order, once."""
    return tuple(dict.fromkeys(".".join(prop.parts) for prop in contract.request_properties))


def _ordered(counts: Counter[Any], known: tuple[Any, ...]) -> tuple[tuple[Any, int], ...]:
    """The counted names in the document's order, then those the document does not know, most seen first."""
    listed = [(name, counts[name]) for name in known if counts[name]]
    others = sorted(((name, count) for name, count in counts.items() if name not in known),
                    key=lambda item: (-item[1], str(item[0])))
    return (*listed, *others)
