"""The HTML fix report: parses, embeds decodable thumbnails, draws the crop/pad box,
and renders in a real headless Chromium with pictures where the thumbnails are."""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from igpreflight.catalog import finding
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import Kind, Role
from igpreflight.report.html import build_fix_report, render_fix_report
from igpreflight.report.overlay import overlays
from igpreflight.report.thumbs import THUMB_SIZE
from igpreflight.transcode.types import (
    FileFixResult,
    FixOptions,
    FixPlan,
    FixStatus,
    Step,
    VideoStep,
)
from tests.corpus import CORPUS, needs_corpus

RED = (220, 30, 30)
GREEN = (30, 180, 40)
BLUE = (32, 64, 224)


# --- a small parser for the parts of the page the tests look at ---------------


@dataclass
class Figure:
    role: str
    images: list[str] = field(default_factory=list)  # data: URIs
    boxes: list[tuple[str, tuple[float, ...]]] = field(default_factory=list)


@dataclass
class Card:
    source: str
    status: str
    figures: list[Figure] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class ReportParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cards: list[Card] = []
        self.rows: list[tuple[str, str]] = []  # (status, text) of the copied table
        self.stack: list[str] = []
        self._card: Card | None = None
        self._figure: Figure | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag not in ("img", "image", "meta", "br", "rect", "path"):
            self.stack.append(tag)
        if tag == "article":
            self._card = Card(a["data-source"], a["data-status"])
            self.cards.append(self._card)
        elif tag == "figure" and self._card is not None:
            self._figure = Figure(a["class"].split()[0])
            self._card.figures.append(self._figure)
        elif tag == "img" and self._figure is not None:
            self._figure.images.append(a["src"])
        elif tag == "image" and self._figure is not None:
            self._figure.images.append(a["href"])
        elif tag == "rect" and self._figure is not None and "data-box" in a:
            box = tuple(float(v) for v in a["data-box"].split(","))
            self._figure.boxes.append((a["class"], box))
        elif tag == "tr" and "data-status" in a:
            self._row = [a["data-status"]]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("img", "image", "meta", "br", "rect", "path"):
            return
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()
        if tag == "article":
            self._card = None
        elif tag == "figure":
            self._figure = None
        elif tag == "tr" and self._row is not None:
            self.rows.append((self._row[0], " ".join(self._row[1:])))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._card is not None:
            self._card.text.append(data)
        if self._row is not None:
            self._row.append(data)


def parse(html: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(html)
    parser.close()
    assert parser.stack == ["html"] or parser.stack == [], parser.stack
    return parser


def decode(uri: str) -> Image.Image:
    head, _, data = uri.partition(",")
    assert head == "data:image/jpeg;base64", head
    im = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
    im.load()
    assert im.format == "JPEG"
    assert max(im.size) <= THUMB_SIZE
    return im


# --- hand-built batch: known pictures, known geometry ------------------------


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True, timeout=60)


