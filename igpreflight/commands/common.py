"""Options and output helpers shared by several commands."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from igpreflight.api.options import AsOption
from igpreflight.terminal import TERMINAL, ColorMode, Progress, configure, paint_report

as_option = click.option(
    "--as",
    "as_",
    type=click.Choice([a.value for a in AsOption]),
    default=AsOption.AUTO.value,
    show_default=True,
    help="Role to check files in: auto (image -> feed, video -> reels), feed, reels, story, carousel-item.",
)


def bounded_jobs(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """--jobs/--workers: at most 4 per CPU (config.max_jobs), with the bound in the error."""
    from igpreflight.config import ConfigError, check_jobs

    if value is None:
        return None
    try:
        return check_jobs(value, f"--{param.name}")
    except ConfigError as exc:
        raise click.BadParameter(str(exc).split(": ", 1)[1]) from None


jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    callback=bounded_jobs,
    help="Parallel workers (default: number of CPUs; check starts them only for a batch "
    "big enough to repay them; at most 4 per CPU).",
)


class MediaPath(click.Path):
    """A local path that must exist, or an s3:// URI (listed when the command runs)."""

    def __init__(self) -> None:
        super().__init__(exists=True, path_type=str)

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        from igpreflight.api.options import check_s3_uri, is_s3

        if isinstance(value, str) and is_s3(value):
            try:
                check_s3_uri(value)
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
            return value
        return super().convert(value, param, ctx)


def _configure_s3(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--endpoint-url/--region apply to every s3:// path of the command."""
    from igpreflight.api.options import set_s3_option

    name = "endpoint_url" if param.name == "endpoint_url" else "region"
    # Set on every invocation (None when absent), so no earlier command's value lingers
    # (a local run, with no S3 layer loaded, has none to clear and loads none).
    set_s3_option(name, value)
    return value


def s3_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--endpoint-url and --region for commands that read or write s3:// URIs."""
    command = click.option(
        "--region",
        callback=_configure_s3,
        expose_value=False,
        is_eager=True,
        help="S3 region for s3:// paths (default: boto3's configuration).",
    )(command)
    return click.option(
        "--endpoint-url",
        callback=_configure_s3,
        expose_value=False,
        is_eager=True,
        help="S3-compatible endpoint for s3:// paths (R2, MinIO, B2, Spaces); "
        "default AWS_ENDPOINT_URL_S3 or AWS.",
    )(command)


def _engine(ctx: click.Context, param: click.Parameter, value: str) -> Any:
    from igpreflight.api.options import engine_spec

    params = ctx.params
    try:
        return engine_spec(value, params.pop("workers", None), params.pop("scheduler", None))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _shard(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from igpreflight.api.options import parse_shard

    try:
        return parse_shard(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def scale_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--engine/--workers/--scheduler (passed as one EngineSpec `engine`) and --shard."""
    for option in reversed(
        [
            click.option(
                "--engine",
                type=click.Choice(["local", "dask"]),
                default="local",
                show_default=True,
                callback=_engine,
                help="local: this machine's threads/processes; dask: a Dask cluster.",
            ),
            click.option(
                "--workers",
                type=click.IntRange(min=1),
                is_eager=True,
                callback=bounded_jobs,
                help="--engine dask: start a local cluster of N worker processes (at most 4 "
                "per CPU).",
            ),
            click.option(
                "--scheduler",
                metavar="tcp://HOST:8786",
                is_eager=True,
                help="--engine dask: use this existing cluster.",
            ),
            click.option(
                "--shard",
                metavar="I/N",
                callback=_shard,
                help="Process only shard I of N (0-based, by key hash), for array jobs.",
            ),
        ]
    ):
        command = option(command)
    return command


def write_output(text: str, output: Path | None = None, *, colored: bool = False) -> None:
    """Write a report to stdout (no --output, or `-o -`), or atomically to a file.

    A `colored` (text) report on stdout has its severity words coloured when the
    terminal says so (--color, NO_COLOR, a terminal). A file gets ordinary
    permissions (0666 minus the umask) and a folder that does not exist is a usage
    error (exit 2) in one line, never a traceback.
    """
    if output is None or str(output) == "-":
        paint = colored and TERMINAL.colors(sys.stdout)
        click.echo(paint_report(text, paint), nl=False, color=paint)
        return
    output = output.resolve()
    if not output.parent.is_dir():
        raise click.UsageError(f"cannot write {output}: folder {output.parent} does not exist")
    from igpreflight.api.output import write_text

    try:
        write_text(output, text)
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


def terminal_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """-q/--quiet, -v/--verbose and --color for a command. Each run sets the process's
    terminal from them (nothing lingers from an earlier run) and sends the library's
    log through it. Put it right under `@click.command`."""

    @functools.wraps(command)
    def run(*args: Any, quiet: bool, verbose: int, color: str, **kwargs: Any) -> Any:
        term = configure(quiet=quiet, verbosity=verbose, color=color)
        with term.logging():
            return command(*args, **kwargs)

    options = (
        click.option(
            "--color",
            type=click.Choice([m.value for m in ColorMode]),
            default=ColorMode.AUTO.value,
            show_default=True,
            help="Colour severities: auto (on a terminal, unless NO_COLOR is set), always, never.",
        ),
        click.option(
            "-v",
            "--verbose",
            count=True,
            help="Log what is done to stderr, above the progress bar (-vv: more). Never secrets.",
        ),
        click.option(
            "-q",
            "--quiet",
            is_flag=True,
            help="Only the report and errors: no progress bar, warnings or notes.",
        ),
    )
    for option in options:
        run = option(run)
    return run


def fix_bar() -> Progress:
    """fix's bar of files, in which each long encode shows its percentage: the batch
    asks its progress for `file(name)` (the API passes none, so it draws nothing)."""
    from igpreflight.api.progress import encode_progress

    bar = TERMINAL.progress(describe=lambda r: f"{r.source}: {r.status.value}")
    bar.file = encode_progress  # type: ignore[attr-defined]
    return bar


class Encodes:
    """Progress for a fix stage without a bar of files (`run`): only each long encode's
    percentage, on the terminal."""

    def file(self, label: str) -> Callable[[float], None] | None:
        from igpreflight.api.progress import encode_progress

        return encode_progress(label)

    def __call__(self, result: Any) -> None:
        """Finished files are not counted."""
