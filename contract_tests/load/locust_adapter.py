"""Every use of Locust (pinned in pyproject): the user that sends callbacks; local, master and worker runs.

Importing Locust patches the standard library with gevent, so this module is imported first, in a process
of its own (`card-callback load` starts one); no module another command imports may import it.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import gevent
import locust  # noqa: F401 - patches the standard library (gevent) on import, before ssl is loaded elsewhere
from locust import FastHttpUser, constant, constant_throughput, task
from locust.env import Environment
from locust.exception import StopUser

from callback_core import signing
from contract_tests.auth import target_parts
from contract_tests.errors import LoadError
from contract_tests.load.judging import judge
from contract_tests.load.report import Progress, Stopped
from contract_tests.load.settings import LoadSettings
from contract_tests.load.source import Callback, CallbackSource
from contract_tests.load.stats import Recorder, percentiles

STATS_MESSAGE = "card_callback_stats"
FINISH_MESSAGE = "card_callback_finish"  # master to workers: send no more, report once the answers are in
REPORT_INTERVAL = 1.0  # seconds between a worker's reports to the master
PROGRESS_INTERVAL = 3.0  # seconds between progress lines
WORKERS_TIMEOUT = 300.0  # waiting for workers to start and connect
USER_CLASS = "CallbackUser"  # master and workers dispatch users by class name


@dataclass
class Sender:
    """What a process's users share: the source of callbacks (each sent once), the target and the signing."""

    settings: LoadSettings
    source: CallbackSource
    recorder: Recorder
    in_flight: int = 0
    closed: bool = False  # the run's time is up: send no more callbacks

    def __post_init__(self) -> None:
        self.host, self.path_and_query = target_parts(self.settings.url)
        self._date_second = -1
        self._date = ""

    def next_callback(self) -> Callback | None:
        return None if self.closed else self.source.next()

    def headers(self, body: bytes, now: float) -> dict[str, str]:
        headers = {"Host": self.host, "Content-Type": "application/json",
                   "Accept": "application/json, application/problem+json"}
        secret = self.settings.secret
        if secret is not None:
            # Signed when sent, over the exact bytes, with the current date (a run may outlive the allowed skew).
            if int(now) != self._date_second:
                self._date_second = int(now)
                self._date = signing.http_date(datetime.fromtimestamp(now, UTC))
            scheme = self.settings.contract.hmac
            signed = signing.sign(secret, method="POST", path_and_query=self.path_and_query, host=self.host,
                                  body=body, date=self._date, scheme=scheme)
            headers[scheme.date_header] = signed.date
            headers[scheme.content_sha256_header] = signed.content_sha256
            headers[scheme.authorization_header] = signed.authorization
        if self.settings.auth is not None:
            headers[self.settings.auth.name] = self.settings.auth.value
        return headers

    def exchange(self, client: Any) -> None:
        callback = self.next_callback()
        if callback is None:
            raise StopUser()
        sent_at = time.time()
        headers = self.headers(callback.body, sent_at)
        self.in_flight += 1
        try:
            self._send(client, callback, headers, sent_at)
        finally:
            self.in_flight -= 1

    def finish(self) -> None:
        """Send no more; wait (at most the request timeout) for the answers in flight, so each is judged."""
        self.closed = True
        until = time.monotonic() + self.settings.timeout + 1.0
        while self.in_flight and time.monotonic() < until:
            gevent.sleep(0.05)

    def _send(self, client: Any, callback: Callback, headers: dict[str, str], sent_at: float) -> None:
        body = callback.body
        started = time.perf_counter()
        with client.request("POST", self.settings.url, data=body, headers=headers, catch_response=True,
                            name="callback") as response:
            elapsed = time.perf_counter() - started
            status = int(response.status_code or 0)
            error = getattr(response, "error", None)
            answer_headers = tuple((str(k), str(v)) for k, v in (response.headers or {}).items())
            timed_out = status == 0 and (isinstance(error, (gevent.Timeout, TimeoutError, socket.timeout))
                                         or elapsed >= self.settings.timeout)
            judgement = judge(
                self.settings.contract, self.settings.effective_deadline,
                body=body,
                status=status or None, headers=answer_headers, answer_body=response.content or b"",
                elapsed=elapsed, error=None if error is None else f"{type(error).__name__}: {error}",
                timed_out=timed_out, strict=self.settings.strict, kind=callback.kind,
                code_listed=callback.code_listed, signed=self.settings.secret is not None,
            )
            if judgement.defects:
                response.failure(judgement.defects[0][1])
            else:
                response.success()
        # A refused or dropped connection has no latency worth a percentile: only answers and timeouts count.
        latency = elapsed if status or timed_out else None
        self.recorder.record(sent_at, latency, judgement.outcome, judgement.late, judgement.defects,
                             judgement.warning)
        if callback.kind.follow_up:
            self.recorder.followed(callback.kind, judgement.outcome)
        if judgement.answer is not None:
            dropped = self.source.dropped
            self.source.answered(callback, status, judgement.answer)
            self.recorder.follow_ups_dropped += self.source.dropped - dropped


