"""`igpreflight check`: report every predictable rejection, with exit codes CI can use."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from igpreflight.api.checking import check as check_api
from igpreflight.commands.common import (
    MediaPath,
    as_option,
    jobs_option,
    s3_options,
    scale_options,
    terminal_options,
    write_output,
)
from igpreflight.commands.config_options import config_options, profile_option, settings
from igpreflight.commands.precommit import PreCommitCommand, pre_commit_option
from igpreflight.config import FORMATS
from igpreflight.terminal import TERMINAL

if TYPE_CHECKING:  # a pre-commit `check FILE` loads no engine, shard or S3 module
    from igpreflight.api.options import EngineSpec, Shard


@click.command(cls=PreCommitCommand)
@terminal_options
@click.argument("paths", nargs=-1, type=MediaPath())
@as_option
@click.option(
    "--manifest",
    "manifest",
    metavar="FILE|-",
    help="Post manifest (TOML or JSON); '-' reads JSON from stdin.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    default=None,
    help="Report format (default: the configuration's `format`, else text).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of stdout.",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Let manifest URLs use plain http and private hosts (local tests, emulators).",
)
@click.option(
    "--deep",
    is_flag=True,
    help="Also decode every frame and sample; one that does not decode is unreadable (slower).",
)
@jobs_option
@scale_options
@s3_options
@config_options
@profile_option
@pre_commit_option
def check(
    paths: tuple[str, ...],
    as_: str,
    manifest: str | None,
    fmt: str,
    output: Path | None,
    strict: bool,
    allow_private: bool,
    deep: bool,
    jobs: int | None,
    engine: EngineSpec,
    shard: Shard | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_file: str | None,
    isolated: bool,
    profile: str | None,
    pre_commit: bool,
) -> None:
    """Check media files, folders and post manifests against Instagram's limits.

    Exit code: 0 no errors (no warnings either with --strict), 1 findings at that
    level, 2 usage or configuration error.
    """
    if not paths and not manifest and not pre_commit:  # pre-commit: every name skipped
        raise click.UsageError("give at least one PATH or --manifest")
    if shard is not None and manifest:
        raise click.UsageError("--shard splits PATHS; a manifest's posts are checked whole")
    conf = settings(select, ignore, config_file, isolated, profile)
    fmt = fmt or conf.format or "text"
    strict = strict or bool(conf.strict)
    jobs = jobs or conf.jobs
    progress = TERMINAL.progress()
    try:
        report = check_api(
            paths,
            as_=as_,
            manifest=manifest,
            jobs=jobs,
            allow_private=allow_private,
            progress=progress,
            engine=engine,
            shard=shard,
            deep=deep,
            rules=conf.rules,
        )
    except Exception as exc:
        # Resolved only when something failed: these modules load no faster than that.
        from igpreflight.api.errors import ManifestError, StorageError

        if isinstance(exc, StorageError):  # listing failed: nothing was checked
            progress.close()  # a setup error is its line alone: no usage text, not a typo
            TERMINAL.error(str(exc))
            sys.exit(2)
        if isinstance(exc, ManifestError):
            raise click.UsageError(str(exc)) from exc
        raise
    except KeyboardInterrupt:
        progress.close()
        TERMINAL.error("interrupted: no report written")
        sys.exit(130)
    finally:
        progress.close()
    from igpreflight.report import render

    write_output(render(report, fmt, strict=strict), output, colored=fmt == "text")
    if report.errors:
        from igpreflight.api.refusals import every_read_refused

        refused = every_read_refused([(f.path, f.findings) for f in report.files])
        if refused:
            TERMINAL.error(refused)
    sys.exit(1 if report.errors or (strict and report.warnings) else 0)
