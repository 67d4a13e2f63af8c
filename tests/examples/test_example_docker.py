"""The Dockerfile: the image runs `card-callback test URL` and `card-callback serve` with no Python on the host.

Built and run only where docker works and the base image can be had; skipped with the precise reason
otherwise (no docker CLI, no engine, no registry to pull `python:3.11-slim` from).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "python:3.11-slim"
IMAGE = "card-callback:test"
# Build and pull output that means "the network is not there", not "the Dockerfile is wrong".
OFFLINE_MARKERS = (
    "failed to resolve source metadata",
    "failed to do request",
    "dial tcp",
    "no such host",
    "temporary failure in name resolution",
    "network is unreachable",
    "tls handshake timeout",
    "i/o timeout",
    "connection refused",
    "failed to establish a new connection",
)

pytestmark = pytest.mark.docker


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no output")


def _offline_line(output: str) -> str | None:
    return next((line.strip() for line in output.splitlines() if any(m in line.lower() for m in OFFLINE_MARKERS)), None)


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    if shutil.which("docker") is None:
        pytest.skip("docker is not installed (no `docker` on PATH)")
    info = _docker("info", "--format", "{{.ServerVersion}}", timeout=30)
    if info.returncode != 0:
        pytest.skip(f"no docker engine: `docker info` failed: {_first_line(info.stderr or info.stdout)}")
    if _docker("image", "inspect", BASE_IMAGE).returncode != 0:
        pull = _docker("pull", BASE_IMAGE, timeout=300)
        if pull.returncode != 0:
            pytest.skip(f"cannot pull the base image {BASE_IMAGE}: {_first_line(pull.stderr or pull.stdout)}")
    build = _docker("build", "--tag", IMAGE, str(ROOT), timeout=900)
    if build.returncode != 0:
        offline = _offline_line(build.stdout + build.stderr)
        if offline:
            pytest.skip(f"the image build needs the network (PyPI) and cannot reach it: {offline}")
        pytest.fail(f"docker build failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}")
    yield IMAGE


def test_image_lints_the_bundled_document(image: str) -> None:
    result = _docker("run", "--rm", image, "lint")
    assert result.returncode == 0, result.stderr
    # OK, perhaps with warnings (the default --fail-on is error).
    assert "card-callback.yaml: OK" in result.stdout.rstrip().splitlines()[-1]


def test_image_serves_and_tests_the_reference_server(image: str) -> None:
    name = f"card-callback-serve-{uuid.uuid4().hex[:8]}"
    started = _docker("run", "--detach", "--rm", "--name", name, image, "serve", "--host", "0.0.0.0", "--port", "8080")
    assert started.returncode == 0, started.stderr
    try:
        # The suite runs in a second container sharing the server's network namespace: no host port.
        deadline = time.monotonic() + 60
        while True:
            probe = _docker(
                "run", "--rm", "--network", f"container:{name}", "--entrypoint", "python", image, "-c",
                "import httpx; httpx.get('http://127.0.0.1:8080/ui/').raise_for_status()",
            )
            if probe.returncode == 0:
                break
            assert time.monotonic() < deadline, f"the server did not come up:\n{_docker('logs', name).stderr}"
            time.sleep(1)
        result = _docker(
            "run", "--rm", "--network", f"container:{name}", image,
            "test", "http://127.0.0.1:8080/psp-makepayment", "--max-examples", "10", timeout=300,
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    finally:
        _docker("stop", "--time", "10", name)
