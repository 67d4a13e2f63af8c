"""examples/ci: the GitHub Actions and GitLab CI recipes run the suite and keep the JUnit report."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"


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
