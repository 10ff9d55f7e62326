"""The durable queue's commands: `publish` for many accounts, `worker`, `status`.

Exit codes: 0 every post published or scheduled, 1 some failed, held, uncertain or
already on Instagram, 2 usage and database errors (one `igpreflight: error:` line:
an unknown account, an unset token variable, a database that cannot be reached).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from igpreflight.api.errors import ManifestError, UsageError
from igpreflight.commands.common import terminal_options
from igpreflight.commands.upload_options import upload_target_options
from igpreflight.terminal import TERMINAL

DB_HELP = (
    "Durable queue database: a SQLite file (default .igpreflight/publish.sqlite beside the"
    " manifest) or postgresql://user@host/db for many workers."
)

_accounts = click.option(
    "--accounts",
    "accounts_file",
    metavar="FILE",
    help="Accounts file (TOML; default $IGPREFLIGHT_ACCOUNTS): posts pick one with `account`.",
)
_ahead = click.option(
    "--ahead",
    type=click.IntRange(1, 50),
    default=None,
    help="Posts per account whose containers are made ahead (default 5).",
)


def durable_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--accounts, --db, --enqueue, --ahead, --dedupe-window, --allow-duplicate,
    --settle-window."""
    for option in reversed(
        [
            _accounts,
            click.option("--db", help=DB_HELP),
            click.option(
                "--enqueue", "enqueue_only", is_flag=True, help="Only enqueue, for workers."
            ),
            _ahead,
            click.option(
                "--dedupe-window",
                type=click.FloatRange(min=0),
                default=24.0,
                show_default=True,
                metavar="HOURS",
                help="Refuse a post whose caption and type the account published this recently.",
            ),
            click.option(
                "--allow-duplicate", is_flag=True, help="Publish even if already on Instagram."
            ),
            click.option(
                "--settle-window",
                type=click.FloatRange(min=0),
                default=None,
                metavar="SECONDS",
                help="How long an uncertain post's container must read FINISHED before"
                " media_publish is sent for it again (default 180).",
            ),
        ]
    ):
        f = option(f)
    return f


def fail(exc: UsageError) -> None:
    """A usage or database error: one `igpreflight: error:` line per problem
    (commands.boundary), exit 2."""
    from igpreflight.commands.boundary import EXIT_USAGE, error_lines

    for line in error_lines(exc):
        TERMINAL.error(line)
    sys.exit(EXIT_USAGE)


def publish_durable(o: dict[str, Any]) -> None:
    """`publish` with its options `o`: returns when the run is one account's (the
    one-account report); otherwise publishes for many accounts and exits."""
    from igpreflight.api.durable import durable_wanted, load_posts, publish_many
    from igpreflight.report.durable import render

    try:
        posts = load_posts(o["manifest"])
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from None
    if not durable_wanted(posts, o["accounts_file"], enqueue=o["enqueue_only"]):
        return
    try:
        options = {k: v for k, v in o.items() if k != "manifest"}
        result = publish_many(
            o["manifest"],
            posts,
            check=not o["no_check"],
            journal=o["journal_path"],
            notify=TERMINAL.message,
            **options,
        )
    except UsageError as exc:
        fail(exc)
    if o["enqueue_only"]:
        click.echo(f"enqueued {result.enqueued} posts")
        sys.exit(0)
    if result.posts:
        click.echo(render(result, o["fmt"]), nl=False)
    result.engine.exit(0 if result.ok else 1)


_fmt = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


@click.command("worker")
@terminal_options
@_accounts
@click.option("--db", help=DB_HELP.replace("beside the manifest", "in the current folder"))
@click.option("--until-idle", is_flag=True, help="Exit once no post is running, due or scheduled.")
@_ahead
@click.option("--graph-url", help="Graph API host (default: the account's, else as publish).")
@click.option("--allow-private", is_flag=True, help="Accept http:// and private-host media URLs.")
@upload_target_options()
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@_fmt
def worker(db: str | None, until_idle: bool, ahead: int | None, fmt: str, **o: Any) -> None:
    """Run posts from the durable queue as they come due; any number of processes and
    hosts share one database, and a killed worker's posts are taken over. Held and
    uncertain posts are taken up first (the quota read again, the container settled).
    The database must exist (`publish` makes it). With --until-idle, exit once
    nothing is running, due or scheduled and report the posts this worker ran."""
    from igpreflight.api.durable import worker as run_worker
    from igpreflight.report.durable import render

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        result = run_worker(
            db, until_idle=until_idle, stop=stop, ahead=ahead, notify=TERMINAL.message, **o
        )
    except UsageError as exc:
        fail(exc)
    if result.interrupted:
        result.engine.exit(130)
    if until_idle:
        click.echo(render(result, fmt), nl=False)
    result.engine.exit(0 if result.ok else 1)


@click.command("status")
@terminal_options
@click.argument("manifest", required=False)
@click.option("--db", help=DB_HELP)
@_fmt
def status(manifest: str | None, db: str | None, fmt: str) -> None:
    """Every post of the durable queue: account, state, media id, last error. Safe at
    any time (runs and writes nothing): a running or interrupted post is resumed by a
    worker, an uncertain one settled first, never published twice."""
    from igpreflight.api.durable import status as read_status
    from igpreflight.report.durable import render

    try:
        result = read_status(db, manifest)
    except UsageError as exc:
        fail(exc)
    click.echo(render(result, fmt), nl=False)
