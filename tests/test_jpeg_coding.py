"""IMG014: a JPEG coded in a process browsers do not decode (arithmetic, lossless,
hierarchical) is a warning, read from its frame marker by both probe paths alike;
`fix` re-encodes an arithmetic one as a standard Huffman JPEG and calls a lossless
or hierarchical one unfixable (its decoder would give false colours or nothing).
Files are real: Pillow's baseline and progressive, ffmpeg's lossless `ljpeg`,
cjpeg's and jpegtran's arithmetic coding, and a hierarchical header made by bytes.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from PIL import Image

from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import ImageFacts, Role
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.jpeg_facts import probe_jpeg
from igpreflight.preflight.probe import probe
from igpreflight.preflight.probe_image import pillow_probe
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.plan_image import plan_image
from igpreflight.transcode.types import FixOptions, FixStatus
from tests.corpus import CORPUS, needs_corpus
from tests.factories import GOOD_IMAGE
from tests.jpeg_bytes import insert, seg, segments

RED = (200, 30, 40)


def picture() -> Image.Image:
    """A flat red square with a gradient band: colours a YCbCr mix-up would change."""
    im = Image.new("RGB", (360, 360), RED)
    im.paste(Image.linear_gradient("L").resize((360, 60)).convert("RGB"), (0, 300))
    return im


def pillow_jpeg(tmp_path: Path, **kw) -> Path:
    path = tmp_path / ("progressive.jpg" if kw else "baseline.jpg")
    picture().save(path, quality=90, **kw)
    return path


def ffmpeg_lossless(tmp_path: Path) -> Path:
    """ffmpeg's lossless JPEG (SOF3, YCbCr 4:2:0), which Pillow opens and decodes."""
    src, out = tmp_path / "src.png", tmp_path / "lossless.jpg"
    picture().save(src)
    args = ["-c:v", "ljpeg", "-strict", "-1", "-pix_fmt", "yuvj420p", "-f", "image2"]
    cmd = [ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(src), *args, str(out)]
    subprocess.run(cmd, check=True, timeout=60)
    return out


def hierarchical(tmp_path: Path) -> Path:
    """A baseline JPEG's header turned hierarchical: a DHP segment (the frame's own
    payload, as T.81 lays it out) before a SOF1 frame. The scan is not a real
    hierarchy: the header is all that check reads and fix's plan looks at."""
    data = pillow_jpeg(tmp_path).read_bytes()
    _, start, end = next(s for s in segments(data) if s[0] == 0xC0)
    data = data[: start + 1] + b"\xc1" + data[start + 2 :]
    data = insert(data, seg(0xDE, data[start + 4 : end]), before=0xC1)
    out = tmp_path / "hierarchical.jpg"
    out.write_bytes(data)
    return out


def arithmetic(tmp_path: Path, tool: str) -> Path:
    """libjpeg-turbo's arithmetic coding (SOF9, SOF10 when progressive)."""
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed: Pillow and ffmpeg cannot write arithmetic JPEG")
    out = tmp_path / f"{tool}-arithmetic.jpg"
    if tool == "cjpeg":
        ppm = tmp_path / "src.ppm"
        picture().save(ppm)
        cmd = [exe, "-arithmetic", "-outfile", str(out), str(ppm)]
    else:
        cmd = [exe, "-arithmetic", "-progressive", "-outfile", str(out)]
        cmd.append(str(pillow_jpeg(tmp_path)))
    subprocess.run(cmd, check=True, timeout=60, capture_output=True)
    return out


MAKERS = {
    "baseline": (pillow_jpeg, "baseline"),
    "progressive": (lambda p: pillow_jpeg(p, progressive=True), "progressive"),
    "lossless": (ffmpeg_lossless, "lossless"),
    "hierarchical": (hierarchical, "hierarchical"),
    "cjpeg": (lambda p: arithmetic(p, "cjpeg"), "arithmetic"),
    "jpegtran": (lambda p: arithmetic(p, "jpegtran"), "arithmetic progressive"),
}


def made(tmp_path: Path, name: str) -> tuple[Path, str]:
    make, coding = MAKERS[name]
    return make(tmp_path), coding


def codes(path: Path) -> dict[str, str]:
    return {f.rule: f.message for f in check_facts(probe(path), Role.FEED_IMAGE)}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_both_probe_paths_name_the_coding_process(tmp_path: Path, name: str):
    path, coding = made(tmp_path, name)
    data = path.read_bytes()
    slow = pillow_probe("x.jpg", io.BytesIO(data), len(data), "jpg", "jpeg")
    assert isinstance(slow, ImageFacts) and slow.jpeg_coding == coding
    fast = probe_jpeg("x.jpg", io.BytesIO(data), len(data), "jpg")
    if name != "hierarchical":  # the fast path leaves a DHP segment to Pillow
        assert fast is not None and asdict(fast) == asdict(slow)


def test_other_formats_have_no_coding(tmp_path: Path):
    path = tmp_path / "flat.png"
    picture().save(path)
    facts = probe(path)
    assert isinstance(facts, ImageFacts) and facts.jpeg_coding is None
    assert "IMG014" not in codes(path)


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("lossless", "lossless coding (SOF3)"),
        ("hierarchical", "hierarchical coding (SOF5)"),
        ("cjpeg", "arithmetic coding (SOF9)"),
        ("jpegtran", "arithmetic progressive coding (SOF10)"),
    ],
)
def test_check_warns_and_names_the_process(tmp_path: Path, name: str, named: str):
    path, _ = made(tmp_path, name)
    found = codes(path)
    assert "IMG014" in found and named in found["IMG014"]
    assert "browsers" in found["IMG014"]
    fixable = name in ("cjpeg", "jpegtran")  # check tells what fix will do with it
    (finding,) = [f for f in check_facts(probe(path), Role.FEED_IMAGE) if f.rule == "IMG014"]
    assert finding.fixable is fixable
    assert ("fix cannot re-encode it" in finding.message) is not fixable


