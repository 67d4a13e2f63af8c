"""Concurrent sending keeps the requests a check compares in order, in one lane."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from callback_core.spec import Contract
from contract_tests.models import Answer, Exchange, Group, GroupKind, Outgoing, Probe, Role
from contract_tests.runner import Settings, _lanes, _send_all
from contract_tests.transport import Transport

EXTENDED, REPEAT = Group(GroupKind.EXTENDED, 1), Group(GroupKind.REPEAT, 1)


def _probe(label: str, group: Group | None = None) -> Probe:
    return Probe(label=label, role=Role.VALID, body=b"{}", group=group)


def test_grouped_probes_share_a_lane_in_plan_order() -> None:
    probes = [
        _probe("a"),
        _probe("base-1", EXTENDED),
        _probe("b"),
        _probe("ext-1", EXTENDED),
        _probe("rep-1", REPEAT),
        _probe("base-2", EXTENDED),
        _probe("rep-2", REPEAT),
    ]
    lanes = [[probe.label for _, probe in lane] for lane in _lanes(probes)]
    assert lanes == [["a"], ["base-1", "ext-1", "base-2"], ["b"], ["rep-1", "rep-2"]]
    indexes = sorted(index for lane in _lanes(probes) for index, _ in lane)
    assert indexes == list(range(len(probes)))


class _Recorder(Transport):
    """Answers each body with itself as the status, and records the order bodies arrive in."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.lock = threading.Lock()

    def send(self, request: Outgoing, timeout: float) -> Answer:
        with self.lock:
            self.seen.append(request.body)
        return Answer(200, (("content-type", "application/json"),), b'{"status": "%s"}' % request.body)


def test_follow_ups_go_next_in_their_lane_and_get_indexes_after_the_plan(contract: Contract) -> None:
    probes = [_probe(name) for name in ("a", "b", "c", "d", "e", "f")]
    probes = [Probe(p.label, p.role if p.label in "ae" else Role.REPEAT, p.label.encode()) for p in probes]

    def follow_up(exchange: Exchange) -> list[Probe]:
        if not exchange.probe.first_attempt:
            return []
        return [Probe(f"{exchange.probe.label}{n}", Role.RETRY, f"{exchange.probe.label}{n}".encode(), after=exchange)
                for n in (1, 2)]

    transport = _Recorder()
    settings = Settings(url="http://psp.test/cb", contract=contract, spec_sha256="", seed=1)
    done = dict(_send_all(probes, settings, transport, 5.0, lambda: datetime.now(UTC), time.perf_counter,
                          follow_up))
    assert [probe.label for probe in probes] == ["a", "b", "c", "d", "e", "f", "a1", "a2", "e1", "e2"]
    assert {index: ex.probe.label for index, ex in done.items()} == dict(enumerate(p.label for p in probes))
    for origin in "ae":
        order = [body.decode() for body in transport.seen if body.decode().startswith(origin)]
        assert order == [origin, f"{origin}1", f"{origin}2"]
    assert done[6].probe.after is done[0]


def test_a_grouped_callbacks_follow_ups_go_after_the_rest_of_its_group(contract: Contract) -> None:
    # The repeat must be the identical callback right after the first: the second callback may change the
    # attempt's state, so it waits for the comparison to end.
    probes = [Probe("x", Role.VALID, b"x"), Probe("a", Role.VALID, b"a", group=REPEAT),
              Probe("r", Role.REPEAT, b"a", group=REPEAT)]

    def follow_up(exchange: Exchange) -> list[Probe]:
        if exchange.probe.label != "a":
            return []
        return [Probe("a1", Role.SECOND_CALLBACK, b"a1", after=exchange)]

    transport = _Recorder()
    settings = Settings(url="http://psp.test/cb", contract=contract, spec_sha256="", seed=1)
    done = dict(_send_all(probes, settings, transport, 5.0, lambda: datetime.now(UTC), time.perf_counter,
                          follow_up))
    assert [body for body in transport.seen if body != b"x"] == [b"a", b"a", b"a1"]
    assert done[3].probe.label == "a1" and done[3].probe.after is done[1]
