"""End to end: `card-callback send` as a process against `card-callback serve` as a process, HMAC on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from process_support import stop

pytestmark = pytest.mark.e2e
pytest.importorskip("card_callback.serve", reason="the serve command is not there yet")

CLI = str(Path(sys.executable).with_name("card-callback"))
SECRET = "e2e-secret/Zm9vYmFy+=="


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`card-callback serve --port 0` with a secret in the environment; yields the callback URL it prints."""
    db = tmp_path_factory.mktemp("e2e") / "state.sqlite3"
    env = {**os.environ, "CARD_CALLBACK_HMAC_SECRET": SECRET}
    process = subprocess.Popen(
        [CLI, "serve", "--host", "127.0.0.1", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        url = _callback_url(process)
        yield url
    finally:
        stop(process)


def _callback_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"card-callback serve exited with {process.wait(timeout=5)} before it listened")
        if line.strip().startswith("callback:"):
            url = line.split("callback:", 1)[1].strip()
            time.sleep(0.3)  # the banner is printed just before uvicorn starts accepting
            return url
    raise RuntimeError("card-callback serve printed no callback URL within 30 s")


def _send(url: str, *args: str, secret: str | None) -> tuple[int, dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if k != "CARD_CALLBACK_HMAC_SECRET"}
    if secret is not None:
        env["CARD_CALLBACK_HMAC_SECRET"] = secret
    done = subprocess.run([CLI, "send", url, *args, "--json"], capture_output=True, text=True, env=env, timeout=60)
    return done.returncode, json.loads(done.stdout)


def test_signed_soft_decline_round_trip(served: str) -> None:
    code, report = _send(served, "--card-last4", "3000", secret=SECRET)
    assert (code, report["outcome"], report["httpStatus"]) == (0, "RESERVE", 200)
    assert [a["outcome"] for a in report["attempts"]] == ["SOFT_DECLINE", "RESERVE"]  # type: ignore[union-attr]


def test_wrong_secret_is_refused_and_final(served: str) -> None:
    code, report = _send(served, "--card-last4", "1234", secret="wrong")
    assert (code, report["outcome"], report["httpStatus"], report["retryable"]) == (1, "ERROR", 401, False)
    assert report["userMessage"] == "check the payment status at the merchant you came from"
