"""`make run` (scripts/run_against_reference.py): the reference server and the suite share a generated secret."""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from callback_core.secrets import SECRET_ENV

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "run_against_reference.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_against_reference", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_fresh_secret_goes_to_a_file_only_this_user_can_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    options = _script().signing_options(tmp_path)
    assert options[0] == "--hmac-secret-file"
    written = Path(options[1])
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert len(base64.b64decode(written.read_text(encoding="utf-8"), validate=True)) == 64
    (tmp_path / "next-run").mkdir()
    again = Path(_script().signing_options(tmp_path / "next-run")[1])
    assert again.read_text(encoding="utf-8") != written.read_text(encoding="utf-8")  # fresh for every run


def test_an_exported_secret_is_left_to_both_sides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "exported-secret")
    assert _script().signing_options(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.e2e
def test_make_run_judges_the_signature_checks(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    spec = SCRIPT.parents[1] / "openapi" / "card-callback.yaml"
    done = subprocess.run([sys.executable, str(SCRIPT), "--spec", str(spec), "--max-examples", "3", "--seed", "2"],
                          capture_output=True, text=True, env=env, timeout=300, check=False, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert re.search(r"CC006 HMAC signatures are verified \.+ PASSED", done.stdout), done.stdout[-3000:]
    assert re.search(r"CC008 stale signatures are refused \.+ PASSED", done.stdout), done.stdout[-3000:]
    assert "signing   HMAC-SHA256" in done.stdout
    # The generated secret (88 base64 characters) is never printed.
    assert not re.search(r"[A-Za-z0-9+/]{86}==", output)
