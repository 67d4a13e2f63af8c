"""examples/ci: the GitHub Actions and GitLab CI recipes run the suite and keep the JUnit report."""

from __future__ import annotations

import os
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from examples_support import CARD_CALLBACK, EXAMPLES, running

CI = EXAMPLES / "ci"
FLASK_PSP = EXAMPLES / "flask_psp" / "app.py"


def _load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((CI / name).read_text())
    assert isinstance(document, dict)
    return document


def _test_command(lines: list[str]) -> list[str]:
    commands = [shlex.split(line) for line in lines if line.lstrip().startswith("card-callback test ")]
    assert len(commands) == 1, lines
    return commands[0]


def _option(command: list[str], name: str) -> str:
    assert name in command, command
    return command[command.index(name) + 1]


def _covered(report: str, paths: list[str]) -> bool:
    return any(report == p or report.startswith(p.rstrip("/") + "/") for p in paths)


def test_github_workflow_runs_the_suite_and_uploads_the_junit_report() -> None:
    workflow = _load("github-actions.yml")
    # YAML 1.1 reads the bare key `on` as True; GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert "workflow_dispatch" in triggers
    steps = workflow["jobs"]["contract"]["steps"]
    runs = [line for step in steps for line in str(step.get("run", "")).splitlines()]
    command = _test_command(runs)
    assert command[2] == "$CARD_CALLBACK_URL"
    junit = _option(command, "--junit-xml")
    suite = next(step for step in steps if "card-callback test" in str(step.get("run", "")))
    assert suite["env"]["CARD_CALLBACK_HMAC_SECRET"] == "${{ secrets.CARD_CALLBACK_HMAC_SECRET }}"
    upload = next(step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()", "a failing run is the one whose report matters"
    assert _covered(junit, [upload["with"]["path"]])


def test_gitlab_job_runs_the_suite_and_keeps_the_junit_report() -> None:
    job = _load("gitlab-ci.yml")["card-callback-contract"]
    command = _test_command(job["script"])
    assert command[2] == "$CARD_CALLBACK_URL"
    junit = _option(command, "--junit-xml")
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always", "a failing run is the one whose report matters"
    assert artifacts["reports"]["junit"] == junit
    assert _covered(junit, artifacts["paths"])
    assert "CARD_CALLBACK_HMAC_SECRET" not in str(job), "the secret comes from masked CI/CD variables"


def test_recipes_are_documented() -> None:
    readme = (CI / "README.md").read_text()
    for name in ("github-actions.yml", "gitlab-ci.yml", "CARD_CALLBACK_URL", "CARD_CALLBACK_HMAC_SECRET"):
        assert name in readme


def _run_script(lines: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a job's shell lines as the CI runner would (bash -e), with the toolkit already installed."""
    full_env = {k: v for k, v in os.environ.items() if k != "CARD_CALLBACK_HMAC_SECRET"}
    full_env.update(env, PATH=f"{CARD_CALLBACK.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    script = "\n".join(lines)
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300, check=False
    )


def _junit_cases(path: Path) -> dict[str, str]:
    cases = {}
    for case in ET.parse(path).iter("testcase"):
        states = [state for state in ("failure", "skipped") if case.find(state) is not None]
        cases[case.get("name", "").split()[0]] = states[0] if states else "ok"
    return cases


@pytest.mark.e2e
def test_github_step_runs_against_an_endpoint_with_an_unset_secret(tmp_path: Path) -> None:
    steps = _load("github-actions.yml")["jobs"]["contract"]["steps"]
    suite = next(step for step in steps if "card-callback test" in str(step.get("run", "")))
    with running(FLASK_PSP, tmp_path / "psp.log") as url:
        # GitHub passes a secret that is not set as an empty string: that must mean "unsigned".
        env = {"CARD_CALLBACK_URL": url, "CARD_CALLBACK_HMAC_SECRET": ""}
        result = _run_script(suite["run"].splitlines(), tmp_path, env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    junit = _option(_test_command(suite["run"].splitlines()), "--junit-xml")
    cases = _junit_cases(tmp_path / junit)
    assert cases["CC006"] == "skipped" and set(cases.values()) == {"ok", "skipped"}, cases


@pytest.mark.e2e
def test_gitlab_script_runs_against_a_signing_endpoint(tmp_path: Path) -> None:
    job = _load("gitlab-ci.yml")["card-callback-contract"]
    # Installing is the one line this checkout does not need; the rest runs as written.
    lines = [line for line in job["script"] if "CARD_CALLBACK_PACKAGE" not in line]
    secret = "gitlab-masked-variable"
    with running(FLASK_PSP, tmp_path / "psp.log", secret=secret) as url:
        result = _run_script(lines, tmp_path, {"CARD_CALLBACK_URL": url, "CARD_CALLBACK_HMAC_SECRET": secret})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    cases = _junit_cases(tmp_path / job["artifacts"]["reports"]["junit"])
    # CC013: the bundled document declares no auth header, so there is nothing to probe.
    assert cases.pop("CC013") == "skipped" and set(cases.values()) == {"ok"}, cases
