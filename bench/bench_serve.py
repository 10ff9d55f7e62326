"""Benchmark: `igpreflight serve --workers 2` under 32 concurrent connections on loopback.

Three loads, each for --seconds, interleaved over --rounds (the best round counts):
  (a) POST /v1/check of a caption-and-tags post (its image uploaded once, by id);
  (b) POST /v1/check of a post with one image URL served on loopback (fetched each time);
  (c) POST /v1/media uploads of a 5 MB JPEG (each deleted after, untimed).
Goals on 2 cores: (a) >= 500 requests/s with p99 <= 50 ms, (b) >= 100 requests/s.
Every answer's findings are compared with `igpreflight check` on the same input
(a mismatch fails the run). The baseline is what tools had before the service:
one `igpreflight check --manifest - --format json` process per post (2 at once).

    python bench/bench_serve.py [--seconds 5] [--rounds 3] [--workers 2] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "igpreflight", "check", "--isolated", "--allow-private"]


def findings_key(findings: list[dict]) -> Counter:
    return Counter(
        (f["rule"], f["severity"], f["code"], f["subcode"], f["message"]) for f in findings
    )


def cli_findings(report: dict) -> Counter:
    every = [f for r in report["files"] for f in r["findings"]]
    every += [f for p in report["posts"] for f in p["findings"]]
    return findings_key(every)


def answer_findings(body: dict) -> Counter:
    return findings_key([*body["errors"], *body["warnings"], *body["info"]])


@dataclass
class Load:
    name: str
    requests: list[bytes]  # whole HTTP requests, prepared once; connections take turns
    expected: Counter  # the CLI's findings on the same input
    after: str | None = None  # DELETE the created media after each request (untimed)


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    mismatches: int
    failures: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


class Connection:
    """One keep-alive HTTP/1.1 connection sending prepared requests.

    The load generator shares the 2 cores with the service, so it must cost little
    per request: httpx's async client spends about a millisecond of CPU on each
    (it tops out near 400 requests/s here on /healthz), a bare stream a few tens
    of microseconds. Requests are prepared bytes; answers are read by their
    Content-Length (the service always sends one).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        return status, await self.reader.readexactly(int(length[1])) if length else b""

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def prepare(method: str, path: str, body: bytes = b"", content_type: str | None = None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return (head + "\r\n").encode() + body


async def drive(url: str, load: Load, seconds: float, connections: int) -> Result:
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    counts = {"mismatch": 0, "fail": 0}
    seen_ok: set[bytes] = set()  # answers already compared (identical bytes, same findings)
    stop = time.perf_counter() + seconds

    async def one_connection(number: int) -> None:
        conn = Connection(host, int(port))
        turn = number
        try:
            while time.perf_counter() < stop:
                request = load.requests[turn % len(load.requests)]
                turn += connections  # requests in flight at once are all different
                start = time.perf_counter()
                status, body = await conn.send(request)
                latencies.append(time.perf_counter() - start)
                if status not in (200, 201):
                    counts["fail"] += 1
                    continue
                if body in seen_ok:
                    continue
                answer = json.loads(body)
                if answer_findings(answer) != load.expected:
                    counts["mismatch"] += 1
                elif not load.after:
                    seen_ok.add(body)
                if load.after:
                    await conn.send(prepare("DELETE", load.after.format(id=answer["id"])))
        finally:
            conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(one_connection(n) for n in range(connections)))
    elapsed = time.perf_counter() - began
    return Result(len(latencies), elapsed, latencies, counts["mismatch"], counts["fail"])


