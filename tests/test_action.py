"""The composite GitHub Action (action.yml), run as far as this machine allows.

Its `run:` steps are executed with bash exactly as written, with `${{ ... }}`
expressions filled in the way the runner does (inputs with their defaults,
github.action_path, earlier steps' outputs from $GITHUB_OUTPUT) against a
temporary content repository. The action path is a git snapshot of this checkout
and the install step pip-installs it into a fresh virtualenv, as on a runner.
`uses:` steps (setup-python, upload-sarif) cannot run here: their conditions and
inputs are evaluated and checked instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import venv
from pathlib import Path

import pytest
import yaml
from PIL import Image

from tests.repo_snapshot import ROOT, snapshot_repo

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
INSTALL = "Install igpreflight"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class Runner:
    """Runs the action's steps like the Actions runner, for one set of inputs."""

    def __init__(self, action_path: Path, workspace: Path, env: dict[str, str], inputs: dict):
        defaults = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
        unknown = set(inputs) - set(defaults)
        assert not unknown, f"not inputs of the action: {unknown}"
        self.inputs = {**defaults, **inputs}
        self.action_path, self.workspace, self.env = action_path, workspace, env
        self.outputs: dict[str, dict[str, str]] = {}
        self.log = ""

    def value(self, expr: str) -> str:
        if expr.startswith("inputs."):
            return self.inputs[expr[len("inputs.") :]]
        if expr == "github.action_path":
            return str(self.action_path)
        m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if m:
            return self.outputs.get(m[1], {}).get(m[2], "")
        m = re.fullmatch(r"'(.*)'", expr)
        if m:
            return m[1]
        raise AssertionError(f"expression this test cannot evaluate: {expr}")

    def condition(self, text: str | None) -> bool:
        if not text:
            return True
        result = True
        for term in text.split("&&"):
            lhs, op, rhs = re.fullmatch(r"\s*(\S+)\s*(==|!=)\s*(\S+)\s*", term).groups()
            same = self.value(lhs) == self.value(rhs)
            result = result and (same if op == "==" else not same)
        return result

    def fill(self, text: str) -> str:
        return EXPR.sub(lambda m: self.value(m[1]), text)

    def run_all(self, skip: tuple[str, ...] = (INSTALL,)) -> int:
        """Every step in order (but `skip`, by name: the install is done once per
        module); the exit code of the first failing `run:` step, else 0."""
        for step in ACTION["runs"]["steps"]:
            if step.get("name") in skip or not self.condition(step.get("if")):
                continue
            if "uses" in step:
                self.used(step["uses"], {k: self.fill(str(v)) for k, v in step["with"].items()})
                continue
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], "inputs must reach the shell through env"
            outputs = self.workspace.parent / f"output-{step.get('id', 'x')}"
            outputs.write_text("")
            env = {
                **self.env,
                **{k: self.fill(str(v)) for k, v in step.get("env", {}).items()},
                "GITHUB_OUTPUT": str(outputs),
            }
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=self.workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            self.log += done.stdout + done.stderr
            if "id" in step:
                lines = outputs.read_text().splitlines()
                self.outputs[step["id"]] = dict(line.split("=", 1) for line in lines if line)
            if done.returncode != 0:
                return done.returncode
        return 0

    def used(self, uses: str, with_: dict[str, str]) -> None:
        self.log += f"[uses {uses} with {with_}]\n"
        if uses.startswith("github/codeql-action/upload-sarif"):
            sarif = json.loads((self.workspace / with_["sarif_file"]).read_text())
            assert sarif["version"] == "2.1.0"


def test_action_declares_its_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert {"paths", "args", "format", "strict", "upload-sarif"} <= set(ACTION["inputs"])
    (install,) = [s for s in ACTION["runs"]["steps"] if s.get("name") == INSTALL]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$ACTION_PATH"' in install["run"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The action's checkout and an environment whose python is a fresh virtualenv
    (with the machine's packages, so only igpreflight itself is installed by the step)."""
    root = tmp_path_factory.mktemp("action")
    action_path = snapshot_repo(root / "igpreflight-action")
    env_dir = root / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(env_dir)
    env.pop("IGPREFLIGHT_FFMPEG", None)
    only_install = tuple(s["name"] for s in ACTION["runs"]["steps"] if s.get("name") != INSTALL)
    runner = Runner(action_path, root, env, {"python-version": ""})
    assert runner.run_all(skip=only_install) == 0, runner.log
    where = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import igpreflight; print(igpreflight.__file__)"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(env_dir)), where  # installed from the action's path
    return action_path, env


def _content(root: Path) -> Path:
    posts = root / "posts"
    (posts / "with space").mkdir(parents=True)
    Image.new("RGB", (1080, 1350), (200, 80, 40)).save(posts / "good.jpg", quality=90)
    Image.new("RGB", (1080, 1080), (20, 80, 140)).save(posts / "square.webp", quality=90)
    Image.new("RGB", (2000, 1500), (20, 80, 140)).save(root / "wide.jpg", quality=90)
    Image.new("RGB", (1080, 1080), (9, 9, 9)).save(posts / "with space" / "ok.jpg", quality=90)
    return root


def test_action_installs_from_its_path_checks_and_writes_sarif(installed, tmp_path: Path) -> None:
    action_path, env = installed
    work = _content(tmp_path / "repo")
    run = Runner(action_path, work, env, {"paths": "posts", "upload-sarif": "true"})
    assert run.run_all() == 1, run.log  # the Verdict step fails the job on the WebP
    assert run.outputs["check"] == {"exit-code": "1", "sarif-file": "igpreflight.sarif"}
    assert "::error file=posts/square.webp,title=IMG002::" in run.log
    assert "[uses github/codeql-action/upload-sarif" in run.log
    results = json.loads((work / "igpreflight.sarif").read_text())["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"IMG002"}


def test_action_strict_paths_with_spaces_and_args(installed, tmp_path: Path) -> None:
    action_path, env = installed
    work = _content(tmp_path / "repo")
    lines = "posts/good.jpg\nposts/with space\nwide.jpg\n"
    plain = Runner(action_path, work, env, {"paths": lines, "python-version": ""})
    assert plain.run_all() == 0, plain.log  # wide.jpg only warns
    assert "IMG004" in plain.log and "setup-python" not in plain.log
    strict = Runner(action_path, work, env, {"paths": lines, "strict": "true", "format": "text"})
    assert strict.run_all() == 1, strict.log
    assert "with space/ok.jpg" in strict.log
    story = Runner(
        action_path, work, env, {"paths": "posts/good.jpg", "args": "--as story", "format": "text"}
    )
    assert story.run_all() == 0, story.log
    assert "as story" in story.log, story.log  # args reach igpreflight check


def test_action_default_paths_give_annotations_github_matches(installed, tmp_path: Path) -> None:
    """`paths: "."` (the default) walks to ./posts/...; GitHub matches no `./` path to a
    pull request's file, so every annotation names the file as the repository does."""
    action_path, env = installed
    work = _content(tmp_path / "repo")
    run = Runner(action_path, work, env, {})
    assert run.inputs["paths"] == "."
    assert run.run_all() == 1, run.log
    assert "::error file=posts/square.webp,title=IMG002::" in run.log
    assert "file=./" not in run.log