def hand_built(root: Path) -> list[FileFixResult]:
    """Before/after files written with Pillow and ffmpeg, results as the fixer would give."""
    root.mkdir(parents=True, exist_ok=True)
    wide = Image.new("RGB", (2000, 1000), RED)
    draw = ImageDraw.Draw(wide)
    for y in range(0, 1000, 100):  # horizontal stripes: every column stays mostly red
        draw.rectangle([0, y, 2000, y + 30], fill=(255, 200, 200))
    wide.save(root / "wide.jpg", quality=90)
    wide.crop((45, 0, 1955, 1000)).save(root / "wide.fixed.jpg", quality=90)

    tall = Image.new("RGB", (800, 1600), GREEN)
    ImageDraw.Draw(tall).ellipse([200, 600, 600, 1000], fill=(255, 255, 255))
    tall.save(root / "tall.png")
    padded = Image.new("RGB", (1080, 1350), (255, 255, 255))
    padded.paste(tall.resize((675, 1350)), (202, 0))
    padded.save(root / "tall.fixed.jpg", quality=90)

    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=0x2040e0:s=640x360:d=1",
        "-pix_fmt",
        "yuv420p",
        str(root / "clip.mov"),
    )
    _ffmpeg(
        "-i",
        str(root / "clip.mov"),
        "-vf",
        "crop=576:360:32:0",
        "-pix_fmt",
        "yuv420p",
        str(root / "clip.fixed.mp4"),
    )

    (root / "broken.jpg").write_bytes(b"not an image at all")
    Image.new("RGB", (1080, 1080), (128, 128, 128)).save(root / "ok.jpg")

    def size(name: str) -> int:
        return (root / name).stat().st_size

    p = str(root)
    crop = Step("crop", "centre 1910x1000 of 2000x1000 (ratio into 4:5..1.91:1)", ("IMG003",))
    pad = Step("pad", "675x1350 on a 1080x1350 canvas (white; ratio into 4:5..1.91:1)", ("IMG003",))
    vcrop = VideoStep(
        "crop",
        "640x360 -> 576x360 centred (into 0.8..1.6)",
        ("VID007",),
        {"w": 576, "h": 360, "x": 32, "y": 0},
    )
    encode = Step("encode", "q92", ("IMG002", "IMG012"))
    image_plan = FixPlan(Kind.IMAGE, Role.FEED_IMAGE, FixStatus.CONVERTED, (crop, encode), "jpg")
    pad_plan = FixPlan(Kind.IMAGE, Role.FEED_IMAGE, FixStatus.CONVERTED, (pad, encode), "jpg")
    video_plan = FixPlan(Kind.VIDEO, Role.REELS, FixStatus.TRANSCODED, (vcrop,), "mp4")
    return [
        FileFixResult(
            f"{p}/wide.jpg",
            f"{p}/wide.fixed.jpg",
            FixStatus.CONVERTED,
            image_plan,
            [finding("IMG003", "aspect 2:1 is wider than 1.91:1")],
            [],
            None,
            size("wide.jpg"),
            size("wide.fixed.jpg"),
        ),
        FileFixResult(
            f"{p}/tall.png",
            f"{p}/tall.fixed.jpg",
            FixStatus.CONVERTED,
            pad_plan,
            [finding("IMG003", "aspect 1:2 is taller than 4:5"), finding("IMG012", "PNG")],
            [],
            None,
            size("tall.png"),
            size("tall.fixed.jpg"),
        ),
        FileFixResult(
            f"{p}/clip.mov",
            f"{p}/clip.fixed.mp4",
            FixStatus.TRANSCODED,
            video_plan,
            [finding("VID001", "container QuickTime")],
            [],
            None,
            size("clip.mov"),
            size("clip.fixed.mp4"),
        ),
        FileFixResult(
            f"{p}/broken.jpg",
            None,
            FixStatus.UNFIXABLE,
            None,
            [finding("FILE001", "cannot be read: not an image")],
            [],
            "FILE001 cannot be read: not an image <b>",
            size("broken.jpg"),
            None,
        ),
        FileFixResult(f"{p}/ok.jpg", f"{p}/out/ok.jpg", FixStatus.COPIED, None, [], [], None, 9, 9),
    ]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[FileFixResult], str]:
    root = tmp_path_factory.mktemp("html")
    results = hand_built(root / "media")
    report = root / "report.html"
    render_fix_report(results, report)
    return report, results, report.read_text(encoding="utf-8")


def test_report_parses_and_embeds_decodable_before_after(batch) -> None:
    _, results, html = batch
    assert html.startswith("<!DOCTYPE html>")
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # self-contained
    assert "https://" not in html
    page = parse(html)
    changed = [r for r in results if r.status in (FixStatus.CONVERTED, FixStatus.TRANSCODED)]
    cards = {c.source: c for c in page.cards}
    for r in changed:
        card = cards[r.source]
        assert card.status == r.status.value
        figs = {f.role: f for f in card.figures}
        assert set(figs) == {"before", "after"}
        before, after = (decode(figs[k].images[0]) for k in ("before", "after"))
        assert len(figs["before"].images) == len(figs["after"].images) == 1
        assert min(before.size) > 10 and min(after.size) > 10
    wide_before = decode(next(f for f in cards[results[0].source].figures).images[0])
    assert wide_before.size == (240, 120)
    r, g, _ = ImageStat.Stat(wide_before.convert("RGB")).mean
    assert r > 150 and g < 120  # the red picture, not a placeholder


