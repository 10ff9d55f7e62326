"""The fixer's Lanczos resize in two bands at once (transcode/image_resize.py): its
bands meet without a seam, it looks like Pillow's own Lanczos, the band work runs on
a second thread, and a shrink Pillow reduces first is Pillow's one call."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from igpreflight.transcode import image_resize

LANCZOS = Image.Resampling.LANCZOS
PREMULTIPLIED = {"RGBA": "RGBa", "LA": "La"}


def noise(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (size[1], size[0], len(mode)), dtype=np.uint8)
    return Image.frombytes(mode, size, data.tobytes())


def photo(size: tuple[int, int]) -> Image.Image:
    """Smooth shapes over a gradient, as a camera's picture is, not noise."""
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(im)
    for i in range(8):
        x, y = (i * 137) % size[0], (i * 89) % size[1]
        draw.ellipse([x, y, x + size[0] // 5, y + size[1] // 5], fill=(40 * i % 256, 200, 90))
    return im.filter(ImageFilter.GaussianBlur(2))


def levels(im: Image.Image) -> np.ndarray:
    """Pixels as ints, alpha modes premultiplied (a colour under alpha 1 is noise)."""
    if im.mode in PREMULTIPLIED:
        im = im.convert(PREMULTIPLIED[im.mode])
    return np.asarray(im).astype(int)


def one_band(im: Image.Image, size: tuple[int, int], box) -> Image.Image:
    """The same two one-way passes over the whole width: what the bands must add up to."""
    mode = im.mode
    source = im.convert(PREMULTIPLIED[mode]) if mode in PREMULTIPLIED else im
    rows = source.resize((size[0], im.height), LANCZOS, box=(box[0], 0, box[2], im.height))
    out = rows.resize(size, LANCZOS, box=(0, box[1], size[0], box[3]))
    return out.convert(mode) if mode in PREMULTIPLIED else out


@st.composite
def resizes(draw):
    mode = draw(st.sampled_from(["RGB", "L", "RGBA", "LA", "CMYK"]))
    width, height = draw(st.integers(130, 700)), draw(st.integers(20, 700))
    x0 = draw(st.floats(0, width / 4))
    x1 = draw(st.floats(3 * width / 4, width))
    y0 = draw(st.floats(0, height / 4))
    y1 = draw(st.floats(3 * height / 4, height))
    # No shrink of 6x or more: Pillow's reducing step would take those (tested below).
    out_w = draw(st.integers(max(128, int((x1 - x0) / 5) + 1), int((x1 - x0) * 1.5) + 128))
    out_h = draw(st.integers(int((y1 - y0) / 5) + 1, int((y1 - y0) * 1.5) + 1))
    return noise(mode, (width, height), draw(st.integers(0, 99))), (out_w, out_h), (x0, y0, x1, y1)


@settings(max_examples=60, deadline=None)
@given(resizes())
def test_the_bands_add_up_to_one_resize_of_the_whole_width(case):
    im, size, box = case
    out = image_resize.lanczos(im, size, box, 3.0)
    assert (out.mode, out.size) == (im.mode, size)
    # A band's box is the whole box's, cut at an output column: equal but for the
    # last bit of a float, which may move a level by one (two, through alpha's
    # premultiplied round trip); a wrong cut moves whole columns (tens of levels).
    assert np.abs(levels(out) - levels(one_band(im, size, box))).max() <= 2


@pytest.mark.parametrize(
    ("size", "box", "out"),
    [
        ((1500, 1125), (0, 0, 1500, 1125), (1440, 1080)),  # a 4000x3000 JPEG decoded at 3/8
        ((1500, 2000), (0, 62.5, 1500, 1937.5), (1080, 1350)),  # a 3:4 photo cut to 4:5
        ((1200, 300), (100.5, 0, 1100.25, 300), (1080, 324)),  # a panorama cut, enlarged
    ],
)
def test_a_photo_looks_as_pillows_own_lanczos_makes_it(size, box, out):
    im = photo(size)
    ours = levels(image_resize.lanczos(im, out, box, 3.0))
    pillows = levels(im.resize(out, LANCZOS, box=box, reducing_gap=3.0))
    assert np.abs(ours - pillows).max() <= 2


def test_the_uniform_shrink_of_a_decoded_jpeg_is_pillows_bytes():
    """Where Pillow's own call goes horizontal first (the two orders cost the same),
    the bands give its very bytes: a fix's output did not change with them."""
    im = photo((1500, 1125))
    ours = image_resize.lanczos(im, (1440, 1080), (0, 0, 1500, 1125), 3.0)
    assert ours.tobytes() == im.resize((1440, 1080), LANCZOS, reducing_gap=3.0).tobytes()


def test_a_band_is_resized_on_a_second_thread(monkeypatch):
    threads: set[str] = set()
    real = Image.Image.resize

    def resize(self, *args, **kwargs):
        threads.add(threading.current_thread().name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", resize)
    image_resize.lanczos(photo((600, 400)), (480, 320), (0, 0, 600, 400), 3.0)
    assert threads == {threading.current_thread().name, "igpreflight-resize"}


def test_a_shrink_pillow_reduces_first_is_its_one_call():
    im = noise("RGB", (2000, 1500), 3)
    ours = image_resize.lanczos(im, (320, 240), (0, 0, 2000, 1500), 3.0)
    assert ours.tobytes() == im.resize((320, 240), LANCZOS, reducing_gap=3.0).tobytes()


def test_a_narrow_output_is_one_call():
    im = noise("L", (300, 300), 4)
    ours = image_resize.lanczos(im, (100, 90), (0, 0, 300, 300), 3.0)
    assert ours.tobytes() == im.resize((100, 90), LANCZOS, reducing_gap=3.0).tobytes()


def test_a_band_that_fails_raises_on_the_calling_thread():
    with pytest.raises(ValueError):
        image_resize.lanczos(noise("RGB", (300, 200), 5), (200, 100), (0, 0, 900, 200), 3.0)
