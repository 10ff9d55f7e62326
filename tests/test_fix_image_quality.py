"""Issue 22 (5): a file never grows because only its metadata or colour changed.

When the pixels are not resized, a JPEG is re-encoded at its own quality (estimated
from its quantization tables), never above it; `fix` reports every file's size
before and after, in text and JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.generate import make_icc_profile, make_image
from igpreflight import fix
from igpreflight.cli import cli
from igpreflight.transcode.image_encode import source_quality


def photo(path: Path, quality: int, size=(1350, 1080), **save) -> Path:
    """A photo-like JPEG saved by libjpeg (Pillow) at `quality`."""
    im = Image.open(make_image(path.with_suffix(".png"), size=size)).convert("RGB")
    im.save(path, "JPEG", quality=quality, **save)
    return path


def tables(path: Path) -> dict[int, list[int]]:
    with Image.open(path) as im:
        return dict(im.quantization)


@pytest.mark.parametrize("quality", [10, 30, 50, 68, 75, 85, 90, 95, 100])
def test_libjpeg_quality_is_read_back_from_the_tables(tmp_path: Path, quality: int):
    assert source_quality(tables(photo(tmp_path / "a.jpg", quality))) == quality


def test_a_camera_table_is_never_rated_above_what_it_quantizes(tmp_path: Path):
    q75 = tables(photo(tmp_path / "a.jpg", 75))
    finer_dc = {0: [max(1, v - 1) for v in q75[0]], 1: q75[1]}  # a bit finer overall
    assert source_quality(finer_dc) in (75, 76)
    coarser = {0: [v + 3 for v in q75[0]], 1: q75[1]}
    assert source_quality(coarser) < 75
    assert source_quality({}) is None and source_quality(None) is None


def test_rotation_only_keeps_the_source_quality_and_the_file_does_not_grow(tmp_path: Path):
    exif = Image.Exif()
    exif[0x0112] = 6
    src = photo(tmp_path / "rotated.jpg", 70, exif=exif)
    (result,) = fix([src], tmp_path / "out").files
    assert result.ok, result.reason
    encode = next(s for s in result.plan.steps if s.name == "encode")
    assert encode.detail == "q70"
    assert result.bytes_after <= result.bytes_before  # was q92 and larger
    assert source_quality(tables(Path(result.output))) == 70


def test_a_colour_conversion_keeps_the_source_quality(tmp_path: Path):
    icc = make_icc_profile("display-p3")
    src = photo(tmp_path / "p3.jpg", 80, icc_profile=icc)
    (result,) = fix([src], tmp_path / "out").files
    assert result.ok, result.reason
    assert [s.name for s in result.plan.steps] == ["to-srgb", "encode"]
    assert next(s for s in result.plan.steps if s.name == "encode").detail == "q80"


def test_a_resized_photo_is_encoded_at_the_top_quality(tmp_path: Path):
    src = photo(tmp_path / "big.jpg", 70, size=(3000, 2400))
    (result,) = fix([src], tmp_path / "out").files
    assert next(s for s in result.plan.steps if s.name == "encode").detail == "q92"


def test_fix_reports_the_sizes_in_text_and_json(tmp_path: Path):
    exif = Image.Exif()
    exif[0x0112] = 3
    src = photo(tmp_path / "upside.jpg", 75, exif=exif)
    out = tmp_path / "out"
    text = CliRunner().invoke(cli, ["fix", str(src), "--out", str(out)])
    assert text.exit_code == 0, text.output
    size = src.stat().st_size / 1000
    after = (out / "upside.jpg").stat().st_size / 1000
    assert f"encode q75), {size:.1f} KB -> {after:.1f} KB" in text.output
    report = CliRunner().invoke(
        cli, ["fix", str(src), "--out", str(tmp_path / "out2"), "--format", "json"]
    )
    (entry,) = json.loads(report.output)["files"]
    assert entry["bytes_before"] == src.stat().st_size
    assert entry["bytes_after"] == (tmp_path / "out2" / "upside.jpg").stat().st_size