def test_crop_and_pad_boxes_follow_the_plans(batch) -> None:
    _, results, html = batch
    cards = {c.source: c for c in parse(html).cards}
    before = {s: f for s, c in cards.items() for f in c.figures if f.role == "before"}
    ((kind, box),) = before[results[0].source].boxes
    assert kind == "crop-box"
    assert box == pytest.approx((45 / 2000, 0, 1955 / 2000, 1), abs=1e-3)
    ((kind, box),) = before[results[1].source].boxes
    assert kind == "pad-box"
    assert box == pytest.approx((202 / 1080, 0, 877 / 1080, 1), abs=1e-3)
    ((kind, box),) = before[results[2].source].boxes
    assert kind == "crop-box"
    assert box == pytest.approx((32 / 640, 0, 608 / 640, 1), abs=1e-3)
    after = {s: f for s, c in cards.items() for f in c.figures if f.role == "after"}
    assert all(not f.boxes for f in after.values())


def test_steps_sizes_and_problems_are_listed(batch) -> None:
    _, results, html = batch
    page = parse(html)
    cards = {c.source: "".join(c.text) for c in page.cards}
    wide = cards[results[0].source]
    assert "crop" in wide and "centre 1910x1000 of 2000x1000" in wide and "IMG003" in wide
    assert "→" in wide and "%" in wide  # the size change
    broken = cards[results[3].source]
    assert "FILE001 cannot be read: not an image <b>" in broken  # escaped text, not markup
    assert "not an image &lt;b&gt;" in html
    assert [s for s, _ in page.rows] == ["copied"]
    assert results[4].source in page.rows[0][1]


def test_report_file_is_written_atomically_and_readable(batch) -> None:
    report, _, _ = batch
    assert report.stat().st_mode & 0o044  # group/other may read: it is meant to be shared
    assert not [p for p in report.parent.iterdir() if p.name.startswith(".report.html")]


def test_overlays_from_plan_steps() -> None:
    crop = Step("crop", "centre 600x750 of 600x1200 (ratio into 4:5 (0.8)..1.91:1)", ("IMG003",))
    (o,) = overlays(FixPlan(Kind.IMAGE, Role.FEED_IMAGE, FixStatus.CONVERTED, (crop,)))
    assert o.kind == "crop" and o.box == pytest.approx((0, 225 / 1200, 1, 975 / 1200))
    scale = VideoStep("scale", "-> 1080x608", (), {"w": 1080, "h": 608})
    pad = VideoStep("pad", "-> 1080x1920 with black", (), {"w": 1080, "h": 1920, "x": 0, "y": 656})
    (o,) = overlays(FixPlan(Kind.VIDEO, Role.REELS, FixStatus.TRANSCODED, (scale, pad)))
    assert o.kind == "pad" and o.canvas_aspect == pytest.approx(1080 / 1920)
    assert o.box == pytest.approx((0, 656 / 1920, 1, 1264 / 1920))
    assert overlays(None) == []
    assert overlays(FixPlan(Kind.IMAGE, None, FixStatus.CONVERTED, (Step("encode", "q92"),))) == []


def test_empty_batch_still_renders() -> None:
    page = parse(build_fix_report([]))
    assert page.cards == [] and page.rows == []


# --- a real browser -----------------------------------------------------------


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
    pytest.skip("chromium not installed (install Debian's `chromium` to run this test)")


def _runs(columns: list[bool], min_width: int) -> list[tuple[int, int]]:
    runs, start = [], None
    for x, on in enumerate([*columns, False]):
        if on and start is None:
            start = x
        elif not on and start is not None:
            if x - start >= min_width:
                runs.append((start, x))
            start = None
    return runs


def test_report_renders_in_headless_chromium(batch, tmp_path: Path) -> None:
    exe = _chromium()
    report, _, _ = batch
    shot = tmp_path / "shot.png"
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,1600",
        report.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert shot.is_file(), done.stderr[-2000:]
    im = Image.open(shot).convert("RGB")
    w, h = im.size

    def mask(*ranges: tuple[int, int]) -> Image.Image:
        """255 where every channel is inside its range."""
        bands = [
            band.point(lambda v, lo=lo, hi=hi: 255 if lo <= v <= hi else 0)
            for band, (lo, hi) in zip(im.split(), ranges, strict=True)
        ]
        return ImageChops.multiply(ImageChops.multiply(bands[0], bands[1]), bands[2])

    def columns(m: Image.Image) -> list[bool]:
        heights = [v / 255 * h for v in m.resize((w, 1), Image.Resampling.BOX).tobytes()]
        return [c >= 40 for c in heights]  # at least 40 px of that colour in the column

    colours = {
        "red": ((171, 255), (0, 89), (0, 89)),
        "green": ((0, 89), (131, 255), (0, 99)),
        "blue": ((0, 89), (0, 119), (171, 255)),
    }
    for name, ranges in colours.items():
        runs = _runs(columns(mask(*ranges)), min_width=80)
        # Two pictures side by side: the before thumbnail and the after thumbnail.
        assert len(runs) >= 2, f"{name}: column runs {runs} in {w}x{h} screenshot"
    # The crop box is drawn: the yellow dashed stroke is on screen.
    yellow = mask((221, 255), (181, 255), (0, 89))
    assert sum(yellow.histogram()[1:]) > 200