def user_class(settings: LoadSettings, sender: Sender | None) -> type[FastHttpUser]:
    """The Locust user: one callback in flight at a time, paced to rate/users when a rate is asked for."""

    class CallbackUser(FastHttpUser):
        host = _base(settings.url)
        network_timeout = settings.timeout
        connection_timeout = settings.timeout
        insecure = False  # Locust skips certificate checks by default; the callbacks carry card data: verify, as `test`
        wait_time = constant_throughput(settings.rate / settings.users) if settings.rate else constant(0)

        @task
        def callback(self) -> None:
            if sender is None:  # the master's copy: it only dispatches users to the workers
                raise StopUser()
            sender.exchange(self.client)

    CallbackUser.__name__ = CallbackUser.__qualname__ = USER_CLASS
    return CallbackUser


def _base(url: str) -> str:
    host, _ = target_parts(url)
    return f"{url.split('://', 1)[0]}://{host}"


class CpuMeter:
    """The share of one core this process used between start and stop (a generator near 1.0 delays its sends)."""

    def __init__(self) -> None:
        self._cpu = self._wall = 0.0

    def start(self) -> None:
        self._cpu, self._wall = time.process_time(), time.monotonic()

    def stop(self) -> float:
        wall = time.monotonic() - self._wall
        return (time.process_time() - self._cpu) / wall if wall > 0 else 0.0


def _quiet_locust() -> None:
    # Locust's own log lines (CPU warnings, spawn messages) would interleave with the progress lines; the report
    # says what matters (saturation is measured here).
    logging.getLogger("locust").setLevel(logging.ERROR)


