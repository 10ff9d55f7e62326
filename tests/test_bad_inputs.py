"""Every command against a table of bad inputs: one `igpreflight: error: ...` line and
the exit code the README promises, never a traceback.

Each case runs the real program (`python -m igpreflight`) in a fresh process, as a
user's shell does, so nothing a test harness catches can hide a traceback. The table
covers usage errors click sees, configuration files, manifests, unwritable outputs,
unreachable S3 endpoints, too many workers, and the publish database (--db) given as
an unreachable or missing PostgreSQL database or an impossible SQLite path.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.generate import make_image
from igpreflight import cli as cli_module
from igpreflight.cli import cli

UNREACHABLE_PG = "postgresql://igpf@127.0.0.1:1/nothing"
UNREACHABLE_S3 = "http://127.0.0.1:1"


def _postgres_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


MISSING_PG = f"postgresql://postgres@127.0.0.1:5432/igpf_missing_{uuid.uuid4().hex[:10]}"


@dataclass
class Case:
    name: str
    args: list[str]
    code: int = 2
    says: str = ""  # a fragment the error line must hold
    config: str | None = None  # an igpreflight.toml in the working directory
    postgres: bool = False  # needs the machine's PostgreSQL server
    env: dict[str, str] = field(default_factory=dict)


TOKEN_ENV = {"IG_ACCESS_TOKEN": "igpf-test-token", "IG_USER_ID": "17841400000000001"}
CASES = [
    # check
    Case("check: no such file", ["check", "missing.jpg"], says="does not exist"),
    Case("check: --jobs 5000", ["check", "--jobs", "5000", "ok.jpg"], says="at most"),
    Case("check: jobs = 5000", ["check", "ok.jpg"], says="at most", config="jobs = 5000\n"),
    Case("check: broken config", ["check", "ok.jpg"], says="invalid TOML", config="select = [\n"),
    Case("check: unknown code", ["check", "--select", "NOPE1", "ok.jpg"], says="NOPE1"),
    Case("check: bad manifest", ["check", "--manifest", "bad.toml"], says="bad.toml"),
    Case("check: no manifest", ["check", "--manifest", "missing.toml"], says="missing.toml"),
    Case("check: output folder", ["check", "-o", "no/such/r.json", "ok.jpg"], says="no/such"),
    Case("check: s3 no bucket", ["check", "s3://"], says="no bucket"),
    Case(
        "check: s3 unreachable",
        ["check", "s3://igpf-none/x/", "--endpoint-url", UNREACHABLE_S3],
        says="cannot reach the S3 endpoint",
    ),
    Case("check: bad shard", ["check", "--shard", "3/2", "ok.jpg"], says="--shard"),
    Case(
        "check: --workers 5000",
        ["check", "--engine", "dask", "--workers", "5000", "ok.jpg"],
        says="at most",
    ),
    Case("check: unknown option", ["check", "--nope", "ok.jpg"], says="--nope"),
    # fix
    Case("fix: no --out", ["fix", "ok.jpg"], says="--out"),
    Case("fix: --out and --in-place", ["fix", "ok.jpg", "--out", "o", "--in-place"]),
    Case("fix: --out under a file", ["fix", "ok.jpg", "--out", "ok.jpg/o"], says="ok.jpg"),
    Case("fix: --max-memory", ["fix", "ok.jpg", "--out", "o", "--max-memory", "lots"]),
    Case("fix: --jobs 5000", ["fix", "ok.jpg", "--out", "o", "-j", "5000"], says="at most"),
    Case("fix: out holds the input", ["fix", ".", "--out", "."], says="contains"),
    Case(
        "fix: s3 unreachable",
        ["fix", "s3://igpf-none/x/", "--out", "o", "--endpoint-url", UNREACHABLE_S3],
        says="cannot reach the S3 endpoint",
    ),
    # upload, check-url
    Case(
        "upload: s3 unreachable",
        ["upload", "ok.jpg", "--bucket", "b", "--endpoint-url", UNREACHABLE_S3],
        says="cannot reach the S3 endpoint",
    ),
    Case("upload: no such file", ["upload", "missing.jpg", "--bucket", "b"]),
    Case("check-url: not a URL", ["check-url", "not a url"], code=1),
    # publish, worker, status: the manifest, the token, the database
    Case("publish: no manifest", ["publish", "missing.toml"]),
    Case("publish: bad manifest", ["publish", "bad.toml", "--dry-run"], says="bad.toml"),
    Case(
        "publish: PostgreSQL unreachable",
        ["publish", "posts.toml", "--enqueue", "--db", UNREACHABLE_PG],
        says="cannot use the publish database",
        env=TOKEN_ENV,
    ),
    Case(
        "publish: PostgreSQL database missing",
        ["publish", "posts.toml", "--enqueue", "--db", MISSING_PG],
        says="does not exist",
        postgres=True,
        env=TOKEN_ENV,
    ),
    Case(
        "worker: PostgreSQL unreachable",
        ["worker", "--until-idle", "--db", UNREACHABLE_PG],
        says="cannot use the publish database",
    ),
    Case(
        "worker: PostgreSQL database missing",
        ["worker", "--until-idle", "--db", MISSING_PG],
        says="does not exist",
        postgres=True,
    ),
    Case(
        "status: PostgreSQL unreachable",
        ["status", "--db", UNREACHABLE_PG],
        says="cannot use the publish database",
    ),
    Case(
        "status: PostgreSQL database missing",
        ["status", "--db", MISSING_PG],
        says="does not exist",
        postgres=True,
    ),
    Case("status: no database", ["status"], says="no publish database"),
    # run, rules, explain, the group
    Case("run: no such input", ["run", "missing.toml"], says="missing.toml"),
    Case("run: --jobs 99", ["run", "ok.jpg", "--dry-run", "--jobs", "99"], says="at most"),
    Case("rules: unknown format", ["rules", "--format", "xml"], says="xml"),
    Case("explain: unknown code", ["explain", "NOPE"], code=1, says="NOPE"),
    Case("no such command", ["nosuchcommand"], says="nosuchcommand"),
]
# Records the publish engine's own logger still writes before the one error line (DBOS
# logs a failed connection itself, over several lines); the publish core's owner is
# making them go. Each starts with one of these, and ends at our next line.
ENGINE_LOG_LINES = ("Error connecting to the DBOS system database",)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad-inputs")
    make_image(root / "ok.jpg", size=(1080, 1350))
    (root / "bad.toml").write_text("[[post]\nmedia = ['ok.jpg']\n")
    (root / "posts.toml").write_text('[[post]]\nid = "b1"\ncaption = "hi"\nmedia = ["ok.jpg"]\n')
    return root


def _environment(case: Case) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IG_", "IGPREFLIGHT_"))}
    env.update({"AWS_ACCESS_KEY_ID": "AKIAIGPREFLIGHTTEST1", "AWS_SECRET_ACCESS_KEY": "x"})
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"})
    env.pop("AWS_ENDPOINT_URL_S3", None)
    env["AWS_MAX_ATTEMPTS"] = "1"  # an unreachable endpoint fails at once
    env.update(case.env)
    return env


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_error_line_never_a_traceback(case: Case, workdir: Path, tmp_path):
    if case.postgres and not _postgres_up():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for name in ("ok.jpg", "bad.toml", "posts.toml"):
        (cwd / name).write_bytes((workdir / name).read_bytes())
    if case.config is not None:
        (cwd / "igpreflight.toml").write_text(case.config)
    done = subprocess.run(
        [sys.executable, "-m", "igpreflight", *case.args],
        cwd=cwd,
        env=_environment(case),
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    seen = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert "Traceback" not in done.stderr + done.stdout, seen
    assert done.returncode == case.code, seen
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("igpreflight: error: ")]
    if case.code == 2:
        assert len(errors) >= 1, seen
        assert case.says in " ".join(errors), seen
    in_engine_log = False
    for line in lines:  # click's usage line and help hint, then our own lines only
        if line.startswith(ENGINE_LOG_LINES):
            in_engine_log = True  # the engine's record, up to our next line
        elif line.startswith(("Usage: ", "Try '", "igpreflight: ")):
            in_engine_log = False
        elif not in_engine_log:
            pytest.fail(f"a stray line on stderr: {line!r}\n{seen}")


def boom() -> None:
    """A command with a bug in it."""
    raise RuntimeError("the frobnicator\nbroke")


def test_a_bug_is_one_internal_error_line_and_a_traceback_only_when_asked(monkeypatch) -> None:
    import click

    monkeypatch.setitem(cli_module.COMMANDS, "boom", f"{__name__}:boom_command")
    r = CliRunner().invoke(cli, ["boom"])
    assert r.exit_code == 2
    assert r.output.splitlines() == [
        "igpreflight: error: internal error: RuntimeError: the frobnicator broke; this is a bug,"
        " please report it (IGPREFLIGHT_DEBUG=1 shows the traceback)"
    ]
    monkeypatch.setenv("IGPREFLIGHT_DEBUG", "1")
    r = CliRunner().invoke(cli, ["boom"])
    assert r.exit_code == 2 and "Traceback" in r.output and "in boom" in r.output
    assert isinstance(boom_command, click.Command)


def _boom_command():
    import click

    return click.command("boom")(boom)


boom_command = _boom_command()


def test_a_database_password_never_reaches_the_error_line() -> None:
    from igpreflight.commands.boundary import one_line

    line = one_line("cannot open postgresql://ana:hunter2@db.example/x\n(details)")
    assert "hunter2" not in line and "postgresql://ana:***@db.example/x (details)" in line
