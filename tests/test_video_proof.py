"""The decode that proves a copied or remuxed video (and `check --deep`) runs on one
thread (a frame-threaded decode's verdict on damaged data depends on timing) and
skips the loop filter, which only smooths block edges of pictures already rebuilt:
on H.264 streams damaged inside their slice data, cut mid-frame or cut short, it
fails exactly where the full, deblocked decode fails, and passes what it passes.

Decoded in pieces cut at IDR pictures (video_proof), side by side, it still gives
the whole decode's verdict and complaint: damage just before and just after every
keyframe, in the first and the last piece, a last frame cut short, on CAVLC and
CABAC (B-frame) clips; a file cut short is decoded whole."""

from __future__ import annotations

import os
import random
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.preflight import isobmff, mp4_tables
from igpreflight.preflight.decode import ffmpeg_error
from igpreflight.preflight.video_proof import Proof
from igpreflight.storage import staging

REPO = Path(__file__).resolve().parents[1]


def _samples(path: Path) -> list[tuple[int, int]]:
    """(offset, size) of every video sample, from stco/stsc/stsz."""
    with open(path, "rb") as f:
        layout = isobmff.movie_layout(f)
    video = next(t for t in layout.tracks if t.handler == "vide")
    chunks = mp4_tables._chunk_offsets(video.boxes[b"stco"], wide=False)
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
        # the same with a keyframe every half second: four GOPs, three cuts
        "cavlc-gop": make_video(folder / "cavlc-gop.mp4", **common, extra_args=["-g", "15"]),
        "cabac-gop": make_video(
            folder / "cabac-gop.mp4", **common, extra_args=["-preset", "veryfast", "-g", "15"]
        ),
    }


def _keyframes(path: Path) -> list[int]:
    """0-based indexes of the sync samples, from stss."""
    with open(path, "rb") as f:
        layout = isobmff.movie_layout(f)
    stss = next(t for t in layout.tracks if t.handler == "vide").boxes[b"stss"]
    return [n - 1 for n in struct.unpack(f">{_count(stss)}I", stss[8:])]


def _mutants(clip: Path, folder: Path, frames: list[int] | None = None) -> dict[str, Path]:
    """Bits flipped in the slice data of `frames` (default: every 4th), the last
    frame cut in half, the file cut mid-frame."""
    data = clip.read_bytes()
    spans = _samples(clip)
    rng = random.Random(clip.name)
    out = {}
    for k in range(0, len(spans), 4) if frames is None else frames:
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
    return write_mutants(folder, clip, out)


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


def _around_cuts(clip: Path) -> list[int]:
    """The first and last frames, and the frames just before and just after every
    keyframe past the first."""
    count = len(_samples(clip))
    keys = _keyframes(clip)[1:]
    return sorted({0, 1, count - 1, *(k - 1 for k in keys), *keys})


@pytest.mark.parametrize("kind", ["cavlc-gop", "cabac-gop"])
def test_the_proof_in_pieces_says_what_the_whole_decode_says(clips, kind, tmp_path):
    clip = clips[kind]
    assert len(_keyframes(clip)) == 4
    proof = Proof(clip, 2.0, pieces=3)
    assert proof.verdict() is None and proof.piecewise
    failed = []
    mutants = _mutants(clip, tmp_path, _around_cuts(clip))
    for name, mutant in mutants.items():
        _, said = proved_as_whole(name, mutant, 2.0, pieces=3)
        if said is not None:
            failed.append(name)
    assert "last-frame-cut" in failed and "file-cut" in failed
    assert len(failed) >= len(mutants) // 2, failed
    # the damage in the first piece and in the last (after the last keyframe) is found
    last = len(_samples(clip)) - 1
    assert {n.rsplit("-", 1)[0] for n in failed} & {"flip-0", "flip-1"}, failed
    assert f"flip-{last}" in {n.rsplit("-", 1)[0] for n in failed}, failed


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


def proved_as_whole(
    name: str, mutant: Path, duration: float, pieces: int
) -> tuple[Proof, str | None]:
    """Prove `mutant` in `pieces`; assert its verdict is the whole decode's (with and
    without the loop filter) and its complaint the whole decode's first one."""
    proof = Proof(mutant, duration, pieces=pieces)
    said = proof.verdict()
    whole = ffmpeg_error(mutant, duration, video=True)
    full = ffmpeg_error(mutant, duration, video=True, deblock=True)
    assert proof.piecewise == (name != "file-cut"), name  # a cut file is decoded whole
    assert (said is None) == (whole is None) == (full is None), (name, said, whole, full)
    if said is not None:
        assert said.split(" at ")[0] == whole.split(" at ")[0], (name, said, whole)
    return proof, said


def write_mutants(folder: Path, clip: Path, mutants: dict[str, bytes]) -> dict[str, Path]:
    """Each mutant's bytes as `<clip>-<name>.mp4` in `folder`, by name."""
    paths = {}
    for name, content in mutants.items():
        path = folder / f"{clip.stem}-{name}.mp4"
        path.write_bytes(content)
        paths[name] = path
    return paths


PROVE_AND_WAIT = """
import sys, time
from pathlib import Path
from igpreflight.preflight.video_proof import Proof
proof = Proof(Path(sys.argv[1]), 2.0, pieces=3)
print("started", flush=True)
time.sleep(120)
"""


def test_a_proof_killed_mid_decode_leaves_no_folder_after_the_next_run(clips, tmp_path):
    """The pieces' headers live in the process's staging folder (storage/staging.py),
    so the folder a `kill -9` leaves is removed by the next igpreflight run."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", PROVE_AND_WAIT, str(clips["cavlc-gop"])],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 30
        while not list(temp.rglob("igpreflight-proof-*")) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert list(temp.rglob("igpreflight-proof-*")), "the proof made no folder"
    finally:
        proc.kill()
        proc.wait()
    assert staging.remove_stale(str(temp)) == 1
    assert list(temp.rglob("igpreflight-proof-*")) == []
