"""Benchmark: `fix s3://... --out s3://...` with 2 workers behind 50 ms of latency per
request against the same fix without it (target: at most 1.15x the time).

A real S3 store answers each request tens of milliseconds later; the loopback
moto server answers at once. `fixtures/latency_proxy.py`, in a process of its
own, stands in front of moto and holds every request back by `--delay`. A
worker that waited through each GET and PUT would pay 48 x (GET + PUT) round
trips; one that overlaps them with its fixes (`igpreflight.scale.execute`) pays
about those of its first fetch and last upload. The plan's ranged probes go 64
objects at a time. Both runs fix the same 48 camera-size JPEGs (4000x3000) on
the local engine with `--workers 2`, interleaved, best of `--repeat`.

    python bench/bench_s3_latency.py [--files 48] [--delay 0.05] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_s3_dask import camera_jpeg, start_moto  # noqa: E402

from fixtures.s3server import FAKE_ENV  # noqa: E402


def start_proxy(upstream: str, delay: float) -> tuple[subprocess.Popen, str]:
    """The latency proxy in its own process (its byte pumps never take our GIL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fixtures.latency_proxy", upstream, "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # export AWS_ENDPOINT_URL_S3=http://127.0.0.1:PORT  # ...
    return proc, line.split("=", 1)[1].split()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=48)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--repeat", type=int, default=3, help="best of N interleaved runs")
    args = parser.parse_args()
    for k, v in FAKE_ENV.items():
        os.environ[k] = v
    import boto3

    from igpreflight.scale.engine import EngineSpec
    from igpreflight.scale.fix import fix_scaled
    from igpreflight.storage import s3
    from igpreflight.transcode.types import FixOptions

    moto, endpoint = start_moto()
    proxy, slow = start_proxy(endpoint, args.delay)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the start")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            client = boto3.client("s3", endpoint_url=endpoint)
            client.create_bucket(Bucket="bench")
            photos = [camera_jpeg(Path(tmp) / f"photo{i}.jpg", i) for i in range(4)]
            for i in range(args.files):
                body = photos[i % len(photos)].read_bytes()
                client.put_object(Bucket="bench", Key=f"in/IMG_{i:04d}.jpg", Body=body)
            two = EngineSpec("local", workers=2)

            def run(url: str, label: str) -> float:
                s3.configure(s3.S3Settings(endpoint_url=url))
                start = time.perf_counter()
                results = fix_scaled(["s3://bench/in/"], f"s3://bench/{label}/", FixOptions(), two)
                elapsed = time.perf_counter() - start
                bad = [r for r in results if not r.ok]
                assert not bad, [(r.source, r.reason) for r in bad]
                return elapsed

            direct, delayed = [], []
            for r in range(args.repeat):
                direct.append(run(endpoint, f"direct-{r}"))
                delayed.append(run(slow, f"delayed-{r}"))
            best_direct, best_delayed = min(direct), min(delayed)
    finally:
        proxy.kill()
        moto.kill()
        proxy.wait()
        moto.wait()
    ratio = best_delayed / best_direct
    n = args.files
    print(f"{n} JPEGs 4000x3000, fix s3->s3 on the local engine, 2 workers, best of {args.repeat}")
    print(
        f"no added latency:        {best_direct:6.2f} s ({best_direct / n * 1000:5.1f} ms/object)"
    )
    print(
        f"{args.delay * 1000:.0f} ms per request:      {best_delayed:6.2f} s "
        f"({best_delayed / n * 1000:5.1f} ms/object)"
    )
    verdict = "meets" if ratio <= 1.15 else "MISSES"
    print(f"ratio: {ratio:.2f}x ({verdict} the 1.15x target)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0 if ratio <= 1.15 else 1


if __name__ == "__main__":
    sys.exit(main())
