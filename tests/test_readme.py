"""The README's promises: its Python example runs as written, its first command's
sample folder exists, and CI runs exactly its test command."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_python_example_runs(tmp_path, monkeypatch, capsys):
    (block,) = [b for b in BLOCKS if "import check, fix" in b]
    shutil.copytree(ROOT / "fixtures" / "media", tmp_path / "fixtures" / "media")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "IMG003 2207009" in printed  # too-tall.jpg, with its Graph subcode
    # The samples include unfixable files (zero bytes, truncated), so ok is False.
    assert printed.splitlines()[-1].startswith("False [")
    assert (tmp_path / "fixed" / "too-tall.jpg").is_file()


def test_api_example_calls_match_the_api():
    """The upload/publish/run example needs S3 and Instagram, so it is not run here
    (tests/test_api.py runs the same calls against moto and the emulator); every call
    in it must still bind to the function's signature."""
    import ast
    import inspect

    import igpreflight

    (block,) = [b for b in BLOCKS if "import publish, run, upload" in b]
    calls = [
        n
        for n in ast.walk(ast.parse(block))
        if isinstance(n, ast.Call) and getattr(n.func, "id", None) in ("upload", "publish", "run")
    ]
    assert {c.func.id for c in calls} == {"upload", "publish", "run"}
    for call in calls:
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        inspect.signature(getattr(igpreflight, call.func.id)).bind(*args, **kwargs)


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"^(python -m pip install -e '\.\[test\]' && .+)$", README, re.M)
    assert commands, "the README must show the test command"
    assert commands[0] in (ROOT / ".ci" / "run").read_text()


def test_first_command_uses_the_bundled_samples():
    first = re.search(r"^python -m pip install -e \. && (.+)$", README, re.M)
    assert first and "fixtures/media" in first.group(1)
    assert any((ROOT / "fixtures" / "media").iterdir())
