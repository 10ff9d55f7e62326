"""The Pillow-free JPEG path (`preflight/jpeg_facts.py`, issue 20) gives exactly the
facts the Pillow path gives, field by field, or declines and leaves the file to
Pillow. Checked on every JPEG of fixtures/media and of the corpus, on a set made
here (modes, orientations, XMP, broken EXIF, profiles in chunks, MPO, truncation,
headers Pillow refuses), and on header variations hypothesis builds.
"""

from __future__ import annotations

import io
import struct
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.generate import make_icc_profile, make_image
from fixtures.icc import make_space_profile
from igpreflight.model import ImageFacts, Unreadable
from igpreflight.preflight.jpeg_facts import probe_jpeg
from igpreflight.preflight.probe_image import pillow_probe
from tests.corpus import corpus_files, needs_corpus
from tests.jpeg_bytes import drop, exif, insert, patch_sof, seg, short, take, xmp

REPO = Path(__file__).resolve().parents[1]


def both(data: bytes) -> tuple[ImageFacts | Unreadable | None, ImageFacts | Unreadable]:
    """(the JPEG path's answer or None, the Pillow path's) for these bytes."""
    fast = probe_jpeg("x.jpg", io.BytesIO(data), len(data), "jpg")
    slow = pillow_probe("x.jpg", io.BytesIO(data), len(data), "jpg", "jpeg")
    return fast, slow


def same_or_declined(data: bytes) -> ImageFacts | Unreadable | None:
    fast, slow = both(data)
    if fast is not None:
        assert (type(fast).__name__, asdict(fast)) == (type(slow).__name__, asdict(slow))
    return fast


def jpeg(tmp_path: Path, name: str = "base.jpg", **kwargs) -> bytes:
    kwargs.setdefault("size", (64, 48))
    return make_image(tmp_path / name, **kwargs).read_bytes()


def is_jpeg(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(3) == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    "path", [p for p in sorted((REPO / "fixtures" / "media").iterdir()) if is_jpeg(p)], ids=str
)
def test_fixture_jpegs_give_the_pillow_facts(path: Path):
    assert same_or_declined(path.read_bytes()) is not None or path.name == "display-p3.jpg"


@needs_corpus
def test_corpus_jpegs_give_the_pillow_facts():
    files = [p for p in corpus_files() if is_jpeg(p)]
    answered = [p.name for p in files if same_or_declined(p.read_bytes()) is not None]
    # The corpus is mostly camera JPEGs: the walk answers nearly all of them.
    assert len(answered) >= len(files) * 3 // 4, (len(answered), len(files))


# ------------------------------------------------------------ a generated set


def jfif(unit: int) -> bytes:
    """A JFIF APP0 payload of 72x72 in `unit` (0 none, 1 inches, 2 cm)."""
    return b"JFIF\0\x01\x01" + bytes([unit]) + struct.pack(">HH", 72, 72) + b"\0\0"