def run(
    settings: LoadSettings, recorder: Recorder, sender: Sender | None = None, *,
    master_bind: tuple[str, int] | None = None, expected_workers: int = 0,
    workers_gone: Callable[[], str | None] = lambda: None,
) -> Iterator[Progress | Stopped]:
    """Run the load: in this process (`sender` given, sharing `recorder`), or as a master whose workers' reports
    are merged into `recorder`. Yields Progress every few seconds and Stopped last. `workers_gone` says why
    the workers this process started cannot connect any more (they exited), or None."""
    _quiet_locust()
    finished: set[str] = set()  # workers whose last report is in
    if master_bind is not None:
        environment = Environment(user_classes=[user_class(settings, None)], stop_timeout=settings.timeout)
        runner: Any = environment.create_master_runner(*master_bind)

        def on_stats(environment: Any, msg: Any, **_: Any) -> None:
            recorder.merge(Recorder.from_wire(msg.data["stats"]))
            if msg.data["final"]:
                finished.add(msg.node_id)

        runner.register_message(STATS_MESSAGE, on_stats)
        waited = time.monotonic()
        while runner.worker_count < expected_workers:
            gone = workers_gone()
            if gone or time.monotonic() - waited > WORKERS_TIMEOUT:
                runner.quit()
                raise LoadError(gone or f"only {runner.worker_count} of {expected_workers} workers connected "
                                        f"within {WORKERS_TIMEOUT:g} s")
            gevent.sleep(0.1)
        meter = None
    else:
        if sender is None:
            raise LoadError("a run in this process needs the callbacks' sender")
        environment = Environment(user_classes=[user_class(settings, sender)], stop_timeout=settings.timeout)
        runner = environment.create_local_runner()
        meter = CpuMeter()
        meter.start()
    started = time.time()
    runner.start(settings.users, spawn_rate=settings.spawn_rate)
    next_line = started + PROGRESS_INTERVAL
    while (now := time.time()) < started + settings.duration:
        if _unreachable(recorder):
            break  # the verdict says "tested nothing"; hammering a closed port for the whole duration tells no more
        if now >= next_line:
            yield progress(settings, recorder, started, now)
            next_line += PROGRESS_INTERVAL
        gevent.sleep(min(0.2, max(0.0, started + settings.duration - now)))
    stopped = time.time()
    if sender is not None:
        sender.finish()
        if meter is not None:
            recorder.cpu_busy = max(recorder.cpu_busy, meter.stop())
    else:
        finished.clear()
        runner.send_message(FINISH_MESSAGE, None)
        until = time.monotonic() + settings.timeout + 5.0
        while len(finished) < expected_workers and time.monotonic() < until:
            gevent.sleep(0.05)
    runner.quit()
    yield Stopped(started, stopped)


UNREACHABLE_AFTER = 50  # connection failures in a row, and no answer at all, before a run gives up


def _unreachable(recorder: Recorder) -> bool:
    sent = failed = 0
    for window in recorder.windows.values():
        sent += window.count
        failed += window.outcomes.get("connection failed", 0)
    return sent >= UNREACHABLE_AFTER and failed == sent


def progress(settings: LoadSettings, recorder: Recorder, started: float, now: float) -> Progress:
    """The last few whole seconds: rate, p50/p99; the run so far: errors and deadline misses."""
    last = int(now)
    recent = [recorder.windows[s] for s in range(last - int(PROGRESS_INTERVAL), last) if s in recorder.windows]
    histogram: Counter[int] = Counter()
    for window in recent:
        histogram.update(window.histogram)
    latency = percentiles(histogram, recorder.max_latency)
    return Progress(
        elapsed=now - started,
        rate=sum(w.count for w in recent) / PROGRESS_INTERVAL,
        requested_rate=settings.rate,
        p50=latency.p50 if latency else None,
        p99=latency.p99 if latency else None,
        sent=sum(w.count for w in recorder.windows.values()),
        errors=sum(w.defects for w in recorder.windows.values()),
        misses=sum(w.misses for w in recorder.windows.values()),
    )


def serve_worker(settings: LoadSettings, sender: Sender, master_host: str, master_port: int) -> None:
    """Join a master and send its share of the load until it says quit; reports every REPORT_INTERVAL."""
    _quiet_locust()
    environment = Environment(user_classes=[user_class(settings, sender)], stop_timeout=settings.timeout)
    runner: Any = environment.create_worker_runner(master_host, master_port)
    meter = CpuMeter()

    def report(final: bool) -> None:
        runner.send_message(STATS_MESSAGE, {"stats": sender.recorder.drain().to_wire(), "final": final})

    def reporter() -> None:
        while not sender.closed:
            gevent.sleep(REPORT_INTERVAL)
            report(False)

    def finish() -> None:
        sender.finish()
        sender.recorder.cpu_busy = max(sender.recorder.cpu_busy, meter.stop())
        report(True)

    def on_finish(environment: Any, msg: Any, **_: Any) -> None:
        gevent.spawn(finish)

    def on_start(**_: Any) -> None:
        meter.start()

    runner.register_message(FINISH_MESSAGE, on_finish)
    events: Any = environment.events  # Locust's EventHook is untyped
    events.test_start.add_listener(on_start)
    background = gevent.spawn(reporter)
    try:
        runner.greenlet.join()
    finally:
        background.kill()