@pytest.mark.parametrize("name", ["baseline", "progressive"])
def test_huffman_jpegs_are_fine_and_copied_untouched(tmp_path: Path, name: str):
    path, _ = made(tmp_path, name)
    assert "IMG014" not in codes(path)
    (result,) = fix_paths([path], tmp_path / "out", FixOptions())
    assert result.status is FixStatus.COPIED
    assert Path(result.output or "").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("tool", ["cjpeg", "jpegtran"])
def test_fix_reencodes_arithmetic_and_fixing_again_changes_nothing(tmp_path: Path, tool: str):
    path, _ = made(tmp_path, tool)
    (result,) = fix_paths([path], tmp_path / "out", FixOptions())
    assert result.status is FixStatus.CONVERTED, result.reason
    assert any("IMG014" in s.rules for s in result.plan.steps)
    fixed = Path(result.output or "")
    facts = probe(fixed)
    assert isinstance(facts, ImageFacts) and facts.jpeg_coding in ("baseline", "progressive")
    assert "IMG014" not in codes(fixed)
    with Image.open(fixed) as im:  # the picture survived: red stays red
        assert all(
            abs(a - b) <= 6 for a, b in zip(im.convert("RGB").getpixel((50, 50)), RED, strict=True)
        )
    (again,) = fix_paths([fixed], tmp_path / "again", FixOptions())
    assert again.status is FixStatus.COPIED
    assert Path(again.output or "").read_bytes() == fixed.read_bytes()


@pytest.mark.parametrize(("name", "why"), [("lossless", "false colours"), ("hierarchical", "")])
def test_fix_calls_lossless_and_hierarchical_unfixable(tmp_path: Path, name: str, why: str):
    path, coding = made(tmp_path, name)
    (result,) = fix_paths([path], tmp_path / "out", FixOptions())
    assert result.status is FixStatus.UNFIXABLE
    assert f"{coding} JPEG" in (result.reason or "") and why in (result.reason or "")
    assert not list((tmp_path / "out").glob("*.jpg"))  # nothing written in its name


@needs_corpus
def test_the_corpus_smallest_jpeg_is_arithmetic_coded(tmp_path: Path):
    """mathiasbynens/small's 107-byte "minimal valid" JPEG is SOF9: small because
    arithmetic coding is, and exactly what a browser refuses."""
    path = CORPUS / "small" / "jpeg.jpg"
    assert "arithmetic coding (SOF9)" in codes(path).get("IMG014", "")
    (result,) = fix_paths([path], tmp_path / "out", FixOptions())
    assert result.status is FixStatus.CONVERTED
    assert probe(Path(result.output or "")).jpeg_coding == "baseline"


def test_a_lossless_jpeg_is_never_decoded_for_another_rule():
    """IMG014 ignored (config), a lossless JPEG too wide (IMG004) would be decoded to
    downscale it, in false colours: the plan refuses it instead."""
    facts = replace(GOOD_IMAGE, jpeg_coding="lossless", width=2000, height=1600)
    findings = [f for f in check_facts(facts, Role.FEED_IMAGE) if f.rule != "IMG014"]
    assert [f.rule for f in findings if f.fixable] == ["IMG004"]
    plan = plan_image(facts, findings, Role.FEED_IMAGE, FixOptions())
    assert plan.status is FixStatus.UNFIXABLE and "false colours" in (plan.reason or "")
    arithmetic = replace(facts, jpeg_coding="arithmetic")
    assert plan_image(arithmetic, findings, Role.FEED_IMAGE, FixOptions()).status is (
        FixStatus.CONVERTED
    )


def test_why_lossless_is_unfixable_pillow_decodes_it_in_false_colours(tmp_path: Path):
    """The reason pinned: Pillow's libjpeg-turbo returns ffmpeg's lossless YCbCr samples
    as RGB, where ffmpeg decodes the red right. When this fails, the decoder reads it
    right and `media_facts.undecodable` can let lossless JPEG be re-encoded."""
    path = ffmpeg_lossless(tmp_path)
    with Image.open(path) as im:
        pillow = im.convert("RGB").getpixel((50, 50))
    cmd = [ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-f", "rawvideo"]
    raw = subprocess.run([*cmd, "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    ffmpeg = tuple(raw[(50 * 360 + 50) * 3 : (50 * 360 + 50) * 3 + 3])
    assert all(abs(a - b) <= 3 for a, b in zip(ffmpeg, RED, strict=True)), ffmpeg
    assert not all(abs(a - b) <= 30 for a, b in zip(pillow, RED, strict=True)), pillow


def test_the_json_report_names_the_coding(tmp_path: Path):
    from click.testing import CliRunner

    from igpreflight.cli import cli

    path, _ = made(tmp_path, "lossless")
    done = CliRunner().invoke(cli, ["check", "--format", "json", str(path)])
    assert '"jpeg_coding": "lossless"' in done.output
