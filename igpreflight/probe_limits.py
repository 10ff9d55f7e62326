"""What the probe accepts as a real file: its own safety bounds, not Meta's limits.

`limits.py` holds Instagram's published numbers, each with its source; these are
igpreflight's guards against crafted and broken files (decompression bombs,
implausible MP4 tables, a MediaInfo parse that runs away), read by the probe only.
"""

from __future__ import annotations

from igpreflight.records import record


@record
class ProbeLimits:
    """What the probe accepts as a real image or a plain edit list (not Meta limits).

    A decompression bomb declares a size its bytes cannot hold (or one no camera
    makes). Pillow's own 179 MP cut-off would refuse legitimate files the image
    fixer can shrink with JPEG draft mode (sharp's 280 MP giant-image.jpg, a 200 MP
    phone HEIC), so the probe applies this policy instead.
    """

    # No camera or phone makes more than 200 MP; stitched panoramas reach a few
    # hundred. Above 500 MP an RGB decode alone needs more than 1.5 GB.
    max_pixels: int = 500_000_000
    # The most pixels one byte of a real file can describe, per format: a header
    # declaring more is a bomb (or a broken file). Each value is about 4x past the
    # best the codec can do on a uniform image, so no real file comes close:
    # JPEG: every 8x8 block costs at least a 1-bit DC code (512 px/byte);
    # PNG/TIFF: deflate tops out at 1032:1 on rows of 1-bit pixels (~8,256 px/byte);
    # GIF: a 12-bit LZW code covers at most 4,096 pixels (~2,730 px/byte);
    # WebP: libwebp's lossless coder reaches ~24,000 px/byte on a black image;
    # HEIF/AVIF: HEVC/AV1 skip blocks almost for free, so only the cap applies.
    max_pixels_per_byte: tuple[tuple[str, int], ...] = (
        ("JPEG", 2_048),
        ("MPO", 2_048),
        ("PNG", 33_000),
        ("TIFF", 33_000),
        ("GIF", 11_000),
        ("BMP", 33_000),
        ("WEBP", 100_000),
    )
    # ffmpeg writes a one-entry edit list on nearly every MP4 to hide AAC priming
    # (1024-2112 samples: 21-96 ms at 22-48 kHz) and B-frame reordering delay (2-5
    # frames: up to ~0.21 s at 24 fps), sometimes after a short empty edit that
    # aligns audio with video. Skips, cuts and gaps longer than this are a real
    # change of the timeline (VID016).
    edit_list_tolerance: float = 0.25  # seconds
    # A container with a millisecond timebase (Matroska, WebM, FLV) stores 30 fps
    # as frames of 33 and 34 ms; remuxed to MP4, MediaInfo calls that VFR. Frame
    # durations that differ by no more than one such tick are constant-rate.
    vfr_jitter: float = 0.0011  # seconds
    # MediaInfo reports the nominal rate of some phone slow-motion files (30 fps)
    # while their frames are far fewer (7 in 0.53 s: 13 fps). When the frame count
    # misses nominal rate x duration by more than this many frames, or by more than
    # frame_count_share of them, the real average rate is used and the stream is VFR.
    frame_count_slack: float = 2.0  # frames
    frame_count_share: float = 0.10
    # Plausibility of a movie's declared numbers (crafted tables make ffmpeg encode
    # hours of frames from a clip of seconds): an MP4 track's mdhd duration may
    # differ from what its samples last (stts) by this many seconds or this share;
    # no real stream averages under min_bitrate bit/s over its declared duration
    # (a still picture in H.264 at 1 fps costs a few hundred), and no frame or
    # sample takes less than a byte.
    duration_slack: float = 1.0  # seconds
    duration_share: float = 0.10
    min_bitrate: int = 100  # bit/s over the whole file
    # Bounds on one MediaInfo parse (it runs in a child: `preflight.mediainfo_child`).
    # A real 700 MB MPEG-TS parses in ~1.3 s with ~60 MB; crafted metadata floods
    # took 51-232 s and up to 350 MB. The check target for a crafted file is 15 s.
    parse_seconds: float = 10.0
    parse_memory_mb: int = 1024


PROBE_LIMITS = ProbeLimits()
