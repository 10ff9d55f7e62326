"""The decode that proves a copied or remuxed video (and `check --deep`) runs on one
thread (a frame-threaded decode's verdict on damaged data depends on timing) and
skips the loop filter, which only smooths block edges of pictures already rebuilt:
on H.264 streams damaged inside their slice data, cut mid-frame or cut short, it
fails exactly where the full, deblocked decode fails, and passes what it passes."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.preflight import isobmff
from igpreflight.preflight.decode import ffmpeg_error


def _samples(path: Path) -> list[tuple[int, int]]:
    """(offset, size) of every video sample, from stco/stsc/stsz."""
    with open(path, "rb") as f:
        layout = isobmff.movie_layout(f)
    video = next(t for t in layout.tracks if t.handler == "vide")
    chunks = isobmff._chunk_offsets(video.boxes[b"stco"], wide=False)
    stsc = video.boxes[b"stsc"]
    runs = [struct.unpack(">III", stsc[8 + 12 * i : 20 + 12 * i]) for i in range(_count(stsc))]
    stsz = video.boxes[b"stsz"]
    sizes = struct.unpack(f">{_count(stsz, 8)}I", stsz[12:])
    spans, sample = [], 0
    for index, offset in enumerate(chunks, start=1):
        per_chunk = next(n for first, n, _ in reversed(runs) if first <= index)
        for _ in range(per_chunk):
            spans.append((offset, sizes[sample]))
            offset += sizes[sample]
            sample += 1
    return spans


def _count(table: bytes, at: int = 4) -> int:
    return int(struct.unpack(">I", table[at : at + 4])[0])


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("proof")
    common = dict(width=320, height=240, fps=30, duration=2.0, bitrate="2M")
    return {
        # ultrafast: CAVLC, no deblocking, P frames only
        "cavlc": make_video(folder / "cavlc.mp4", **common),
        # CABAC, deblocking, B frames: what cameras and encoders write
        "cabac": make_video(folder / "cabac.mp4", **common, extra_args=["-preset", "veryfast"]),
    }


def _mutants(clip: Path, folder: Path) -> dict[str, Path]:
    data = clip.read_bytes()
    spans = _samples(clip)
    rng = random.Random(clip.name)
    out = {}
    for k in range(0, len(spans), 4):
        offset, size = spans[k]
        for n in range(2):  # bits flipped inside the slice data (past its NAL headers)
            damaged = bytearray(data)
            for _ in range(2):
                damaged[offset + rng.randrange(size // 5, size)] ^= 1 << rng.randrange(8)
            out[f"flip-{k}-{n}"] = bytes(damaged)
    # A frame cut in half: the last sample's size halved in stsz (the file stays whole).
    stsz_entries = data.index(b"stsz") + 4 + 8
    last = stsz_entries + 4 * (len(spans) - 1)
    (size,) = struct.unpack(">I", data[last : last + 4])
    halved = bytearray(data)
    halved[last : last + 4] = struct.pack(">I", size // 2)
    out["last-frame-cut"] = bytes(halved)
    # The file cut short in the middle of a frame's data (moov is at the front).
    middle_offset, middle_size = spans[len(spans) // 2]
    out["file-cut"] = data[: middle_offset + middle_size // 2]
    paths = {}
    for name, content in out.items():
        path = folder / f"{clip.stem}-{name}.mp4"
        path.write_bytes(content)
        paths[name] = path
    return paths


@pytest.mark.parametrize("kind", ["cavlc", "cabac"])
def test_the_proof_fails_exactly_where_the_full_decode_fails(clips, kind, tmp_path):
    """Deterministic: each verdict is the same on every run (one thread)."""
    clip = clips[kind]
    assert ffmpeg_error(clip, 2.0, video=True) is None
    assert ffmpeg_error(clip, 2.0, video=True, deblock=True) is None
    failed = []
    mutants = _mutants(clip, tmp_path)
    for name, mutant in mutants.items():
        proof = ffmpeg_error(mutant, 2.0, video=True)
        full = ffmpeg_error(mutant, 2.0, video=True, deblock=True)
        assert (proof is None) == (full is None), (name, proof, full)
        if proof is not None:
            assert proof.split(" at ")[0] == full.split(" at ")[0], (name, proof, full)
            failed.append(name)
    # Most mutants are caught (a flipped bit may decode as valid syntax, or land in
    # data no picture shows), and every cut one.
    assert "last-frame-cut" in failed and "file-cut" in failed
    assert len(failed) >= len(mutants) // 2, failed


def test_the_bundled_ffmpeg_is_found_without_running_it(monkeypatch):
    import imageio_ffmpeg

    ffmpeg_exe.cache_clear()
    monkeypatch.delenv("IGPREFLIGHT_FFMPEG", raising=False)
    try:
        assert ffmpeg_exe() == imageio_ffmpeg.get_ffmpeg_exe()
        monkeypatch.setenv("IGPREFLIGHT_FFMPEG", "/opt/ffmpeg/bin/ffmpeg")
        ffmpeg_exe.cache_clear()
        assert ffmpeg_exe() == "/opt/ffmpeg/bin/ffmpeg"
    finally:
        ffmpeg_exe.cache_clear()
