"""`igpreflight fix`: make every input publishable, without touching the originals.

Exit code: 0 when every output passes, 1 when some inputs are unfixable or
failed (each with its reason), 2 for usage errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from igpreflight import SPEC_VERSION, __version__
from igpreflight.commands.common import ProgressLine, as_option, jobs_option
from igpreflight.transcode.batch import BatchInterrupted, fix_paths, steps_text, summarize
from igpreflight.transcode.image import parse_colour
from igpreflight.transcode.types import FileFixResult, FixOptions, FixStatus


def _colour(allow_blur: bool):
    def check(ctx: click.Context, param: click.Parameter, value: str) -> str:
        if allow_blur and value == "blur":
            return value
        try:
            parse_colour(value)
        except ValueError as exc:
            raise click.BadParameter(f"{value!r} is not a colour name or #rrggbb") from exc
        return value

    return check


def _line(r: FileFixResult, dry_run: bool) -> str:
    if r.status in (FixStatus.UNFIXABLE, FixStatus.FAILED):
        return f"{r.source}: {r.status.value}: {r.reason or 'no reason given'}"
    status = f"{r.status.value} (dry run)" if dry_run else r.status.value
    if r.resumed:
        status += " (already done)"
    # A resumed file shows no steps: the plan is this run's, the work an earlier one's.
    steps = steps_text(r.plan.steps) if r.plan and not r.resumed else ""
    target = f" -> {r.output}" if r.output else ""
    return f"{r.source}{target}: {status}" + (f" ({steps})" if steps else "")


def _refuse_out_around_inputs(out: Path, paths: tuple[str, ...]) -> None:
    """--out may sit inside an input folder (it is skipped), but an input folder
    inside --out (or --out itself) would be skipped whole: say so instead of
    reporting "nothing to do"."""
    target = out.resolve()
    for given in paths:
        folder = Path(given).resolve()
        if folder.is_dir() and (folder == target or target in folder.parents):
            raise click.UsageError(
                f"--out {out} contains the input folder {given}; use another folder, "
                "or --in-place to replace the originals"
            )


def _fix_manifest(
    manifest: str, out: Path | None, options: FixOptions, jobs: int | None
) -> list[FileFixResult]:
    from igpreflight.preflight.manifest import ManifestError, load_manifest
    from igpreflight.transcode.posts import fix_posts

    try:
        posts = load_manifest(manifest)
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from exc
    base = Path(out) if out is not None else Path(".")
    return list(fix_posts(posts, base, options, jobs).values())


def render_text(results: list[FileFixResult], dry_run: bool) -> str:
    lines = [_line(r, dry_run) for r in results]
    counts = summarize(results)
    parts = [f"{counts[s.value]} {s.value}" for s in FixStatus if counts[s.value]]
    files = f"{counts['files']} file{'s' if counts['files'] != 1 else ''}"
    lines.append(f"{files}: " + (", ".join(parts) if parts else "nothing to do"))
    return "\n".join(lines) + "\n"


def render_json(results: list[FileFixResult], dry_run: bool) -> str:
    doc = {
        "version": 1,
        "tool": {"name": "igpreflight", "version": __version__, "spec": SPEC_VERSION},
        "dry_run": dry_run,
        "summary": summarize(results),
        "files": [r.to_dict() for r in results],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=str))
@click.option(
    "--manifest",
    metavar="FILE",
    help="Also fix the media of a post manifest, each in its post's role, under DIR/<role>/.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the fixed files (mirrors the input layout).",
)
@click.option(
    "--in-place", is_flag=True, help="Replace the originals (atomically, only on success)."
)
@as_option
@click.option(
    "--aspect",
    type=click.Choice(["crop", "pad"]),
    default="crop",
    show_default=True,
    help="Bring the aspect ratio into range by a centre crop or by padding.",
)
@click.option(
    "--pad-color",
    default="white",
    show_default=True,
    callback=_colour(True),
    help="Padding colour (name or #rrggbb), or 'blur' for a blurred fill of the image.",
)
@click.option(
    "--background",
    default="white",
    show_default=True,
    callback=_colour(False),
    help="Colour transparent pixels are flattened onto.",
)
@click.option("--trim", is_flag=True, help="Videos: cut clips that are too long.")
@click.option("--extend", is_flag=True, help="Videos: extend clips that are too short.")
@click.option("--keep-png", is_flag=True, help="Keep PNG inputs as PNG (default: JPEG).")
@click.option("--keep-hevc", is_flag=True, help="Videos: keep HEVC (default: H.264).")
@click.option(
    "--keep-metadata", is_flag=True, help="Keep EXIF/XMP (default: only the sRGB profile)."
)
@click.option(
    "--dry-run", is_flag=True, help="Print the plan; write nothing (--out is then optional)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@jobs_option
@click.option(
    "--report",
    "report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write an HTML page to review the batch (before/after thumbnails).",
)
def fix(
    paths: tuple[str, ...],
    manifest: str | None,
    out: Path | None,
    in_place: bool,
    as_: str,
    aspect: str,
    pad_color: str,
    background: str,
    trim: bool,
    extend: bool,
    keep_png: bool,
    keep_hevc: bool,
    keep_metadata: bool,
    dry_run: bool,
    fmt: str,
    jobs: int | None,
    report: Path | None,
) -> None:
    """Fix media files and folders so that Instagram accepts them.

    Compliant files are copied byte for byte; the rest are converted (images)
    or remuxed/transcoded (videos), then checked again. Exit code: 0 all
    outputs pass, 1 some inputs unfixable or failed, 2 usage error.
    """
    if not paths and not manifest:
        raise click.UsageError("give at least one PATH or --manifest")
    if manifest and out is None and not dry_run:
        raise click.UsageError("--manifest needs --out DIR (media are fixed per role under it)")
    if out is None and not in_place and not dry_run:
        raise click.UsageError("give --out DIR, or --in-place to replace the originals")
    if out is not None and in_place:
        raise click.UsageError("--out and --in-place exclude each other")
    if out is not None:
        _refuse_out_around_inputs(out, paths)
    options = FixOptions(
        as_=as_,
        aspect=aspect,
        pad_color=pad_color,
        background=background,
        trim=trim,
        extend=extend,
        keep_png=keep_png,
        keep_hevc=keep_hevc,
        keep_metadata=keep_metadata,
        in_place=in_place,
        dry_run=dry_run,
    )
    progress = ProgressLine.for_stderr(lambda r: f"{r.source}: {r.status.value}")
    try:
        results = fix_paths(paths, out, options, jobs=jobs, progress=progress) if paths else []
        if manifest:
            results += _fix_manifest(manifest, out, options, jobs)
    except BatchInterrupted as stop:
        if progress is not None:
            progress.close()
        render = render_json if fmt == "json" else render_text
        click.echo(render(stop.results, dry_run), nl=False)
        click.echo(
            f"interrupted: {len(stop.results)} of {stop.total} files done; "
            "run the same command again to finish the rest",
            err=True,
        )
        sys.exit(130)
    if progress is not None:
        progress.close()
    if report is not None:
        from igpreflight.report.html import render_fix_report

        render_fix_report(results, report)
    render = render_json if fmt == "json" else render_text
    click.echo(render(results, dry_run), nl=False)
    sys.exit(0 if all(r.ok for r in results) else 1)
