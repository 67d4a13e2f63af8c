"""The batched log handler: every line arrives, in order, soon; nothing is held back after close."""

from __future__ import annotations

import io
import logging
import time

from reference_server.logs import FLUSH_SECONDS, BatchedLineHandler


def _logger(stream: io.StringIO) -> tuple[logging.Logger, BatchedLineHandler]:
    handler = BatchedLineHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"test-batched-{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger, handler


def _wait_for(stream: io.StringIO, lines: int) -> list[str]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and stream.getvalue().count("\n") < lines:
        time.sleep(FLUSH_SECONDS / 5)
    return stream.getvalue().splitlines()


def test_lines_arrive_in_order_without_a_flush() -> None:
    stream = io.StringIO()
    logger, handler = _logger(stream)
    for i in range(2000):
        logger.info("line %d", i)
    assert _wait_for(stream, 2000) == [f"line {i}" for i in range(2000)]
    handler.close()


def test_close_writes_what_is_pending_and_later_lines_go_straight_out() -> None:
    stream = io.StringIO()
    logger, handler = _logger(stream)
    logger.info("before")
    handler.close()
    assert stream.getvalue() == "before\n"
    logger.info("after")
    assert stream.getvalue() == "before\nafter\n"
