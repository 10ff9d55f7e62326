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


def test_a_jpeg_whose_scan_stops_early_is_caught_where_ffmpeg_passed_it(corpus_dir: Path):
    """androidx's Pixel motion photo was cut short for the test data: 96 % of it
    decodes as grey blocks. ffmpeg calls the missing bytes an overread (which it
    reports for harmless camera padding too), so `check --deep` and `fix` passed it
    until libjpeg-turbo's strict decode judged JPEGs: premature end of data."""
    photo = corpus_dir / "androidx-media" / "pixel-motion-photo-shortened.jpg"
    (rule, message), *_ = _rules(check([photo], deep=True))
    assert rule == "FILE001" and "premature end of data segment" in message
    with Image.open(photo) as im:
        im.draft("RGB", (im.width // 8, im.height // 8))
        grey = im.convert("RGB").getcolors(1 << 20)
    share = max(grey)[0] / (im.width * im.height)
    assert share > 0.9  # what a decode that hides the damage delivers


def test_a_cut_short_jpeg_is_not_fixed(tmp_path: Path, corpus_dir: Path):
    photo = corpus_dir / "androidx-media" / "pixel-motion-photo-shortened.jpg"
    (result,) = fix([photo], tmp_path / "out").files
    assert result.status is FixStatus.UNFIXABLE
    assert result.reason.startswith("FILE001 does not decode: Corrupt JPEG data")
    assert not (tmp_path / "out" / photo.name).exists()


def test_padding_before_the_end_marker_is_judged_by_ffmpeg(tmp_path: Path):
    """Bytes left before EOI: padding from some encoders, or a scrambled scan that
    decoded as valid codes. libjpeg-turbo cannot tell them apart, ffmpeg can."""
    good = make_image(tmp_path / "a.jpg", size=(640, 640))
    data = good.read_bytes()
    padded = tmp_path / "padded.jpg"
    padded.write_bytes(data[:-2] + b"\x00" * 16 + data[-2:])
    assert check([padded], deep=True).errors == []
    (result,) = fix([padded], tmp_path / "out").files
    assert result.ok, result.reason
    scrambled = corrupt_jpeg_scan(good, tmp_path / "scrambled.jpg")  # decodes "whole"
    (rule, message), *_ = _rules(check([scrambled], deep=True))
    assert rule == "FILE001" and "block row" in message


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


def _streamless_mp4(path: Path) -> Path:
    """An MP4 with a movie header and no track (what an export cancelled before
    its first frame leaves): ftyp, an empty mdat, moov with mvhd only."""
    import struct

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = (
        (bytes(4) + struct.pack(">IIII", 0, 0, 1000, 0) + struct.pack(">IH", 0x10000, 0x100))
        + bytes(10)
        + matrix
        + bytes(24)
        + struct.pack(">I", 2)
    )
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41")
    path.write_bytes(ftyp + box(b"mdat", b"") + box(b"moov", box(b"mvhd", mvhd)))
    return path


def test_a_file_with_no_stream_is_reported_as_check_reports_it(tmp_path: Path):
    # --deep once said "FILE001 ... does not decode: Output file does not contain
    # any stream; Error opening output file -." (ffmpeg's own words): nothing there
    # is damaged, there is nothing to decode, and check's VID002 says so.
    empty = _streamless_mp4(tmp_path / "empty.mp4")
    plain = [(f.rule, f.message) for f in check([empty]).errors]
    assert [rule for rule, _ in plain] == ["VID002"]
    assert _rules(check([empty], deep=True)) == plain
