"""A log handler that writes lines in batches: one write per ~50 ms under load, not one per callback."""

from __future__ import annotations

import logging
import threading
from typing import TextIO

FLUSH_SECONDS = 0.05
MAX_PENDING = 512


class BatchedLineHandler(logging.Handler):
    """Formats on the caller's thread, writes from its own: the event loop never waits on the stream.

    Each write to stderr released the GIL to the store's thread and cost the event loop ~8% of its
    requests under load. Lines reach the stream within FLUSH_SECONDS (or at once past MAX_PENDING
    lines), in order; close() (logging's exit hook) writes what is left. A killed process can lose at
    most the last FLUSH_SECONDS of lines; the answers themselves are in the database.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._pending: list[str] = []
        self._lock = self.lock or threading.RLock()  # logging.Handler holds it around emit()
        self._wake = threading.Event()
        self._closing = False
        self._writer = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)  # emit() runs under self.lock, as flush()'s swap does
        if self._closing:
            self.flush()  # closed (logging.shutdown, dictConfig): no writer thread any more, write at once
        elif len(self._pending) >= MAX_PENDING:
            self._wake.set()

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        # Under the handler's own (reentrant) lock, as logging.shutdown() calls it: one lock, no
        # ordering to get wrong, and lines leave in order. emit() waits only while a batch is written.
        with self._lock:
            lines, self._pending = self._pending, []
            if lines:
                try:
                    self.stream.write("\n".join(lines) + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass  # the stream is gone (closed pipe at exit): nowhere left to write

    def close(self) -> None:
        # No join: logging.shutdown() calls this holding self.lock, which the writer may be waiting for.
        self._closing = True
        self._wake.set()
        self.flush()
        super().close()
