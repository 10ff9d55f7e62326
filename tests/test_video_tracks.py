"""Files with more than one video or audio track: counted, warned about (VID022),
and never losing a track unsaid.

Instagram plays one audio track, the first, and every ffmpeg command `fix` runs
keeps the first video and the first audio stream. So the probe counts the tracks
(both MP4 readers alike; timecode and metadata tracks are not tracks of either
kind), check warns, a rewrite's plan names the tracks it drops, and a file whose
only finding is the warning is not rewritten at all. Real files made with ffmpeg.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.generate import make_video
from igpreflight.cli import cli
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import Role, Severity, VideoFacts
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.preflight.probe_video import probe_video
from igpreflight.preflight.rules.video import tracks
from igpreflight.transcode.plan_video import plan_video
from igpreflight.transcode.types import FixOptions, FixStatus
from igpreflight.transcode.video import apply_video
from igpreflight.transcode.video_encode import PRESET_ENV
from igpreflight.transcode.video_tracks import STEP
from tests.corpus import CORPUS, needs_corpus
from tests.factories import GOOD_VIDEO

CLIP = dict(width=96, height=160, fps=30, duration=3.2, bitrate="150k", audio_bitrate="64k")
# name -> (make_video options, the video and audio tracks it holds)
FILES = {
    "plain.mp4": ({}, (1, 1)),
    "two_audio.mp4": (dict(audio_tracks=2), (1, 2)),
    "two_audio.mov": (dict(audio_tracks=2), (1, 2)),
    "three_audio_moov_last.mov": (dict(audio_tracks=3, faststart=False), (1, 3)),
    "two_video.mp4": (dict(video_tracks=2), (2, 1)),
    "two_video_moov_last.mp4": (dict(video_tracks=2, faststart=False), (2, 1)),
    "two_audio_moov_last.mp4": (dict(audio_tracks=2, faststart=False), (1, 2)),
    "two_opus.mkv": (dict(audio_tracks=2, acodec="libopus"), (1, 2)),
    # A QuickTime timecode track (tmcd) is neither video nor audio.
    "timecode.mov": (dict(extra_args=["-timecode", "01:00:00:00"]), (1, 1)),
    "timecode_moov_last.mov": (
        dict(extra_args=["-timecode", "01:00:00:00"], faststart=False),
        (1, 1),
    ),
}


@pytest.fixture(autouse=True)
def _fast_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PRESET_ENV, "ultrafast")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tracks")
    return {name: make_video(folder / name, **{**CLIP, **o}) for name, (o, _) in FILES.items()}


def facts_of(path: Path) -> VideoFacts:
    facts = probe(str(path))
    assert isinstance(facts, VideoFacts), facts
    return facts


def streams(path: Path) -> list[str]:
    """The stream kinds ffmpeg sees in a file, in order ('video', 'audio', 'data')."""
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [
        line.split(": ")[1].lower()
        for line in done.stderr.splitlines()
        if line.strip().startswith("Stream #0:")
    ]


def packets_md5(path: Path, stream: str) -> str:
    """MD5 of one stream's packets ('0:a:0'): what a stream copy keeps unchanged."""
    return subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-map", stream]
        + ["-c", "copy", "-f", "md5", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


def rules_of(facts: VideoFacts, role: Role = Role.REELS) -> set[str]:
    return {f.rule for f in check_facts(facts, role)}


# ---------------------------------------------------------------- the probe


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_probe_counts_video_and_audio_tracks(made: dict[str, Path], name: str) -> None:
    facts = facts_of(made[name])
    assert (facts.video_tracks, facts.audio_tracks) == FILES[name][1]


@pytest.mark.parametrize("name", [n for n in sorted(FILES) if n.endswith((".mp4", ".mov"))])
def test_the_native_reader_and_mediainfo_count_alike(made: dict[str, Path], name: str) -> None:
    path = made[name]
    size, ext = path.stat().st_size, path.suffix[1:]
    native = probe_video(str(path), size, ext, iso=True, native=True)
    mediainfo = probe_video(str(path), size, ext, iso=True, native=False)
    assert native == mediainfo


def test_timecode_tracks_are_really_there(made: dict[str, Path]) -> None:
    """The timecode files hold a data stream, so not counting it means something."""
    assert sorted(streams(made["timecode.mov"])) == ["audio", "data", "video"]
    assert streams(made["two_audio.mov"]) == ["video", "audio", "audio"]


@needs_corpus
def test_iphone_metadata_tracks_are_not_counted() -> None:
    """iPhone MOVs carry mebx metadata tracks (MediaInfo's Other streams)."""
    (path,) = CORPUS.rglob("dolbyVision-hdr.MOV")
    facts = facts_of(path)
    assert (facts.video_tracks, facts.audio_tracks) == (1, 1)
    assert tracks.code not in rules_of(facts)


def test_counts_are_in_the_json_report(made: dict[str, Path]) -> None:
    out = CliRunner().invoke(
        cli, ["check", "--format", "json", str(made["two_audio.mp4"])], catch_exceptions=False
    )
    (file,) = json.loads(out.output)["files"]
    assert (file["facts"]["video_tracks"], file["facts"]["audio_tracks"]) == (1, 2)


# ---------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "two_audio.mp4",
            "1 video track and 2 audio tracks; Instagram plays one audio track (Meta does not say which); "
            "fix keeps the first of each when it rewrites the file",
        ),
        (
            "two_audio.mov",
            "1 video track and 2 audio tracks; Instagram plays one audio track (Meta does not say which); "
            "fix keeps the first of each when it rewrites the file",
        ),
        (
            "two_video.mp4",
            "2 video tracks and 1 audio track; Instagram shows one video track; "
            "fix keeps the first of each when it rewrites the file",
        ),
    ],
)
def test_extra_tracks_are_a_warning(made: dict[str, Path], name: str, message: str) -> None:
    (found,) = [f for f in check_facts(facts_of(made[name]), Role.REELS) if f.rule == tracks.code]
    assert found.severity is Severity.WARNING and not found.fixable
    assert found.message == message


