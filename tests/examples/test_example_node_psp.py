"""examples/node_psp: a PSP in another stack (Node.js) passes `card-callback test`; its planted defects do not."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from examples_support import EXAMPLES, run_cli
from process_support import stop

SERVER = EXAMPLES / "node_psp" / "server.js"
SECRET = "node-example-secret/+=="  # looks like base64 on purpose: it must be used as written
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(NODE is None, reason="node is not on PATH: the Node.js example PSP cannot run"),
]


@contextmanager
def node_psp(
    log: Path, *, secret: str | None = None, defect: str | None = None, extra: dict[str, str] | None = None
) -> Iterator[str]:
    """Start server.js on a free port; yield the callback URL it announces."""
    assert NODE is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARD_CALLBACK_", "NODE_PSP_"))}
    env["PORT"] = "0"
    if secret is not None:
        env["CARD_CALLBACK_HMAC_SECRET"] = secret
    if defect is not None:
        env["NODE_PSP_DEFECT"] = defect
    env.update(extra or {})
    with log.open("w") as out:
        process = subprocess.Popen([NODE, str(SERVER)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while (match := re.search(r"listening on (http://\S+)", log.read_text())) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server.js did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield match.group(1)
    finally:
        stop(process)


def suite(url: str, tmp: Path, seed: int, *, secret: str | None = None) -> tuple[int, str, dict[str, str]]:
    """Run `card-callback test` once; return its exit code, its output and each check's outcome."""
    report = tmp / f"report-{seed}.json"
    args = ["test", url, "--seed", str(seed), "--max-examples", "10", "--json-report", str(report)]
    env: dict[str, str] = {}
    if secret is not None:
        secret_file = tmp / "secret"
        secret_file.write_text(secret)
        args += ["--hmac-secret-file", str(secret_file)]
    result = run_cli(*args, env=env)
    outcomes = {check["code"]: check["outcome"] for check in json.loads(report.read_text())["checks"]}
    return result.returncode, result.stdout + result.stderr, outcomes


@pytest.mark.parametrize(("seed", "secret"), [(1, None), (2, SECRET)], ids=["seed1-unsigned", "seed2-signed"])
def test_the_node_psp_conforms(seed: int, secret: str | None, tmp_path: Path) -> None:
    """Its outcomes are drawn at random per attempt, as an issuer's are, and it must still pass."""
    with node_psp(tmp_path / "psp.log", secret=secret) as url:
        code, output, outcomes = suite(url, tmp_path, seed, secret=secret)
    assert code == 0, output[-6000:]
    assert "RESULT: conforms" in output
    failed = {check for check, outcome in outcomes.items() if outcome == "failed"}
    assert not failed, output[-6000:]
    # The flows ran: its test cards soft-decline (3000) and decline (0051), so both were followed. A
    # warning is allowed: a random issuer may soft-decline a PAN callback, whose second callback is
    # byte-identical to the first and so gets the identical answer.
    assert outcomes["CC009"] in ("passed", "warning") and outcomes["CC010"] in ("passed", "warning"), outcomes
    if secret is not None:
        assert outcomes["CC006"] == "passed" and outcomes["CC008"] == "passed", outcomes


# The suite's "simultaneous" copies reach the PSP tens of milliseconds apart, so the race needs an issuer
# slow enough for two copies to overlap (150-600 ms), and one that approves them all for two authorizations
# to show as two different successful answers.
RACE_WINDOW = {"NODE_PSP_ISSUER_MS": "600", "NODE_PSP_RANDOM": "0"}


@pytest.mark.parametrize(
    ("defect", "check", "secret", "extra"),
    [
        ("second-callback-409", "CC009", None, {}),  # only the soft-decline flow shows it
        ("race", "CC012", None, RACE_WINDOW),  # only concurrent copies show it
        ("reserialized-hash", "CC006", SECRET, {}),  # only bytes JSON.stringify would not produce show it
    ],
)
def test_a_planted_defect_is_named(
    defect: str, check: str, secret: str | None, extra: dict[str, str], tmp_path: Path
) -> None:
    with node_psp(tmp_path / "psp.log", secret=secret, defect=defect, extra=extra) as url:
        code, output, outcomes = suite(url, tmp_path, 3, secret=secret)
    assert code == 1, output[-6000:]
    assert outcomes[check] == "failed", (outcomes, output[-6000:])
    assert re.search(rf"^{check} .* FAILED", output, re.MULTILINE), output[-6000:]
