"""One worker checks its files in order; only the videos that need MediaInfo go to the
second thread that waits on the MediaInfo server (`preflight.overlap`), and a batch
that needs none starts neither; a default `check` starts a process pool only for a
batch big enough to repay it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from fixtures.generate import make_image, make_video
from igpreflight.model import Kind
from igpreflight.preflight.engine import POOL_PAYS_FILES_X_WORKERS, Target, _pool_pays, check_paths
from igpreflight.preflight.probe import probe

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mixed")
    make_image(folder / "a.jpg", size=(320, 400))
    make_video(folder / "b.mkv", width=64, height=64, duration=1.0)  # MediaInfo's
    make_video(folder / "c.mp4", width=64, height=64, duration=1.0)  # native
    make_image(folder / "d.png", size=(200, 200))
    make_video(folder / "e.mp4", width=64, height=64, duration=1.0, vcodec="libx265")
    make_video(folder / "f.mp4", width=96, height=64, duration=1.0)
    return folder


def test_reports_come_in_input_order_with_each_files_own_facts(mixed: Path):
    report = check_paths([str(mixed)], jobs=1)
    names = [Path(r.path).name for r in report.files]
    assert names == ["a.jpg", "b.mkv", "c.mp4", "d.png", "e.mp4", "f.mp4"]
    for r in report.files:  # the lane's and this thread's facts are the plain probe's
        assert r.facts == replace(probe(mixed / Path(r.path).name), path=r.facts.path)
    kinds = [r.kind for r in report.files]
    assert kinds == [Kind.IMAGE, Kind.VIDEO, Kind.VIDEO, Kind.IMAGE, Kind.VIDEO, Kind.VIDEO]
    assert report.files[4].facts.video_codec == "HEVC"


def _mediainfo_used(folder: Path) -> str:
    """Check `folder` in a fresh process; say whether MediaInfo's side was loaded and
    how many servers it left idle."""
    code = (
        "import sys; from igpreflight.preflight.engine import check_paths; "
        f"check_paths([{str(folder)!r}], jobs=1); "
        "m = sys.modules.get('igpreflight.preflight.mediainfo_child'); "
        "print('none' if m is None else len(m._POOL.idle))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def test_a_batch_mediainfo_is_not_needed_for_starts_no_server(mixed: Path, tmp_path: Path):
    for name in ("a.jpg", "c.mp4", "d.png", "f.mp4"):
        (tmp_path / name).write_bytes((mixed / name).read_bytes())
    assert _mediainfo_used(tmp_path) == "none"
    assert _mediainfo_used(mixed) == "1"  # the Matroska and HEVC files: one server


def test_the_pool_is_started_only_when_it_pays(tmp_path: Path):
    def targets(n: int, **kw: object) -> list[Target]:
        return [Target(f"{i}.jpg", str(tmp_path / f"{i}.jpg"), **kw) for i in range(n)]  # type: ignore[arg-type]

    small = targets(300)
    assert not _pool_pays(small, 2)
    assert _pool_pays(targets(POOL_PAYS_FILES_X_WORKERS // 2), 2)
    assert _pool_pays(targets(POOL_PAYS_FILES_X_WORKERS // 8), 8)
    assert _pool_pays(targets(3, deep=True), 2)  # decoding is costly from the first file
