"""The ffmpeg argument list that carries out a video FixPlan.

The command is built with ffmpeg-python and run as an argument list (never a
shell string) with the binary from `ffmpeg_exe()`. Paths are absolute and
given as `file:` URLs, so a name that starts with `-` or holds a `:` is never
read as an option or a protocol. A copy or remux needs no filter graph: its
list is written here in ffmpeg-python's order (`copy_args`), so a remux never
loads ffmpeg-python. Its own module: what to run, apart from running it
(`ffmpeg_run`) and from proving the result (`video`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import VideoFacts
from igpreflight.transcode.types import FixOptions, FixPlan, Step, VideoStep


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


def keeps_lead(plan: FixPlan) -> bool:
    """Whether the plan re-times an edit list (its encode steps' `keep_lead`), whose
    empty edit (a start delay) players show as a held first frame and silence: the
    encode reads the source's own timestamps (`-seek_timestamp 1 -ss 0`, not
    ffmpeg's shift to the earliest stream) and fills the lead, so the output lasts
    what check measured."""
    return any(_params(s).get("keep_lead") for s in plan.steps)


def _video_chain(stream: Any, plan: FixPlan) -> Any:
    """Apply the plan's picture steps in order. Rotation needs no filter:
    ffmpeg's autorotation turns the decoded frames and drops the tag."""
    names = [s.name for s in plan.steps]
    if "deinterlace" in names:
        stream = stream.filter("bwdif", mode="send_frame")
    # A constant rate for every encode (the fps step's, or the source's own),
    # set before resizing so that dropped frames are never scaled.
    # eof_action=pass keeps a lone last frame (a one-frame clip) that rounding drops.
    # start_time=0 (a start delay kept) repeats the first frame from zero.
    lead = {"start_time": 0} if keeps_lead(plan) else {}
    stream = stream.filter(
        "fps", fps=_steps(plan)["encode-video"]["rate"], eof_action="pass", **lead
    )
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

        inp = ffmpeg.input(
            _url(src), **({"seek_timestamp": 1, "ss": 0} if keeps_lead(plan) else {})
        )
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
        if keeps_lead(plan):  # silence from zero for a start delay
            audio = audio.filter("aresample", first_pts=0)
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
