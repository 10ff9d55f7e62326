"""The CI examples in examples/ run as written: every igpreflight command in the
GitHub workflow is run on a small content folder, and the pre-commit config is
valid for the real pre-commit tool."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from igpreflight.cli import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def workflow_commands() -> list[list[str]]:
    """The igpreflight command lines of the workflow's `run:` steps (without `|| true`)."""
    workflow = yaml.safe_load((EXAMPLES / "github-workflow.yml").read_text())
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                line = line.split("||")[0].strip()
                if line.startswith("igpreflight "):
                    commands.append(shlex.split(line)[1:])
    return commands


def test_workflow_uses_the_action_with_the_permissions_it_needs() -> None:
    text = (EXAMPLES / "github-workflow.yml").read_text()
    workflow = yaml.safe_load(text)
    action = yaml.safe_load((EXAMPLES.parent / "action.yml").read_text())
    assert workflow["permissions"] == {
        "contents": "read",
        "security-events": "write",  # upload-sarif
        "actions": "read",  # upload-sarif on private repositories
    }
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    (step,) = [s for s in steps if s.get("uses", "").split("@")[0].endswith("/igpreflight")]
    assert set(step["with"]) <= set(action["inputs"])
    # SARIF goes to code scanning, but not from forks (their token is read-only)
    assert "head.repo.full_name == github.repository" in step["with"]["upload-sarif"]
    assert "forks" in text and "pull_request_target" in text  # the note on forks
    assert "python -m pip install igpreflight" not in text  # not on the package index
    formats = {c[c.index("--format") + 1] for c in workflow_commands() if "--format" in c}
    assert formats == {"junit"}  # github annotations and SARIF come from the action


@pytest.mark.parametrize("args", workflow_commands(), ids=lambda a: " ".join(a[:4]))
def test_workflow_command_runs(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = tmp_path / "posts"
    posts.mkdir()
    Image.new("RGB", (1080, 1350), (200, 80, 40)).save(posts / "good.jpg", quality=90)
    Image.new("RGB", (1080, 1080), (20, 80, 140)).save(posts / "square.webp", quality=90)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output  # 2 would be a usage error
    if args[0] == "check":
        assert result.exit_code == 1  # the WebP is an error
    if "--output" in args:
        out = tmp_path / args[args.index("--output") + 1]
        text = out.read_text(encoding="utf-8")
        if args[args.index("--format") + 1] == "sarif":
            assert json.loads(text)["runs"][0]["results"]
        else:
            assert ET.fromstring(text.encode()).find("testsuite").get("failures") == "1"
    elif "--format" in args and args[args.index("--format") + 1] == "github":
        assert "::error file=posts/square.webp,title=IMG002::" in result.output
    if "--report" in args:
        report = (tmp_path / args[args.index("--report") + 1]).read_text(encoding="utf-8")
        assert report.startswith("<!DOCTYPE html>") and "square.webp" in report


def test_precommit_files_are_valid_for_pre_commit() -> None:
    root = EXAMPLES.parent
    for cmd, path in (
        ("validate-config", EXAMPLES / "pre-commit-config.yaml"),
        ("validate-manifest", root / ".pre-commit-hooks.yaml"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "pre_commit", cmd, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load((EXAMPLES / "pre-commit-config.yaml").read_text())
    hooks = [h["id"] for repo in config["repos"] for h in repo["hooks"]]
    assert hooks == ["igpreflight-check"]
