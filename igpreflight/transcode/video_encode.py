"""The H.264 encode step of a video plan: x264's settings and the bitrate it may spend.

Pure arithmetic on the facts and the role's limits, apart from the two variables
that tune x264 (its preset and CRF). The planner (`plan_video`) decides whether the
video is encoded and why, and the rules it resolves; this module says how.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from fractions import Fraction

from igpreflight.limits import VideoLimits
from igpreflight.model import VideoFacts
from igpreflight.preflight.rules.fmt import fmt_number
from igpreflight.transcode.types import Step, VideoStep
from igpreflight.transcode.video_rate import fps_arg

# Fixer policy (not Instagram limits): how far under a limit the encoder aims,
# so that VBV peaks, container overhead and rounding never touch the limit.
BITRATE_HEADROOM = 0.9  # maxrate = 90% of the 25 Mbps limit
SIZE_HEADROOM = 0.9  # aim at 90% of the role's file-size limit
MIN_VIDEO_BITRATE = 200_000  # never ask x264 for less, whatever the size budget says
VBV_START = 0.9  # x264's initial VBV fullness (of a buffer of 2 x maxrate)
RATE_MARGIN = 0.98  # the stream's worst-case average stays 2% under the bitrate limit

DEFAULT_PRESET = "veryfast"
DEFAULT_CRF = 20
PRESET_ENV = "IGPREFLIGHT_X264_PRESET"  # e.g. "ultrafast" in tests
CRF_ENV = "IGPREFLIGHT_X264_CRF"


def encoder_preset() -> str:
    """x264 preset: veryfast by default, IGPREFLIGHT_X264_PRESET to override."""
    return os.environ.get(PRESET_ENV, "").strip() or DEFAULT_PRESET


def encoder_crf() -> int:
    value = os.environ.get(CRF_ENV, "").strip()
    return int(value) if value.isdigit() else DEFAULT_CRF


def max_video_bitrate(
    facts: VideoFacts, lim: VideoLimits, out_dur: float | None, encode_audio: bool
) -> int:
    """x264's maxrate: under the role's bitrate limit, and for a known duration under
    what keeps the file within its size limit beside the audio."""
    maxrate = int(lim.max_video_bitrate * BITRATE_HEADROOM)
    if out_dur and out_dur > 0:
        audio = (
            lim.recommended_audio_bitrate
            if encode_audio
            else (facts.audio_bitrate or lim.recommended_audio_bitrate)
        )
        audio = audio if facts.has_audio else 0
        # x264 may spend its VBV buffer (2 x maxrate, 90% full at the start) on top of
        # maxrate x duration, which on a clip of a few seconds lifts the stream's average
        # over the limit: keep even that worst case under it (and under the size budget).
        spent = out_dur + VBV_START * 2
        worst_case = int(lim.max_video_bitrate * RATE_MARGIN * out_dur / spent)
        budget = int((lim.max_bytes * SIZE_HEADROOM * 8 - audio * out_dur) / spent)
        maxrate = max(MIN_VIDEO_BITRATE, min(maxrate, worst_case, budget))
    return maxrate


def encode_video_step(
    facts: VideoFacts,
    lim: VideoLimits,
    out_dur: float | None,
    encode_audio: bool,
    fps: Fraction,
    why: Sequence[str],
    rules: tuple[str, ...],
) -> Step:
    """The `encode-video` step at the constant rate `fps`, resolving `rules`."""
    maxrate = max_video_bitrate(facts, lim, out_dur, encode_audio)
    gop = max(1, math.floor(lim.keyframe_interval * fps))
    preset, crf = encoder_preset(), encoder_crf()
    return VideoStep(
        "encode-video",
        f"H.264 High yuv420p (limited range) CRF {crf} ({preset}), keyframe every "
        f"{fmt_number(lim.keyframe_interval)} s (closed GOP), max {fmt_number(maxrate / 1e6, 2)} Mbps"
        + (f": {'; '.join(why)}" if why else ""),
        rules,
        {
            "codec": "libx264",
            "profile": "high",
            "pix_fmt": "yuv420p",
            "color_range": "tv",  # limited range; a full-range source is converted
            "preset": preset,
            "crf": crf,
            "rate": fps_arg(fps),
            "gop": gop,
            "keyframe_interval": lim.keyframe_interval,
            "maxrate": maxrate,
            "bufsize": 2 * maxrate,
        },
    )
