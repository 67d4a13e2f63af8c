"""Inline SVG helpers shared by the HTML reports: a log scale for latencies in ms beside a deadline in seconds."""

from __future__ import annotations

import math

LOG_FLOOR = 0.001  # 1 ms: the bottom of a latency log scale


class LogScale:
    """Positions on a log scale: `floor` maps to pixel `start`, `top` to pixel `end` (either direction)."""

    def __init__(self, floor: float, top: float, start: float, end: float) -> None:
        self.floor, self.start, self.end = floor, start, end
        self.span = math.log10(max(top, floor * 10) / floor)  # at least a decade, so nothing divides by zero

    def at(self, value: float) -> float:
        return self.start + (self.end - self.start) * math.log10(max(value, self.floor) / self.floor) / self.span

    def decades(self) -> list[float]:
        """The powers of ten on the scale, from the floor up: where the grid lines and labels go."""
        return [self.floor * 10**i for i in range(int(self.span + 1e-9) + 1)]


def tick_label(seconds: float) -> str:
    return f"{seconds * 1000:g} ms" if seconds < 1 else f"{seconds:g} s"
