"""Issue 14: corrupt files never pass. `check --deep` decodes every frame and
sample; `fix` proves that what it passes decodes; a corrupt EXIF block is
dropped with the pixels kept."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from fixtures.generate import make_image, make_video
from igpreflight import check, fix
from igpreflight.cli import cli
from igpreflight.preflight.probe import probe
from igpreflight.transcode.types import FixStatus
from tests.crafted import corrupt_exif, corrupt_jpeg_scan, damaged_aac_entry
from tests.test_fix_cli import corrupt_png


def _rules(report) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in report.errors]


def test_jpeg_with_corrupt_scan_data(tmp_path: Path):
    good = make_image(tmp_path / "src.jpg", size=(1080, 1080))
    bad = corrupt_jpeg_scan(good, tmp_path / "bad.jpg")
    assert check([bad]).errors == []  # the default check reads headers only
    (rule, message), *_ = _rules(check([bad], deep=True))
    assert rule == "FILE001" and "does not decode" in message and "block row" in message
    assert check([good], deep=True).errors == []
    (result,) = fix([bad], tmp_path / "out").files
    assert result.status is FixStatus.UNFIXABLE
    assert result.reason.startswith("FILE001 does not decode")
    assert not (tmp_path / "out" / "bad.jpg").exists()


def test_png_with_corrupt_idat_check_and_fix_agree(tmp_path: Path):
    bad = corrupt_png(tmp_path / "bad.png")
    (rule, message), *_ = _rules(check([bad], deep=True))
    assert rule == "FILE001" and "does not decode" in message
    (result,) = fix([bad], tmp_path / "out").files
    assert result.status is FixStatus.UNFIXABLE  # not "failed": the file is broken
    assert result.reason.startswith("FILE001 does not decode")


def test_mov_with_damaged_audio_sample_entry(tmp_path: Path):
    src = make_video(tmp_path / "src.mov", width=64, height=64, duration=3.5)
    bad = damaged_aac_entry(src, tmp_path / "bad.mov")
    assert [r for r, _ in _rules(check([bad]))] == []  # headers say AAC-LC
    (rule, message), *_ = _rules(check([bad], deep=True))
    assert rule == "FILE001" and "sampling rate index" in message and "at 0.00 s" in message
    results = fix([bad, src], tmp_path / "out").files
    assert [r.status for r in results] == [FixStatus.UNFIXABLE, FixStatus.COPIED]
    assert results[0].reason.startswith("FILE001 does not decode")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".igpreflight", "src.mov"]


def test_corrupt_exif_is_dropped_and_the_pixels_kept(tmp_path: Path):
    good = make_image(tmp_path / "src.jpg", size=(1080, 1080))
    bad = corrupt_exif(good, tmp_path / "photo.jpg")
    assert probe(bad).exif_error and probe(good).exif_error is None
    (result,) = fix([bad], tmp_path / "out").files
    assert result.status is FixStatus.CONVERTED
    assert [(s.name, s.rules) for s in result.plan.steps] == [("strip-exif", ("IMG013",))]
    out = tmp_path / "out" / "photo.jpg"
    assert out.read_bytes() == good.read_bytes()  # only the EXIF block went
    assert probe(out).exif_error is None
    with Image.open(good) as a, Image.open(out) as b:
        assert a.tobytes() == b.tobytes()


def test_check_deep_on_the_command_line(tmp_path: Path):
    bad = corrupt_jpeg_scan(make_image(tmp_path / "a.jpg", size=(640, 640)), tmp_path / "b.jpg")
    r = CliRunner().invoke(cli, ["check", str(bad), "--deep"], catch_exceptions=False)
    assert r.exit_code == 1 and "FILE001" in r.output and "does not decode" in r.output
    assert CliRunner().invoke(cli, ["check", str(bad)]).exit_code == 0
