"""The Pillow-free JPEG path (`preflight/jpeg_facts.py`) against JPEGs other encoders
and tools make, and against byte damage a segment-level generator does not reach.

A new-user trial ran it on files from cjpeg, jpegtran, exiftool, exiv2, jhead,
ImageMagick, GraphicsMagick, vips, guetzli, jpegoptim, netpbm, djxl, simplejpeg and
ffmpeg (mjpeg, lossless ljpeg, JPEG-LS, frames copied out of AVI and MOV) and on
thousands of header mutations: every answer equalled the Pillow path's. The cases
below pin the readings that trial showed no other test holding (each one a way the
walk could drift from Pillow 13 unseen). ffmpeg comes with imageio-ffmpeg; the other
tools are optional extras, skipped with a reason when absent.
"""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from igpreflight.model import ImageFacts, Unreadable
from tests.jpeg_bytes import drop, exif, insert, seg, segments, short, xmp
from tests.test_jpeg_facts import DISPARITY, PRIMARY, both, jfif, jpeg, mpf, same_or_declined

ORI6 = (0x0112, 3, 1, short(6))
BYTE_DPI = [(0x0128, 3, 1, short(2)), (0x011A, 1, 1, b"\x05")]  # Pillow raises reading it


def facts(data: bytes) -> ImageFacts:
    """The fast path's answer, which must be the Pillow path's ImageFacts."""
    fast = same_or_declined(data)
    assert isinstance(fast, ImageFacts), fast
    return fast


def test_exif_and_xmp_readings_pillow_keeps(tmp_path: Path):
    base = jpeg(tmp_path)
    xmp6 = seg(0xE1, xmp('<rdf:Description tiff:Orientation="6"/>'))
    # Pillow strips "Exif\0\0" at most twice: a third leaves no TIFF header.
    thrice = seg(0xE1, b"Exif\0\0" * 2 + exif([ORI6]))
    assert facts(insert(base, thrice)).orientation == 1
    # An orientation out of 1-8 is still an orientation: the XMP one does not count.
    for bad in (0, 9):
        out_of_range = seg(0xE1, exif([(0x0112, 3, 1, short(bad))]))
        assert facts(insert(base, out_of_range, xmp6)).orientation == 1, bad
    # XMP in an APP2 is not Pillow's info["xmp"]; its pattern reads one digit.
    assert facts(insert(base, seg(0xE2, xmp6[4:]))).orientation == 1
    digits = seg(0xE1, xmp('<rdf:Description tiff:Orientation="36"/>'))
    assert facts(insert(base, digits)).orientation == 3


def test_jfif_density_decides_whether_pillow_reads_exif_dpi(tmp_path: Path):
    base = drop(jpeg(tmp_path), 0xE0)
    # A density in centimetres is Pillow's DPI too: the EXIF one is not read.
    assert facts(insert(base, seg(0xE0, jfif(2)), seg(0xE1, exif(BYTE_DPI)))).orientation == 1
    # A JFIF cut inside its density gives no DPI: Pillow reads the EXIF one and raises.
    cut = seg(0xE0, jfif(1)[:11])
    assert same_or_declined(insert(base, cut, seg(0xE1, exif(BYTE_DPI)))) is None
    assert facts(insert(base, cut, seg(0xE1, exif([ORI6])))).orientation == 6


def resource(code: int, data: bytes) -> bytes:
    """A Photoshop image resource with an empty name (padded to even) and even data."""
    return b"8BIM" + struct.pack(">HBxI", code, 0, len(data)) + data + b"\0" * (len(data) & 1)


def test_photoshop_resources_walked_to_the_end(tmp_path: Path):
    base = jpeg(tmp_path)
    whole = b"Photoshop 3.0\x00" + resource(0x0404, bytes(30)) + resource(0x03ED, bytes(16))
    assert facts(insert(base, seg(0xED, whole)))
    # A resource cut at its name after whole ones: Pillow's walk raises IndexError.
    cut = whole + resource(0x0425, bytes(16)) + b"8BIM\x04\x04"
    assert same_or_declined(insert(base, seg(0xED, cut))) is None


