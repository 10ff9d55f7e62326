"""Decide the least work that makes a video pass: facts + findings -> FixPlan.

Pure: no file is opened and nothing is run. The findings say WHAT is wrong
(their rule codes trigger the steps, so the plan and the re-check can never
disagree about what "compliant" means); the facts give the numbers each step
needs (sizes, rates, durations). Every step names the rules it resolves and
says why, which is what `fix --dry-run` and the fix report show.

Least work: a stream that complies is copied (`-c copy`); a file whose only
problems are the container or the moov position is remuxed; a file with no
fixable finding is copied byte for byte by the batch driver. (An edit list that
cuts is the exception: only decoding honours it, so both streams are encoded.)

The arithmetic the steps need lives beside it: `video_geometry` (crop, scale and
pad sizes) and `video_rate` (the constant frame rate); the steps that need no rule
code of their own too: `video_frame_steps` (crop, scale, tone-map, pad) and
`video_encode` (the H.264 encode: x264's settings, its bitrate budget). What stays here is every
place a rule code is written (tests/test_rule_registry.py allows them only in the
planner): which rules trigger which work, and the steps that name them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from fractions import Fraction

from igpreflight.limits import VideoLimits
from igpreflight.model import ROLE_LABEL, Finding, Kind, Role, Severity, VideoFacts
from igpreflight.preflight.rules.fmt import (
    allowed_aspect,
    aspects_label,
    fmt_number,
    fmt_seconds,
)
from igpreflight.profiles import INSTAGRAM, Profile
from igpreflight.transcode.types import FixOptions, FixPlan, FixStatus, Step, VideoStep
from igpreflight.transcode.video_encode import encode_video_step
from igpreflight.transcode.video_frame_steps import frame_steps, pixels_label
from igpreflight.transcode.video_geometry import _below_minimum, plan_geometry
from igpreflight.transcode.video_rate import _copy_time_base, _snap, fps_arg, fps_label, target_fps
from igpreflight.transcode.video_tracks import dropped_tracks

# Rules a re-encode of the video stream resolves. VID018 (HEVC) is one of them
# unless --keep-hevc; VID017 (rotation) too: the fix bakes rotation in (SPEC 2).
# VID016 (an edit list that cuts or shifts) needs both streams decoded: stream
# copy keeps the packets from the GOP start and writes the edit list again, and
# dropping it (`-use_editlist 0`) would show the frames the edit hid.
VIDEO_RULES = frozenset(
    {"VID002", "VID005", "VID006", "VID007", "VID009", "VID010"}
    | {"VID013", "VID014", "VID015", "VID016", "VID017", "VID018"}
)
# Rules a re-encode of the audio stream resolves. VID020 (bitrate far from 128
# kbps) is an info note: resolved when the audio is encoded anyway, never a
# reason to re-encode lossy audio on its own.
AUDIO_RULES = frozenset({"VID003", "VID011", "VID012", "VID016"})
# Rules a remux (every stream copied into a fresh MP4) resolves.
REMUX_RULES = frozenset({"VID001", "VID004"})
# Resolved only on request: a duration out of range needs --trim or --extend.
DURATION_RULE = "VID008"
# Every rule this planner resolves (a test holds the registry and this set together,
# and that each one gets a step). An error outside it makes the file unfixable.
RESOLVES = VIDEO_RULES | AUDIO_RULES | REMUX_RULES | {DURATION_RULE, "VID020"}

TRIM_MARGIN = 0.25  # seconds kept under the maximum duration (copied streams end on a packet)
EXTEND_MARGIN = 0.1  # seconds added over the minimum duration

# ------------------------------------------------------------------ the plan


def _rules(found: set[str], wanted: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(found & set(wanted)))


def _unfixable(
    facts: VideoFacts, role: Role, reason: str, profile: Profile | None = None
) -> FixPlan:
    return FixPlan(Kind.VIDEO, role, FixStatus.UNFIXABLE, (), "mp4", reason, profile)


def _output_extension(facts: VideoFacts) -> str:
    ext = (facts.extension or "").lower().lstrip(".")
    if ext in ("mp4", "mov"):
        return ext
    return "mov" if facts.container == "QuickTime" else "mp4"


def _why(found: set[str], facts: VideoFacts, keep_hevc: bool) -> list[str]:
    """Short reasons for a video re-encode, one per rule."""
    w = []
    if "VID002" in found:
        w.append(f"{facts.video_codec or 'unknown codec'} is not accepted")
    if "VID018" in found and not keep_hevc:
        w.append("HEVC becomes H.264 (--keep-hevc keeps it)")
    if "VID014" in found:
        w.append(f"{pixels_label(facts)} pixels")
    if "VID013" in found:
        w.append(f"{(facts.scan_type or 'interlaced').lower()} scan")
    if "VID010" in found:
        w.append("bitrate over the limit")
    if "VID009" in found:
        w.append("file over the size limit")
    if "VID016" in found:
        w.append("re-timed without the edit list")
    if "VID017" in found:
        w.append("rotation baked in")
    if "VID006" in found:
        w.append("downscaled")
    if "VID007" in found:
        w.append("aspect ratio brought into range")
    if "VID005" in found:
        w.append("frame rate brought into range")
    if "VID015" in found:
        w.append("constant frame rate")
    return w


def plan_video(
    facts: VideoFacts,
    findings: list[Finding],
    role: Role,
    options: FixOptions,
    profile: Profile | None = None,
) -> FixPlan:
    """The least work that resolves every fixable finding of `facts` in `role`.

    COPIED (UNCHANGED in place): nothing to do. REMUXED: only the container or
    the moov position (or a --trim that stream copy can do). TRANSCODED: a stream
    is encoded (an edit list that cuts needs this); a compliant other stream is
    still copied. UNFIXABLE (with `reason`): no video stream, a
    duration out of range without --trim/--extend, or an error no step resolves.
    `profile` is the intersection of the file's profiles (None: instagram).
    """
    plan = _plan_video(facts, findings, role, options, (profile or INSTAGRAM).video(role))
    return replace(plan, profile=profile) if profile is not None else plan


def _plan_video(
    facts: VideoFacts, findings: list[Finding], role: Role, options: FixOptions, lim: VideoLimits
) -> FixPlan:
    found = {f.rule for f in findings}
    label = ROLE_LABEL.get(role, role.value)

    if not facts.has_video:
        what = "an audio-only file" if facts.has_audio else "a file with no streams"
        return _unfixable(facts, role, f"no video stream ({what}); nothing to fix into a video")

    # Duration: content changes only on request.
    trim_to: float | None = None
    extend_to: float | None = None
    if "VID008" in found and facts.duration is not None:
        d = facts.duration
        if round(d, 3) > lim.max_duration:
            if not options.trim:
                return _unfixable(
                    facts,
                    role,
                    f"duration {fmt_seconds(d)} is above {fmt_seconds(lim.max_duration)} "
                    f"for {label}; use --trim to cut it",
                )
            trim_to = lim.max_duration - TRIM_MARGIN
        elif round(d, 3) < lim.min_duration:
            if not options.extend:
                return _unfixable(
                    facts,
                    role,
                    f"duration {fmt_seconds(d)} is below {fmt_seconds(lim.min_duration)} "
                    f"for {label}; use --extend to freeze the last frame up to it",
                )
            extend_to = lim.min_duration + EXTEND_MARGIN

    small = _below_minimum(facts, lim, options)
    if small:
        return _unfixable(facts, role, small)
    blocking = sorted(
        f.rule for f in findings if f.severity is Severity.ERROR and f.rule not in RESOLVES
    )
    if blocking:
        return _unfixable(facts, role, f"{', '.join(blocking)} cannot be fixed by igpreflight")
    if lim.aspects and "VID007" in found:
        geo = plan_geometry(facts, lim, options.aspect)
        if not allowed_aspect(geo.out_w / geo.out_h, lim.aspects, lim.aspect_tolerance):
            return _unfixable(
                facts,
                role,
                f"{facts.display_width}x{facts.display_height} cannot be cropped or padded "
                f"to {aspects_label(lim.aspects)} within {lim.aspect_tolerance:.0%} in even pixels",
            )

    keep_hevc = options.keep_hevc and (facts.video_codec or "").upper() == "HEVC"
    video_triggers = found & VIDEO_RULES
    if keep_hevc:
        video_triggers -= {"VID018"}
    encode_video = bool(video_triggers) or extend_to is not None
    encode_audio = facts.has_audio and (bool(found & AUDIO_RULES) or extend_to is not None)
    remux_rules = found & REMUX_RULES
    # Kept HEVC in an hev1 entry is remuxed as hvc1 (Apple's players refuse hev1) when its
    # hvcC holds every parameter set (ffmpeg marks them complete); in-band only, it cannot.
    retag = keep_hevc and facts.video_entry == "hev1" and not facts.inband_parameter_sets

    if not (encode_video or encode_audio or remux_rules or retag or trim_to is not None):
        status = FixStatus.UNCHANGED if options.in_place else FixStatus.COPIED
        return FixPlan(Kind.VIDEO, role, status, (), _output_extension(facts))

    steps: list[Step] = []
    out_dur = trim_to or extend_to or facts.duration

    if encode_video:
        steps.extend(_video_filter_steps(facts, found, lim, options, extend_to))
        steps.append(
            _encode_video_step(facts, found, lim, keep_hevc, out_dur, encode_audio, video_triggers)
        )
    else:
        tag = "hvc1" if (facts.video_codec or "").upper() == "HEVC" else None
        why = "HEVC kept (--keep-hevc)" if keep_hevc else "already compliant"
        why += ", hev1 sample entry retagged hvc1" if retag else ""
        steps.append(
            VideoStep(
                "copy-video",
                f"{facts.video_codec} {facts.display_width}x{facts.display_height} stream copied: {why}",
                params={"tag": tag, "time_base": _copy_time_base(facts, lim)},
            )
        )

    if facts.has_audio:
        if encode_audio:
            steps.append(_encode_audio_step(facts, found, lim, extend_to))
        else:
            steps.append(
                VideoStep("copy-audio", f"{facts.audio_codec} stream copied: already compliant")
            )
    steps.extend(dropped_tracks(facts, found))  # ffmpeg maps the first of each

    if trim_to is not None:
        steps.append(
            VideoStep(
                "trim",
                f"cut at {fmt_seconds(trim_to)} (was {fmt_seconds(facts.duration or 0)}; "
                f"maximum {fmt_seconds(lim.max_duration)} for {label})",
                ("VID008",),
                {"duration": trim_to},
            )
        )

    container_why = []
    if "VID001" in found:
        container_why.append(f"{facts.container} becomes MP4")
    if "VID004" in found:
        container_why.append("moov moved to the front")
    steps.append(
        VideoStep(
            "remux",
            "MP4, faststart" + (f": {', '.join(container_why)}" if container_why else ""),
            _rules(found, REMUX_RULES),
            {"faststart": True},
        )
    )

    status = FixStatus.TRANSCODED if (encode_video or encode_audio) else FixStatus.REMUXED
    return FixPlan(Kind.VIDEO, role, status, tuple(steps), "mp4")


def _video_filter_steps(
    facts: VideoFacts,
    found: set[str],
    lim: VideoLimits,
    options: FixOptions,
    extend_to: float | None,
) -> list[Step]:
    steps: list[Step] = []
    if "VID013" in found or (facts.scan_type or "Progressive").upper() != "PROGRESSIVE":
        steps.append(
            VideoStep(
                "deinterlace",
                f"bwdif, one frame per frame ({facts.scan_type or 'interlaced'} -> progressive)",
                _rules(found, {"VID013"}),
                {"filter": "bwdif"},
            )
        )
    if facts.rotation % 360 or facts.mirrored:
        turn = (
            "mirrored display matrix" if facts.mirrored else f"{facts.rotation}° display rotation"
        )
        steps.append(
            VideoStep(
                "rotate",
                f"{turn} baked into the pixels, tag cleared",
                _rules(found, {"VID017"}),
                {"degrees": facts.rotation, "mirror": facts.mirrored},
            )
        )
    geo = plan_geometry(facts, lim, options.aspect)
    aspect_rules, scale_rules = _rules(found, {"VID007"}), _rules(found, {"VID006"})
    steps.extend(frame_steps(facts, geo, lim, options.pad_color, aspect_rules, scale_rules))
    vfr = (facts.frame_rate_mode or "").upper() == "VFR" or "VID015" in found
    if "VID005" in found or vfr:
        rate = target_fps(facts.fps, vfr, lim)
        src = f"{fmt_number(facts.fps)} fps" if facts.fps else "unknown rate"
        if vfr:
            src = f"variable ({src} average)"
        steps.append(
            VideoStep(
                "fps",
                f"{src} -> {fps_label(rate)} fps constant",
                _rules(found, {"VID005", "VID015"}),
                {"rate": fps_arg(rate)},
            )
        )
    if "VID014" in found:
        steps.append(
            VideoStep(
                "pixel-format",
                f"{pixels_label(facts)} -> yuv420p 8-bit",
                ("VID014",),
                {"pix_fmt": "yuv420p"},
            )
        )
    if extend_to is not None:
        pad_s = extend_to - (facts.duration or 0)
        steps.append(
            VideoStep(
                "extend",
                f"last frame held {fmt_seconds(pad_s)} (to {fmt_seconds(extend_to)}; "
                f"minimum {fmt_seconds(lim.min_duration)})",
                ("VID008",),
                {"duration": extend_to, "pad": pad_s},
            )
        )
    return steps


def _out_fps(facts: VideoFacts, found: set[str], lim: VideoLimits) -> Fraction:
    """The output's constant rate. Every encode sets one (the fps filter), even
    for a source that is already constant: Matroska, WebM and FLV store times
    in milliseconds, and passing 33/34 ms steps through would make a VFR MP4."""
    vfr = (facts.frame_rate_mode or "").upper() == "VFR" or "VID015" in found
    if "VID005" in found or vfr or not facts.fps:
        return target_fps(facts.fps, vfr, lim)
    return _snap(Fraction(round(facts.fps * 1000), 1000))


def _encode_video_step(
    facts: VideoFacts,
    found: set[str],
    lim: VideoLimits,
    keep_hevc: bool,
    out_dur: float | None,
    encode_audio: bool,
    triggers: set[str],
) -> Step:
    why = _why(found, facts, keep_hevc) or (["duration extended"] if not triggers else [])
    fps = _out_fps(facts, found, lim)
    rules = tuple(sorted(triggers))
    step = encode_video_step(facts, lim, out_dur, encode_audio, fps, why, rules)
    # VID016: a start delay is kept (`video_command.keeps_lead`), as players showed it
    return replace(step, params={**step.params, "keep_lead": True}) if "VID016" in found else step


def _encode_audio_step(
    facts: VideoFacts, found: set[str], lim: VideoLimits, extend_to: float | None
) -> Step:
    # mono stays mono, more becomes stereo, within the profile's range (Facebook: stereo)
    wanted = facts.audio_channels or 2
    channels = min(max(wanted, lim.min_audio_channels), lim.max_audio_channels)
    rate = lim.max_audio_sample_rate
    bitrate = lim.recommended_audio_bitrate
    why = []
    if "VID003" in found:
        why.append(f"{facts.audio_codec or 'unknown codec'} is not accepted")
    if "VID011" in found:
        why.append(f"{fmt_number((facts.audio_sample_rate or 0) / 1000)} kHz resampled")
    if "VID012" in found:
        # a profile that wants stereo (Facebook Reels) makes mono two channels: not a downmix
        n = facts.audio_channels or 0
        why.append("mono made stereo" if n < channels else f"{n} channels downmixed")
    if "VID016" in found:
        why.append("re-timed without the edit list")
    if extend_to is not None:
        why.append("silence appended")
    layout = "mono" if channels == 1 else "stereo"
    return VideoStep(
        "encode-audio",
        f"AAC-LC {fmt_number(rate / 1000)} kHz {layout} {bitrate // 1000} kbps"
        + (f": {'; '.join(why)}" if why else ""),
        _rules(found, AUDIO_RULES | {"VID020"}) + (("VID008",) if extend_to is not None else ()),
        {
            "codec": "aac",
            "rate": rate,
            "channels": channels,
            "bitrate": bitrate,
            "pad_to": extend_to,
            "keep_lead": "VID016" in found,
        },
    )