def orientation_cases(base: bytes) -> dict[str, tuple[bytes, int | None]]:
    """name -> (bytes, the orientation Pillow reports, or None when the walk declines)."""
    ori6 = [(0x0112, 3, 1, short(6))]
    past_end = (0x010E, 2, 10, struct.pack("<L", 5000))  # ImageDescription past the block
    huge = (0x010E, 2, 1 << 30, struct.pack("<L", 40))  # more than the block: skipped
    xmp6 = seg(0xE1, xmp('<rdf:Description tiff:Orientation="6"/>'))
    app1 = lambda payload: seg(0xE1, payload)  # noqa: E731
    byte_dpi = [(0x0128, 3, 1, short(2)), (0x011A, 1, 1, b"\x05")]
    block = exif([(0x0112, 3, 1, short(6, ">"))], order=">")
    return {
        "xmp-only": (insert(base, xmp6), 6),
        "xmp-element": (
            insert(
                base,
                seg(
                    0xE1,
                    xmp(
                        "<rdf:Description><tiff:Orientation>8</tiff:Orientation></rdf:Description>"
                    ),
                ),
            ),
            8,
        ),
        "exif-wins-over-xmp": (insert(base, app1(exif([(0x0112, 3, 1, short(3))])), xmp6), 3),
        "exif-without-orientation-then-xmp": (
            insert(base, app1(exif([(0x0131, 2, 4, b"abc\0")])), xmp6),
            6,
        ),
        "big-endian": (insert(base, app1(block)), 6),
        "two-exif-headers": (insert(base, app1(b"Exif\0\0" + exif(ori6))), 6),
        "exif-in-two-segments": (insert(base, app1(block[:20]), app1(b"Exif\0\0" + block[20:])), 6),
        "orientation-9": (insert(base, app1(exif([(0x0112, 3, 1, short(9))]))), 1),
        "walk-stops-at-a-value-past-the-end": (insert(base, app1(exif([past_end, *ori6]))), 1),
        "a-value-larger-than-the-file-is-skipped": (insert(base, app1(exif([huge, *ori6]))), 6),
        "first-of-two-orientations": (
            insert(base, app1(exif([*ori6, (0x0112, 3, 1, short(3))]))),
            6,
        ),
        "ifd-count-past-the-block": (insert(base, app1(exif(ori6, count=400))), 6),
        "not-tiff-ignores-xmp": (insert(base, app1(b"Exif\0\0NOPE1234"), xmp6), 1),
        "short-tiff-header": (insert(base, app1(b"Exif\0\0II*\x00\x08")), 1),
        "empty-exif": (insert(base, app1(b"Exif\0\0"), xmp6), 6),
        "orientation-long": (
            insert(base, app1(exif([(0x0112, 4, 1, struct.pack("<L", 6))]))),
            None,
        ),
        "orientation-two-shorts": (insert(base, app1(exif([(0x0112, 3, 2, short(6) * 2)]))), None),
        "bigtiff": (insert(base, app1(b"Exif\0\0II+\x00\x08\x00\x00\x00" + bytes(16))), None),
        # No JFIF density: Pillow reads the DPI from EXIF while opening, and a one-byte
        # XResolution makes it raise IndexError (it cannot open the file).
        "dpi-from-a-byte": (
            insert(
                drop(base, 0xE0), app1(exif([(0x0128, 3, 1, short(2)), (0x011A, 1, 1, b"\x05")]))
            ),
            None,
        ),
        # A JFIF density in inches or cm is the DPI: Pillow reads none from EXIF.
        "dpi-from-jfif-not-the-byte": (
            insert(drop(base, 0xE0), seg(0xE0, jfif(1)), app1(exif(byte_dpi))),
            1,
        ),
        "jfif-without-unit-dpi-from-the-byte": (
            insert(drop(base, 0xE0), seg(0xE0, jfif(0)), app1(exif(byte_dpi))),
            None,
        ),
        "dpi-from-a-rational": (
            insert(
                drop(base, 0xE0),
                app1(
                    exif(
                        [(0x0128, 3, 1, short(2)), (0x011A, 5, 1, struct.pack("<L", 38)), *ori6],
                        extra=struct.pack("<LL", 72, 1),
                    )
                ),
            ),
            6,
        ),
    }


def test_orientation_as_pillow_reads_it(tmp_path: Path):
    base = jpeg(tmp_path)
    for name, (data, orientation) in orientation_cases(base).items():
        fast, slow = both(data)
        if orientation is None:
            assert fast is None, name
            continue
        assert isinstance(slow, ImageFacts) and slow.orientation == orientation, (name, slow)
        assert fast == slow, name


def test_camera_orientations_modes_and_progressive(tmp_path: Path):
    made = [jpeg(tmp_path, f"o{n}.jpg", orientation=n) for n in range(1, 9)]
    made += [jpeg(tmp_path, "grey.jpg", mode="L"), jpeg(tmp_path, "cmyk.jpg", mode="CMYK")]
    made += [jpeg(tmp_path, "prog.jpg", progressive=True)]
    for data in made:
        assert same_or_declined(data) is not None
    cmyk = made[-2]
    at = cmyk.index(b"Adobe") + 11
    ycck = cmyk[:at] + b"\x02" + cmyk[at + 1 :]
    fast = same_or_declined(ycck)
    assert isinstance(fast, ImageFacts) and fast.colorspace == "YCCK"
    assert [same_or_declined(d).orientation for d in made[:8]] == list(range(1, 9))  # type: ignore[union-attr]


def test_profiles_whole_in_chunks_out_of_order_and_misplaced(tmp_path: Path):
    grey_profile = make_space_profile("GRAY", "sGray")
    answered = {
        "srgb": jpeg(tmp_path, "srgb.jpg", icc="srgb"),
        "p3": jpeg(tmp_path, "p3.jpg", icc="display-p3"),
        "sgray-on-grey": jpeg(tmp_path, "g.jpg", mode="L", icc=grey_profile),
        "sgray-on-colour": jpeg(tmp_path, "gc.jpg", icc=grey_profile),
    }
    big = bytearray(make_icc_profile("display-p3") + bytes(150_000))
    big[0:4] = struct.pack(">I", len(big))
    chunked = jpeg(tmp_path, "big.jpg", icc=bytes(big))
    chunks = take(chunked, 0xE2)
    assert len(chunks) == 3
    without = drop(chunked, 0xE2)
    answered["chunks"] = chunked
    answered["chunks-out-of-order"] = insert(without, chunks[2], chunks[0], chunks[1])
    miscounted = [c[:17] + b"\x05" + c[18:] for c in chunks]  # "of 5": Pillow drops it
    answered["chunks-miscounted"] = insert(without, *miscounted)
    answered["chunks-after-the-frame"] = insert(without, *chunks, before=0xC4)
    for name, data in answered.items():
        fast = same_or_declined(data)
        assert isinstance(fast, ImageFacts), name
    assert same_or_declined(answered["p3"]).icc_name == "Display P3"  # type: ignore[union-attr]
    assert same_or_declined(answered["chunks-miscounted"]).icc_name is None  # type: ignore[union-attr]
    assert same_or_declined(answered["sgray-on-colour"]).icc_misfit == "GRAY"  # type: ignore[union-attr]
    stub = seg(0xE2, b"ICC_PROFILE\0\x01")  # Pillow's open raises on it
    assert same_or_declined(insert(answered["srgb"], stub)) is None