@pytest.mark.parametrize("name", ["plain.mp4", "timecode.mov", "timecode_moov_last.mov"])
def test_one_track_of_each_is_not_warned_about(made: dict[str, Path], name: str) -> None:
    assert tracks.code not in rules_of(facts_of(made[name]))


def test_the_rule_reads_the_counts_and_the_limits() -> None:
    def messages(**counts: int | None) -> list[str]:
        facts = replace(GOOD_VIDEO, **counts)
        return [f.message for f in check_facts(facts, Role.STORY_VIDEO) if f.rule == tracks.code]

    assert messages(video_tracks=1, audio_tracks=1) == []
    assert messages(video_tracks=1, audio_tracks=0) == []  # a silent video
    assert messages(video_tracks=None, audio_tracks=None) == []  # not counted: not judged
    (both,) = messages(video_tracks=2, audio_tracks=3)
    assert both.startswith(
        "2 video tracks and 3 audio tracks; Instagram plays one audio track "
        "(Meta does not say which) and shows one video track; "
    )


# ---------------------------------------------------------------- the plan


def plan_for(facts: VideoFacts, findings=None, **options):
    found = check_facts(facts, Role.REELS) if findings is None else findings
    return plan_video(facts, found, Role.REELS, FixOptions(**options))


def test_fix_does_not_rewrite_a_file_for_extra_tracks_alone(made: dict[str, Path]) -> None:
    for name in ("two_audio.mp4", "two_audio.mov", "two_video.mp4"):
        plan = plan_for(facts_of(made[name]))
        assert plan.status is FixStatus.COPIED and plan.steps == (), name


@pytest.mark.parametrize(
    ("name", "dropped"),
    [
        ("two_audio_moov_last.mp4", "audio track 2 of 2"),
        ("three_audio_moov_last.mov", "audio tracks 2-3 of 3"),
        ("two_video_moov_last.mp4", "video track 2 of 2"),
    ],
)
def test_a_rewrite_says_which_tracks_it_drops(
    made: dict[str, Path], name: str, dropped: str
) -> None:
    plan = plan_for(facts_of(made[name]))
    assert plan.status is FixStatus.REMUXED
    (step,) = [s for s in plan.steps if s.name == STEP]
    assert str(step) == f"drop-tracks drops {dropped}; keeps the first video and audio track"
    assert step.rules == (tracks.code,)


def test_a_rewrite_of_one_track_each_drops_nothing(made: dict[str, Path]) -> None:
    plan = plan_for(facts_of(made["timecode_moov_last.mov"]))
    assert plan.status is FixStatus.REMUXED and STEP not in [s.name for s in plan.steps]


def test_the_drop_is_said_even_when_the_rule_is_turned_off() -> None:
    """A configuration may turn VID022 off; the tracks are dropped all the same."""
    facts = replace(GOOD_VIDEO, is_streamable=False, video_tracks=2, audio_tracks=0)
    facts = replace(facts, has_audio=False, audio_codec=None)
    found = [f for f in check_facts(facts, Role.REELS) if f.rule != tracks.code]
    (step,) = [s for s in plan_for(facts, found).steps if s.name == STEP]
    assert step.detail == "drops video track 2 of 2; keeps the first video track"
    assert step.rules == ()


def test_the_dry_run_and_check_say_it(made: dict[str, Path], tmp_path: Path) -> None:
    src = made["two_audio_moov_last.mp4"]
    checked = CliRunner().invoke(cli, ["check", str(src)], catch_exceptions=False)
    assert "VID022" in checked.output and "2 audio tracks" in checked.output
    dry = CliRunner().invoke(
        cli, ["fix", str(src), "--out", str(tmp_path / "out"), "--dry-run"], catch_exceptions=False
    )
    assert dry.exit_code == 0, dry.output
    assert "remuxed (dry run)" in dry.output
    assert "drop-tracks drops audio track 2 of 2;" in dry.output


# ---------------------------------------------------------------- the fix


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("two_audio_moov_last.mp4", FixStatus.REMUXED),
        ("three_audio_moov_last.mov", FixStatus.REMUXED),
        ("two_video_moov_last.mp4", FixStatus.REMUXED),
        ("two_opus.mkv", FixStatus.TRANSCODED),  # Matroska and Opus: both streams rewritten
    ],
)
def test_the_fixed_file_keeps_the_first_of_each_and_passes(
    made: dict[str, Path], tmp_path: Path, name: str, status: FixStatus
) -> None:
    src = made[name]
    before = sha256(src)
    facts = facts_of(src)
    plan = plan_for(facts)
    assert plan.status is status and STEP in [s.name for s in plan.steps]
    out = tmp_path / "fixed.mp4"
    apply_video(src, facts, plan, out, FixOptions())
    assert sha256(src) == before  # the original is untouched

    fixed = facts_of(out)
    assert (fixed.video_tracks, fixed.audio_tracks) == (1, 1)
    assert streams(out) == ["video", "audio"]
    found = check_facts(fixed, Role.REELS)
    assert [f for f in found if f.severity is Severity.ERROR] == []
    assert tracks.code not in {f.rule for f in found}
    if status is FixStatus.REMUXED:  # the first tracks themselves, packet for packet
        for stream in ("0:v:0", "0:a:0"):
            assert packets_md5(out, stream) == packets_md5(src, stream), stream

    # A second fix changes nothing.
    again = plan_for(fixed)
    assert again.status is FixStatus.COPIED and again.steps == ()
