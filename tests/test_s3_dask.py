"""The Dask engine over a LocalCluster of 2 worker processes, with S3 on moto:
every object fixed and passing, a worker killed mid-task retried, a task that
keeps killing its worker becomes one failed line, kill -9 and Ctrl-C of the
client leave whole objects and a re-run finishes, and a local --out is one
run's at a time as with the local engine."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from fixtures import generate
from igpreflight.cli import cli
from igpreflight.scale.engine import EngineSpec, Run, run
from igpreflight.scale.fix import fix_scaled
from igpreflight.storage import s3
from igpreflight.terminal import CI_VARIABLES
from igpreflight.transcode.types import FixOptions
from tests.dask_tasks import square_or_die
from tests.s3_support import puts_held_after, s3server  # noqa: F401 - a fixture

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster(s3server):  # noqa: F811 - workers start with the fake credentials
    import dask

    # No retry by Dask itself (default 3), so the engine's own retry is what is
    # tested and the tests kill few workers.
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=50,
        ) as c,
        distributed.Client(c) as client,
    ):
        yield c.scheduler_address, client


def run_cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_every_object_fixed_on_the_cluster_and_passes(s3server, cluster, tmp_path):  # noqa: F811
    address, _ = cluster
    bucket = s3server.bucket()
    for i in range(9):
        s3server.put(
            bucket,
            f"in/lot {i % 3}/ph✓to {i}.png",
            generate.make_image(tmp_path / f"{i}.png", size=(1200 + 40 * i, 700), seed=i),
        )
    s3server.put(bucket, "in/zero.jpg", b"")
    dask = ("--engine", "dask", "--scheduler", address)
    r = run_cli("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/out/", *dask)
    assert r.exit_code == 1 and "in/zero.jpg: unfixable: FILE001" in r.output, r.output
    assert len(s3server.keys(bucket, "out/")) == 9
    assert run_cli("check", f"s3://{bucket}/out/", *dask).exit_code == 0
    again = run_cli("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/out/", *dask)
    assert again.output.count("(already done)") == 9


def test_worker_killed_mid_task_is_retried(s3server, cluster, tmp_path):  # noqa: F811
    address, client = cluster
    bucket = s3server.bucket()
    for i in range(2):  # 120 fps: a real transcode, long enough to be caught running
        s3server.put(
            bucket,
            f"clips/c{i}.mp4",
            generate.make_video(
                tmp_path / f"c{i}.mp4", width=320, height=568, fps=120, duration=3.2
            ),
        )
    pids = client.run(os.getpid)
    results: list = []
    settings = s3.current_settings()
    worker = threading.Thread(
        target=lambda: results.extend(
            fix_scaled(
                [f"s3://{bucket}/clips/"],
                f"s3://{bucket}/fixed/",
                FixOptions(),
                EngineSpec("dask", scheduler=address),
            )
        )
    )
    worker.start()
    victim = None
    deadline = time.time() + 120
    while victim is None and time.time() < deadline:
        for addr, keys in client.processing().items():
            if any("execute_task" in str(k) for k in keys):
                victim = addr
        time.sleep(0.02)
    assert victim is not None
    time.sleep(0.3)  # inside ffmpeg
    os.kill(pids[victim], signal.SIGKILL)
    worker.join(300)
    s3.configure(settings)
    assert [r.status.value for r in results] == ["transcoded", "transcoded"], results
    assert s3server.keys(bucket, "fixed/") == ["fixed/c0.mp4", "fixed/c1.mp4"]
    assert run_cli("check", f"s3://{bucket}/fixed/").exit_code == 0


def test_a_task_that_keeps_killing_its_worker_is_one_failed_line(cluster):
    address, _ = cluster
    items = [1, 2, "die", 4]
    work = Run(square_or_die, lambda item, reason: f"failed: {item}: {reason}")
    out = run(EngineSpec("dask", scheduler=address), work, items, [[0, 1, 2, 3]])
    assert out[:2] == [1, 4] and out[3] == 16
    assert out[2].startswith("failed: die: worker failed")


def test_a_second_run_on_one_local_out_exits_2_on_dask_too(s3server, cluster, tmp_path):  # noqa: F811
    from igpreflight.transcode.folderlock import out_lock

    address, _ = cluster
    bucket = s3server.bucket()
    s3server.put(bucket, "in/a.png", generate.make_image(tmp_path / "a.png", size=(300, 300)))
    local = tmp_path / "local in"
    generate.make_image(local / "b.png", size=(300, 300))
    out = tmp_path / "out"
    dask = ("--engine", "dask", "--scheduler", address)
    for source in (f"s3://{bucket}/in/", local):
        with out_lock(out):  # the first run, still working
            r = run_cli("fix", source, "--out", out, *dask)
            assert r.exit_code == 2, r.output
            # The lock's holder is this process (the test's own out_lock): said as such.
            assert "is being written by another fix of this process" in r.stderr
    assert not (out / "a.jpg").exists() and not (out / "b.jpg").exists()
    stale = out / ".a.k3j9x0qz.tmp.jpg"  # what a killed run's worker left
    stale.write_bytes(b"half a jpeg")
    r = run_cli("fix", f"s3://{bucket}/in/", local, "--out", out, *dask)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [".igpreflight", "a.jpg", "b.jpg"]


def _photos(s3server, bucket: str, tmp_path, n: int) -> None:  # noqa: F811
    for i in range(n):
        path = generate.make_image(tmp_path / f"p{i}.png", size=(1600, 2400), seed=i)
        s3server.put(bucket, f"in/p{i:02d}.png", path)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "igpreflight", *args]


def test_kill_9_of_the_client_on_dask_then_rerun_completes(s3server, cluster, tmp_path):  # noqa: F811
    address, _ = cluster
    bucket = s3server.bucket()
    _photos(s3server, bucket, tmp_path, 16)
    cmd = _cli("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/out/", "--engine", "dask")
    # The third output on waits until the kill: a test thread starved while 16 small
    # photos were fixed once found the batch finished before it.
    with puts_held_after(bucket, "out/", 2):
        proc = subprocess.Popen(
            [*cmd, "--scheduler", address], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + 120
        while time.time() < deadline and len(s3server.keys(bucket, "out/")) < 2:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert len(s3server.keys(bucket, "out/")) == 2  # killed mid-batch
        assert run_cli("check", f"s3://{bucket}/out/").exit_code == 0  # whole objects only
    again = run_cli(
        "fix",
        f"s3://{bucket}/in/",
        "--out",
        f"s3://{bucket}/out/",
        "--engine",
        "dask",
        "--scheduler",
        address,
    )
    assert again.exit_code == 0, again.output
    assert "(already done)" in again.output
    assert len(s3server.keys(bucket, "out/")) == 16
    assert run_cli("check", f"s3://{bucket}/out/").exit_code == 0


def test_ctrl_c_on_a_terminal_with_workers_it_started(s3server, cluster, tmp_path):  # noqa: F811
    """`--workers 2` starts its own cluster; Ctrl-C at the terminal (SIGINT to the whole
    process group) gives the bar, then one message, exit 130, no worker tracebacks and
    no partial object; the same command then finishes the rest."""
    address, _ = cluster
    bucket = s3server.bucket()
    _photos(s3server, bucket, tmp_path, 24)
    args = ("fix", f"s3://{bucket}/in/", "--out", f"s3://{bucket}/out/", "--engine", "dask")
    quiet = (*CI_VARIABLES, "NO_COLOR")  # so the terminal counts as a person's
    env = {k: v for k, v in os.environ.items() if k not in quiet}
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        _cli(*args, "--workers", "2"),
        stdin=slave,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env={**env, "TERM": "xterm", "COLUMNS": "100"},
        start_new_session=True,  # its own process group, as a shell gives a job
    )
    os.close(slave)
    shown = b""
    deadline = time.time() + 180
    interrupted = False
    while True:
        if not interrupted and len(s3server.keys(bucket, "out/")) >= 2:
            assert proc.poll() is None, "finished before Ctrl-C; make it larger"
            os.killpg(proc.pid, signal.SIGINT)
            interrupted = True
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                break
            shown += data
        assert time.time() < deadline, shown.decode(errors="replace")
    assert proc.wait(60) == 130, shown.decode(errors="replace")
    text = shown.decode(errors="replace")
    assert "/24" in text and "interrupted:" in text, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    done = s3server.keys(bucket, "out/")
    assert 0 < len(done) < 24, (done, text)
    assert run_cli("check", f"s3://{bucket}/out/").exit_code == 0
    again = run_cli(*args, "--scheduler", address)
    assert again.exit_code == 0 and again.output.count("(already done)") >= len(done), again.output
    assert len(s3server.keys(bucket, "out/")) == 24
