"""A Lanczos resize cut into vertical bands that run on two threads at once.

Why: the resize is most of a JPEG fix's own work (a 4000x3000 photo decodes
DCT-scaled to 1500x1125, then Lanczos takes it to 1440x1080), and Pillow runs it
on one core. Its resample releases the interpreter lock, so two bands of output
columns, each resized by Pillow from the whole source (a band's filter reads
the source past the band's edges, as the whole resize does), finish in about
half the time while the other core would idle between the decodes ahead.

The number of bands is fixed, never the CPU count: the output is the same bytes
on every machine and with any `--jobs`. Pillow's own reducing step (`reducing_gap`,
a shrink of 6x or more) keeps the one whole call: that step is a box filter over
the whole image, not worth cutting. Alpha is premultiplied once for all bands,
as Pillow's one call does it.
"""

from __future__ import annotations

import threading

from PIL import Image

BANDS = 2
MIN_BAND_WIDTH = 64  # narrower outputs: one call (a thread costs more than it saves)
# Pillow resizes these premultiplied (Image.resize converts them, then back).
_PREMULTIPLIED = {"RGBA": "RGBa", "LA": "La"}

Box = tuple[float, float, float, float]


def lanczos(im: Image.Image, size: tuple[int, int], box: Box, reducing_gap: float) -> Image.Image:
    """`im.resize(size, LANCZOS, box=box, reducing_gap=reducing_gap)`, in bands."""
    width, height = size
    reduces = any(
        int(span / out / reducing_gap) > 1
        for span, out in ((box[2] - box[0], width), (box[3] - box[1], height))
    )
    if reduces or width < BANDS * MIN_BAND_WIDTH:
        return im.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=reducing_gap)
    mode = im.mode
    source = im.convert(_PREMULTIPLIED[mode]) if mode in _PREMULTIPLIED else im
    out = _banded(source, size, box)
    return out.convert(mode) if mode in _PREMULTIPLIED else out


def _banded(im: Image.Image, size: tuple[int, int], box: Box) -> Image.Image:
    """Each band of output columns resized on its own thread, pasted side by side.

    A band is two one-way passes, horizontal (every source row, the band's columns)
    then vertical: what Pillow's one call does when it goes horizontal first, and
    the same bytes. Pillow's one call picks its order by cost, which a band's
    narrower box would change, and the order moves a pixel by up to a few levels;
    one fixed order keeps every band, and so the whole, one function of the input."""
    width, height = size
    x0, y0, x1, y1 = box
    cuts = [width * k // BANDS for k in range(BANDS + 1)]
    bands: list[Image.Image | None] = [None] * BANDS
    failures: list[BaseException] = []

    def resize_band(index: int) -> None:
        left, right = cuts[index], cuts[index + 1]
        band_x0, band_x1 = x0 + (x1 - x0) * left / width, x0 + (x1 - x0) * right / width
        try:
            rows = im.resize(
                (right - left, im.height),
                Image.Resampling.LANCZOS,
                box=(band_x0, 0, band_x1, im.height),
            )
            bands[index] = rows.resize(
                (right - left, height), Image.Resampling.LANCZOS, box=(0, y0, right - left, y1)
            )
        except BaseException as exc:  # re-raised on the calling thread
            failures.append(exc)

    helpers = [
        threading.Thread(target=resize_band, args=(i,), name="igpreflight-resize", daemon=True)
        for i in range(1, BANDS)
    ]
    for thread in helpers:
        thread.start()
    resize_band(0)
    for thread in helpers:
        thread.join()
    if failures:
        raise failures[0]
    out = Image.new(im.mode, size, None)  # every pixel is pasted: no fill first
    for left, band in zip(cuts[:-1], bands, strict=True):
        out.paste(band, (left, 0))
    return out
