"""What a load run measured, per second: latency histograms, outcomes, deadline misses, errors; mergeable."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Latencies go into buckets 1% wide (log scale from 1 us): percentiles within 1%, memory bounded per second.
_STEP = math.log(1.01)
_FLOOR = 1e-6


def bucket_of(seconds: float) -> int:
    return max(0, math.ceil(math.log(max(seconds, _FLOOR) / _FLOOR) / _STEP))


def bucket_value(bucket: int) -> float:
    """The bucket's upper bound in seconds."""
    return _FLOOR * math.exp(bucket * _STEP)


@dataclass(frozen=True, slots=True)
class ErrorSample:
    """One kind of defect: the rule it breaks, how often, and the first occurrence (no card data)."""

    code: str
    title: str
    count: int
    first_at: float  # epoch seconds
    example: str  # the request id and the answer, card data masked


@dataclass
class Window:
    """One second of the run (by the second a request was sent)."""

    count: int = 0
    misses: int = 0
    histogram: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    defects: int = 0

    def merge(self, other: Window) -> None:
        self.count += other.count
        self.misses += other.misses
        self.histogram.update(other.histogram)
        self.outcomes.update(other.outcomes)
        self.defects += other.defects


class Recorder:
    """Collects judged requests in one process; `drain` hands over what came since the last drain."""

    def __init__(self) -> None:
        self.windows: dict[int, Window] = {}
        self.errors: dict[tuple[str, str], ErrorSample] = {}
        self.warnings: Counter[str] = Counter()
        self.max_latency = 0.0
        self.cpu_busy = 0.0  # the highest share of a core the generating processes used, 0..1
        # Follow-ups sent (second callbacks, retries), by (kind, outcome); those never queued past the bound.
        self.follow_ups: Counter[tuple[str, str]] = Counter()
        self.follow_ups_dropped = 0

    def record(self, sent_at: float, latency: float | None, outcome: str, late: bool,
               defects: tuple[tuple[str, str, str], ...] = (), warning: str | None = None) -> None:
        """`latency` None: no latency to count (the connection failed); a request given up on at the timeout
        counts with the time it waited, a lower bound. `defects`: (check code, title, example) per rule broken."""
        window = self.windows.get(int(sent_at))
        if window is None:
            window = self.windows[int(sent_at)] = Window()
        window.count += 1
        window.misses += late
        if latency is not None:
            window.histogram[bucket_of(latency)] += 1
            self.max_latency = max(self.max_latency, latency)
        window.outcomes[outcome] += 1
        window.defects += bool(defects)
        for code, title, example in defects:
            key = (code, title)
            known = self.errors.get(key)
            self.errors[key] = (ErrorSample(code, title, 1, sent_at, example) if known is None
                                else ErrorSample(code, title, known.count + 1, known.first_at, known.example))
        if warning:
            self.warnings[warning] += 1

    def followed(self, kind: str, outcome: str) -> None:
        """A follow-up was sent and judged (it is in `record`'s counts too)."""
        self.follow_ups[(str(kind), outcome)] += 1

    def merge(self, other: Recorder) -> None:
        for second, window in other.windows.items():
            self.windows.setdefault(second, Window()).merge(window)
        for key, sample in other.errors.items():
            known = self.errors.get(key)
            if known is None:
                self.errors[key] = sample
            else:
                first = known if known.first_at <= sample.first_at else sample
                self.errors[key] = ErrorSample(sample.code, sample.title, known.count + sample.count, first.first_at,
                                               first.example)
        self.warnings.update(other.warnings)
        self.max_latency = max(self.max_latency, other.max_latency)
        self.cpu_busy = max(self.cpu_busy, other.cpu_busy)
        self.follow_ups.update(other.follow_ups)
        self.follow_ups_dropped += other.follow_ups_dropped

    def drain(self) -> Recorder:
        """Everything recorded so far, leaving this one empty (the CPU figure stays: it is a maximum)."""
        out = Recorder()
        out.windows, self.windows = self.windows, {}
        out.errors, self.errors = self.errors, {}
        out.warnings, self.warnings = self.warnings, Counter()
        out.follow_ups, self.follow_ups = self.follow_ups, Counter()
        out.follow_ups_dropped, self.follow_ups_dropped = self.follow_ups_dropped, 0
        out.max_latency, out.cpu_busy = self.max_latency, self.cpu_busy
        return out

    def to_wire(self) -> dict[str, Any]:
        """Plain data (string keys) for Locust's worker-to-master messages."""
        return {
            "windows": {str(s): [w.count, w.misses, {str(b): n for b, n in w.histogram.items()}, dict(w.outcomes),
                                 w.defects] for s, w in self.windows.items()},
            "errors": [[e.code, e.title, e.count, e.first_at, e.example] for e in self.errors.values()],
            "warnings": dict(self.warnings),
            "max_latency": self.max_latency,
            "cpu_busy": self.cpu_busy,
            "follow_ups": [[kind, outcome, n] for (kind, outcome), n in self.follow_ups.items()],
            "follow_ups_dropped": self.follow_ups_dropped,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Recorder:
        out = cls()
        for second, (count, misses, histogram, outcomes, defects) in data["windows"].items():
            out.windows[int(second)] = Window(count, misses, Counter({int(b): n for b, n in histogram.items()}),
                                              Counter(outcomes), defects)
        for code, title, count, first_at, example in data["errors"]:
            out.errors[(code, title)] = ErrorSample(code, title, count, first_at, example)
        out.warnings = Counter(data["warnings"])
        out.max_latency = float(data["max_latency"])
        out.cpu_busy = float(data["cpu_busy"])
        out.follow_ups = Counter({(kind, outcome): n for kind, outcome, n in data["follow_ups"]})
        out.follow_ups_dropped = int(data["follow_ups_dropped"])
        return out


@dataclass(frozen=True, slots=True)
class Percentiles:
    count: int
    p50: float
    p90: float
    p99: float
    p999: float
    max: float


def percentiles(histogram: Counter[int], max_latency: float) -> Percentiles | None:
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())

    def rank(p: float) -> float:
        # Nearest rank; a bucket's upper bound, but never above the largest latency measured.
        target, seen = max(1, math.ceil(p * total)), 0
        for bucket, count in ordered:
            seen += count
            if seen >= target:
                return min(bucket_value(bucket), max_latency)
        return max_latency

    return Percentiles(total, rank(0.5), rank(0.9), rank(0.99), rank(0.999), max_latency)


def share_within(histogram: Counter[int], limit: float) -> float:
    """The share of requests whose latency bucket lies within `limit` (the deadline's percentile rank)."""
    total = sum(histogram.values())
    if not total:
        return 1.0
    return sum(n for b, n in histogram.items() if bucket_value(b) <= limit) / total
