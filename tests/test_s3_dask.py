"""The Dask engine over a LocalCluster of 2 worker processes, with S3 on moto:
every object fixed and passing, a worker killed mid-task retried, a task that
keeps killing its worker becomes one failed line."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from click.testing import CliRunner

from fixtures import generate
from igpreflight.cli import cli
from igpreflight.scale.engine import EngineSpec, Run, run
from igpreflight.scale.fix import fix_scaled
from igpreflight.storage import s3
from igpreflight.transcode.types import FixOptions
from tests.dask_tasks import square_or_die
from tests.s3_support import s3server  # noqa: F401 - a fixture

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