# --- through the real fixer -----------------------------------------------------


def test_report_from_fix_paths(media_factory, tmp_path: Path) -> None:
    from igpreflight.transcode.batch import fix_paths

    media_factory.image("in/wide.jpg", size=(2400, 1000))
    media_factory.image("in/square.webp", size=(1080, 1080))
    media_factory.image("in/ok.jpg", size=(1080, 1350))
    media_factory.write("in/broken.jpg", b"garbage, not a JPEG")
    media_factory.image("tall/tall.jpg", size=(600, 1200))
    media_factory.video("video/wide.mp4", width=320, height=64, duration=3.2)
    root = media_factory.root
    results = fix_paths([root / "in"], tmp_path / "out", FixOptions(), jobs=1)
    results += fix_paths([root / "tall"], tmp_path / "padded", FixOptions(aspect="pad"), jobs=1)
    carousel = FixOptions(as_="carousel-item")  # 5:1 is too wide for a carousel video
    results += fix_paths([root / "video"], tmp_path / "video-out", carousel, jobs=1)
    report = tmp_path / "report.html"
    render_fix_report(results, report)
    page = parse(report.read_text(encoding="utf-8"))
    cards = {Path(c.source).name + ":" + c.status: c for c in page.cards}

    changed = [r for r in results if r.status in (FixStatus.CONVERTED, FixStatus.TRANSCODED)]
    assert {Path(r.source).name for r in changed} == {
        "wide.jpg",
        "square.webp",
        "tall.jpg",
        "wide.mp4",
    }
    for r in changed:
        card = next(c for c in page.cards if c.source == r.source)
        figs = {f.role: f for f in card.figures}
        decode(figs["before"].images[0])
        decode(figs["after"].images[0])
    wide_boxes = next(f for f in cards["wide.jpg:converted"].figures if f.role == "before").boxes
    assert [k for k, _ in wide_boxes] == ["crop-box"]
    x0, y0, x1, y1 = wide_boxes[0][1]
    assert (x1 - x0) * 2400 / ((y1 - y0) * 1000) == pytest.approx(1.91, abs=0.01)
    assert x0 == pytest.approx(1 - x1, abs=1e-3)  # centred
    tall_boxes = next(f for f in cards["tall.jpg:converted"].figures if f.role == "before").boxes
    assert [k for k, _ in tall_boxes] == ["pad-box"]
    video_boxes = next(f for f in cards["wide.mp4:transcoded"].figures if f.role == "before").boxes
    assert [k for k, _ in video_boxes] == ["crop-box"]
    x0, _, x1, _ = video_boxes[0][1]
    assert x0 == pytest.approx(1 - x1, abs=0.01) and 0.3 < x1 - x0 < 0.45
    broken = cards["broken.jpg:unfixable"]
    assert "FILE001" in "".join(broken.text)
    assert [s for s, _ in page.rows] == ["copied"]


# --- layout at phone and desktop widths, measured in Chromium ------------------

MEASURE = """
<script>
window.addEventListener('load', () => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {l: r.left, r: r.right, t: r.top, b: r.bottom, w: r.width, h: r.height}; };
  const cards = [...document.querySelectorAll('article.file')].map((a) => {
    const q = (s) => a.querySelector(s);
    const kids = [...a.children].map(box);
    return {source: a.dataset.source, status: a.dataset.status, card: box(a),
            pics: q('.pics') ? box(q('.pics')) : null,
            info: q('.info') ? box(q('.info')) : null,
            steps: q('.steps') ? box(q('.steps')) : null,
            thumbs: [...a.querySelectorAll('.thumb')].map(box),
            children: kids, text: a.innerText};
  });
  const out = parent.document.createElement('pre');
  out.id = 'measured';
  out.textContent = JSON.stringify({inner: window.innerWidth,
    scroll: document.documentElement.scrollWidth, cards});
  parent.document.body.appendChild(out);
});
</script>
"""


