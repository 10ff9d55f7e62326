"""`igpreflight run`: check, fix, upload and publish in one go (`igpreflight.api.run`).

Each post stops at the first stage it fails, with one line on stderr saying where
and why; the report is `publish`'s, plus the posts that stopped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from igpreflight.api.errors import ManifestError, UsageError
from igpreflight.commands.common import (
    Encodes,
    as_option,
    jobs_option,
    terminal_options,
    write_output,
)
from igpreflight.commands.config_options import profile_option
from igpreflight.commands.publish import (
    api_options,
    auth_stop_lines,
    echo_err,
    posts_bar,
    publish,
    refusal_lines,
)
from igpreflight.commands.upload_options import with_upload_target
from igpreflight.report.run import render, stop_line
from igpreflight.terminal import TERMINAL


@click.command("run")
@terminal_options
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for fixed media and the derived manifest (default: .igpreflight/run beside "
    "the manifest, or in the current folder).",
)
@as_option
@click.option("--aspect", type=click.Choice(["crop", "pad"]), default="crop", show_default=True)
@click.option("--pad-color", default="white", show_default=True)
@click.option("--trim", is_flag=True, help="Videos: cut clips that are too long.")
@click.option("--extend", is_flag=True, help="Videos: extend clips that are too short.")
@click.option("--deep", is_flag=True, help="Decode every picture before upload (fix's --deep).")
@jobs_option
@click.option("--dry-run", is_flag=True, help="Check and fix, then print the publish calls only.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@profile_option
@with_upload_target  # publish's upload options (added below) as one `upload` argument
def run(
    inputs: tuple[str, ...],
    out: Path | None,
    as_: str,
    aspect: str,
    pad_color: str,
    trim: bool,
    extend: bool,
    deep: bool,
    jobs: int | None,
    dry_run: bool,
    fmt: str,
    **publish_options,
) -> None:
    """Check, fix, upload and publish a MANIFEST or media PATHs in one go.

    Every publish option (--bucket, --public-base-url, --ig-user-id, --graph-url,
    --journal, --allow-private...) is accepted and passed on. Each post stops at
    the first stage it fails. Exit 0 when every post is published, 1 otherwise,
    2 on usage errors.
    """
    from igpreflight.api.running import run as run_api

    kwargs = api_options(publish_options)
    progress = None if dry_run else posts_bar()
    try:
        result = run_api(
            inputs,
            out=out,
            as_=as_,
            aspect=aspect,
            pad_color=pad_color,
            trim=trim,
            extend=extend,
            deep=deep,
            jobs=jobs,
            dry_run=dry_run,
            progress=progress,
            fix_progress=Encodes(),  # each long encode's percentage, as before
            on_stop=lambda pid, stage, why: TERMINAL.error(stop_line(pid, stage, why)),
            on_stage=progress.status if progress is not None else None,
            **{k: v for k, v in kwargs.items() if v is not None},
        )
    except (ManifestError, UsageError) as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        if progress is not None:
            progress.close()
    if result.publish_error is not None:
        echo_err(refusal_lines(result.publish_error))
    echo_err(auth_stop_lines(result.publish))
    write_output(render(result, fmt), colored=fmt == "text")
    sys.exit(2 if result.publish_error is not None else 0 if result.ok else 1)


# Every option of `publish` except the ones run defines itself is accepted as is.
for _param in publish.params:
    own = ("manifest", "dry_run", "fmt", "quiet", "verbose", "color")  # terminal_options: run's own
    if _param.name not in own and isinstance(_param, click.Option):
        run.params.append(_param)
