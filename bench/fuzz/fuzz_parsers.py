"""Coverage-guided fuzzing of the parsers that read untrusted bytes (atheris).

Not part of the test suite, and atheris is not a dependency: install it into your
own virtualenv (`pip install atheris`), then run one target at a time, niced, with a
seed folder of real files (fixtures/media, the corpus, clips made with ffmpeg):

    nice -n 19 python bench/fuzz/fuzz_parsers.py TARGET SEEDS... \
        -max_total_time=600 -rss_limit_mb=1024 -timeout=10 -max_len=200000

Targets (each fails only on what breaks the promise "any bytes give facts and
findings or one FILE001 line": an exception the caller does not turn into
Unreadable, a hang, memory out of proportion to the input):
  probe     probe_stream on the bytes (sniff, image probe, MP4 box walk, native
            MP4 reader, Matroska/AVI truncation); MediaInfo is not run.
  pieces    the decode proof's cutter: sample tables, NAL units, warm cuts.
  exif      the EXIF block walker.
  h264      SPS, slice header, SEI and length-prefixed NAL unit readers.
  manifest  a post manifest as JSON and as TOML.
A crash leaves its input as crash-* in the working folder (libFuzzer's naming);
`python bench/fuzz/fuzz_parsers.py TARGET crash-...` replays it.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["igpreflight"]):
    from igpreflight.preflight import (  # noqa: F401
        exif,
        h264,
        image_structure,
        isobmff,
        manifest,
        mp4_native,
        probe,
        probe_image,
        probe_video,
        video_pieces,
        video_track,
    )
    from igpreflight.preflight.avc_nal import _check_parameter_sets, _starts_with_idr
    from igpreflight.preflight.warm_cuts import _warm_cuts


def probe_target(data: bytes) -> None:
    """Every exception here is a bug: probe_stream promises Unreadable instead."""
    with probe_video.native_only(), contextlib.suppress(probe_video.MediaInfoNeeded):
        probe.probe_stream("fuzzed.mp4", io.BytesIO(data), len(data))


def pieces_target(data: bytes) -> None:
    """video_proof turns any exception into a whole decode, so only hangs and memory
    count here; Whole is the documented answer, other types are noted by libFuzzer."""
    f = io.BytesIO(data)
    try:
        track = video_track.read_track(f)
        keys = [i for i, s in enumerate(track.samples) if s.key]
        if len(keys) < 2 or keys[0] != 0:
            return
        for i in keys:
            if not _starts_with_idr(f, track, track.samples[i]):
                return
        _check_parameter_sets(f, track)
        video_pieces._check_display_order(track, keys)
        warm = _warm_cuts(f, track, keys, 4)
        video_pieces._balanced(track, keys, 4, warm)
    except video_track.Whole:
        pass
    except Exception:  # noqa: BLE001 - caught by video_proof; only hangs/memory matter
        if STRICT:
            raise


def exif_target(data: bytes) -> None:
    exif.exif_problem(data)


def h264_target(data: bytes) -> None:
    try:
        sps = h264.parse_sps(data)
    except h264.SpsError:
        sps = None
    if sps is not None:
        h264.slice_start(data, sps)
        _ = sps.profile, sps.chroma, sps.bit_depth
    h264.sei_payload_types(data)
    h264.nal_units(data, 1 + (data[:1] or b"\0")[0] % 4)


MANIFEST_DIR = Path(tempfile.mkdtemp(prefix="fuzz-manifest-"))


def manifest_target(data: bytes) -> None:
    for name in ("posts.json", "posts.toml"):
        path = MANIFEST_DIR / name
        path.write_bytes(data)
        with contextlib.suppress(manifest.ManifestError):
            manifest.load_manifest(path)


TARGETS = {
    "probe": probe_target,
    "pieces": pieces_target,
    "exif": exif_target,
    "h264": h264_target,
    "manifest": manifest_target,
}
STRICT = False


def main() -> None:
    global STRICT
    name = sys.argv.pop(1)
    if name.endswith("-strict"):
        name, STRICT = name[: -len("-strict")], True
    target = TARGETS[name]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
