"""IMG013: a corrupt EXIF block is reported by the default (header-only) check and
resolved by fix, which drops the block; good EXIF, a camera's included, is not
flagged. Issue 14: Instagram refuses such JPEGs (2207005/2207026)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.generate import make_image
from igpreflight import check, fix
from igpreflight.cli import cli
from igpreflight.preflight.exif import exif_problem
from igpreflight.preflight.probe import probe
from igpreflight.transcode.types import FixStatus
from tests.crafted import corrupt_exif


def _block(ifd0: bytes, order: str = "<", tail: bytes = b"") -> bytes:
    magic = b"II*\x00" if order == "<" else b"MM\x00*"
    return b"Exif\x00\x00" + magic + struct.pack(order + "I", 8) + ifd0 + tail


def _ifd(entries: list[tuple[int, int, int, int]], following: int = 0, order: str = "<") -> bytes:
    body = b"".join(struct.pack(order + "HHII", *e) for e in entries)
    return struct.pack(order + "H", len(entries)) + body + struct.pack(order + "I", following)


@pytest.mark.parametrize("order", ["<", ">"])
def test_a_well_formed_block_is_fine(order: str):
    # Orientation 6 (a SHORT held inline) and an ASCII make of 10 bytes stored after the IFD.
    ifd = _ifd([(0x0112, 3, 1, 6 << (16 if order == ">" else 0)), (0x010F, 2, 10, 38)], order=order)
    assert exif_problem(_block(ifd, order, b"Camera Co\x00")) is None


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        (b"Exif\x00\x00XX*\x00\x08\x00\x00\x00", "no TIFF header"),
        (_block(b""), "IFD0 directory starts at byte 8, outside the 8-byte block"),
        (_block(struct.pack("<H", 0x7FFF) + bytes(64)), "declares 32,767 entries"),
        (_block(_ifd([(0x010F, 2, 400, 26)])), "tag 0x010F in IFD0 points to 400 bytes"),
        (_block(_ifd([(0x8769, 4, 1, 8)])), "Exif directory at byte 8 is visited twice"),
        (_block(_ifd([(0x8825, 4, 1, 4000)])), "GPS directory starts at byte 4000"),
        (_block(_ifd([], following=8)), "IFD1 directory at byte 8 is visited twice"),
    ],
)
def test_broken_blocks_say_what_is_broken(block: bytes, needle: str):
    problem = exif_problem(block)
    assert problem is not None and needle in problem, problem


def test_check_reports_a_corrupt_exif_block_and_fix_drops_it(tmp_path: Path):
    good = make_image(tmp_path / "src.jpg", size=(1080, 1080))
    bad = corrupt_exif(good, tmp_path / "photo.jpg")
    (finding,) = check([bad]).errors
    assert finding.rule == "IMG013" and "declares 32,767 entries" in finding.message
    assert check([good]).errors == []
    r = CliRunner().invoke(cli, ["check", str(bad)], catch_exceptions=False)
    assert r.exit_code == 1 and "IMG013" in r.output
    (result,) = fix([bad], tmp_path / "out").files
    assert result.status is FixStatus.CONVERTED and result.after == []
    out = tmp_path / "out" / "photo.jpg"
    assert out.read_bytes() == good.read_bytes()
    assert check([out]).errors == []


def test_a_reencode_does_not_carry_the_corrupt_block(tmp_path: Path):
    """A corrupt block on an image fix re-encodes anyway (too wide): the encode resolves it."""
    good = make_image(tmp_path / "src.jpg", size=(2000, 1600))
    bad = corrupt_exif(good, tmp_path / "wide.jpg")
    assert {f.rule for f in check([bad]).errors} >= {"IMG013"}
    (result,) = fix([bad], tmp_path / "out", keep_metadata=True).files
    assert result.status is FixStatus.CONVERTED, result.reason
    encode = next(s for s in result.plan.steps if s.name == "encode")
    assert "IMG013" in encode.rules
    assert probe(tmp_path / "out" / "wide.jpg").exif_error is None


def test_camera_exif_is_not_flagged(corpus_dir: Path):
    """A Pixel 8 JPEG with 27 KB of EXIF (maker notes, GPS and Exif IFDs) and a
    motion photo: their blocks read, and the check reads no pixel for them."""
    for name in ("ultraHDR.jpg", "pixel-motion-photo-shortened.jpg"):
        photo = corpus_dir / "androidx-media" / name
        with Image.open(photo) as im:
            assert len(im.info["exif"]) > 900
        facts = probe(photo)
        assert facts.exif_error is None
        report = check([photo])
        assert "IMG013" not in {f.rule for f in report.errors + report.warnings}
