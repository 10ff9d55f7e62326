"""The package as a user gets it: `python -m build` makes an sdist and a wheel (the
wheel built from the sdist, so the sdist is complete), and the wheel installed alone
into a clean virtualenv runs `igpreflight --version` and `igpreflight check`.

Kept fast for CI: no network (--no-isolation, the build tools come from the test
extra), the wheel installed with --no-deps, and the dependencies seen through the
running interpreter's site-packages rather than installed again.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from igpreflight._version import __version__

REPO = Path(__file__).resolve().parents[1]


def run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{cmd}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("build", reason="`build` is in the test extra: pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, REPO, cwd=out)
    found = {p.suffix: p for p in out.iterdir()}
    return {"sdist": found[".gz"], "wheel": found[".whl"]}


def test_sdist_and_wheel_hold_what_they_should(dists) -> None:
    with tarfile.open(dists["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for needed in ("pyproject.toml", "README.md", "igpreflight/py.typed", "igpreflight/cli.py"):
        assert needed in names, needed
    # its tests run from the sdist alone: the shared fixtures come along
    assert {"tests/conftest.py", "fixtures/generate.py"} <= names
    # and what they read: the docs site, the examples, the benchmarks, the CI script
    assert {
        "mkdocs.yml",
        "docs/service.md",
        "examples/node/prepublish.mjs",
        "bench/corpus_path.py",
        ".ci/run",
    } <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        files = wheel.namelist()
        tops = {n.split("/", 1)[0] for n in files}
        entry = next(n for n in files if n.endswith("entry_points.txt"))
        assert "igpreflight = igpreflight.launch:main" in wheel.read(entry).decode()
    assert tops == {"igpreflight", f"igpreflight-{__version__}.dist-info"}, tops
    assert "igpreflight/py.typed" in files


def test_the_wheel_installs_and_runs_in_a_clean_venv(dists, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    purelib = run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    ).strip()
    # The dependencies of the running interpreter (a venv's site-packages are not the
    # system's), listed as plain paths: their .pth files (an editable igpreflight) are
    # not run, so only the wheel can provide igpreflight.
    (Path(purelib) / "igpreflight-test-deps.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--disable-pip-version-check", dists["wheel"], cwd=tmp_path,
    )  # fmt: skip
    work = tmp_path / "work"  # not the checkout: nothing may come from the repository
    work.mkdir()
    shutil.copy(REPO / "fixtures" / "media" / "feed-ok.jpg", work / "ok.jpg")
    shutil.copy(REPO / "fixtures" / "media" / "truncated.jpg", work / "broken.jpg")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = run(python, "-c", "import igpreflight; print(igpreflight.__file__)", cwd=work, env=env)
    assert Path(where.strip()).is_relative_to(env_dir), where
    exe = bindir / ("igpreflight.exe" if os.name == "nt" else "igpreflight")
    assert run(exe, "--version", cwd=work, env=env).strip() == f"igpreflight, version {__version__}"
    assert "1 file: 0 errors" in run(exe, "check", "ok.jpg", cwd=work, env=env)
    bad = subprocess.run(
        [str(exe), "check", "--format", "json", "broken.jpg"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and '"FILE001"' in bad.stdout, bad.stdout + bad.stderr
    assert "Traceback" not in bad.stderr
