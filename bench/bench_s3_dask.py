"""Benchmark: `fix s3://... --out s3://...` on Dask with 2 workers against 1 worker
(target >= 1.8x on 2 cores), and the cost per object of s3:// against local paths.

Camera-size JPEGs (4000x3000) live in a real S3 protocol server (moto, in its
own process on 127.0.0.1). Every ratio comes from runs in this one process:
- dask: the same batch fixed on the LocalCluster `--workers N` starts, of 1 worker
  process, then of 2.
  Starting a cluster and warming its workers (imports, the S3 client) is a
  fixed cost reported on its own line, not in the batch's time: a cluster
  outlives many batches. Both runs time the same thing: connect, plan, execute.
- where the CPU goes during each batch, from the kernel's counters (psutil):
  this process (the client and, in a LocalCluster, the scheduler), the worker
  processes with their ffmpeg children, the nannies, and moto's server, which
  shares the same cores;
- the machine's own ceiling: the same fixes of the same files from local disk
  in 1 and in 2 plain processes (no Dask, no S3);
- s3 vs local: the same batch fixed (and checked) from local paths into a
  folder, then from s3:// into s3://, both on the local engine with one worker.

    python bench/bench_s3_dask.py [--files 48] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.generate import make_image  # noqa: E402
from fixtures.s3server import FAKE_ENV  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    """moto's S3 server in a process of its own (not competing for this one's GIL)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("moto server did not start")


def camera_jpeg(path: Path, seed: int) -> Path:
    """A 4000x3000 JPEG of a camera's size (about 4-5 MB): a pattern with sensor-like noise."""
    from PIL import Image

    base = Image.open(make_image(path, size=(4000, 3000), quality=95, seed=seed)).convert("RGB")
    noise = Image.effect_noise((4000, 3000), 48).convert("RGB")
    Image.blend(base, noise, 0.18).save(path, "JPEG", quality=92)
    return path


def timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    results = fn()
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not getattr(r, "ok", True)]
    assert not failed, [(r.source, r.reason) for r in failed]
    return elapsed


def cpu_seconds(proc) -> float:  # noqa: ANN001 - psutil.Process
    """CPU time of a process and of its waited-for children (ffmpeg runs as one)."""
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def machine_seconds() -> dict[str, float]:
    """The whole machine's CPU seconds so far (all cores): busy, stolen by the VM's host, idle."""
    import psutil

    t = psutil.cpu_times()
    busy = t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)
    return {
        "busy": busy,
        "steal": getattr(t, "steal", 0.0),
        "idle": t.idle + getattr(t, "iowait", 0),
    }


@dataclass
class Batch:
    """One timed batch: its wall time, the CPU seconds each part of the system spent,
    and what the rest of the machine did meanwhile (other processes, the VM's host)."""

    wall: float
    cpu: dict[str, float]
    machine: dict[str, float]
    requests: dict[str, int]  # S3 requests sent, by operation

    def line(self, label: str, n: int) -> str:
        total = sum(self.cpu.values())
        parts = ", ".join(f"{k} {v / n * 1000:.0f}" for k, v in self.cpu.items())
        others = max(0.0, self.machine["busy"] - total)
        return (
            f"{label}: {self.wall:7.2f} s ({self.wall / n * 1000:5.1f} ms/object); "
            f"CPU ms/object: {parts}; total {total / n * 1000:.0f} "
            f"(moto {self.cpu['moto'] / total:.0%})\n"
            f"    the cores meanwhile: this batch {total:.1f} s, other processes {others:.1f} s, "
            f"taken by the VM host {self.machine['steal']:.1f} s, idle {self.machine['idle']:.1f} s\n"
            f"    S3 requests per object: "
            + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(self.requests.items()))
        )


def warm_worker(endpoint: str) -> int:
    """What a long-lived worker has done after its first batch: imported the fixer
    and made its S3 client (the cluster's fixed start-up cost, timed on its own)."""
    import igpreflight.scale.fix  # noqa: F401
    import igpreflight.transcode.image  # noqa: F401
    from igpreflight.storage import s3

    count_requests(s3.client(s3.S3Settings(endpoint_url=endpoint)))
    return os.getpid()


