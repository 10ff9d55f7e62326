"""Shared pieces of the publish tests: media served over loopback, the emulator,
a virtual clock that drives the emulator's, the durable engine run in this process
on that clock (`make_publisher`), and small post builders."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from fixtures.graph_emulator import GraphEmulator, MediaServer
from igpreflight.api.publishing import outcome_of
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import MediaItem, Post, Tag
from igpreflight.publish.accounts import Account
from igpreflight.publish.durable.engine import Engine
from igpreflight.publish.durable.plan import build_specs, db_url
from igpreflight.publish.durable.queue import DEFAULT_AHEAD, Enqueuer
from igpreflight.publish.params import expand_stories
from igpreflight.publish.settings import Outcome, PublishSettings
from igpreflight.publish.steps.runtime import Runtime

FAKE_TOKEN = "EAAGfaketoken-DO-NOT-LEAK-1234567890"


def _video(path: Path, size: str) -> None:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-y",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate=30:duration=3.5",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=3.5",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """feed.jpg (4:5), square.jpg, tall.jpg (1:3, refused for feed), reel.mp4 (9:16),
    square.mp4 (1:1, for carousels)."""
    d = tmp_path_factory.mktemp("publish-media")
    Image.new("RGB", (1080, 1350), (200, 120, 40)).save(d / "feed.jpg", quality=85)
    Image.new("RGB", (1080, 1080), (40, 120, 200)).save(d / "square.jpg", quality=85)
    Image.new("RGB", (400, 1200), (90, 90, 90)).save(d / "tall.jpg", quality=85)
    _video(d / "reel.mp4", "320x568")
    _video(d / "square.mp4", "480x480")
    return d


@pytest.fixture(scope="session")
def media(media_dir: Path) -> Iterator[MediaServer]:
    with MediaServer(media_dir) as ms:
        yield ms


TOKEN_ENV = "IGP_TEST_FLOW_TOKEN"
os.environ[TOKEN_ENV] = FAKE_TOKEN  # the engine reads an account's token from its variable


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with GraphEmulator(token=FAKE_TOKEN, container_delay=0.2) as e:
        yield e


@pytest.fixture
def graph_env(emu: GraphEmulator, monkeypatch: pytest.MonkeyPatch) -> GraphEmulator:
    """The emulator, with the environment the one-account API and CLI read."""
    monkeypatch.setenv("IG_ACCESS_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("IG_USER_ID", emu.user_id)
    monkeypatch.setenv("IGPREFLIGHT_GRAPH_URL", emu.url)
    return emu


class EmuClock:
    """The publisher's clock in tests: a sleep moves the emulator's virtual clock (and
    ours) instead of waiting, with a token real pause so its worker threads run."""

    def __init__(self, emu: GraphEmulator) -> None:
        self.emu = emu
        self.offset = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        time.sleep(min(0.05, max(0.005, seconds * 0.005)))

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.emu.advance(seconds)


# The virtual clock runs far ahead of the emulator's real fetch threads on a loaded
# machine; only the tests about giving up set a give-up of their own.
TEST_SETTINGS = PublishSettings(jitter=0.1, give_up_image=1e7, give_up_video=1e7)


_ACCOUNTS = itertools.count(1)
_TEMPLATE: list[Path] = []


def _fresh_db(db: Path) -> None:
    """A new database, copied from one the engine has set up once (schema and queue):
    on a database it has never seen, DBOS finds a new queue only at its next
    once-a-second look, which would cost every test that long."""
    if not _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="igp-template-")) / "template.sqlite"
        engine = Engine(db_url(str(path)), runtime=Runtime())
        engine.start()
        engine.close()
        _TEMPLATE.append(path)
    [template] = _TEMPLATE
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{template}{suffix}")
        if src.exists():
            shutil.copyfile(src, f"{db}{suffix}")


class EnginePublisher:
    """The durable engine in this process, on the emulator's virtual clock: `run`
    enqueues posts (as `publish` does) on the SQLite database `db`, waits until each
    is settled, closes the engine (held posts stay PENDING) and returns one Outcome
    per post, in order. A second `run` on the same database is a re-run."""

    def __init__(
        self,
        emu: GraphEmulator,
        db: Path,
        clock: EmuClock,
        settings: PublishSettings,
        ahead: int = DEFAULT_AHEAD,
        **kw: Any,
    ) -> None:
        self.emu, self.db, self.clock, self.settings = emu, db, clock, settings
        self.ahead = ahead
        if not db.exists():
            _fresh_db(db)
        self.runtime_kw = kw
        # An account of its own per test: the runtime's client goes to this emulator.
        self.account = Account(f"t{next(_ACCOUNTS)}", emu.user_id, TOKEN_ENV, emu.url)
        self.rows: list[dict[str, Any]] = []

    def run(
        self,
        posts: Sequence[Post],
        *,
        dedupe_window: float | None = None,
        legacy: Any = None,
        progress: Any = None,
    ) -> list[Outcome]:
        from igpreflight.api.publishing import _watcher

        posts = expand_stories(posts)
        runtime = Runtime(**{"clock": self.clock, "timeout": 10.0, **self.runtime_kw})
        url = db_url(str(self.db))
        specs = build_specs(
            posts, lambda p: self.account, self.settings, dedupe_window=dedupe_window, legacy=legacy
        )
        with Enqueuer(url, self.ahead) as queue:
            ids, before = queue.enqueue(specs, now=self.clock.now())
        engine = Engine(url, ahead=self.ahead, runtime=runtime)
        engine.start()
        try:
            rows = engine.wait(ids, watch=_watcher(progress), tick=self._crashed)
            for r in rows:
                r["already"] = r.get("already") or (
                    r["state"] == "published" and r["workflow_id"] in before
                )
        finally:
            engine.close()
        order = {p.id: i for i, p in enumerate(posts)}
        self.rows = sorted(rows, key=lambda r: order[r["post_id"]])
        return [outcome_of(r) for r in self.rows]

    def _crashed(self) -> None:
        """A clock that crashed a step (tests' stand-in for kill -9) ends the run."""
        crash = getattr(self.clock, "crashed", None)
        if crash is not None:
            raise crash

    def state(self, post_id: str) -> dict[str, Any]:
        """The post's row of the last run."""
        return next(r for r in self.rows if r["post_id"] == post_id)


def make_publisher(
    emu: GraphEmulator,
    db: Path,
    *,
    clock: EmuClock | None = None,
    settings: PublishSettings = TEST_SETTINGS,
    **kw: Any,
) -> tuple[EnginePublisher, EmuClock]:
    clock = clock or EmuClock(emu)
    return EnginePublisher(emu, db, clock, settings, **kw), clock


def item(ms: MediaServer, name: str, **kw: object) -> MediaItem:
    return MediaItem(path=name, resolved="", url=ms.url_for(name), **kw)  # type: ignore[arg-type]


def image_post(ms: MediaServer, pid: str, name: str = "feed.jpg", **kw: object) -> Post:
    return Post(id=pid, media_type="IMAGE", media=(item(ms, name),), caption=f"caption {pid}", **kw)  # type: ignore[arg-type]


def reel_post(ms: MediaServer, pid: str, **kw: object) -> Post:
    return Post(
        id=pid, media_type="REELS", media=(item(ms, "reel.mp4"),), caption=f"caption {pid}", **kw
    )  # type: ignore[arg-type]


def story_post(ms: MediaServer, pid: str, name: str = "reel.mp4") -> Post:
    return Post(id=pid, media_type="STORIES", media=(item(ms, name),))


def carousel_post(
    ms: MediaServer, pid: str, names: tuple[str, ...] = ("feed.jpg", "square.mp4", "square.jpg")
) -> Post:
    media = tuple(
        item(ms, n, user_tags=(Tag(username="ana", x=0.5, y=0.5),))
        if n.endswith(".jpg")
        else item(ms, n)
        for n in names
    )
    return Post(id=pid, media_type="CAROUSEL", media=media, caption=f"caption {pid}")


def published_captions(emu: GraphEmulator) -> list[str | None]:
    return [p.get("caption") for p in emu.published]


def endpoints(emu: GraphEmulator) -> list[str]:
    """The endpoint of every call, in order (media, status, media_publish, limit, upload)."""
    return [r["endpoint"] for r in emu.requests]


def quiet(emu: GraphEmulator, timeout: float = 20.0) -> None:
    """Until no media_publish is being carried out by the emulator (background ones too)."""
    deadline = time.time() + timeout
    time.sleep(0.2)
    while any(c.publishing for c in emu.store.containers.values()) and time.time() < deadline:
        time.sleep(0.05)


def run_twice_if_needed(pub: Any, posts: list[Post], emu: GraphEmulator) -> list[Outcome]:
    """Run `posts`, and once more when any is not published yet (a re-run settles
    what the first left uncertain), each run until the emulator is quiet."""
    outs = pub.run(posts)
    quiet(emu)
    if any(o.status != "published" for o in outs):
        outs = pub.run(posts)
    quiet(emu)
    return outs
