"""`igpreflight fix`: make every input publishable, without touching the originals.

Exit code: 0 when every output passes, 1 when some inputs are unfixable or
failed (each with its reason), 2 for usage errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from igpreflight.api import errors
from igpreflight.api.fixing import FixResult
from igpreflight.api.fixing import fix as fix_api
from igpreflight.api.options import parse_colour, parse_memory
from igpreflight.commands.common import (
    MediaPath,
    as_option,
    fix_bar,
    jobs_option,
    s3_options,
    scale_options,
    terminal_options,
    write_output,
)
from igpreflight.commands.config_options import (
    config_options,
    pick_format,
    profile_option,
    settings,
)
from igpreflight.report.fix import RENDERERS
from igpreflight.terminal import TERMINAL

if TYPE_CHECKING:
    from igpreflight.api.options import EngineSpec, Shard


def _memory(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return parse_memory(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


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


FIX_FORMATS = ["text", "json"]


@click.command()
@terminal_options
@click.argument("paths", nargs=-1, type=MediaPath())
@click.option(
    "--manifest",
    metavar="FILE",
    help="Also fix the media of a post manifest, each in its post's role, under DIR/<role>/.",
)
@click.option(
    "--out",
    metavar="DIR|s3://BUCKET/PREFIX/",
    help="Folder or s3:// prefix for the fixed files (mirrors the input layout).",
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
@click.option("--deep", is_flag=True, help="Videos: decode every picture of a copy or remux too.")
@click.option(
    "--keep-metadata", is_flag=True, help="Keep EXIF/XMP (default: only the sRGB profile)."
)
@click.option(
    "--dry-run", is_flag=True, help="Print the plan; write nothing (--out is then optional)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FIX_FORMATS),
    default=None,
    help="Report format (default: the configuration's `format` when text or json, else text).",
)
@click.option(
    "--max-memory",
    default="1G",
    show_default=True,
    callback=_memory,
    help="Memory budget of one image decode (e.g. 512M, 2G); larger images are unfixable.",
)
@jobs_option
@click.option(
    "--report",
    "report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write an HTML page to review the batch (before/after thumbnails).",
)
@scale_options
@s3_options
@config_options
@profile_option
def fix(
    paths: tuple[str, ...],
    manifest: str | None,
    out: str | None,
    in_place: bool,
    as_: str,
    aspect: str,
    pad_color: str,
    background: str,
    trim: bool,
    extend: bool,
    keep_png: bool,
    keep_hevc: bool,
    deep: bool,
    keep_metadata: bool,
    dry_run: bool,
    fmt: str,
    max_memory: int,
    jobs: int | None,
    report: Path | None,
    engine: EngineSpec,
    shard: Shard | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_file: str | None,
    isolated: bool,
    profile: str | None,
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
    conf = settings(select, ignore, config_file, isolated, profile)
    fmt = pick_format(fmt, conf, FIX_FORMATS)
    jobs = jobs or conf.jobs
    progress = fix_bar()
    render = RENDERERS[fmt]
    try:
        result = fix_api(
            paths,
            out,
            jobs,
            manifest=manifest,
            progress=progress,
            engine=engine,
            shard=shard,
            as_=as_,
            aspect=aspect,
            pad_color=pad_color,
            background=background,
            trim=trim,
            extend=extend,
            keep_png=keep_png,
            keep_hevc=keep_hevc,
            deep=deep,
            keep_metadata=keep_metadata,
            in_place=in_place,
            dry_run=dry_run,
            max_memory=max_memory,
            rules=conf.rules,
        )
    # Each error class is named (and its module loaded) only when an error is raised:
    # fixing one video loads neither the manifest reader nor the S3 layer.
    except (errors.ManifestError, errors.UsageError) as exc:
        progress.close()
        raise click.UsageError(str(exc)) from None
    except errors.StorageError as exc:  # a setup error is its line alone: no usage text
        progress.close()
        TERMINAL.error(str(exc))
        sys.exit(2)
    except errors.BatchInterrupted as stop:
        progress.close()
        write_output(render(FixResult(stop.results, dry_run=dry_run)), colored=fmt == "text")
        TERMINAL.error(
            f"interrupted: {len(stop.results)} of {stop.total} files done; "
            "run the same command again to finish the rest"
        )
        sys.exit(130)
    except errors.FolderBusy as busy:
        progress.close()
        TERMINAL.error(str(busy))
        sys.exit(2)
    finally:
        progress.close()
    if report is not None:
        from igpreflight.report.html import render_fix_report

        render_fix_report(result.files, report)
    write_output(render(result), colored=fmt == "text")
    if any(r.unmarked_output for r in result.files):
        from igpreflight.api.refusals import unmarked_note

        TERMINAL.warning(unmarked_note(result.files, dry_run=dry_run))
    if not result.ok:
        from igpreflight.api.refusals import every_read_refused

        refused = every_read_refused([(r.source, r.before) for r in result.files])
        if refused:
            TERMINAL.error(refused)
    sys.exit(0 if result.ok else 1)
