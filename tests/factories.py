"""Compliant facts to start rule and plan tests from: `replace(GOOD_IMAGE, width=...)`.

Rules and plans read facts, never files, so most of their tests need no media at
all; one shared starting point keeps "compliant" meaning the same everywhere.
"""

from __future__ import annotations

from igpreflight.model import ImageFacts, VideoFacts

GOOD_IMAGE = ImageFacts(
    path="/tmp/a.jpg",
    bytes=500_000,
    format="JPEG",
    width=1080,
    height=1350,
    mode="RGB",
    bits=8,
    extension="jpg",
)

GOOD_VIDEO = VideoFacts(
    path="/tmp/a.mp4",
    bytes=5_000_000,
    container="MPEG-4",
    is_streamable=True,
    duration=10.0,
    has_video=True,
    has_audio=True,
    video_codec="AVC",
    video_profile="High@L4",
    width=1080,
    height=1920,
    fps=30.0,
    frame_rate_mode="CFR",
    scan_type="Progressive",
    chroma="4:2:0",
    bit_depth=8,
    video_bitrate=4_000_000,
    audio_codec="AAC",
    audio_profile="LC",
    audio_sample_rate=48_000,
    audio_channels=2,
    audio_bitrate=128_000,
    extension="mp4",
)
