"""Carry out a video FixPlan with ffmpeg, atomically, and prove the result passes.

The command is built with ffmpeg-python and run as an argument list (never a
shell string) with the binary from `ffmpeg_exe()`. Paths are absolute and
given as `file:` URLs, so a name that starts with `-` or holds a `:` is never
read as an option or a protocol. ffmpeg writes to a temporary file next to the
destination (`atomic.replacing`); it is probed and checked, and only a passing
file is moved into place with os.replace. On any failure the partial output is
removed and a VideoFixError carries ffmpeg's last stderr lines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from igpreflight.atomic import replacing
from igpreflight.childproc import child_kwargs, time_limit
from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import Facts, Role, Severity, VideoFacts
from igpreflight.profiles import Profile
from igpreflight.transcode.plan_video import VideoStep
from igpreflight.transcode.types import FixOptions, FixPlan, FixStatus, Step

Progress = Callable[[float], None]

AUDIO_FRAME_SLACK = 0.05  # seconds: an AAC frame (21-23 ms) plus rounding
STALL_SECONDS = 300.0  # ffmpeg said nothing for this long: it is stuck
TAIL_LINES = 20


class VideoFixError(RuntimeError):
    """ffmpeg failed, hung, or produced a file that does not pass.

    `tail` holds ffmpeg's last stderr lines (the message includes them too).
    """

    def __init__(self, message: str, tail: list[str] | None = None, returncode: int | None = None):
        self.tail = list(tail or [])
        self.returncode = returncode
        text = message
        if self.tail:
            text += "\nffmpeg said:\n  " + "\n  ".join(self.tail)
        super().__init__(text)


def _url(path: Path) -> str:
    """An absolute `file:` URL: never an option, never another protocol."""
    return "file:" + os.path.abspath(path)


def _params(step: Step) -> dict[str, Any]:
    return dict(step.params) if isinstance(step, VideoStep) else {}


def _steps(plan: FixPlan) -> dict[str, dict[str, Any]]:
    return {s.name: _params(s) for s in plan.steps}


def output_duration(facts: VideoFacts, plan: FixPlan) -> float | None:
    """How long the output will be: what progress is measured against."""
    steps = _steps(plan)
    for name in ("trim", "extend"):
        if name in steps and steps[name].get("duration"):
            return float(steps[name]["duration"])
    return facts.duration


def _video_chain(stream: Any, plan: FixPlan) -> Any:
    """Apply the plan's picture steps in order. Rotation needs no filter:
    ffmpeg's autorotation turns the decoded frames and drops the tag."""
    names = [s.name for s in plan.steps]
    if "deinterlace" in names:
        stream = stream.filter("bwdif", mode="send_frame")
    # A constant rate for every encode (the fps step's, or the source's own),
    # set before resizing so that dropped frames are never scaled.
    # eof_action=pass keeps a lone last frame (a one-frame clip) that rounding drops.
    stream = stream.filter("fps", fps=_steps(plan)["encode-video"]["rate"], eof_action="pass")
    for step in plan.steps:
        p = _params(step)
        if step.name == "crop":
            stream = stream.filter("crop", p["w"], p["h"], p["x"], p["y"])
        elif step.name == "scale":
            stream = stream.filter("scale", p["w"], p["h"])
        elif step.name == "tone-map":
            stream = _tone_map(stream, p["transfer"])
        elif step.name == "pad":
            stream = _pad(stream, p)
        elif step.name == "extend":
            # Hold the last frame for the whole target (the container's duration may
            # be longer than the last frame); `-t` cuts the output at the target.
            stream = stream.filter("tpad", stop_mode="clone", stop_duration=f"{p['duration']:.3f}")
    # Limited ("tv") range, as Instagram expects: a full-range source (yuvj420p,
    # MJPEG, some phones and screen recorders) has its levels converted here, not
    # just relabelled; a limited-range source passes through unchanged.
    e = _steps(plan)["encode-video"]
    return (
        stream.filter("setsar", "1")
        .filter("scale", out_range=e.get("color_range", "tv"))
        .filter("format", e.get("pix_fmt", "yuv420p"))
    )


