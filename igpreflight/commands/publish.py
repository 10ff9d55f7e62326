"""`igpreflight publish MANIFEST`: every post through the durable engine.

The command gathers the configuration (environment and options), refuses a
batch it cannot send before making any call, then hands the posts to the
engine and prints one line per post: the media id, or the error class and
message. Exit 0 when every post is published or scheduled, 1 otherwise, 2 for
usage errors. Runs for many accounts report per account (commands/durable.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from igpreflight.api.errors import ManifestError, PublishRefused, UsageError
from igpreflight.api.publishing import DEFAULT_API_VERSION, USER_ENV, PublishPlan, PublishResult
from igpreflight.api.uploading import UploadTarget
from igpreflight.commands.common import terminal_options, write_output
from igpreflight.commands.config_options import (
    CONFIG_PARAMS,
    config_options,
    pick_format,
    settings_of,
)
from igpreflight.commands.durable import durable_options
from igpreflight.commands.upload_options import upload_target_options
from igpreflight.report.publish import render
from igpreflight.terminal import TERMINAL, Progress

PUBLISH_FORMATS = ["text", "json"]
# Options of the command that are not arguments of `igpreflight.api.publish`.
CLI_ONLY = (
    "fmt",
    "no_check",
    "journal_path",
    "rules",
    "accounts_file",
    "enqueue_only",
    *CONFIG_PARAMS,
)


def posts_bar() -> Progress:
    """The bar over the batch's posts: each post's outcome as it ends, and what the
    publisher waits for in between (Instagram processing a container)."""
    return TERMINAL.progress(describe=lambda o: f"{o.post_id}: {o.status}", label="publishing")


def api_options(options: dict[str, Any]) -> dict[str, Any]:
    """The command's options as `igpreflight.api.publish` keyword arguments."""
    kwargs = {k: v for k, v in options.items() if k not in CLI_ONLY}
    kwargs["check"] = not options.get("no_check", False)
    kwargs["journal"] = options.get("journal_path")
    kwargs["rules"] = settings_of(options).rules
    if options.get("dry_run"):
        kwargs["accounts_file"] = options.get("accounts_file")  # each account's calls
    return kwargs


def refusal_lines(exc: UsageError) -> list[str]:
    """What `publish` says on stderr when it refuses a batch before any call."""
    if isinstance(exc, PublishRefused):
        return [*exc.problems, "nothing was published"]
    return [str(exc)]


def auth_stop_lines(result: PublishResult | PublishPlan | None) -> list[str]:
    """reconnect-auth stops for stderr: one message for the account, however many
    posts it stopped (README)."""
    if not isinstance(result, PublishResult):
        return []
    lines = []
    for message, ids in result.auth_stops().items():
        lines += [f"reconnect-auth: {message}", f"stopped, still queued: {', '.join(ids)}"]
    return lines


def echo_err(lines: list[str]) -> None:
    """Each line as an error on stderr (`igpreflight: error: ...`)."""
    for line in lines:
        TERMINAL.error(line)


@click.command("publish")
@terminal_options
@click.argument("manifest", metavar="MANIFEST")
@click.option("--ig-user-id", help=f"Instagram user id (default: ${USER_ENV}).")
@click.option(
    "--graph-url",
    help="Graph API host (default: $IGPREFLIGHT_GRAPH_URL, else https://graph.facebook.com).",
)
@click.option(
    "--api-version",
    default=DEFAULT_API_VERSION,
    show_default=True,
    help="Pinned Graph API version.",
)
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Journal of an earlier version, read only: posts it shows published are not"
    " published again (default: .igpreflight/journal.sqlite beside the manifest).",
)
@click.option(
    "--allow-private",
    is_flag=True,
    help="Accept http:// and private-host media URLs (local tests, emulators).",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the calls it would make (token redacted); make none."
)
@click.option(
    "--resumable", is_flag=True, help="Send local videos by resumable upload instead of a URL."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(PUBLISH_FORMATS),
    default=None,
    help="Output format (default: the configuration's `format` when text or json, else text).",
)
@click.option(
    "--no-check",
    is_flag=True,
    help="Do not run the preflight checks first (by default a post with an error is refused"
    " before any upload or call).",
)
@upload_target_options()
@click.option(
    "--first-wait",
    type=click.FloatRange(min=0),
    help="First poll wait (and first retry wait) in seconds (default: 3 s images, video 10 s + 0.5 s per MB, retries 5 s).",
)
@click.option(
    "--max-wait", type=click.FloatRange(min=0), help="Cap of the wait between polls (default 60 s)."
)
@click.option(
    "--give-up",
    type=click.FloatRange(min=0),
    help="Give up waiting for a container after this many seconds (default 300 images, 1200 video).",
)
@click.option(
    "--max-rate-wait",
    type=click.FloatRange(min=0),
    help="Longest rate-limit wait before the batch stops and stays queued (default 900 s).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Time-out of one Graph call, seconds.",
)
@durable_options
@config_options
def publish(
    manifest: str,
    ig_user_id: str | None,
    graph_url: str | None,
    api_version: str,
    journal_path: Path | None,
    allow_private: bool,
    dry_run: bool,
    resumable: bool,
    fmt: str,
    no_check: bool,
    upload: UploadTarget | None,
    first_wait: float | None,
    max_wait: float | None,
    give_up: float | None,
    max_rate_wait: float | None,
    timeout: float,
    accounts_file: str | None,
    db: str | None,
    enqueue_only: bool,
    ahead: int | None,
    dedupe_window: float,
    allow_duplicate: bool,
    settle_window: float | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_file: str | None,
    isolated: bool,
) -> None:
    """Create containers, wait for them, and publish every post of MANIFEST.

    Every post is a durable workflow in --db (default .igpreflight/publish.sqlite
    beside the manifest); see `worker` and `status`. With --accounts, --enqueue or
    posts naming an `account`, the report is per account.

    Token from $IG_ACCESS_TOKEN (sent as a Bearer header, never printed). Safe to
    re-run: published posts are never published again, interrupted ones resume,
    and a post whose last attempt failed is tried again. Each post is checked
    first: a post with a `check` error is refused (fix-media) with no upload or
    call for it (--no-check skips this). A post whose media_publish was not seen
    through is uncertain: the next run settles it from its container first, never
    posting twice. Exit 0 when every post is published or scheduled, 1 when some
    failed, are held or uncertain, 2 on usage and database errors.
    """
    options = dict(locals())  # exactly the parameters above
    from igpreflight.api.publishing import publish as publish_api

    conf = settings_of(options)
    fmt = options["fmt"] = pick_format(fmt, conf, PUBLISH_FORMATS)
    options["rules"] = conf.rules  # for the durable engine's preflight too
    if not dry_run:
        from igpreflight.commands.durable import publish_durable

        publish_durable(options)  # exits when the run is one for the durable engine
    progress = None if dry_run else posts_bar()
    try:
        result = publish_api(progress=progress, **api_options(options))
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from None
    except UsageError as exc:
        echo_err(refusal_lines(exc))
        sys.exit(2)
    finally:
        if progress is not None:
            progress.close()
    echo_err(auth_stop_lines(result))
    write_output(render(result, fmt), colored=fmt == "text")
    sys.exit(0 if result.ok else 1)
