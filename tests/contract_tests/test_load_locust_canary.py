"""Canary for contract_tests/load/locust_adapter.py: what it relies on in the pinned Locust is still there.

Run in a child process: importing Locust patches the standard library with gevent, which must never happen
inside the test session.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

PROBE = """
import inspect
from contract_tests.load import locust_adapter  # Locust first, as in the load process
from gevent import monkey
import locust
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner
from locust.contrib.fasthttp import FastHttpUser, ResponseContextManager
assert monkey.is_module_patched("socket") and monkey.is_module_patched("ssl"), "gevent did not patch"
assert "stop_timeout" in inspect.signature(Environment).parameters
for name in ("register_message", "send_message", "start", "quit", "user_count"):
    assert hasattr(Runner, name), name
assert isinstance(inspect.getattr_static(MasterRunner, "worker_count"), property)
assert "master_host" in inspect.signature(WorkerRunner).parameters
for name in ("network_timeout", "connection_timeout"):
    assert isinstance(getattr(FastHttpUser, name), float), name
assert isinstance(FastHttpUser.insecure, bool)
for name in ("success", "failure"):
    assert callable(getattr(ResponseContextManager, name)), name
environment = Environment(user_classes=[], stop_timeout=1.0)
assert hasattr(environment.events, "test_start")
print("ok", locust.__version__)
"""


def test_locust_is_the_pinned_version() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    pinned = next(line for line in pyproject.splitlines() if '"locust==' in line)
    assert f'"locust=={version("locust")}"' in pinned


def test_what_the_adapter_uses_is_where_it_expects() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")
    assert "MonkeyPatchWarning" not in done.stderr, done.stderr
