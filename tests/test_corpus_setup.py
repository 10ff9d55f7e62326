"""The corpus tests run where the corpus is: CI must never skip them silently."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.corpus import AVAILABLE, ENV, REPO, SKIP_REASON


def test_ci_runs_the_corpus_tests() -> None:
    """Under CI (CI=true) a missing corpus is a failure that says how to fix it."""
    if not os.environ.get("CI"):
        pytest.skip("not under CI")
    assert AVAILABLE, SKIP_REASON


def test_the_corpus_can_live_anywhere(tmp_path) -> None:
    """IGPREFLIGHT_CORPUS points the tests at a copy elsewhere; a wrong one is named in
    the skip reason, with the variable to set."""
    corpus = tmp_path / "my corpus"
    corpus.mkdir()
    (corpus / "MANIFEST.md").write_text("# a corpus\n")
    code = "from tests.corpus import AVAILABLE, CORPUS, SKIP_REASON; print(AVAILABLE, CORPUS)"
    env = {**os.environ, ENV: str(corpus)}
    seen = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert seen.strip() == f"True {corpus}"
    env[ENV] = str(tmp_path / "nowhere")
    code = "from tests.corpus import AVAILABLE, SKIP_REASON; print(AVAILABLE); print(SKIP_REASON)"
    seen = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert seen.startswith("False\n") and str(tmp_path / "nowhere") in seen and ENV in seen