def _tone_map(stream: Any, transfer: str) -> Any:
    """BT.2020 PQ/HLG -> BT.709 SDR: linearise, map highlights (hable), re-encode
    the transfer. Runs after downscaling: float pixels are costly."""
    return (
        stream.filter(
            "zscale", tin=transfer, min="bt2020nc", pin="bt2020", rin="tv", t="linear", npl=100
        )
        .filter("format", "gbrpf32le")
        .filter("zscale", p="bt709")
        .filter("tonemap", tonemap="hable", desat=0)
        .filter("zscale", t="bt709", m="bt709", r="tv")
    )


def _pad(stream: Any, p: dict[str, Any]) -> Any:
    w, h, x, y, color = p["w"], p["h"], p["x"], p["y"], p.get("color", "black")
    if color != "blur":
        return stream.filter("pad", w, h, x, y, color=color)
    # Blurred fill: the picture itself, scaled to cover the canvas and blurred.
    radius = max(1, min(w, h) // 20)
    parts = stream.split()
    bg = (
        parts[0]
        .filter("scale", w, h, force_original_aspect_ratio="increase")
        .filter("crop", w, h)
        .filter("boxblur", luma_radius=radius, luma_power=2)
    )
    import ffmpeg

    return ffmpeg.overlay(bg, parts[1], x=x, y=y)


def build_command(
    src: Path, facts: VideoFacts, plan: FixPlan, out: Path, options: FixOptions
) -> list[str]:
    """The ffmpeg argument list that carries out `plan` from `src` into `out` (MP4).

    A plan that encodes builds its filter graph with ffmpeg-python; a copy or
    remux needs no graph, and its arguments are written here in the very order
    ffmpeg-python compiles them (`copy_args`; tests/test_fix_video.py compares),
    without loading ffmpeg-python (and `future`) on the remux's path."""
    steps = _steps(plan)
    filtered = "encode-video" in steps or "encode-audio" in steps
    inp: Any = None
    if filtered:
        import ffmpeg

        inp = ffmpeg.input(_url(src))
    streams: list[Any] = []
    kw: dict[str, Any] = {"f": "mp4"}

    if "encode-video" in steps:
        e = steps["encode-video"]
        streams.append(_video_chain(inp["V:0"], plan))
        kw.update(
            {
                "c:v": e["codec"],
                "preset": e["preset"],
                "crf": e["crf"],
                "profile:v": e["profile"],
                "pix_fmt": e["pix_fmt"],
                "color_range": e.get("color_range", "tv"),
                "g": e["gop"],
                "keyint_min": max(1, e["gop"] // 2),
                "flags": "+cgop",
                "force_key_frames": f"expr:gte(t,n_forced*{e['keyframe_interval']})",
                "maxrate": e["maxrate"],
                "bufsize": e["bufsize"],
            }
        )
        if "tone-map" in steps:
            kw.update({"colorspace": "bt709", "color_primaries": "bt709", "color_trc": "bt709"})
    else:
        streams.append(inp["V:0"] if filtered else "0:V:0")
        kw["c:v"] = "copy"
        copy = steps.get("copy-video", {})
        if copy.get("tag"):
            kw["tag:v"] = copy["tag"]
        if copy.get("time_base"):
            # Re-time on the frame grid (rounded to the nearest tick); pts and dts
            # must be named, or setts sets both to the dts.
            kw["bsf:v"] = f"setts=time_base={copy['time_base']}:pts=PTS:dts=DTS"

    if "encode-audio" in steps:
        a = steps["encode-audio"]
        audio = inp["a:0"]
        if a.get("pad_to"):
            audio = audio.filter("apad", whole_dur=f"{a['pad_to']:.3f}")
        streams.append(audio)
        kw.update({"c:a": a["codec"], "b:a": a["bitrate"], "ar": a["rate"], "ac": a["channels"]})
    elif "copy-audio" in steps:
        streams.append(inp["a:0"] if filtered else "0:a:0")
        kw["c:a"] = "copy"

    if "trim" in steps:
        kw["t"] = f"{steps['trim']['duration']:.3f}"
    elif "extend" in steps:
        kw["t"] = f"{steps['extend']['duration']:.3f}"
    kw["movflags"] = "+faststart"
    if not options.keep_metadata:
        kw["map_metadata"] = -1
    kw["map_chapters"] = -1
    # Reproducible output: the same source and plan give the same bytes, so a
    # re-fix keeps its content-hash upload key. The muxer writes no ffmpeg
    # version and zero creation/modification times (ffmpeg never copies the
    # source's creation_time, even with --keep-metadata). Remuxes are stream
    # copies, so they are byte-identical with any ffmpeg that muxes the same
    # way. Encodes are byte-identical on one machine and ffmpeg build: x264 is
    # deterministic for a given thread count, but that count follows the CPU
    # count, so another machine may encode different (equally valid) bytes.
    kw["fflags"] = "+bitexact"

    if filtered:
        args = ffmpeg.output(*streams, _url(out), **kw).compile(cmd=ffmpeg_exe())
    else:
        args = copy_args(_url(src), streams, _url(out), kw)
    head = ["-hide_banner", "-nostdin", "-y", "-loglevel", "warning", "-nostats"]
    return [args[0], *head, "-progress", "pipe:1", *args[1:]]


def copy_args(url: str, streams: list[str], out: str, kw: dict[str, Any]) -> list[str]:
    """What ffmpeg-python compiles for `url`'s `streams` (as "0:V:0") copied into
    `out` with output options `kw`: the maps, the format, the rest sorted by name."""
    args = [ffmpeg_exe(), "-i", url]
    for stream in streams:
        args += ["-map", stream]
    rest = dict(kw)
    args += ["-f", str(rest.pop("f"))]
    for key in sorted(rest):
        args += [f"-{key}", f"{rest[key]}"]
    return [*args, out]


def run_ffmpeg(
    args: list[str],
    *,
    duration: float | None = None,
    progress: Progress | None = None,
    timeout: float | None = None,
) -> list[str]:
    """Run ffmpeg with `-progress pipe:1` output; report 0..1 to `progress`.

    Runs under the child limits (`childproc`: memory cap, killed with us).
    Killed after `timeout` seconds (default: proportional to `duration`), or
    when it prints nothing for STALL_SECONDS.
    Raises VideoFixError with the last stderr lines on a non-zero exit; returns
    them (warnings) otherwise.
    """
    limit = time_limit(duration) if timeout is None else timeout
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **child_kwargs(),
        )
    except OSError as exc:
        raise VideoFixError(
            f"cannot run ffmpeg at {args[0]} ({exc.strerror or exc}); set IGPREFLIGHT_FFMPEG "
            "to an ffmpeg binary or reinstall imageio-ffmpeg"
        ) from exc
    started = last_seen = time.monotonic()
    killed: list[str] = []
    done = threading.Event()

    def drain_stderr() -> None:
        nonlocal last_seen
        assert proc.stderr is not None
        for raw in proc.stderr:
            last_seen = time.monotonic()
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                tail.append(line)

    def watchdog() -> None:
        while not done.wait(0.5):
            now = time.monotonic()
            if now - started > limit:
                killed.append(f"ffmpeg ran longer than {limit:.0f} s")
            elif now - last_seen > STALL_SECONDS:
                killed.append(f"ffmpeg printed nothing for {STALL_SECONDS:.0f} s")
            if killed:
                proc.kill()
                return

    err_thread = threading.Thread(target=drain_stderr, daemon=True)
    dog = threading.Thread(target=watchdog, daemon=True)
    err_thread.start()
    dog.start()
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            last_seen = time.monotonic()
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if progress is None or not duration:
                continue
            if key == "out_time_us" and value.lstrip("-").isdigit():
                progress(min(1.0, max(0.0, int(value) / 1e6 / duration)))
            elif key == "progress" and value == "end":
                progress(1.0)
        proc.wait()
    finally:
        done.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err_thread.join(timeout=5)
    if killed:
        raise VideoFixError(killed[0], list(tail), proc.returncode)
    if proc.returncode != 0:
        raise VideoFixError(
            f"ffmpeg exited with status {proc.returncode}", list(tail), proc.returncode
        )
    return list(tail)


def recheck(
    path: Path,
    role: Role,
    facts: Facts | None = None,
    rules: RuleSelection = DEFAULT_RULES,
    profile: Profile | None = None,
) -> list[str]:
    """The error findings of a written file, as one line each (empty: it passes),
    under `profile` (the plan's: the intersection of the file's profiles; None:
    instagram); rules the configuration turned off are not judged."""
    from igpreflight.preflight.checks import check_facts
    from igpreflight.preflight.probe import probe

    profiles = (profile,) if profile is not None else ()
    found = check_facts(facts if facts is not None else probe(str(path)), role, profiles)
    found, _ = rules.keep(found, path)
    return [f"{f.rule} {f.message}" for f in found if f.severity is Severity.ERROR]


def duration_error(source: VideoFacts, plan: FixPlan, written: Facts) -> str | None:
    """Why the written file's duration is not the one the plan makes (None: it is).

    ffmpeg trusting a crafted header once turned a 3.5 s clip into 512 s: an
    output longer or shorter than the source's real duration (or the trim or
    extend target) by more than two frames and an audio frame is not a fix.
    """
    want = output_duration(source, plan)
    if not want:
        return None
    got = getattr(written, "duration", None)
    if got is None:
        return "the output has no duration"
    rate = _steps(plan).get("encode-video", {}).get("rate") or source.fps or 30.0
    if abs(got - want) > 2.0 / float(Fraction(str(rate))) + AUDIO_FRAME_SLACK:
        return f"the output lasts {got:.3f} s, not {want:.3f} s"
    return None


def apply_video(
    src: Path,
    facts: VideoFacts,
    plan: FixPlan,
    dst: Path,
    options: FixOptions,
    progress: Progress | None = None,
    *,
    verify: bool = True,
) -> Facts | None:
    """Write the fixed file to `dst` (atomically), or raise VideoFixError; the facts
    of what ffmpeg wrote (None for a copy: the source's bytes).

    COPIED plans copy the bytes; REMUXED/TRANSCODED plans run ffmpeg. With
    `verify` (the default) the result is probed and checked in the plan's role
    before it replaces `dst`; a file with errors is removed, never left behind.
    An ffmpeg output must last what the source really lasts (or the trim or
    extend target), give or take two frames (`duration_error`).
    """
    src, dst = Path(src), Path(dst)
    if plan.status is FixStatus.UNFIXABLE:
        raise ValueError(f"{src}: unfixable plan: {plan.reason}")
    nothing_to_do = plan.status in (FixStatus.COPIED, FixStatus.UNCHANGED)
    if nothing_to_do and os.path.abspath(src) == os.path.abspath(dst):
        return None
    dst.parent.mkdir(parents=True, exist_ok=True)
    with replacing(dst) as tmp:
        if nothing_to_do:
            shutil.copyfile(src, tmp)
            return None
        if plan.status is FixStatus.TRANSCODED:  # no proof wanted: stop one started early
            from igpreflight.preflight.video_proof import forget

            forget(src)
        args = build_command(src, facts, plan, tmp, options)
        tail = run_ffmpeg(args, duration=output_duration(facts, plan), progress=progress)
        if tmp.stat().st_size == 0:
            raise VideoFixError("ffmpeg wrote an empty file", tail)
        from igpreflight.preflight.probe import probe

        written = probe(str(tmp))
        wrong = duration_error(facts, plan, written)
        if wrong:
            raise VideoFixError(wrong, tail)
        if verify and plan.role is not None:
            errors = recheck(tmp, plan.role, written, options.rules, plan.profile)
            if errors:
                raise VideoFixError("the fixed file still fails: " + "; ".join(errors), tail)
    return written