def test_ultra_hdr_and_mp_formats_as_pillow_tells_them(tmp_path: Path):
    base = jpeg(tmp_path)
    stereo = seg(0xE2, mpf([PRIMARY, DISPARITY]))
    # Pillow spots Ultra HDR by ' hdrgm:Version="' only: a newline before it, or the
    # element form, leaves a stereo MP Index an MPO.
    for form in ('\nhdrgm:Version="1.0"', "><hdrgm:Version>1.0</hdrgm:Version"):
        hdr = seg(0xE1, xmp(f"<rdf:Description{form}/>"))
        got = facts(insert(base, hdr, stereo))
        assert (got.format, got.frames) == ("MPO", 2), form
    # Any image data format but JPEG (0) in an MP Entry keeps the file a JPEG.
    got = facts(insert(base, seg(0xE2, mpf([PRIMARY, DISPARITY | 4 << 24]))))
    assert (got.format, got.frames) == ("JPEG", 1)


def test_fill_bytes_are_read_and_a_marker_without_a_length_left_to_pillow(tmp_path: Path):
    """Fill bytes (0xFF runs) before a marker are legal: both read past them. JPG
    (0xC8) has no handler in Pillow: it reads on byte by byte, into what the segment
    holds. The walk cannot follow that and declines."""
    base = jpeg(tmp_path)
    assert facts(insert(base, b"\xff" * 3, before=0xDB))
    hidden = seg(0xC8, seg(0xE1, exif([ORI6])))  # for Pillow, an EXIF segment
    fast, slow = both(insert(base, hidden))
    assert fast is None and isinstance(slow, ImageFacts) and slow.orientation == 6


# ------------------------------------------------------------ byte damage


def mutate(data: bytes, r: random.Random) -> bytes:
    """One damage a file can take in its header: a byte changed, a cut, a segment
    length changed, an empty segment, garbage, fill bytes, a stray marker, a
    segment's marker changed."""
    d = bytearray(data)
    segs = segments(data)
    end = segs[-1][2] if segs else len(d)
    marker, start, stop = r.choice(segs)
    kind = r.randrange(8)
    if kind == 0:
        d[r.randrange(2, min(end, len(d)))] = r.randrange(256)
    elif kind == 1:
        del d[r.randrange(2, len(d)) :]
    elif kind == 2:
        d[start + 2 : start + 4] = struct.pack(">H", r.choice([0, 1, 2, 3, stop - start - 1]))
    elif kind == 3:
        d[start:start] = seg(r.choice([0xE0, 0xE1, 0xE2, 0xED, 0xEE, 0xFE, 0xDB]), b"")
    elif kind == 4:
        d[start:start] = bytes(r.randrange(256) for _ in range(r.randint(1, 3)))
    elif kind == 5:
        d[start:start] = b"\xff" * r.randint(1, 4)
    elif kind == 6:
        d[start:start] = bytes([0xFF, r.choice([0xD8, 0xD9, 0xD0, 0x01, 0xC8, 0xF7])])
    else:
        d[start + 1] = r.choice([0xC0, 0xC2, 0xC3, 0xC4, 0xDB, 0xDD, 0xE1, 0xE2, 0xED, 0xEE])
    return bytes(d)


def test_header_damage_gives_the_pillow_facts_or_is_declined(tmp_path: Path):
    from fixtures.generate import make_image

    made = [jpeg(tmp_path, "ori.jpg", orientation=6, icc="srgb")]
    made += [jpeg(tmp_path, "cmyk.jpg", mode="CMYK"), jpeg(tmp_path, "p.jpg", progressive=True)]
    made.append(make_image(tmp_path / "g.jpg", size=(40, 30), mode="L").read_bytes())
    r = random.Random(20)
    answered = 0
    for _ in range(400):
        answered += same_or_declined(mutate(r.choice(made), r)) is not None
    assert answered > 200  # damage is mostly answered (as Unreadable or facts), not declined


