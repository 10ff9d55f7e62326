"""Video fix end to end: generated clips, one per VID rule, through probe -> check ->
plan_video -> apply_video (the bundled ffmpeg), then probe and check the output.

Each fixed file must pass check, show the target values in its facts, and be a
no-op to fix again; the original must be untouched. Clips are tiny and encoded
with x264's ultrafast preset (IGPREFLIGHT_X264_PRESET) to keep the suite fast.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.generate import make_video
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.limits import VIDEO_LIMITS
from igpreflight.model import Role, Severity, VideoFacts
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.terminal import CI_VARIABLES, Terminal
from igpreflight.transcode.ffmpeg_run import VideoFixError
from igpreflight.transcode.plan_video import plan_video
from igpreflight.transcode.progress import terminal_progress
from igpreflight.transcode.types import FixOptions, FixPlan, FixStatus, VideoStep
from igpreflight.transcode.video import apply_video
from igpreflight.transcode.video_command import build_command
from igpreflight.transcode.video_encode import PRESET_ENV


@pytest.fixture(autouse=True)
def _fast_preset(monkeypatch):
    monkeypatch.setenv(PRESET_ENV, "ultrafast")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stream_hashes(path: Path) -> dict[str, str]:
    """MD5 of every stream's packets (ffmpeg's streamhash muxer), keyed 'v'/'a'."""
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(Path(path).absolute()), "-map", "0"]
        + ["-c", "copy", "-f", "streamhash", "-hash", "md5", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    hashes: dict[str, str] = {}
    for line in out.splitlines():
        _, kind, value = line.split(",", 2)
        hashes.setdefault(kind, value)
    return hashes


def video_facts(path: Path) -> VideoFacts:
    facts = probe(str(path))
    assert isinstance(facts, VideoFacts), facts
    return facts


def fix(
    src: Path, dst: Path, role: Role = Role.REELS, progress=None, **options: Any
) -> tuple[FixPlan, VideoFacts]:
    facts = video_facts(src)
    opts = FixOptions(**options)
    plan = plan_video(facts, check_facts(facts, role), role, opts)
    assert plan.status is not FixStatus.UNFIXABLE, plan.reason
    apply_video(src, facts, plan, dst, opts, progress)
    return plan, video_facts(dst)


def assert_on_target(out: VideoFacts, role: Role) -> None:
    """The output passes check and shows every fix target of SPEC section 2."""
    lim = VIDEO_LIMITS[role]
    found = check_facts(out, role)
    assert [f for f in found if f.severity is Severity.ERROR] == []
    # Only the notes nothing can fix without changing content may remain.
    assert {f.rule for f in found} <= {"VID019", "VID020"}
    assert out.container == "MPEG-4" and out.is_streamable is True
    assert out.video_codec == "AVC" and out.has_edit_list is False
    assert out.chroma == "4:2:0" and out.bit_depth == 8
    assert out.scan_type == "Progressive" and out.frame_rate_mode == "CFR"
    assert lim.min_fps <= out.fps <= lim.max_fps
    assert out.rotation == 0 and out.sar == 1.0
    assert out.display_width <= lim.max_width
    assert out.width % 2 == 0 and out.height % 2 == 0
    if out.has_audio:
        assert out.audio_codec == "AAC" and out.audio_channels in (1, 2)
        assert out.audio_sample_rate <= lim.max_audio_sample_rate


def assert_noop(path: Path, role: Role, tmp_path: Path) -> None:
    """Fixing a fixed file copies it byte for byte."""
    facts = video_facts(path)
    plan = plan_video(facts, check_facts(facts, role), role, FixOptions())
    assert plan.status is FixStatus.COPIED, [str(s) for s in plan.steps]
    again = tmp_path / "again" / path.name
    apply_video(path, facts, plan, again, FixOptions())
    assert sha256(again) == sha256(path)


@dataclass
class Case:
    name: str
    make: dict[str, Any]
    status: FixStatus = FixStatus.TRANSCODED
    role: Role = Role.REELS
    options: dict[str, Any] = field(default_factory=dict)
    copied: str = ""  # "v"/"a": that stream's packets must come through unchanged
    expect: dict[str, Any] = field(default_factory=dict)  # output facts


X265_HLG = "log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc"

CASES = [
    Case(
        "vp9.webm",
        dict(vcodec="libvpx-vp9", acodec="libopus", width=320, height=180),
        expect=dict(audio_sample_rate=48_000, width=320, height=180),
    ),
    Case("h264-aac.mkv", dict(), FixStatus.REMUXED, copied="va"),
    Case(
        "h264-bframes-2997.mkv",
        dict(fps=29.97, extra_args=["-preset", "veryfast", "-bf", "3"]),
        FixStatus.REMUXED,
        copied="va",
        expect=dict(fps=29.97),
    ),
    Case("mpeg4-part2.mp4", dict(vcodec="mpeg4"), copied="a"),
    Case("opus.mp4", dict(acodec="libopus"), copied="v", expect=dict(audio_sample_rate=48_000)),
    Case("mp3.mp4", dict(acodec="libmp3lame", audio_rate=44_100), copied="v"),
    Case("ac3.mp4", dict(acodec="ac3"), copied="v", expect=dict(audio_channels=2)),
    Case(
        "surround-96k.mp4",
        dict(channels=6, audio_rate=96_000),
        copied="v",
        expect=dict(audio_channels=2, audio_sample_rate=48_000),
    ),
    Case("mono.mkv", dict(channels=1, acodec="libopus"), copied="v", expect=dict(audio_channels=1)),
    Case("fps120.mp4", dict(fps=120, duration=3.1), copied="a", expect=dict(fps=60.0)),
    Case("fps15.mp4", dict(fps=15), copied="a", expect=dict(fps=30.0)),
    Case(
        "uhd-4k-short.mp4",
        dict(width=3840, height=2160, fps=24, duration=1.0),
        options=dict(extend=True),
        expect=dict(width=1920, height=1080),
    ),
    Case("yuv444.mp4", dict(pix_fmt="yuv444p"), copied="a"),
    Case(
        "hevc-10bit.mp4",
        dict(vcodec="libx265", pix_fmt="yuv420p10le"),
        copied="a",
    ),
    Case(
        "hevc-10bit-hlg.mp4",
        dict(vcodec="libx265", pix_fmt="yuv420p10le") | dict(extra_args=["-x265-params", X265_HLG]),
        copied="a",
        expect=dict(transfer="BT.709"),
    ),
    Case("interlaced.mp4", dict(interlaced=True), copied="a"),
    Case(
        "40mbps.mp4",
        dict(
            width=640,
            height=360,
            extra_args=["-b:v", "40M", "-minrate", "40M", "-maxrate", "40M", "-bufsize", "20M"]
            + ["-x264-params", "nal-hrd=cbr"],
        ),
        copied="a",
    ),
    Case("moov-at-end.mp4", dict(faststart=False), FixStatus.REMUXED, copied="va"),
    Case(
        "rotated-90.mp4",
        dict(width=320, height=180, rotation=90),
        copied="a",
        expect=dict(width=180, height=320),
    ),
    Case(
        "vfr.mp4",
        dict(fps=30, extra_args=["-vf", r"select=lt(mod(n\,10)\,6)", "-fps_mode", "vfr"]),
        copied="a",
    ),
    Case(
        "sar-vp9.webm",
        dict(vcodec="libvpx-vp9", acodec="libopus", width=320, height=240)
        | dict(extra_args=["-vf", "setsar=64/45"]),
        expect=dict(width=456, height=240),
    ),
    Case(
        "carousel-crop.mp4",
        dict(width=360, height=640),
        role=Role.CAROUSEL_VIDEO,
        copied="a",
        expect=dict(width=360, height=450),
    ),
    Case(
        "carousel-pad-blur.mp4",
        dict(width=360, height=640),
        role=Role.CAROUSEL_VIDEO,
        options=dict(aspect="pad", pad_color="blur"),
        copied="a",
        expect=dict(width=512, height=640),
    ),
    Case(
        "carousel-pad-colour.mp4",
        dict(width=640, height=200),
        role=Role.CAROUSEL_VIDEO,
        options=dict(aspect="pad", pad_color="#102030"),
        copied="a",
        expect=dict(width=640, height=336),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fix_reaches_the_targets(case: Case, tmp_path: Path):
    make = dict(duration=3.2) | case.make
    src = make_video(tmp_path / case.name, **make)
    before = sha256(src)
    dst = tmp_path / "out" / (Path(case.name).stem + ".mp4")

    plan, out = fix(src, dst, case.role, **case.options)

    assert plan.status is case.status, [str(s) for s in plan.steps]
    if case.expect.get("transfer") == "BT.709":
        assert any(s.name == "tone-map" for s in plan.steps)
    assert sha256(src) == before  # the original is untouched
    assert_on_target(out, case.role)
    for key, value in case.expect.items():
        assert getattr(out, key) == value, (key, getattr(out, key))
    if case.status is FixStatus.TRANSCODED and "v" not in case.copied:
        assert any(s.name == "encode-video" for s in plan.steps)
    if case.copied:
        src_hash, out_hash = stream_hashes(src), stream_hashes(dst)
        for kind in case.copied:
            assert out_hash[kind] == src_hash[kind], f"{kind} stream was re-encoded"
    assert_noop(dst, case.role, tmp_path)
    assert sorted(p.name for p in dst.parent.iterdir()) == [dst.name]  # no temp files


def test_edit_list_that_cuts_is_removed(tmp_path: Path):
    full = make_video(tmp_path / "full.mp4", duration=5.0, extra_args=["-g", "60"])
    cut = tmp_path / "cut.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-ss", "1.5", "-i", str(full), "-c", "copy"]
        + [str(cut)],
        check=True,
        timeout=60,
    )
    assert video_facts(cut).has_edit_list is True
    plan, out = fix(cut, tmp_path / "out" / "cut.mp4")
    assert plan.status is FixStatus.TRANSCODED
    assert_on_target(out, Role.REELS)
    assert abs(out.duration - 3.5) < 0.1  # the cut stays cut: no hidden frames come back


def test_faststart_remux_is_fast_path_and_keeps_packets(tmp_path: Path):
    src = make_video(tmp_path / "late-moov.mp4", duration=3.5, faststart=False)
    plan, out = fix(src, tmp_path / "out.mp4")
    assert plan.status is FixStatus.REMUXED
    assert [s.name for s in plan.steps] == ["copy-video", "copy-audio", "remux"]
    args = build_command(src, video_facts(src), plan, tmp_path / "x.mp4", FixOptions())
    assert "libx264" not in args and "aac" not in args
    assert stream_hashes(src) == stream_hashes(tmp_path / "out.mp4")
    assert out.is_streamable is True


@pytest.mark.parametrize(
    "streams, extra",
    [
        (["0:V:0", "0:a:0"], {}),
        (["0:V:0"], {"t": "90.000", "map_metadata": -1}),
        (["0:V:0", "0:a:0"], {"tag:v": "avc1", "bsf:v": "setts=time_base=1/30:pts=PTS:dts=DTS"}),
    ],
)
def test_a_copy_is_written_as_ffmpeg_python_compiles_it(streams, extra):
    # a remux builds its arguments without ffmpeg-python (not loaded on its path):
    # the very list ffmpeg-python gives, so nothing about the output changes
    import ffmpeg

    from igpreflight.transcode.video_command import copy_args

    kw = {"f": "mp4", "c:v": "copy", "movflags": "+faststart", "map_chapters": -1, **extra}
    kw |= {"c:a": "copy"} if len(streams) > 1 else {}
    kw["fflags"] = "+bitexact"
    inp = ffmpeg.input("file:/a/in.mp4")
    nodes = [inp[s.split(":", 1)[1]] for s in streams]
    compiled = ffmpeg.output(*nodes, "file:/b/out.mp4", **kw).compile(cmd=ffmpeg_exe())
    assert copy_args("file:/a/in.mp4", streams, "file:/b/out.mp4", kw) == compiled


def test_trim_cuts_a_long_story_by_stream_copy(tmp_path: Path):
    lim = VIDEO_LIMITS[Role.STORY_VIDEO]
    src = make_video(tmp_path / "long.mp4", 96, 160, 24, lim.max_duration + 2, bitrate="50k")
    facts = video_facts(src)
    unfixable = plan_video(
        facts, check_facts(facts, Role.STORY_VIDEO), Role.STORY_VIDEO, FixOptions()
    )
    assert unfixable.status is FixStatus.UNFIXABLE and "--trim" in unfixable.reason
    plan, out = fix(src, tmp_path / "out.mp4", Role.STORY_VIDEO, trim=True)
    assert plan.status is FixStatus.REMUXED
    assert lim.max_duration - 1 <= out.duration <= lim.max_duration
    assert_on_target(out, Role.STORY_VIDEO)


def test_extend_freezes_the_last_frame_and_pads_audio(tmp_path: Path):
    src = make_video(tmp_path / "short.mp4", duration=1.2)
    facts = video_facts(src)
    unfixable = plan_video(facts, check_facts(facts, Role.REELS), Role.REELS, FixOptions())
    assert unfixable.status is FixStatus.UNFIXABLE and "--extend" in unfixable.reason
    plan, out = fix(src, tmp_path / "out.mp4", extend=True)
    lim = VIDEO_LIMITS[Role.REELS]
    assert lim.min_duration <= out.duration < lim.min_duration + 0.5
    assert out.has_audio and out.audio_codec == "AAC"
    assert_on_target(out, Role.REELS)


def test_keep_hevc_copies_a_compliant_hevc_stream(tmp_path: Path):
    src = make_video(tmp_path / "hevc.mp4", vcodec="libx265", faststart=False, duration=3.2)
    plan, out = fix(src, tmp_path / "out.mp4", keep_hevc=True)
    assert plan.status is FixStatus.REMUXED
    assert out.video_codec == "HEVC"
    assert stream_hashes(src)["v"] == stream_hashes(tmp_path / "out.mp4")["v"]


def test_odd_names_progress_and_dash(tmp_path: Path):
    src = make_video(
        tmp_path / "-é clip; $(x).webm", vcodec="libvpx-vp9", acodec="libopus", duration=3.2
    )
    seen: list[float] = []
    dst = tmp_path / "out dir" / "-é clip.mp4"
    plan, out = fix(src, dst, progress=seen.append)
    assert_on_target(out, Role.REELS)
    assert seen and seen[-1] == 1.0
    assert all(0.0 <= x <= 1.0 for x in seen) and seen == sorted(seen)


def test_ffmpeg_failure_raises_with_stderr_and_leaves_nothing(tmp_path: Path):
    src = make_video(tmp_path / "clip.webm", vcodec="libvpx-vp9", acodec="libopus", duration=3.2)
    facts = video_facts(src)
    plan = plan_video(facts, check_facts(facts, Role.REELS), Role.REELS, FixOptions())
    broken = tmp_path / "broken.webm"
    broken.write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00garbage" * 64)
    out_dir = tmp_path / "out"
    with pytest.raises(VideoFixError) as err:
        apply_video(broken, facts, plan, out_dir / "clip.mp4", FixOptions())
    assert err.value.tail and "ffmpeg" in str(err.value)
    assert list(out_dir.iterdir()) == []


def test_an_output_that_still_fails_is_an_error_and_is_removed(tmp_path: Path):
    src = make_video(tmp_path / "clip.webm", vcodec="libvpx-vp9", acodec="libopus", duration=3.2)
    facts = video_facts(src)
    # A wrong plan (copy VP9 into MP4) produces a file that fails VID002.
    plan = FixPlan(
        facts.kind,
        Role.REELS,
        FixStatus.REMUXED,
        (VideoStep("copy-video"), VideoStep("copy-audio"), VideoStep("remux")),
        "mp4",
    )
    out_dir = tmp_path / "out"
    with pytest.raises(VideoFixError, match="VID002"):
        apply_video(src, facts, plan, out_dir / "clip.mp4", FixOptions())
    assert list(out_dir.iterdir()) == []


def test_unfixable_plan_is_refused(tmp_path: Path):
    src = make_video(tmp_path / "audio.m4a", vcodec=None, container="mp4", duration=3.2)
    facts = video_facts(src)
    plan = plan_video(facts, check_facts(facts, Role.REELS), Role.REELS, FixOptions())
    assert plan.status is FixStatus.UNFIXABLE and "audio-only" in plan.reason
    with pytest.raises(ValueError):
        apply_video(src, facts, plan, tmp_path / "x.mp4", FixOptions())
    assert not (tmp_path / "x.mp4").exists()


def test_check_promises_no_fix_for_a_video_fix_refuses(tmp_path: Path):
    """An audio-only MP4 with its moov at the end: fix refuses it whole (no video), so
    check must not count its VID004 as fixable nor print "fix: remuxed"."""
    src = make_video(
        tmp_path / "talk.mp4", vcodec=None, container="mp4", duration=3.2, faststart=False
    )
    facts = video_facts(src)
    found = check_facts(facts, Role.REELS)
    assert {f.rule for f in found} >= {"VID002", "VID004"}
    assert not [f for f in found if f.fixable]
    plan = plan_video(facts, found, Role.REELS, FixOptions())
    assert plan.status is FixStatus.UNFIXABLE
    shown = subprocess.run(
        [sys.executable, "-m", "igpreflight", "check", str(src)], capture_output=True, text=True
    )
    assert shown.returncode == 1, shown.stderr
    assert "fix:" not in shown.stdout and "fixable" not in shown.stdout, shown.stdout
    # Where fix does resolve it, the promise stays: a moov at the end alone is fixable.
    good = make_video(tmp_path / "clip.mp4", duration=3.2, faststart=False)
    assert [f.rule for f in check_facts(video_facts(good), Role.REELS) if f.fixable] == ["VID004"]


def test_keyframes_at_least_every_two_seconds(tmp_path: Path):
    src = make_video(
        tmp_path / "clip.webm", vcodec="libvpx-vp9", acodec="libopus", fps=25, duration=6.5
    )
    dst = tmp_path / "out.mp4"
    fix(src, dst)
    keys = _keyframe_times(dst)
    assert keys[0] == 0.0
    gaps = [b - a for a, b in zip(keys, [*keys[1:], video_facts(dst).duration], strict=True)]
    assert max(gaps) <= VIDEO_LIMITS[Role.REELS].keyframe_interval + 1e-6


def _keyframe_times(path: Path) -> list[float]:
    """Presentation times of the keyframes, from ffmpeg's showinfo on key frames only."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-skip_frame", "nokey", "-i", str(path), "-map", "0:v"]
        + ["-vf", "showinfo", "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    times = []
    for line in proc.stderr.splitlines():
        if "pts_time:" in line:
            times.append(float(line.split("pts_time:")[1].split()[0]))
    return times


# hypothesis: random small clips always end passing.
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    width=st.integers(48, 400),
    height=st.integers(48, 400),
    fps=st.sampled_from([10, 12.5, 15, 24, 25, 29.97, 50, 60, 90, 120]),
    duration=st.floats(3.05, 4.0),
    vcodec=st.sampled_from(["libx264", "mpeg4", "libvpx-vp9", "libx265"]),
    role=st.sampled_from([Role.REELS, Role.STORY_VIDEO, Role.CAROUSEL_VIDEO]),
    aspect=st.sampled_from(["crop", "pad"]),
    transport=st.booleans(),  # MPEG-TS: its frame rate read from its timestamps
)
def test_random_clips_always_pass_after_fix(
    tmp_path: Path, width, height, fps, duration, vcodec, role, aspect, transport
):
    if vcodec in ("libx264", "libx265"):
        width, height = width // 2 * 2, height // 2 * 2  # their 4:2:0 needs even sizes
    ext = "webm" if vcodec == "libvpx-vp9" else ("ts" if transport else "mp4")
    acodec = "libopus" if ext == "webm" else "aac"
    name = f"r{width}x{height}-{fps}-{vcodec}.{ext}"
    src = make_video(tmp_path / name, width, height, fps, duration, vcodec, acodec=acodec)
    dst = tmp_path / "out" / (name + ".mp4")
    _, out = fix(src, dst, role, aspect=aspect)
    assert_on_target(out, role)
    assert_noop(dst, role, tmp_path / "noop")
    dst.unlink()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_draws_on_a_terminal_only(tmp_path: Path, monkeypatch):
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert terminal_progress("clip", Terminal(stream=io.StringIO())) is None  # a pipe: quiet
    assert terminal_progress("clip", Terminal(stream=_Terminal(), quiet=True)) is None  # -q
    stream = _Terminal()
    show = terminal_progress("clip.webm", Terminal(stream=stream))
    assert show is not None
    src = make_video(tmp_path / "clip.webm", vcodec="libvpx-vp9", acodec="libopus", duration=3.2)
    fix(src, tmp_path / "out.mp4", progress=show)
    text = stream.getvalue()
    assert text.startswith("\r\033[Kclip.webm ") and "clip.webm 100%" in text
    assert text.endswith("\r\033[K")  # the line is taken off the screen when done
    monkeypatch.setenv("CI", "true")
    assert terminal_progress("clip", Terminal(stream=_Terminal())) is None  # CI: quiet


def test_a_missing_ffmpeg_is_a_clear_error(tmp_path: Path, monkeypatch):
    from igpreflight.transcode import video_command

    src = make_video(tmp_path / "clip.webm", vcodec="libvpx-vp9", acodec="libopus", duration=3.2)
    facts = video_facts(src)
    plan = plan_video(facts, check_facts(facts, Role.REELS), Role.REELS, FixOptions())
    monkeypatch.setattr(video_command, "ffmpeg_exe", lambda: str(tmp_path / "no-ffmpeg"))
    with pytest.raises(VideoFixError, match="IGPREFLIGHT_FFMPEG"):
        apply_video(src, facts, plan, tmp_path / "out" / "clip.mp4", FixOptions())
    assert list((tmp_path / "out").iterdir()) == []
