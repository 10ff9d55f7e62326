"""Issue 14: crafted movies, threads beside each other. Every crafted file settles
as FILE001 (no runaway parse or encode), and a probe gives the same facts
whatever runs beside it."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from igpreflight import check, fix
from igpreflight.model import Unreadable, VideoFacts
from igpreflight.preflight.probe import probe, probe_stream
from igpreflight.transcode.types import FixStatus
from tests.crafted import CRAFTED_MP4, matroska_duration, matroska_flood, patch_box


@pytest.fixture(scope="module")
def base_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fixtures.generate import make_video

    folder = tmp_path_factory.mktemp("crafted")
    return make_video(folder / "base.mp4", width=160, height=120, duration=3.5)


@pytest.mark.parametrize("case", sorted(CRAFTED_MP4))
def test_crafted_mp4_is_file001_for_check_and_fix(case: str, base_mp4: Path, tmp_path: Path):
    assert isinstance(probe(base_mp4), VideoFacts)  # the untouched clip is fine
    bad = patch_box(base_mp4, tmp_path / f"{case}.mp4", *CRAFTED_MP4[case])
    facts = probe(bad)
    assert isinstance(facts, Unreadable), facts
    assert facts.reason.startswith("implausible MP4: the vide track")
    report = check([bad])
    assert [f.rule for f in report.errors] == ["FILE001"]
    result = fix([bad], tmp_path / "out")
    (only,) = result.files
    assert only.status is FixStatus.UNFIXABLE and "FILE001 implausible" in (only.reason or "")
    assert not (tmp_path / "out" / f"{case}.mp4").exists()


def test_matroska_declaring_a_duration_its_bytes_cannot_hold(media_factory, tmp_path: Path):
    clip = media_factory.video("clip.mkv")
    assert isinstance(probe(clip), VideoFacts)
    bad = matroska_duration(clip, tmp_path / "long.mkv", 1e12)  # 31 years in 40 KB
    facts = probe(bad)
    assert isinstance(facts, Unreadable)
    assert "implausible Matroska file: declares 1,000,000,000 s" in facts.reason


def test_probe_in_threads_gives_the_serial_facts(corpus_dir: Path, media_factory):
    """libmediainfo shares its parse speed between threads: an H.264 MKV probed
    beside MP4s flipped between CFR and VFR (issue 14)."""
    files = [corpus_dir / "androidx-media" / "sample.mkv"]
    files += sorted((corpus_dir / "androidx-media").rglob("*.mp4"))[:5]
    files += [media_factory.video(f"c{i}.mp4") for i in range(2)]
    files += [
        media_factory.video("d.mkv"),
        media_factory.video("e.webm", vcodec="libvpx-vp9", acodec="libopus"),
    ]
    serial = {f: probe(f) for f in files}
    assert isinstance(serial[files[0]], VideoFacts)
    for _ in range(12):
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(probe, files * 4))
        assert [g for f, g in zip(files * 4, got, strict=True) if g != serial[f]] == []


@pytest.fixture(scope="module")
def base_mkv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fixtures.generate import make_video

    folder = tmp_path_factory.mktemp("crafted-mkv")
    return make_video(folder / "base.mkv", width=160, height=120, duration=3.5)


def test_metadata_flood_stops_at_the_probe_time_bound(base_mkv: Path, tmp_path: Path, monkeypatch):
    """60,000 Matroska tags: libmediainfo reads them in a blink, then spends minutes
    on them (200,000 took 192 s). The parse runs in a child that is killed at the
    bound, on disk and over a stream (an S3 object) alike."""
    monkeypatch.setenv("IGPREFLIGHT_PROBE_TIMEOUT", "1")
    bad = matroska_flood(base_mkv, tmp_path / "tags.mkv", "tags", 60_000)
    facts = probe(bad)
    assert isinstance(facts, Unreadable), facts
    assert facts.reason == "probe bound: MediaInfo did not finish its parse within 1 s"
    with open(bad, "rb") as f:
        streamed = probe_stream("s3://b/tags.mkv", f, bad.stat().st_size)
    assert isinstance(streamed, Unreadable) and streamed.reason == facts.reason
    report = check([bad, base_mkv])
    file001 = [f for f in report.errors if f.rule == "FILE001"]
    assert [f.message for f in file001] == [f"cannot read the file as media: {facts.reason}"]
    assert isinstance(probe(base_mkv), VideoFacts)  # a fresh server after the kill


def test_metadata_flood_stops_at_the_probe_memory_cap(base_mkv: Path, tmp_path: Path, monkeypatch):
    """200,000 chapters took libmediainfo 350 MB in-process; its server gets 60 MB."""
    monkeypatch.setenv("IGPREFLIGHT_PROBE_MEMORY", "60")
    monkeypatch.setenv("IGPREFLIGHT_PROBE_TIMEOUT", "120")
    bad = matroska_flood(base_mkv, tmp_path / "chapters.mkv", "chapters", 200_000)
    facts = probe(bad)
    assert isinstance(facts, Unreadable), facts
    assert facts.reason.startswith("probe bound: MediaInfo") and "60 MB memory cap" in facts.reason


def test_a_forked_process_probes_with_servers_of_its_own(base_mkv: Path):
    """check --jobs forks its workers after the parent may have probed: a child has
    none of the parent's threads and must not share its MediaInfo servers."""
    serial = probe(base_mkv)
    assert isinstance(serial, VideoFacts)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        forked = [pool.submit(probe, base_mkv) for _ in range(4)]
        assert [f.result(timeout=120) for f in forked] == [serial] * 4
    assert probe(base_mkv) == serial


def test_the_memory_cap_judges_the_server_not_the_process_it_was_forked_from(
    base_mkv: Path, monkeypatch
):
    """The server's peak is its own since exec: ru_maxrss also counts the (large)
    process it was forked from, and made every probe in a big process 'over the cap'."""
    ballast = bytearray(200 * 2**20)
    for at in range(0, len(ballast), 4096):
        ballast[at] = 1  # resident, not just reserved
    monkeypatch.setenv("IGPREFLIGHT_PROBE_MEMORY", "160")  # half of it is under the ballast
    assert isinstance(probe(base_mkv), VideoFacts)
    del ballast
