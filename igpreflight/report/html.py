"""`fix --report report.html`: one self-contained page to review a fix batch by looking.

Every changed file gets a card with its before and after thumbnails (a frame for
videos), the crop or pad drawn on the before picture, the steps, the rules they
resolved and the size change. Files that could not be fixed come next with the
reason, then a short table of the files copied as they were. Thumbnails are
embedded as data: URIs, so the page can be mailed or attached to a CI run.
"""

from __future__ import annotations

import base64
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from html import escape
from pathlib import Path

from igpreflight._version import __version__
from igpreflight.atomic import write_text
from igpreflight.model import Finding, Kind, Severity
from igpreflight.report.overlay import Overlay, overlays
from igpreflight.report.thumbs import THUMB_SIZE, Thumb, image_thumb, video_thumb
from igpreflight.textcheck import printable
from igpreflight.transcode.types import FileFixResult, FixStatus

CHANGED = (FixStatus.CONVERTED, FixStatus.TRANSCODED, FixStatus.REMUXED)
PROBLEMS = (FixStatus.UNFIXABLE, FixStatus.FAILED, FixStatus.SKIPPED)

Thumbnailer = Callable[[str, Kind | None], Thumb | None]


def render_fix_report(results: Sequence[FileFixResult], path: Path | str) -> None:
    """Write the HTML report for `results` to `path`, atomically."""
    write_text(Path(path), build_fix_report(results))


def build_fix_report(results: Sequence[FileFixResult], *, jobs: int | None = None) -> str:
    """The report page as a string (thumbnails made in a thread pool: Pillow and
    ffmpeg release the GIL)."""
    wanted: list[tuple[str, Kind | None]] = []
    for r in results:
        if r.status in CHANGED or r.status in PROBLEMS:
            wanted.append((r.source, _kind(r)))
        if r.status in CHANGED and r.output:
            wanted.append((r.output, _kind(r)))
    unique = list(dict.fromkeys(wanted))
    with ThreadPoolExecutor(max_workers=jobs or min(8, os.cpu_count() or 1)) as pool:
        thumbs = dict(zip(unique, pool.map(lambda a: thumbnail(*a), unique), strict=True))

    def get(path: str | None, r: FileFixResult) -> Thumb | None:
        return thumbs.get((path, _kind(r))) if path else None

    changed = [r for r in results if r.status in CHANGED]
    problems = [r for r in results if r.status in PROBLEMS]
    others = [r for r in results if r.status not in CHANGED and r.status not in PROBLEMS]
    body = [_summary(results)]
    if changed:
        body.append('<section class="changed"><h2>Changed</h2>')
        body += [_card(i, r, get(r.source, r), get(r.output, r)) for i, r in enumerate(changed)]
        body.append("</section>")
    if problems:
        body.append('<section class="problems"><h2>Not fixed</h2>')
        body += [_problem(r, get(r.source, r)) for r in problems]
        body.append("</section>")
    if others:
        body.append(_untouched(others))
    return printable(_page("\n".join(body)))  # a non-UTF-8 file name shows escaped


def thumbnail(path: str, kind: Kind | None) -> Thumb | None:
    """A thumbnail of `path`: a picture for images, a frame for videos, whichever
    decodes when the kind is unknown. An s3:// object is fetched for it."""
    if path[:5].lower() == "s3://":
        from igpreflight.storage.objects import fetched_copy

        with fetched_copy(path) as local:
            return thumbnail(str(local), kind) if local is not None else None
    if not Path(path).is_file():
        return None
    if kind is Kind.VIDEO:
        return video_thumb(path)
    thumb = image_thumb(path)
    if thumb is None and kind is not Kind.IMAGE:
        thumb = video_thumb(path)
    return thumb


# --- pieces of the page -------------------------------------------------------


def _kind(r: FileFixResult) -> Kind | None:
    return r.plan.kind if r.plan and r.plan.kind is not Kind.UNKNOWN else None


