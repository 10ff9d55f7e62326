"""The README's promises: it is a front page, its first command and its tour run as
written, its Python example runs, its links lead somewhere, and CI runs exactly its
test command. The API example that moved to docs/api.md is held to its signatures."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
API_DOCS = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


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

    api_blocks = re.findall(r"```python\n(.*?)```", API_DOCS, re.S)
    (block,) = [b for b in api_blocks if "import publish, run, upload" in b]
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


def test_readme_is_a_front_page():
    assert len(README.splitlines()) <= 250
    first = README.index("```sh")
    assert "pip install -e . && igpreflight check fixtures/media" in README[first : first + 300]


def test_readme_links_lead_to_files():
    """Relative links (the docs pages) must exist in the checkout: GitHub shows them."""
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert "docs/checks.md" in local
    missing = [link for link in local if not (ROOT / link).is_file()]
    assert missing == []


def _section(name: str) -> str:
    start = README.index(f"--8<-- [start:{name}]")
    return README[start : README.index(f"--8<-- [end:{name}]")]


def _shell(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """One README command line, with `igpreflight` run by this interpreter."""
    command = re.sub(r"(^|; |&& )igpreflight ", rf'\1"{sys.executable}" -m igpreflight ', line)
    return subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_first_command_and_the_tour_run_as_written(tmp_path):
    """The first command (after its install) and every command of the tour, in a copy of
    the checkout's samples, with the exit code each line's comment announces."""
    shutil.copytree(ROOT / "fixtures" / "media", tmp_path / "fixtures" / "media")
    first = re.search(r"^python -m pip install -e \. && (.+)$", README, re.M)
    done = _shell(first.group(1), tmp_path)
    assert "unfixable" in done.stdout and (tmp_path / "fixed" / "too-tall.jpg").is_file()
    outputs = {}
    for block in re.findall(r"```sh\n(.*?)```", _section("tour"), re.S):
        for line in block.splitlines():
            command, _, comment = line.partition("  #")
            expected = re.search(r"\(exit (\d)\)", comment)
            done = _shell(command.strip(), tmp_path)
            assert "Traceback" not in done.stderr, (line, done.stderr)
            assert done.returncode == (int(expected.group(1)) if expected else 0), (line, done)
            outputs[command.split("#")[0].strip()] = done.stdout
    assert len(outputs) >= 8
    checked = outputs["igpreflight check fixtures/media"]
    assert "21 files: 13 errors, 8 warnings" in checked  # what the tour's comment says
    assert (
        "::error file=fixtures/media/"
        in outputs["igpreflight check fixtures/media --format github"]
    )
    fixed = outputs["igpreflight fix fixtures/media --out fixed --report fixed/review.html"]
    assert "4 unfixable" in fixed  # what the tour's comment says
    assert "0 errors, 0 warnings" in outputs["igpreflight check fixed"]
    assert (tmp_path / "fixed" / "review.html").is_file()
    dry_run = outputs["igpreflight publish fixtures/media/posts.toml --dry-run"]
    assert "refused" in dry_run and "POST002" in dry_run
