"""Concurrent sending keeps the requests a check compares in order, in one lane."""

from __future__ import annotations

from contract_tests.models import Probe, Role
from contract_tests.runner import _lanes


def _probe(label: str, group: str | None = None) -> Probe:
    return Probe(label=label, role=Role.VALID, body=b"{}", group=group)


def test_grouped_probes_share_a_lane_in_plan_order() -> None:
    probes = [
        _probe("a"),
        _probe("base-1", "extended-1"),
        _probe("b"),
        _probe("ext-1", "extended-1"),
        _probe("rep-1", "repeat-1"),
        _probe("base-2", "extended-1"),
        _probe("rep-2", "repeat-1"),
    ]
    lanes = [[probe.label for _, probe in lane] for lane in _lanes(probes)]
    assert lanes == [["a"], ["base-1", "ext-1", "base-2"], ["b"], ["rep-1", "rep-2"]]
    indexes = sorted(index for lane in _lanes(probes) for index, _ in lane)
    assert indexes == list(range(len(probes)))
