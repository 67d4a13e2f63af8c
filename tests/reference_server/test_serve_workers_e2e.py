"""`card-callback serve --workers 2`: one socket, one SQLite database, idempotent across processes; under load."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from reference_helpers import CLI, serve_process

pytestmark = pytest.mark.e2e
SECRET = "load-test-secret-not-a-real-one"


def test_twenty_identical_concurrent_callbacks_get_one_authorization(
    tmp_path: Path, token_callback: dict[str, Any]
) -> None:
    with serve_process(tmp_path, tmp_path / "w.sqlite3", "--workers", "2") as server:
        assert any("workers:       2 processes sharing the database" in line for line in server.stdout)
        for _ in range(3):  # each round on 20 new connections, which the kernel hands to either process
            body = {**token_callback, "authorizationAttemptId": str(uuid.uuid4())}
            raw = json.dumps(body).encode()

            def send(_: int, raw: bytes = raw) -> tuple[int, bytes]:
                with httpx.Client() as client:
                    answer = client.post(server.callback_url, content=raw,
                                         headers={"content-type": "application/json"})
                    return answer.status_code, answer.content

            with ThreadPoolExecutor(max_workers=20) as pool:
                answers = set(pool.map(send, range(20)))
            assert len(answers) == 1, answers
            status, answer = answers.pop()
            assert status == 200 and json.loads(answer)["status"] == "RESERVE"
            stored = httpx.get(f"{server.base_url}/attempts/{body['authorizationAttemptId']}").json()
            assert len(stored["callbacks"]) == 1
            assert stored["callbacks"][0]["answer"] == json.loads(answer)


def test_reference_server_on_two_workers_passes_load_at_a_rate_it_carries(tmp_path: Path) -> None:
    env = {"CARD_CALLBACK_HMAC_SECRET": SECRET}
    with serve_process(tmp_path, tmp_path / "l.sqlite3", "--workers", "2", env=env) as server:
        done = subprocess.run(
            [str(CLI), "load", server.callback_url, "--users", "20", "--rate", "100", "--duration", "3s",
             "--seed", "5", "--json", str(tmp_path / "load.json")],
            capture_output=True, text=True, timeout=120, env={**os.environ, **env}, check=False)
    report = json.loads((tmp_path / "load.json").read_text())
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["verdict"] == "conforms" and report["signed"] is True
    assert report["measuredRate"] >= 90 and report["requested"]["rate"] == 100
    assert f"{report['measuredRate']:.1f}/s after the ramp-up (requested 100/s)" in done.stdout
    assert report["errors"] == [] and report["deadlineMisses"] == 0
    assert SECRET not in done.stdout + done.stderr + (tmp_path / "load.json").read_text()
