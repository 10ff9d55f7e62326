"""Benchmark: durable publishing of 2 accounts x 6 image posts whose containers take 2 s.

The serial lower bound is what one-post-after-another publishing cannot beat:
12 posts x 2 s of container processing = 24 s. The durable engine makes
containers ahead (--ahead, per account), polls them concurrently and runs the
accounts in parallel, so the target is at most 0.3 of that bound. Also printed:
Graph calls per post (create, polls, publish; quota and recent-media reads per
account). `--ahead 0` makes no container ahead: one post at a time per account.

    python bench/bench_publish.py [--posts 6] [--delay 2.0] [--ahead 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from fixtures.graph_emulator import GraphEmulator, MediaServer  # noqa: E402
from igpreflight.model import MediaItem, Post  # noqa: E402
from igpreflight.publish.accounts import Account  # noqa: E402
from igpreflight.publish.durable.engine import Engine  # noqa: E402
from igpreflight.publish.durable.plan import build_specs, db_url  # noqa: E402
from igpreflight.publish.durable.queue import DEFAULT_AHEAD, Enqueuer  # noqa: E402
from igpreflight.publish.settings import PublishSettings  # noqa: E402
from igpreflight.publish.steps.runtime import Runtime  # noqa: E402

USERS = {"brand-a": "17841400000000011", "brand-b": "17841400000000022"}


def posts_for(ms: MediaServer, n: int) -> list[Post]:
    url = ms.url_for("feed.jpg")
    return [
        Post(
            id=f"{name}-{i}",
            media_type="IMAGE",
            media=(MediaItem(path=url, resolved="", url=url),),
            caption=f"{name} post {i}",
            extra={"account": name},
        )
        for name in USERS
        for i in range(n)
    ]


def durable(emu: GraphEmulator, posts: list[Post], ahead: int, db: str) -> float:
    accounts = {
        name: Account(name, uid, f"BENCH_TOKEN_{i}") for i, (name, uid) in enumerate(USERS.items())
    }
    specs = build_specs(
        posts, lambda p: accounts[p.extra["account"]], PublishSettings(), dedupe_window=86400.0
    )
    url = db_url(db)
    engine = Engine(url, ahead=ahead, runtime=Runtime())
    engine.start()
    try:
        start = time.perf_counter()
        with Enqueuer(url, ahead) as queue:
            ids, _ = queue.enqueue(specs)
        rows = engine.wait(ids)
        elapsed = time.perf_counter() - start
    finally:
        engine.close()
    bad = [r for r in rows if r["state"] != "published"]
    assert not bad, bad
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=6, help="posts per account")
    parser.add_argument("--delay", type=float, default=2.0, help="container processing, s")
    parser.add_argument("--ahead", type=int, default=DEFAULT_AHEAD)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    tokens = {uid: f"bench-token-{i}" for i, uid in enumerate(USERS.values())}
    for i, tok in enumerate(tokens.values()):
        os.environ[f"BENCH_TOKEN_{i}"] = tok
    with (
        tempfile.TemporaryDirectory() as tmp,
        GraphEmulator(accounts=tokens, container_delay=args.delay) as emu,
    ):
        Image.new("RGB", (1080, 1350), (200, 120, 40)).save(Path(tmp) / "feed.jpg", quality=80)
        os.environ["IGPREFLIGHT_GRAPH_URL"] = emu.url
        with MediaServer(Path(tmp)) as ms:
            posts = posts_for(ms, args.posts)
            walls = []
            for run in range(max(1, args.repeat)):  # a fresh database and Instagram each time
                emu.reset()
                walls.append(durable(emu, posts, args.ahead, str(Path(tmp) / f"bench{run}.sqlite")))
                calls = Counter(r["endpoint"] for r in emu.requests)
            wall = min(walls)
    n = len(posts)
    bound = n * args.delay
    print(f"posts: {n} ({len(USERS)} accounts x {args.posts}), containers take {args.delay:.1f} s")
    print(f"serial lower bound: {bound:7.2f} s")
    runs = ", ".join(f"{w:.2f}" for w in walls)
    verdict = "keeps" if wall / bound <= 0.30 else "LOSES"
    print(
        f"durable engine:     {wall:7.2f} s   ratio {wall / bound:.2f} (target <= 0.30: {verdict})"
    )
    print(f"runs (best of {len(walls)}): {runs} s")
    per_post = {k: round(v / n, 2) for k, v in sorted(calls.items())}
    print(f"calls per post: {per_post}  (total {sum(calls.values()) / n:.2f})")


if __name__ == "__main__":
    main()