def _measure(html: str, width: int, tmp_path: Path) -> dict:
    """Lay the page out in headless Chromium at `width` CSS px and read the boxes back.

    Headless windows are at least 500 px wide, so the report is shown in a `width` px
    iframe (srcdoc: the same origin as the host page, which collects the boxes).
    """
    import json
    import re
    from html import escape

    exe = _chromium()
    page = tmp_path / f"measure-{width}.html"
    inner = escape(html.replace("</body>", MEASURE + "</body>"), quote=True)
    page.write_text(
        "<!DOCTYPE html><html><body style='margin:0'>"
        f'<iframe style="width:{width}px;height:1200px;border:0" srcdoc="{inner}"></iframe>'
        "</body></html>",
        encoding="utf-8",
    )
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={tmp_path / f'profile-{width}'}",
        f"--window-size={width + 100},1300",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    return json.loads(
        found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


@pytest.mark.parametrize("width", [360, 1400])
def test_layout_fits_phone_and_desktop(batch, tmp_path: Path, width: int) -> None:
    _, results, html = batch
    m = _measure(html, width, tmp_path)
    assert m["inner"] == width
    assert m["scroll"] <= m["inner"], m["scroll"]  # no sideways scrolling
    cards = {c["source"]: c for c in m["cards"]}
    for r in results[:3]:  # the changed files: two pictures and the steps
        card = cards[r.source]
        assert card["card"]["r"] <= width, card["card"]
        assert len(card["thumbs"]) == 2
        for thumb in card["thumbs"]:
            assert thumb["l"] >= 0 and thumb["r"] <= card["card"]["r"], thumb  # scaled to fit
            assert thumb["w"] > 60 and thumb["h"] > 30, thumb
        pics, steps = card["pics"], card["steps"]
        if width <= 400:
            assert steps["t"] >= pics["b"] - 1, (pics, steps)  # steps flow under the pictures
        else:
            assert steps["l"] >= pics["r"], (pics, steps)  # beside them on a wide screen
        # no big blank area: the card is as tall as what it holds, plus padding
        used = max(c["b"] for c in card["children"]) - min(c["t"] for c in card["children"])
        assert card["card"]["h"] <= used + 40, (card["card"], card["children"])
    broken = cards[results[3].source]
    assert broken["text"].count("cannot be read: not an image") == 1, broken["text"]


# --- colour: the "before" picture as a browser shows the original ----------------


def _chromium_mean(exe: str, image: Path, size: tuple[int, int], tmp_path: Path) -> list[float]:
    page = tmp_path / "original.html"
    page.write_text(
        f'<html><body style="margin:0"><img src="{image.name}" style="display:block"></body></html>'
    )
    shot = tmp_path / "original.png"
    cmd = [
        exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert shot.is_file(), done.stderr[-2000:]
    with Image.open(shot) as im:
        return ImageStat.Stat(im.convert("RGB")).mean


@needs_corpus
def test_a_cmyk_thumbnail_has_the_colours_chromium_shows(tmp_path: Path) -> None:
    """A CMYK JPEG with a press (SWOP) profile: the review's "before" thumbnail goes
    through the profile as Chromium does (it once came out 109,132,110 on average
    where Chromium shows 128,132,122), and check and fix call it CMYK alike."""
    from click.testing import CliRunner

    from igpreflight.cli import cli
    from igpreflight.report.thumbs import image_thumb

    exe = _chromium()
    original = tmp_path / "cmyk.jpg"
    shutil.copy(CORPUS / "sharp" / "Channel_digital_image_CMYK_color.jpg", original)
    with Image.open(original) as im:
        assert im.mode == "CMYK" and im.info.get("icc_profile")
        size = im.size
    browser = _chromium_mean(exe, original, size, tmp_path)
    thumb = image_thumb(original)
    assert thumb is not None
    with Image.open(io.BytesIO(thumb.jpeg)) as im:
        ours = ImageStat.Stat(im.convert("RGB")).mean
    assert max(abs(a - b) for a, b in zip(ours, browser, strict=True)) < 3, (ours, browser)
    checked = CliRunner().invoke(cli, ["check", str(original)]).output
    planned = CliRunner().invoke(cli, ["fix", "--dry-run", str(original)]).output
    assert "colour is CMYK;" in checked and "YCCK" not in checked, checked
    assert "CMYK -> sRGB" in planned, planned
