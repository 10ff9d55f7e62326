"""MP4/MOV facts read natively (`mp4_native`) must be the facts MediaInfo gives.

Every MP4/MOV of the corpus and a matrix of clips made here (rotations, aspect
ratios, H.264 profiles, colour descriptions, frame rates, VFR, audio layouts and
rates, moov placement, a track shorter than its samples) is probed both ways,
field by field: the facts are equal, and so is every MediaInfo field the native
reader fills. The files it leaves to MediaInfo (interlacing, HRD, fragments,
QuickTime sound, low-rate AAC...) are named, so a reader that quietly settles
nothing, or too much, fails here.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight.model import Unreadable, VideoFacts
from igpreflight.preflight import isobmff, mp4_native
from igpreflight.preflight.mediainfo_fields import Fields
from igpreflight.preflight.mediainfo_lib import Reader
from igpreflight.preflight.probe_video import FAST_PARSE, probe_video
from tests.corpus import corpus_files, needs_corpus

ISO = {".mp4", ".mov", ".m4v", ".m4a", ".3gp"}
# Fields the probe takes from the sample tables for MP4/MOV whichever path read
# them (`video_numbers._table_bitrate`), so the native reader does not fill them.
NOT_NATIVE = {"bit_rate", "stream_size", "framerate_num", "framerate_den"}
# Corpus files whose streams (H.264, AAC-LC or none, ISO brand) the native reader settles.
SETTLED_IN_CORPUS = {
    "long_1080p_lowbitrate.mp4",
    "portrait_4k60.mp4",
    "sample.mp4",
    "sample_12_5fps_720p_1s.mp4",
    "sample_android_slow_motion.mp4",
    "sample_mdat_too_long.mp4",
    "sample_portrait.mp4",
    "sample_rotate_and_reflect.mp4",
}

CLIP = dict(width=96, height=64, duration=1.2)


def _colour(transfer: str, primaries: str, matrix: str) -> str:
    """A filter tagging the frames (what x264's VUI and ffmpeg's colr box follow)."""
    return f"setparams=color_trc={transfer}:color_primaries={primaries}:colorspace={matrix}"


SETTLED_CLIPS = {
    "plain": {},
    "moov_last": dict(faststart=False),
    "rot90": dict(rotation=90),
    "rot180": dict(rotation=180),
    "rot270": dict(rotation=270),
    "sar_4_3": dict(extra_args=["-vf", "setsar=4/3"]),
    "sar_10_11": dict(extra_args=["-vf", "setsar=10/11"]),
    "baseline": dict(extra_args=["-profile:v", "baseline"]),
    "main": dict(extra_args=["-profile:v", "main"]),
    "high10": dict(pix_fmt="yuv420p10le"),
    "high422": dict(pix_fmt="yuv422p"),
    "high444": dict(pix_fmt="yuv444p"),
    "bt709": dict(extra_args=["-vf", _colour("bt709", "bt709", "bt709")]),
    "pq": dict(extra_args=["-vf", _colour("smpte2084", "bt2020", "bt2020nc")]),
    "hlg": dict(extra_args=["-vf", _colour("arib-std-b67", "bt2020", "bt2020nc")]),
    "vui_only_colour": dict(
        extra_args=["-vf", _colour("bt709", "bt709", "bt709"), "-movflags", "-write_colr"]
    ),
    "colr_over_vui": dict(  # the container says PQ, the SPS BT.709: MediaInfo keeps PQ
        extra_args=[
            *("-vf", _colour("smpte2084", "bt2020", "bt2020nc")),
            *("-bsf:v", "h264_metadata=transfer_characteristics=1"),
        ]
    ),
    "cropped_854x480": dict(width=854, height=480, duration=0.4),
    "vfr": dict(extra_args=["-vf", "select='not(eq(mod(n,7),3))'", "-fps_mode", "vfr"]),
    "ntsc": dict(fps="30000/1001"),
    "ntsc_double": dict(fps="60000/1001"),
    "fps_12_5": dict(fps=12.5),
    "fps_25_long": dict(fps=25, duration=4.0, width=64, height=48),
    "no_bframes": dict(extra_args=["-bf", "0"]),
    "intra_only": dict(extra_args=["-g", "1"]),
    "shortest": dict(extra_args=["-shortest"], duration=1.7),
    "audio_only": dict(vcodec=None),
    "video_only": dict(acodec=None),
    "mono_44k": dict(audio_rate=44100, channels=1),
    "surround": dict(channels=6),
    "aac_96k": dict(audio_rate=96000),
    "aac_32k": dict(audio_rate=32000, audio_bitrate="48k"),
    "brand_mp42": dict(extra_args=["-brand", "mp42"]),
}
MEDIAINFO_CLIPS = {
    "interlaced": dict(interlaced=True),
    "hrd": dict(extra_args=["-x264-params", "nal-hrd=vbr", "-maxrate", "1M", "-bufsize", "2M"]),
    "pic_struct": dict(extra_args=["-x264-params", "pic-struct=1"]),
    "fragmented": dict(extra_args=["-movflags", "frag_keyframe+empty_moov"]),
    "aac_22k": dict(audio_rate=22050),
    "quicktime_sound.mov": {},
    "hevc": dict(vcodec="libx265"),
}


def _native_fields(path: Path) -> Fields | None:
    """What the native reader makes of a file (None: left to MediaInfo)."""
    with open(path, "rb") as f:
        layout = isobmff.movie_layout(f)

        def read_at(offset: int, count: int) -> bytes:
            f.seek(offset)
            return f.read(count)

        return mp4_native.native_fields(layout, path.stat().st_size, read_at)


def _compare(path: Path, reader: Reader) -> tuple[bool, list[str]]:
    """(settled natively, the differences between the two paths)."""
    size = path.stat().st_size
    native = _native_fields(path)
    ext = path.suffix.lstrip(".")
    facts = probe_video(str(path), size, ext, iso=True, native=True)
    mediainfo = probe_video(str(path), size, ext, iso=True, native=False)
    out = []
    if facts != mediainfo:
        a, b = asdict(facts), asdict(mediainfo)
        out = [f"{path.name} {k}: native {a[k]!r}, MediaInfo {b[k]!r}" for k in a if a[k] != b[k]]
    if native is not None:
        raw = reader.read(str(path), FAST_PARSE)
        for kind in ("general", "video", "audio"):
            mine, theirs = native.get(kind) or {}, raw.get(kind) or {}
            if (native.get(kind) is None) != (raw.get(kind) is None):
                out.append(f"{path.name} {kind}: present natively {native.get(kind) is not None}")
            for field in set(mine) | set(theirs):
                if field in NOT_NATIVE or (field == "pixel_aspect_ratio" and field not in mine):
                    continue  # MediaInfo's default 1.000 is the probe's default too
                if mine.get(field) != theirs.get(field):
                    out.append(
                        f"{path.name} {kind}.{field}: {mine.get(field)!r} != {theirs.get(field)!r}"
                    )
    return native is not None, out


@needs_corpus
def test_every_corpus_mp4_gives_the_same_facts_both_ways():
    reader = Reader()
    settled, differences = set(), []
    for path in corpus_files(ISO):
        facts = probe_video(str(path), path.stat().st_size, path.suffix[1:], iso=True)
        if not isinstance(facts, VideoFacts):
            continue  # unreadable both ways (an image, a truncated file): the probe's tests
        native, diff = _compare(path, reader)
        differences += diff
        if native:
            settled.add(path.name)
    assert differences == []
    assert settled >= SETTLED_IN_CORPUS


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("native")
    made = {}
    for name, options in {**SETTLED_CLIPS, **MEDIAINFO_CLIPS}.items():
        path = folder / (name if "." in name else f"{name}.mp4")
        made[name] = make_video(path, **{**CLIP, **options})
    return made


def test_made_clips_give_the_same_facts_both_ways(clips: dict[str, Path]):
    reader = Reader()
    settled, differences = set(), []
    for name, path in clips.items():
        native, diff = _compare(path, reader)
        differences += diff
        if native:
            settled.add(name)
    assert differences == []
    assert settled == set(SETTLED_CLIPS)


def test_what_the_native_reader_reads_is_what_the_clip_is(clips: dict[str, Path]):
    """Spot checks against what the clips were made to be (not only against MediaInfo)."""

    def facts(name: str) -> VideoFacts:
        path = clips[name]
        got = probe_video(str(path), path.stat().st_size, "mp4", iso=True)
        assert isinstance(got, VideoFacts)
        return got

    assert facts("rot90").rotation == 90 and facts("rot270").rotation == 270
    assert facts("sar_4_3").sar == pytest.approx(4 / 3, abs=1e-3)
    assert facts("high10").bit_depth == 10 and facts("high422").chroma == "4:2:2"
    assert facts("pq").transfer == "PQ" and facts("hlg").transfer == "HLG"
    assert facts("vui_only_colour").transfer == "BT.709" and facts("colr_over_vui").transfer == "PQ"
    assert facts("vfr").frame_rate_mode == "VFR" and facts("plain").frame_rate_mode == "CFR"
    assert facts("ntsc").fps == pytest.approx(29.97) and facts("fps_12_5").fps == 12.5
    assert (facts("cropped_854x480").width, facts("cropped_854x480").height) == (854, 480)
    assert facts("surround").audio_channels == 6 and facts("mono_44k").audio_sample_rate == 44100
    assert facts("moov_last").is_streamable is False and facts("plain").is_streamable is True
    assert facts("audio_only").has_video is False and facts("video_only").has_audio is False


def test_damaged_headers_never_raise(clips: dict[str, Path], tmp_path: Path):
    """Bytes flipped in moov (the sample entries, the SPS, the tables): the probe answers
    facts or Unreadable, never an exception, whichever reader takes the file."""
    data = clips["plain"].read_bytes()
    moov = data.index(b"moov") - 4
    rng = random.Random(20)
    for i in range(40):
        damaged = bytearray(data)
        for _ in range(3):
            damaged[rng.randrange(moov + 8, len(data))] ^= 1 << rng.randrange(8)
        path = tmp_path / f"damaged{i}.mp4"
        path.write_bytes(bytes(damaged))
        got = probe_video(str(path), len(damaged), "mp4", iso=True)
        assert isinstance(got, (VideoFacts, Unreadable))


def test_an_sei_that_changes_the_transfer_leaves_the_file_to_mediainfo(
    clips: dict[str, Path], tmp_path: Path
):
    """MediaInfo also reads the first frames: an alternative transfer characteristics
    SEI (type 147, HLG streams) changes the transfer it reports, so a first sample
    carrying one is not read natively. Made by retyping x264's own SEI (type 5)."""
    data = bytearray(clips["bt709"].read_bytes())
    with open(clips["bt709"], "rb") as f:
        layout = isobmff.movie_layout(f)
    video = next(t for t in layout.tracks if t.handler == "vide")
    start = int.from_bytes(video.boxes[b"stco"][8:12], "big")
    at = start
    while data[at + 4] & 0x1F != 6:  # the first sample's NAL units, 4-byte lengths
        at += 4 + int.from_bytes(data[at : at + 4], "big")
    assert data[at + 5] == 5  # x264's user data unregistered
    retyped = tmp_path / "sei147.mp4"
    data[at + 5] = 147
    retyped.write_bytes(bytes(data))

    assert _native_fields(clips["bt709"]) is not None and _native_fields(retyped) is None
    facts = probe_video(str(retyped), retyped.stat().st_size, "mp4", iso=True)
    assert facts == probe_video(str(retyped), retyped.stat().st_size, "mp4", iso=True, native=False)