def count_requests(client) -> None:  # noqa: ANN001 - a boto3 S3 client
    """Count the S3 requests this process's client sends, by operation (`requests()`)."""
    import collections

    from igpreflight.storage import s3

    if not hasattr(s3, "bench_requests"):
        s3.bench_requests = collections.Counter()  # type: ignore[attr-defined]
        client.meta.events.register(
            "before-call.s3",
            lambda model, **_: s3.bench_requests.update([model.name]),  # type: ignore[attr-defined]
        )


def requests() -> dict[str, int]:
    from igpreflight.storage import s3

    return dict(getattr(s3, "bench_requests", {}))


def fix_file(source: Path, out: Path) -> bool:
    """One file fixed as a worker fixes it (plan, run_job), from and to local disk."""
    from igpreflight.transcode.batch import FixJob, plan_job, run_job
    from igpreflight.transcode.types import FixOptions

    options = FixOptions()
    p = plan_job(FixJob(str(source), source, Path(source.name)), options)
    return run_job(replace(p, output=out / f"{os.getpid()}-{source.name}"), options).ok


def ceiling(files: list[Path], out: Path, processes: int) -> float:
    """The same fixes in plain processes (warmed first): what the cores give, no Dask, no S3."""
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(fix_file, files[:processes], [out] * processes))  # imports
        start = time.perf_counter()
        ok = list(pool.map(fix_file, files, [out] * len(files)))
        elapsed = time.perf_counter() - start
    assert all(ok)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=48)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="best of N interleaved runs (a shared VM's noise only slows a run down)",
    )
    args = parser.parse_args()
    for k, v in FAKE_ENV.items():
        os.environ[k] = v
    import boto3
    import psutil
    from distributed import Client

    from igpreflight.preflight.engine import S3_THREADS, check_paths
    from igpreflight.preflight.probe import probe_stream
    from igpreflight.scale.engine import EngineSpec, local_cluster
    from igpreflight.scale.fix import fix_scaled
    from igpreflight.storage import s3
    from igpreflight.storage.ranged import RangedReader
    from igpreflight.storage.s3uri import S3Uri
    from igpreflight.transcode.batch import fix_paths
    from igpreflight.transcode.types import FixOptions

    moto, endpoint = start_moto()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops moto
    os.environ["AWS_ENDPOINT_URL_S3"] = endpoint  # Dask workers inherit it
    me, moto_proc = psutil.Process(), psutil.Process(moto.pid)
    n = args.files
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the start")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "in"
            client = boto3.client("s3", endpoint_url=endpoint)
            client.create_bucket(Bucket="bench")
            photos = [camera_jpeg(Path(tmp) / f"photo{i}.jpg", i) for i in range(4)]
            total = 0
            files = []
            for i in range(n):
                path = src / f"shoot {i // 12}" / f"IMG_{i:04d}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(photos[i % len(photos)].read_bytes())
                total += path.stat().st_size
                files.append(path)
                client.upload_file(str(path), "bench", f"in/{path.parent.name}/{path.name}")
            print(f"{n} JPEGs of 4000x3000, {total / n / 1e6:.1f} MB each on average")
            s3.configure(s3.S3Settings(endpoint_url=endpoint))
            count_requests(s3.client())
            options = FixOptions()

            def on_cluster(workers: int, prefix: str) -> tuple[float, Batch]:
                started = time.perf_counter()
                with local_cluster(workers) as cluster, Client(cluster) as c:
                    c.wait_for_workers(workers)
                    pids = set(c.run(warm_worker, endpoint).values())
                    start_up = time.perf_counter() - started
                    procs = {
                        "client+scheduler": [me],
                        "workers+ffmpeg": [psutil.Process(p) for p in pids],
                        "nannies": [p for p in me.children() if p.pid not in pids | {moto.pid}],
                        "moto": [moto_proc],
                    }
                    before = {k: sum(map(cpu_seconds, v)) for k, v in procs.items()}
                    was = machine_seconds()
                    listed_before = Counter(requests())
                    spec = EngineSpec("dask", scheduler=cluster.scheduler_address)
                    wall = timed(
                        lambda: fix_scaled(
                            ["s3://bench/in/"], f"s3://bench/{prefix}/", options, spec
                        )
                    )
                    after = {k: sum(map(cpu_seconds, v)) for k, v in procs.items()}
                    now = machine_seconds()
                    sent = Counter(requests())  # the client's listings
                    sent.subtract(listed_before)
                    for counted in c.run(requests).values():  # the workers'
                        sent.update(counted)
                return start_up, Batch(
                    wall,
                    {k: after[k] - before[k] for k in procs},
                    {k: now[k] - was[k] for k in now},
                    {k: v for k, v in sent.items() if v},
                )

            # Interleaved repeats, best of each: a shared machine's noise only slows runs down.
            runs: dict[int, list[tuple[float, Batch]]] = {1: [], 2: []}
            ceilings: dict[int, list[float]] = {1: [], 2: []}
            for r in range(args.repeat):
                for workers in (1, 2):
                    runs[workers].append(on_cluster(workers, f"dask{workers}-{r}"))
                    ceilings[workers].append(ceiling(files, Path(tmp) / "ceiling", workers))
            one_start, one = min(runs[1], key=lambda x: x[1].wall)
            two_start, two = min(runs[2], key=lambda x: x[1].wall)
            print(
                f"cluster start and worker warm-up (fixed, not in the batches): 1 worker {one_start:.2f} s, 2 workers {two_start:.2f} s"
            )
            print(one.line("dask fix s3->s3, 1 worker ", n))
            print(two.line("dask fix s3->s3, 2 workers", n))
            print(
                f"speed-up 2 workers vs 1: {one.wall / two.wall:.2f}x (target >= 1.8x on 2 cores)"
            )
            print(
                f"  with the cluster start counted in each: {(one_start + one.wall) / (two_start + two.wall):.2f}x"
            )
            busy = sum(two.cpu.values())
            path = one.cpu["workers+ffmpeg"] + one.cpu["moto"]  # one worker waits for moto
            print(
                f"  bound: 2 cores cannot do the 2-worker batch's {busy:.2f} CPU-seconds in under "
                f"{busy / 2:.2f} s, so at most {one.wall / (busy / 2):.2f}x against this 1-worker "
                f"run, {path / (busy / 2):.2f}x against its critical path (its worker's and "
                f"moto's CPU, {path:.2f} s); with moto's share off these cores (a real S3 "
                f"serves from elsewhere) {path / ((busy - two.cpu['moto']) / 2):.2f}x"
            )
            others = max(0.0, two.machine["busy"] - busy)
            alone = (busy + two.machine["idle"]) / 2  # our work and our gaps, on 2 cores
            print(
                f"  other processes ran {others:.1f} CPU-seconds on these cores during the "
                f"2-worker batch; without them it would have taken about {alone:.2f} s, "
                f"{path / alone:.2f}x to {one.wall / alone:.2f}x (an estimate, not a measurement)"
            )
            solo, duo = min(ceilings[1]), min(ceilings[2])
            print(
                f"machine ceiling, interleaved with the Dask runs: the same fixes from local disk "
                f"in plain processes (no Dask, no S3): "
                f"1 process {solo / n * 1000:.1f} ms/object, 2 processes {duo / n * 1000:.1f} ms/object, "
                f"{solo / duo:.2f}x"
            )
            print(
                f"  Dask's speed-up is {one.wall / two.wall / (solo / duo):.0%} of what these "
                f"cores gave plain processes meanwhile"
            )

            single = EngineSpec("local", workers=1)
            local_fix = timed(lambda: fix_paths([src], Path(tmp) / "out", options, jobs=1))
            s3_fix = timed(
                lambda: fix_scaled(["s3://bench/in/"], "s3://bench/local1/", options, single)
            )
            local_check = timed(lambda: check_paths([src], jobs=1).files)
            s3_check = timed(lambda: check_paths(["s3://bench/in/"], jobs=1).files)
            gets = fetched = 0
            for info in s3.list_objects(S3Uri("bench", "in/")):
                with RangedReader(info) as f:
                    probe_stream(info.uri, f, info.size)
                gets, fetched = gets + f.requests, fetched + f.fetched
            print(
                f"fix   local->local: {local_fix / n * 1000:7.1f} ms/object; s3->s3: {s3_fix / n * 1000:7.1f} ms/object; s3/local {s3_fix / local_fix:.2f}x"
            )
            print(
                f"check local       : {local_check / n * 1000:7.1f} ms/object; s3 ({S3_THREADS} threads of GETs): {s3_check / n * 1000:7.1f} ms/object; s3/local {s3_check / local_check:.2f}x"
            )
            print(
                f"check s3 reads {gets / n:.1f} ranged GETs and {fetched / n / 1e3:.0f} KB per object "
                f"({fetched / total:.1%} of the bytes)"
            )
            print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        moto.kill()
        moto.wait()


if __name__ == "__main__":
    main()
