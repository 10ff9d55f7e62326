"""Property tests: whatever the size, aspect, mode, EXIF orientation and embedded
ICC profile (one that fits the pixels or one viewers ignore, `test_icc_misfit`),
the fixed image passes `check` with no error, and fixing it again is byte-identical.

Images are flat colour with one drawn block (cheap to encode and decode at 8000
px), and the pixel count is capped so one example costs well under a second.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from fixtures.generate import make_icc_profile
from fixtures.icc import make_space_profile
from igpreflight.model import Role, Severity
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.types import FixOptions, FixStatus

MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16"]
MAX_PIXELS = 12_000_000  # keeps each example cheap; sides still reach 8000 px
# The formats each mode is written in (Pillow can save it, and it is a real case).
FORMATS = {
    "1": ["PNG", "TIFF"],
    "L": ["PNG", "JPEG"],
    "LA": ["PNG"],
    "P": ["PNG", "GIF"],
    "RGB": ["JPEG", "PNG", "WEBP"],
    "RGBA": ["PNG", "WEBP"],
    "CMYK": ["JPEG", "TIFF"],
    "I;16": ["PNG", "TIFF"],
}
EXT = {"PNG": "png", "JPEG": "jpg", "TIFF": "tif", "GIF": "gif", "WEBP": "webp"}
PROFILES = {
    "srgb": make_icc_profile("srgb"),
    "display-p3": make_icc_profile("display-p3"),
    "sgray": make_space_profile("GRAY", "sGray"),
    "swop": make_space_profile("CMYK", "SWOP"),  # a label only: no tables to convert with
}
# The profiles each mode may carry (a CMYK image's profile must convert, and the
# generated CMYK one cannot).
MODE_PROFILES = {
    "RGB": [None, "srgb", "display-p3", "sgray", "swop"],
    "RGBA": [None, "srgb", "sgray"],
    "L": [None, "srgb", "sgray", "swop"],
}


def draw(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    w, h = size
    im = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, 180))
    ImageDraw.Draw(im).rectangle([w // 4, h // 4, w // 2, h // 2], fill=(250, 40, 40))
    if mode in ("RGBA", "LA"):
        im = im.convert(mode)
        im.putalpha(Image.new("L", size, 255 if seed % 2 else 128))
        return im
    if mode == "I;16":
        return im.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
    return im.convert(mode)


@st.composite
def images(
    draw_: st.DrawFn,
) -> tuple[str, str, tuple[int, int], int | None, int, str | None]:
    mode = draw_(st.sampled_from(MODES))
    fmt = draw_(st.sampled_from(FORMATS[mode]))
    w = draw_(st.integers(16, 8000))
    h = draw_(st.integers(16, 8000))
    assume(1 / 20 <= w / h <= 20 and w * h <= MAX_PIXELS)
    orientation = draw_(st.sampled_from([None, 1, 2, 3, 4, 5, 6, 7, 8]))
    if fmt == "GIF":
        orientation = None  # GIF has no EXIF
    seed = draw_(st.integers(0, 50))
    profile = draw_(st.sampled_from(MODE_PROFILES.get(mode, [None])))
    if fmt == "GIF":
        profile = None
    return mode, fmt, (w, h), orientation, seed, profile


def write(path: Path, mode: str, fmt: str, size, orientation, seed, profile=None) -> Path:
    im = draw(mode, size, seed)
    kw: dict[str, object] = {}
    if profile is not None:
        kw["icc_profile"] = PROFILES[profile]
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif.tobytes()
    if fmt == "JPEG":
        kw["quality"] = 85
    if fmt == "WEBP":
        kw["quality"] = 60
    im.save(path, fmt, **kw)
    return path


def errors(path: Path, role: Role) -> list[str]:
    return [
        f"{f.rule} {f.message}"
        for f in check_facts(probe(path), role)
        if f.severity is Severity.ERROR
    ]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=images(), aspect=st.sampled_from(["crop", "pad"]))
@example(case=("RGB", "JPEG", (8000, 400), 6, 1, None), aspect="crop")
@example(case=("I;16", "PNG", (16, 320), 8, 2, None), aspect="pad")
@example(case=("CMYK", "JPEG", (2000, 6000), 3, 3, None), aspect="pad")
@example(case=("P", "PNG", (320, 16), None, 4, None), aspect="crop")
@example(case=("RGB", "JPEG", (1080, 1080), None, 5, "sgray"), aspect="crop")
@example(case=("RGB", "JPEG", (1080, 1350), 6, 6, "swop"), aspect="crop")
@example(case=("L", "JPEG", (1080, 1080), None, 7, "display-p3"), aspect="crop")
def test_fixed_image_passes_and_fixing_again_is_identical(case, aspect):
    mode, fmt, size, orientation, seed, profile = case
    options = FixOptions(aspect=aspect, pad_color="blur" if seed % 3 == 0 else "white")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = write(root / f"in.{EXT[fmt]}", mode, fmt, size, orientation, seed, profile)
        before = src.read_bytes()
        (first,) = fix_paths([src], root / "once", options)
        assert first.ok, first.reason
        out = Path(first.output)
        assert errors(out, Role.FEED_IMAGE) == []
        (second,) = fix_paths([out], root / "twice", options)
        assert second.status is FixStatus.COPIED, [str(s) for s in second.plan.steps]
        assert Path(second.output).read_bytes() == out.read_bytes()
        assert src.read_bytes() == before  # the original is never touched