def _summary(results: Sequence[FileFixResult]) -> str:
    counts = Counter(r.status for r in results)
    parts = [
        f'<span class="badge {s.value}">{counts[s]} {s.value}</span>'
        for s in FixStatus
        if counts[s]
    ]
    before = sum(r.bytes_before for r in results if r.status in CHANGED)
    after = sum(r.bytes_after or 0 for r in results if r.status in CHANGED)
    size = f"<p>Changed files: {_bytes(before)} → {_bytes(after)} {_delta(before, after)}</p>"
    n = len(results)
    return (
        f"<header><h1>igpreflight fix report</h1>"
        f'<p class="counts">{n} file{"s" if n != 1 else ""}: {" ".join(parts) or "none"}</p>'
        f"{size if before else ''}</header>"
    )


def _card(index: int, r: FileFixResult, before: Thumb | None, after: Thumb | None) -> str:
    shapes = overlays(r.plan)
    marks = " ".join(o.kind for o in shapes)
    head = _head(r)
    before_fig = _figure("before", before, shapes, index, r.source)
    after_fig = _figure("after", after, [], index, r.output or "")
    return (
        f'<article class="file {r.status.value}" data-status="{r.status.value}" '
        f'data-source="{escape(r.source)}" data-overlays="{marks}">'
        f"{head}"
        f'<div class="pics">{before_fig}<span class="arrow">→</span>{after_fig}</div>'
        f'<div class="info">{_size(r)}{_steps(r)}{_findings(r)}</div>'
        f"</article>"
    )


def _problem(r: FileFixResult, before: Thumb | None) -> str:
    reason = r.reason or (r.plan.reason if r.plan else None) or "no reason given"
    fig = _figure("before", before, [], -1, r.source) if before else ""
    return (
        f'<article class="file {r.status.value}" data-status="{r.status.value}" '
        f'data-source="{escape(r.source)}">{_head(r)}'
        f'<div class="pics">{fig}</div>'
        f'<div class="info"><p class="reason">{escape(reason)}</p>{_findings(r, reason)}</div>'
        f"</article>"
    )


def _untouched(results: Sequence[FileFixResult]) -> str:
    rows = []
    for r in results:
        steps = ", ".join(str(s) for s in r.plan.steps) if r.plan and r.plan.steps else ""
        rows.append(
            f'<tr data-status="{r.status.value}"><td>{_badge(r.status)}</td>'
            f"<td><code>{escape(r.source)}</code></td>"
            f"<td><code>{escape(r.output or '')}</code></td><td>{escape(steps)}</td></tr>"
        )
    return (
        '<section class="untouched"><h2>Copied as they were</h2><table>'
        "<tr><th>status</th><th>source</th><th>output</th><th>note</th></tr>"
        + "".join(rows)
        + "</table></section>"
    )


def _head(r: FileFixResult) -> str:
    out = f' → <code class="out">{escape(r.output)}</code>' if r.output else ""
    return f'<h3>{_badge(r.status)} <code class="src">{escape(r.source)}</code>{out}</h3>'


def _badge(status: FixStatus) -> str:
    return f'<span class="badge {status.value}">{status.value}</span>'


def _size(r: FileFixResult) -> str:
    if r.bytes_after is None:
        return f'<p class="size">{_bytes(r.bytes_before)} (not written)</p>'
    return (
        f'<p class="size">{_bytes(r.bytes_before)} → {_bytes(r.bytes_after)} '
        f"{_delta(r.bytes_before, r.bytes_after)}</p>"
    )


def _steps(r: FileFixResult) -> str:
    if not r.plan or not r.plan.steps:
        return ""
    items = []
    for s in r.plan.steps:
        rules = "".join(f'<span class="rule">{escape(c)}</span>' for c in s.rules)
        detail = f" {escape(s.detail)}" if s.detail else ""
        items.append(f"<li><b>{escape(s.name)}</b>{detail} {rules}</li>")
    return f'<ol class="steps">{"".join(items)}</ol>'


def _findings(r: FileFixResult, reason: str = "") -> str:
    """Resolved and remaining rules; for a file not fixed, only the findings its
    reason does not already name (each reason is shown once)."""
    if r.status in PROBLEMS:
        unnamed = [f for f in (r.after or r.before) if f.rule not in reason]
        return f'<p class="findings">also {_rules(unnamed, messages=True)}</p>' if unnamed else ""
    after = {f.rule for f in r.after}
    resolved = [f for f in r.before if f.rule not in after and f.severity is not Severity.INFO]
    parts = []
    if resolved:
        parts.append("resolved " + _rules(resolved))
    if r.after:
        parts.append("remaining " + _rules(r.after, messages=True))
    return f'<p class="findings">{"; ".join(parts)}</p>' if parts else ""