def test_headers_pillow_refuses_or_reads_otherwise_are_left_to_it(tmp_path: Path):
    base = jpeg(tmp_path)
    photoshop_res = b"Photoshop 3.0\x008BIM\x03\xed\x00\x00" + struct.pack(">I", 16) + bytes(16)
    declined = {
        "12-bit": patch_sof(base, 0, b"\x0c"),
        "2-components": patch_sof(base, 5, b"\x02"),
        "zero-width": patch_sof(base, 3, b"\x00\x00"),
        "short-jfif": insert(drop(base, 0xE0), seg(0xE0, b"JFIF\0")),
        "short-adobe": insert(base, seg(0xEE, b"Adobe")),
        "photoshop-cut-at-a-name": insert(base, seg(0xED, b"Photoshop 3.0\x008BIM\x03\xed")),
        "bad-quantization-table": insert(base, seg(0xDB, bytes(10)), before=-1),
        "a-second-frame": insert(base, take(base, 0xC0)[0], before=0xDA),
        "a-frame-header-with-a-stray-byte": insert(
            drop(base, 0xC0), seg(0xC0, take(base, 0xC0)[0][4:] + b"\x00"), before=0xDA
        ),
        "dhp-marker": insert(base, seg(0xDE, bytes(8))),
        "jpg-extension-marker": insert(base, seg(0xF0, bytes(8))),
    }
    for name, data in declined.items():
        assert same_or_declined(data) is None, name
    answered = {
        "photoshop-resolution": insert(base, seg(0xED, photoshop_res)),
        "comment": insert(base, seg(0xFE, b"made here")),
        "trailing-bytes": base + b"trailing junk" * 50,
        "truncated-scan": base[: len(base) * 3 // 4],
        "truncated-header": base[:30],
        "bomb": patch_sof(base, 1, b"\xea\x60\xea\x60"),
    }
    for name, data in answered.items():
        assert same_or_declined(data) is not None, name
    assert isinstance(same_or_declined(answered["bomb"]), Unreadable)


def mpf(entries: list[int], count: int | None = None, order: str = ">", cut: int = 0) -> bytes:
    """An APP2 MPF payload: an MP Index of `count` images whose MP Entries carry
    these attributes (type and format bits), the entry table cut by `cut` bytes."""
    table = b"".join(
        struct.pack(order + "LLLHH", a, 1000, 0 if i == 0 else 5000, 0, 0)
        for i, a in enumerate(entries)
    )[: max(0, 16 * len(entries) - cut)]
    n = len(entries) if count is None else count
    tags = [
        (0xB000, 7, 4, b"0100"),
        (0xB001, 4, 1, struct.pack(order + "L", n)),
        (0xB002, 7, len(table), struct.pack(order + "L", 8 + 2 + 12 * 3 + 4)),
    ]
    return b"MPF\0" + exif(tags, order=order, extra=table, head=b"")  # fmt: skip


PRIMARY, PREVIEW, DISPARITY, ANGLE = 0x20030000, 0x00010001, 0x00020002, 0x00020003


def test_mpf_as_pillow_reads_it(tmp_path: Path):
    """A gain map or preview keeps a JPEG; a stereo or multi-angle MP Index makes an
    MPO of as many frames; a malformed index, one image or Ultra HDR keeps a JPEG."""
    from PIL import Image

    path = tmp_path / "pair.mpo"
    im = Image.new("RGB", (64, 48), "red")
    im.save(path, "MPO", save_all=True, append_images=[im.copy()])
    base = jpeg(tmp_path)
    hdr = seg(0xE1, xmp('<rdf:Description hdrgm:Version="1.0"/>'))
    cases = {
        "pillow's-own": (path.read_bytes(), ("JPEG", 1)),
        "gain-map": (insert(base, seg(0xE2, mpf([PRIMARY, PREVIEW]))), ("JPEG", 1)),
        "stereo": (insert(base, seg(0xE2, mpf([PRIMARY, DISPARITY]))), ("MPO", 2)),
        "three-angles": (insert(base, seg(0xE2, mpf([PRIMARY, ANGLE, ANGLE], order="<"))),
                         ("MPO", 3)),
        "ultra-hdr": (insert(base, hdr, seg(0xE2, mpf([PRIMARY, DISPARITY]))), ("JPEG", 1)),
        "one-image": (insert(base, seg(0xE2, mpf([PRIMARY]))), ("JPEG", 1)),
        "entries-cut": (insert(base, seg(0xE2, mpf([PRIMARY, DISPARITY], cut=4))), ("JPEG", 1)),
        "not-jpeg-data": (insert(base, seg(0xE2, mpf([PRIMARY, ANGLE, ANGLE | 1 << 24]))),
                          ("JPEG", 1)),
        "only-the-first-a-view": (insert(base, seg(0xE2, mpf([DISPARITY, PREVIEW]))),
                                  ("JPEG", 1)),
        "count-over-entries": (insert(base, seg(0xE2, mpf([PRIMARY, DISPARITY], count=5))),
                               ("JPEG", 1)),
    }  # fmt: skip
    for name, (data, (fmt, frames)) in cases.items():
        fast = same_or_declined(data)
        assert isinstance(fast, ImageFacts), name
        assert (fast.format, fast.frames) == (fmt, frames), name
    twice = insert(base, seg(0xE2, mpf([PRIMARY, PREVIEW])), seg(0xE2, mpf([PRIMARY, PREVIEW])))
    assert same_or_declined(twice) is None
    # An MPO's bomb message names MPO, a gain map's too (Pillow opened an MPO).
    giant = patch_sof(cases["gain-map"][0], 1, b"\x07\xd0\x07\xd0")  # 4 MP in 1 KB
    assert "MPO header declares" in same_or_declined(giant).reason  # type: ignore[union-attr]


# ------------------------------------------------------------ hypothesis

_ENTRY = st.tuples(
    st.sampled_from([0x0112, 0x0128, 0x011A, 0x010E, 0x8769]),
    st.sampled_from([1, 2, 3, 4, 5, 7, 99]),
    st.sampled_from([0, 1, 2, 3, 40, 1 << 20]),
    st.binary(min_size=4, max_size=4),
)
_SEGMENT = st.one_of(
    st.builds(lambda e, o, x: seg(0xE1, exif(e, order=o, extra=x)),
              st.lists(_ENTRY, max_size=5), st.sampled_from("<>"), st.binary(max_size=64)),
    st.builds(lambda v: seg(0xE1, xmp(f'<rdf:Description tiff:Orientation="{v}"/>')),
              st.integers(0, 9)),
    st.builds(lambda b: seg(0xE1, b"Exif\0\0" + b), st.binary(max_size=40)),
    st.builds(lambda n, k, b: seg(0xE2, b"ICC_PROFILE\0" + bytes([n, k]) + b),
              st.integers(0, 3), st.integers(0, 3), st.binary(max_size=20)),
    st.builds(lambda b: seg(0xE0, b"JFIF\0" + b), st.binary(max_size=12)),
    st.builds(lambda b: seg(0xEE, b"Adobe" + b), st.binary(max_size=10)),
    st.builds(lambda b: seg(0xED, b"Photoshop 3.0\x008BIM" + b), st.binary(max_size=24)),
    st.builds(lambda m, b: seg(m, b), st.sampled_from([0xDB, 0xFE, 0xE5, 0xF1, 0xC4]),
              st.binary(max_size=140)),
    st.builds(lambda e, c, o, cut: seg(0xE2, mpf(e, c, o, cut)),
              st.lists(st.sampled_from([PRIMARY, PREVIEW, DISPARITY, ANGLE, 1 << 24, 0]),
                       max_size=4),
              st.one_of(st.none(), st.integers(0, 6)), st.sampled_from("<>"),
              st.integers(0, 20)),
    st.just(seg(0xE1, xmp('<rdf:Description hdrgm:Version="1.0"/>'))),
    st.builds(lambda b: seg(0xE2, b"MPF\0" + b), st.binary(max_size=40)),
)  # fmt: skip
_BASE: dict[str, bytes] = {}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_SEGMENT, max_size=5),
    st.booleans(),
    st.sampled_from(["RGB", "L", "CMYK"]),
)
def test_header_variations_give_the_pillow_facts_or_are_declined(segs, keep_jfif, mode):
    if mode not in _BASE:
        out = io.BytesIO()
        from PIL import Image

        Image.new(mode, (32, 24)).save(out, "JPEG")
        _BASE[mode] = out.getvalue()
    base = _BASE[mode] if keep_jfif else drop(_BASE[mode], 0xE0)
    same_or_declined(insert(base, *segs))