# ------------------------------------------------------------ tool-made files


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def test_ffmpeg_jpegs(tmp_path: Path):
    """ffmpeg's mjpeg (JFIF or AVI1 headers), lossless ljpeg (SOF3) and JPEG-LS."""
    src = tmp_path / "src.png"
    from PIL import Image

    Image.radial_gradient("L").resize((97, 61)).convert("RGB").save(src)
    runs = {f"mjpeg-{p}": ["-c:v", "mjpeg", "-pix_fmt", p] for p in
            ("yuvj420p", "yuvj422p", "yuvj444p", "gray")}  # fmt: skip
    runs["ljpeg"] = ["-c:v", "ljpeg", "-strict", "-1", "-pix_fmt", "yuvj444p"]
    runs["ljpeg-bgr"] = ["-c:v", "ljpeg", "-pix_fmt", "bgr24"]
    runs["jpegls"] = ["-c:v", "jpegls", "-pix_fmt", "rgb24"]
    answers = {}
    for name, args in runs.items():
        out = tmp_path / f"{name}.jpg"
        cmd = [_ffmpeg(), "-loglevel", "error", "-y", "-i", str(src), *args, "-f", "image2"]
        subprocess.run([*cmd, str(out)], check=True, timeout=60)
        answers[name] = same_or_declined(out.read_bytes())
    avi = tmp_path / "x.avi"
    subprocess.run([_ffmpeg(), "-loglevel", "error", "-i", str(src), "-c:v", "mjpeg", str(avi)],
                   check=True, timeout=60)  # fmt: skip
    frame = tmp_path / "avi.jpg"
    subprocess.run([_ffmpeg(), "-loglevel", "error", "-i", str(avi), "-c", "copy", "-f", "image2",
                    str(frame)], check=True, timeout=60)  # fmt: skip
    answers["avi1"] = same_or_declined(frame.read_bytes())
    assert answers.pop("ljpeg-bgr") is None and answers.pop("jpegls") is None  # Pillow refuses
    assert all(isinstance(a, ImageFacts) for a in answers.values()), answers


TOOLS = {
    "cjpeg": [["-arithmetic"], ["-restart", "1"], ["-progressive"], ["-rgb"], ["-grayscale"]],
    "jpegtran": [["-copy", "all", "-rotate", "90"], ["-copy", "none", "-progressive"]],
    "exiftool": [["-n", "-EXIF:Orientation=3", "-ExifByteOrder=MM"],
                 ["-n", "-XMP-tiff:Orientation=5"], ["-IPTC:Keywords=k", "-Comment=c"],
                 ["-m", "-n", "-EXIF:Orientation=0", "-XMP-tiff:Orientation=6"]],
    "exiv2": [["-M", "set Exif.Image.Orientation Long 6"],
              ["-M", "set Exif.Image.Orientation Short 8"]],
}  # fmt: skip


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_tool_made_jpegs(tmp_path: Path, tool: str):
    """Optional extras: cjpeg, jpegtran, exiftool and exiv2, when installed."""
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (an optional extra of the trial)")
    from PIL import Image

    base = tmp_path / "base.jpg"
    Image.radial_gradient("L").resize((97, 61)).convert("RGB").save(base, quality=80)
    ppm = tmp_path / "src.ppm"
    Image.open(base).save(ppm)
    for k, args in enumerate(TOOLS[tool]):
        out = tmp_path / f"{k}.jpg"
        if tool == "cjpeg":
            cmd = [exe, *args, "-outfile", str(out), str(ppm)]
        elif tool == "jpegtran":
            cmd = [exe, *args, "-outfile", str(out), str(base)]
        else:
            out.write_bytes(base.read_bytes())
            extra = ["-q", "-q", "-overwrite_original"] if tool == "exiftool" else ["-q"]
            cmd = [exe, *extra, *args, str(out)]
        subprocess.run(cmd, check=True, timeout=60, capture_output=True)
        fast, slow = both(out.read_bytes())
        assert isinstance(slow, ImageFacts), (args, slow)
        assert fast is None or fast == slow, args
        assert not isinstance(fast, Unreadable)