def run_loop(coroutine):
    """asyncio.run, on uvloop when it is there (the service's loop too)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def serve_static(folder: str, ports) -> None:  # in a child process: its own GIL
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default 5 drops SYNs under 32 fetches: 1 s retries
        daemon_threads = True

    httpd = Server(("127.0.0.1", 0), partial(Quiet, directory=folder))
    ports.put(httpd.server_address[1])
    httpd.serve_forever()


def start_service(data: Path, workers: int) -> tuple[subprocess.Popen, str]:
    log = data.parent / "serve.log"
    err = open(log, "w")  # noqa: SIM115 - the child writes to it until the end
    proc = subprocess.Popen(
        [sys.executable, "-m", "igpreflight", "serve", "--port", "0", "--workers", str(workers)]
        + ["--rate-limit", "0", "--isolated", "--allow-private", "--data-dir", str(data)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"running on (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            url = found[1]
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        return proc, url
                except httpx.HTTPError:
                    time.sleep(0.1)
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"serve did not start:\n{log.read_text()}")


def big_jpeg(path: Path, target: int = 5_000_000) -> Path:
    """A 4:5 JPEG of noise, re-encoded until it is about `target` bytes."""
    side = 1200
    while True:
        noise = Image.frombytes("RGB", (side, side * 5 // 4), os.urandom(side * side * 15 // 4))
        out = io.BytesIO()
        noise.save(out, "JPEG", quality=90)
        if out.tell() >= target:
            path.write_bytes(out.getvalue())
            return path
        side += 100


def cli_report(args: list[str], stdin: str | None = None, cwd: Path = ROOT) -> dict:
    done = subprocess.run(
        CLI + args + ["--format", "json"], input=stdin, capture_output=True, text=True, cwd=cwd
    )
    return json.loads(done.stdout)


def baseline(post: dict, cwd: Path, runs: int) -> float:
    """Posts per second through one CLI process per post, two at once."""
    text = json.dumps({"post": [post]})

    def one(_: int) -> None:
        cli_report(["--manifest", "-"], stdin=text, cwd=cwd)

    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, range(runs)))
    return runs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--baseline-runs", type=int, default=8)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        www = root / "www"
        www.mkdir()
        Image.new("RGB", (1080, 1350), "teal").save(www / "photo.jpg", quality=85)
        upload = big_jpeg(root / "upload.jpg")
        ports: multiprocessing.Queue = multiprocessing.Queue()
        static = multiprocessing.Process(target=serve_static, args=(str(www), ports), daemon=True)
        static.start()
        image_url = f"http://127.0.0.1:{ports.get(timeout=30)}/photo.jpg"
        proc, url = start_service(root / "data", args.workers)
        try:
            run(args, root, url, image_url, upload)
        finally:
            proc.terminate()
            proc.wait(60)
            static.terminate()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def run(args: argparse.Namespace, root: Path, url: str, image_url: str, upload: Path) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        media = http.post(
            "/v1/media", files={"file": ("photo.jpg", (root / "www" / "photo.jpg").read_bytes())}
        ).json()
    stored = next(
        p for p in (root / "data" / "media" / media["id"]).iterdir() if p.name != "meta.json"
    )
    caption = "Launch day at the studio " + " ".join(f"#tag{i}" for i in range(32))
    tags = [{"username": "ana", "x": 0.5, "y": 0.4}, {"username": "bo", "x": 1.4, "y": 0.2}]
    post_a = {"caption": caption, "user_tags": tags, "media": [media["id"]]}
    post_b = {"caption": "From the CDN #new", "media": [f"{image_url}?v=0"]}
    manifest_a = {**post_a, "media": [f"{media['id']}/{stored.name}"]}
    store = root / "data" / "media"
    expected_a = cli_findings(
        cli_report(["--manifest", "-"], json.dumps({"post": [manifest_a]}), store)
    )
    expected_b = cli_findings(cli_report(["--manifest", "-"], json.dumps({"post": [post_b]})))
    expected_c = cli_findings(cli_report([str(upload)]))
    boundary = "benchboundary7f3a"
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + upload.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    as_json = "application/json"
    loads = [
        Load(
            "(a) caption-and-tags post",
            [prepare("POST", "/v1/check", json.dumps({"post": post_a}).encode(), as_json)],
            expected_a,
        ),
        Load(
            "(b) post with one image URL",
            [  # a URL of its own per request in flight: each is fetched, none shared
                prepare("POST", "/v1/check", json.dumps({"post": variant}).encode(), as_json)
                for variant in (
                    {**post_b, "media": [f"{image_url}?v={i}"]} for i in range(4 * args.connections)
                )
            ],
            expected_b,
        ),
        Load(
            "(c) 5 MB JPEG upload",
            [prepare("POST", "/v1/media", multipart, f"multipart/form-data; boundary={boundary}")],
            expected_c,
            after="/v1/media/{id}",
        ),
    ]
    best: dict[str, Result] = {}
    for round_ in range(args.rounds):
        for load in loads:
            result = run_loop(drive(url, load, args.seconds, args.connections))
            print(
                f"round {round_ + 1} {load.name}: {result.rate:.0f} req/s,"
                f" p50 {result.pct(0.5):.1f} ms, p99 {result.pct(0.99):.1f} ms,"
                f" {result.mismatches} mismatches, {result.failures} failures"
            )
            if load.name not in best or result.rate > best[load.name].rate:
                best[load.name] = result
    base_a = baseline(manifest_a, store, args.baseline_runs)
    base_b = baseline(post_b, ROOT, args.baseline_runs)
    print(
        f"\nbaseline (one CLI process per post, 2 at once): (a) {base_a:.1f}/s, (b) {base_b:.1f}/s"
    )
    print(f"\n{'load':<30}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'vs CLI':>9}  goal")
    goals = {
        loads[0].name: (
            "req/s >= 500, p99 <= 50 ms",
            lambda r: r.rate >= 500 and r.pct(0.99) <= 50,
            base_a,
        ),
        loads[1].name: ("req/s >= 100", lambda r: r.rate >= 100, base_b),
        loads[2].name: ("(reported)", lambda r: True, None),
    }
    failed = False
    for name, result in best.items():
        text, met, base = goals[name]
        ratio = f"{result.rate / base:.0f}x" if base else "-"
        verdict = "met" if met(result) else "NOT met"
        print(
            f"{name:<30}{result.rate:>8.0f}{result.pct(0.5):>9.1f}{result.pct(0.99):>9.1f}{ratio:>9}  {text}: {verdict}"
        )
    total_mismatch = sum(r.mismatches + r.failures for r in best.values())
    print(f"\nevery answer's findings equal the CLI's: {'yes' if not total_mismatch else 'NO'}")
    failed = bool(total_mismatch)
    print(
        f"median latency over the best rounds: {statistics.median(best[loads[0].name].latencies) * 1000:.1f} ms (a)"
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