def _rules(findings: Sequence[Finding], *, messages: bool = False) -> str:
    out = []
    for f in findings:
        title = f' title="{escape(f.tagged_message)}"'
        text = f"{escape(f.rule)}" + (f": {escape(f.tagged_message)}" if messages else "")
        out.append(f'<span class="rule {f.severity.value}"{title}>{text}</span>')
    return " ".join(out)


def _figure(role: str, thumb: Thumb | None, shapes: list[Overlay], index: int, path: str) -> str:
    caption = f"<figcaption>{role}</figcaption>"
    if thumb is None:
        return (
            f'<figure class="{role} missing"><div class="none">no preview</div>{caption}</figure>'
        )
    kinds = " ".join(o.kind for o in shapes)
    return (
        f'<figure class="{role}" data-overlays="{kinds}">'
        f"{_picture(thumb, shapes, index, path)}{caption}</figure>"
    )


def _picture(thumb: Thumb, shapes: list[Overlay], index: int, path: str) -> str:
    """The thumbnail as inline SVG: the picture, a dimmed outside and a dashed box for
    a crop, the added canvas (hatched) around the picture for a pad."""
    src = "data:image/jpeg;base64," + base64.b64encode(thumb.jpeg).decode("ascii")
    alt = escape(path)
    if not shapes:
        return (
            f'<img class="thumb" src="{src}" width="{thumb.width}" height="{thumb.height}" '
            f'alt="{alt}">'
        )
    crops = [o for o in shapes if o.kind == "crop"]
    pads = [o for o in shapes if o.kind == "pad"]
    # Canvas: the picture itself, or the padded canvas fitted into the thumbnail box.
    if pads:
        pad = pads[-1]
        aspect = pad.canvas_aspect or 1.0
        cw, ch = _fit(aspect, THUMB_SIZE)
        px0, py0, px1, py1 = pad.box
        ix, iy, iw, ih = px0 * cw, py0 * ch, (px1 - px0) * cw, (py1 - py0) * ch
    else:
        cw, ch = thumb.width, thumb.height
        ix, iy, iw, ih = 0.0, 0.0, float(cw), float(ch)
    parts = [
        f'<svg class="thumb" xmlns="http://www.w3.org/2000/svg" width="{cw}" height="{ch}" '
        f'viewBox="0 0 {cw} {ch}" role="img" aria-label="{alt}">',
        f"<title>{alt}</title>",
    ]
    if pads:
        hatch = f"hatch{index}"
        parts.append(
            f'<defs><pattern id="{hatch}" width="8" height="8" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#e8e8ee"/>'
            f'<rect width="3" height="8" fill="#b8b8c8"/></pattern></defs>'
            f'<rect class="pad-area" width="{cw}" height="{ch}" fill="url(#{hatch})"/>'
        )
    parts.append(
        f'<image href="{src}" x="{ix:.1f}" y="{iy:.1f}" width="{iw:.1f}" height="{ih:.1f}" '
        f'preserveAspectRatio="none"/>'
    )
    for crop in crops:
        x0, y0, x1, y1 = crop.box
        bx, by = ix + x0 * iw, iy + y0 * ih
        bw, bh = (x1 - x0) * iw, (y1 - y0) * ih
        outer = f"M{ix:.1f} {iy:.1f}h{iw:.1f}v{ih:.1f}h{-iw:.1f}z"
        inner = f"M{bx:.1f} {by:.1f}v{bh:.1f}h{bw:.1f}v{-bh:.1f}z"
        parts.append(
            f'<path class="crop-shade" d="{outer} {inner}" fill="#000" fill-opacity="0.55" '
            f'fill-rule="evenodd"/>'
            f'<rect class="crop-box" data-box="{x0:.4f},{y0:.4f},{x1:.4f},{y1:.4f}" '
            f'x="{bx:.1f}" y="{by:.1f}" width="{bw:.1f}" height="{bh:.1f}" fill="none" '
            f'stroke="#ffd21f" stroke-width="2" stroke-dasharray="6 3">'
            f"<title>{escape(crop.detail)}</title></rect>"
        )
    for pad in pads:
        x0, y0, x1, y1 = pad.box
        parts.append(
            f'<rect class="pad-box" data-box="{x0:.4f},{y0:.4f},{x1:.4f},{y1:.4f}" '
            f'x="{ix:.1f}" y="{iy:.1f}" width="{iw:.1f}" height="{ih:.1f}" fill="none" '
            f'stroke="#ffd21f" stroke-width="2" stroke-dasharray="6 3">'
            f"<title>{escape(pad.detail)}</title></rect>"
            f'<rect x="1" y="1" width="{cw - 2}" height="{ch - 2}" fill="none" '
            f'stroke="#666" stroke-width="1"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _fit(aspect: float, size: int) -> tuple[int, int]:
    if aspect >= 1:
        return size, max(1, round(size / aspect))
    return max(1, round(size * aspect)), size


def _bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def _delta(before: int, after: int) -> str:
    if not before:
        return ""
    pct = (after - before) / before * 100
    cls = "smaller" if pct < 0 else "larger"
    return f'<span class="delta {cls}">({pct:+.0f}%)</span>'


_CSS = """
:root { color-scheme: light; }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; padding: 16px clamp(8px, 3vw, 24px); font: 14px/1.4 system-ui, sans-serif;
       background: #fafafa; color: #222; overflow-wrap: anywhere; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; color: #555; }
h3 { font-size: 14px; margin: 0 0 8px; font-weight: 600; word-break: break-all; }
code { font: 13px ui-monospace, monospace; }
article.file { background: #fff; border: 1px solid #ddd; border-radius: 6px;
               padding: 12px; margin: 0 0 12px; display: grid; align-items: start;
               grid-template-columns: minmax(0, auto) minmax(0, 1fr); gap: 4px 16px; }
article.file h3 { grid-column: 1 / -1; }
.pics { display: flex; align-items: center; gap: 8px; min-width: 0; }
.pics:empty { display: none; }
figure { margin: 0; flex: 0 1 240px; min-width: 0; max-width: 240px; text-align: center; }
figure .thumb, figure .none { display: block; margin: 0 auto; max-width: 100%; height: auto; }
figure .thumb { outline: 1px solid #ccc; }
figure .none { width: 240px; aspect-ratio: 2 / 1; display: grid; place-items: center;
               background: #eee; color: #888; }
figcaption { font-size: 12px; color: #777; }
.arrow { flex: none; font-size: 20px; color: #999; }
.info { min-width: 0; }
.steps { margin: 4px 0; padding-left: 20px; }
.rule { display: inline-block; font: 11px ui-monospace, monospace; padding: 0 4px;
        border-radius: 3px; background: #eee; color: #444; margin: 0 2px; }
.rule.error { background: #f4dcdc; } .rule.warning { background: #f4ecd4; }
.badge { display: inline-block; font-size: 11px; padding: 1px 6px; border-radius: 8px;
         background: #ddd; color: #333; text-transform: uppercase; letter-spacing: .03em;
         white-space: nowrap; }
.badge.converted, .badge.transcoded, .badge.remuxed { background: #d8e4f0; color: #234; }
.badge.copied, .badge.unchanged { background: #e4e4e4; color: #444; }
.badge.unfixable, .badge.failed, .badge.skipped { background: #f0d8d8; color: #612; }
.reason { color: #612; margin: 0 0 4px; }
.delta.smaller { color: #365; } .delta.larger { color: #853; }
.untouched { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; }
td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: left; font-size: 13px; }
th { overflow-wrap: normal; white-space: nowrap; }
td code { word-break: break-all; }
/* Phones: one column, the steps under the pictures, the pictures side by side and shrunk. */
@media (max-width: 640px) {
  article.file { grid-template-columns: minmax(0, 1fr); }
  .pics { justify-content: center; }
  td, th { padding: 2px 4px; }
}
"""


def _page(body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="generator" content="igpreflight {escape(__version__)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>igpreflight fix report</title>"
        f"<style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
