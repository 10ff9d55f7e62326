"""PNG text chunks past Pillow's 1 MB are metadata, not damage: ImageMagick keeps a
profile as hex text in a zTXt chunk ("Raw profile type xmp", twice the profile's
size), so a Photoshop XMP of 600 KB made a sound PNG "corrupt" (FILE001) in check
and unfixable in fix (found by the media9 trial)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, PngImagePlugin

from igpreflight import check, fix
from igpreflight.transcode.types import FixStatus


def _png_with_big_profile_text(path: Path) -> Path:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + b"<rdf:li>ancestor</rdf:li>" * 25_000
    hexed = "\nxmp\n" + f"{len(xmp):8d}\n" + xmp.hex()  # ImageMagick's raw-profile layout
    assert len(hexed) > 1024 * 1024  # past Pillow's MAX_TEXT_CHUNK of 1 MB
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type xmp", hexed, zip=True)
    Image.new("RGB", (640, 640), (30, 120, 200)).save(path, pnginfo=info)
    return path


def test_a_png_with_a_large_text_chunk_is_checked_and_fixed(tmp_path: Path):
    src = _png_with_big_profile_text(tmp_path / "layered.png")
    report = check([src])
    assert [f.rule for f in report.errors] == []
    assert [f.rule for f in report.warnings] == ["IMG012"]
    (result,) = fix([src], tmp_path / "out").files
    assert result.status is FixStatus.CONVERTED, result.reason
    out = tmp_path / "out" / "layered.jpg"
    assert check([out], deep=True).errors == []
    with Image.open(out) as im:
        assert all(
            abs(a - b) <= 2 for a, b in zip(im.getpixel((320, 320)), (30, 120, 200), strict=True)
        )
