"""`igpreflight publish MANIFEST`: the Graph container flow, resumable after a crash.

The command gathers the configuration (environment and options), refuses a
batch it cannot send before making any call, then hands the posts to the
Publisher and prints one line per post: the media id, or the error class and
message. Exit 0 when every post is published, 1 otherwise, 2 for usage errors.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from igpreflight import __version__
from igpreflight.commands.common import progress_printer
from igpreflight.model import MediaItem, Post
from igpreflight.publish.dryrun import PlannedPost, plan_calls
from igpreflight.publish.graph import (
    DEFAULT_API_VERSION,
    GraphClient,
    graph_url_from_env,
    redact,
    register_secret,
)
from igpreflight.publish.journal import PUBLISHED, Journal, default_journal_path
from igpreflight.publish.params import expand_stories, is_video_item
from igpreflight.publish.publisher import Outcome, PublishSettings
from igpreflight.publish.service import CdnMediaUrl, publish_posts, url_rechecker

TOKEN_ENV = "IG_ACCESS_TOKEN"
USER_ENV = "IG_USER_ID"


class _KeyValueFormatter(logging.Formatter):
    """`--verbose` log lines: the message, then the structured fields as key=value."""

    FIELDS = (
        "http_status",
        "code",
        "subcode",
        "is_transient",
        "fbtrace_id",
        "container_id",
        "post_id",
        "error_class",
    )

    def format(self, record: logging.LogRecord) -> str:
        base = f"{record.levelname.lower()}: {record.getMessage()}"
        extra = [
            f"{k}={getattr(record, k)}" for k in self.FIELDS if getattr(record, k, None) is not None
        ]
        return redact(" ".join([base, *extra]))


def _setup_logging(verbose: bool) -> None:
    logger = logging.getLogger("igpreflight")
    if verbose and not any(getattr(h, "_igp", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_KeyValueFormatter())
        handler._igp = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    elif not logger.handlers:
        logger.addHandler(logging.NullHandler())  # the report says it; no stray warnings


def _load_posts(manifest: str, allow_private: bool) -> list[Post]:
    from igpreflight.preflight.manifest import ManifestError, load_manifest

    try:
        return expand_stories(load_manifest(manifest))
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from None


def published_ids(journal_path: Path, account: str) -> set[str]:
    """Posts the journal already marks published: their files need not exist any more."""
    journal = Journal.open_readonly(journal_path)
    if journal is None:
        return set()
    with journal:
        return {r.post_id for r in journal.posts(account) if r.status == PUBLISHED}


def _media_items(post: Post) -> list[MediaItem]:
    return [*post.media, *([post.cover] if post.cover else [])]


def publish_refusals(
    posts: list[Post], *, bucket: str | None, resumable: bool, allow_private: bool
) -> list[str]:
    """Why the batch cannot be sent as given (before any call): missing files, local
    media with nowhere to upload, URLs Instagram cannot reach."""
    from igpreflight.publish.urlcheck import host_problem

    problems: list[str] = []
    for post in posts:
        for item in _media_items(post):
            if item.url:
                reason, _ = host_problem(item.url, allow_private=allow_private)
                if reason:
                    problems.append(
                        f"post {post.id}: {item.url}: {reason} (URL006; --allow-private for local tests)"
                    )
                continue
            if item.problem:
                problems.append(f"post {post.id}: {item.problem}")
                continue
            video = bool(is_video_item(item, post.media_type or None))
            if bucket is None and not (resumable and video and item is not post.cover):
                how = "--resumable or " if video and item is not post.cover else ""
                problems.append(
                    f"post {post.id}: local file {item.path} needs a public URL: use {how}--bucket"
                    " (upload first), or give its URL in the manifest"
                )
    return problems


def _settings(
    resumable: bool,
    first_wait: float | None,
    max_wait: float | None,
    give_up: float | None,
    max_rate_wait: float | None,
) -> PublishSettings:
    s = PublishSettings(resumable=resumable)
    if first_wait is not None:
        s = replace(
            s,
            first_wait_image=first_wait,
            first_wait_video=first_wait,
            first_wait_per_mb=0.0,
            retry_wait=first_wait,
        )
    if max_wait is not None:
        s = replace(s, max_wait=max_wait, first_wait_max=min(s.first_wait_max, max_wait))
    if give_up is not None:
        s = replace(s, give_up_image=give_up, give_up_video=give_up)
    if max_rate_wait is not None:
        s = replace(s, rate_wait_max=max_rate_wait)
    return s


def _progress():
    """One line per finished post on stderr, only when stderr is a terminal."""
    tick = progress_printer()
    if tick is None:
        return None
    return lambda o: tick(f"{o.post_id}: {o.status}")


def auth_stops(outcomes: list[Outcome]) -> dict[str, list[str]]:
    """reconnect-auth stops: each message once, with the posts it left queued."""
    stops: dict[str, list[str]] = {}
    for o in outcomes:
        if o.error_class == "reconnect-auth" and o.status == "queued" and o.message:
            stops.setdefault(o.message, []).append(o.post_id)
    return stops


def _code_and_message(o: Outcome) -> str:
    """` 36003/2207009: message`: the code once, even when the message starts with it."""
    message = o.message or ""
    if o.code is None and o.subcode is None:
        return f" {message}".rstrip()
    code = f"{o.code if o.code is not None else '-'}" + (f"/{o.subcode}" if o.subcode else "")
    for prefix in (f"{code}: ", f"{code} "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return f" {code}: {message}" if message else f" {code}"


def render_text(outcomes: list[Outcome]) -> str:
    """One line per post; a batch stop is told in full once, then referred to (a
    reconnect-auth stop is told on stderr, see `auth_stops`)."""
    lines = []
    stopped: set[str | None] = set()
    auth = auth_stops(outcomes)
    for o in outcomes:
        if o.status == "published":
            what = (
                f"media id {o.media_id}"
                if o.media_id
                else f"container {o.container_id} shows PUBLISHED (media id not returned)"
            )
            lines.append(f"{o.post_id}: published{' earlier' if o.already else ''}, {what}")
        elif o.status == "queued" and o.message in stopped:
            lines.append(f"{o.post_id}: queued [{o.error_class}] (the batch stopped before it)")
        elif o.status == "queued" and o.message in auth:
            brief = replace(
                o, message="publishing stopped for the account (see the error on stderr)"
            )
            lines.append(f"{o.post_id}: queued [{o.error_class}]{_code_and_message(brief)}")
            stopped.add(o.message)
        else:
            lines.append(f"{o.post_id}: {o.status} [{o.error_class}]{_code_and_message(o)}")
            if o.status == "queued":
                stopped.add(o.message)
    lines.append(_summary_line(outcomes))
    return "\n".join(lines) + "\n"


def _summary(outcomes: list[Outcome]) -> dict[str, int]:
    return {
        "posts": len(outcomes),
        "published": sum(o.status == "published" for o in outcomes),
        "already_published": sum(o.already for o in outcomes),
        "failed": sum(o.status == "failed" for o in outcomes),
        "queued": sum(o.status == "queued" for o in outcomes),
    }


def _summary_line(outcomes: list[Outcome]) -> str:
    s = _summary(outcomes)
    already = f" ({s['already_published']} earlier)" if s["already_published"] else ""
    return f"{s['published']} published{already}, {s['failed']} failed, {s['queued']} queued"


def render_json(outcomes: list[Outcome], account: str, graph_url: str, journal: str) -> str:
    doc = {
        "version": 1,
        "tool": {"name": "igpreflight", "version": __version__},
        "account": account,
        "graph_url": graph_url,
        "journal": journal,
        "summary": _summary(outcomes),
        "posts": [o.to_dict() for o in outcomes],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_plan(plan: list[PlannedPost], client: GraphClient, fmt: str) -> str:
    """The dry-run listing; the Authorization header every Graph call carries is said once."""
    auth = client.plan("GET", "").headers
    if fmt == "json":
        doc = {
            "version": 1,
            "dry_run": True,
            "headers": auth,
            "posts": [
                {
                    "id": p.post_id,
                    "media_type": p.media_type or None,
                    "note": p.note,
                    "calls": [
                        {"method": c.method, "url": c.url, "params": c.params, "headers": c.headers}
                        for c in p.calls
                    ],
                }
                for p in plan
            ],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    shown = ", ".join(f"{k}: {v}" for k, v in auth.items()) or "access_token=***"
    lines = [f"dry run: no call is made; every Graph call sends {shown}"]
    for p in plan:
        lines.append(f"{p.post_id}{f' ({p.media_type})' if p.media_type else ''}: {p.note}")
        for c in p.calls:
            extra = {k: v for k, v in c.headers.items() if auth.get(k) != v}
            lines.append("  " + replace(c, headers=extra).render())
    return "\n".join(lines) + "\n"


@click.command("publish")
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
    help="Journal file (default: .igpreflight/journal.sqlite beside the manifest).",
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
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--no-check",
    is_flag=True,
    help="Do not run the preflight checks first (by default a post with an error is refused"
    " before any upload or call).",
)
@click.option("--bucket", help="Upload local media to this S3 bucket first.")
@click.option("--prefix", default="", help="Key prefix for uploads.")
@click.option("--endpoint-url", help="S3-compatible endpoint for uploads.")
@click.option("--region", help="Region of the bucket (default: boto3's configuration).")
@click.option("--public-base-url", help="Public base URL serving the bucket's objects.")
@click.option(
    "--presign",
    type=click.IntRange(1, 604800),
    metavar="SECONDS",
    help="Hand Instagram presigned GET URLs valid this long (at least 86400 recommended).",
)
@click.option("--acl", type=click.Choice(["public-read", "none"]), help="ACL of uploaded objects.")
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
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log every Graph error with its structured fields on stderr.",
)
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
    bucket: str | None,
    prefix: str,
    endpoint_url: str | None,
    region: str | None,
    public_base_url: str | None,
    presign: int | None,
    acl: str | None,
    first_wait: float | None,
    max_wait: float | None,
    give_up: float | None,
    max_rate_wait: float | None,
    timeout: float,
    verbose: bool,
) -> None:
    """Create containers, wait for them, and publish every post of MANIFEST.

    Token from $IG_ACCESS_TOKEN (sent as a Bearer header, never printed). Safe to
    re-run: the journal skips published posts and resumes the rest. Each post is
    checked first: a post with a `check` error is refused (fix-media) with no
    upload or call for it (--no-check skips this). Exit 0 when every post is
    published, 1 when some failed or stay queued, 2 on usage errors.
    """
    _setup_logging(verbose)
    token = os.environ.get(TOKEN_ENV, "").strip()
    register_secret(token)
    account = (ig_user_id or os.environ.get(USER_ENV, "")).strip()
    if not token and not dry_run:
        click.echo(f"error: {TOKEN_ENV} is not set: export the Instagram access token", err=True)
        sys.exit(2)
    if not account:
        click.echo(f"error: no Instagram user id: set {USER_ENV} or pass --ig-user-id", err=True)
        sys.exit(2)
    posts = _load_posts(manifest, allow_private)
    base = graph_url_from_env(graph_url)
    jpath = journal_path or default_journal_path(manifest)
    done = published_ids(jpath, account)
    problems = publish_refusals(
        [p for p in posts if p.id not in done],
        bucket=bucket,
        resumable=resumable,
        allow_private=allow_private,
    )
    if problems:
        for p in problems:
            click.echo(f"error: {p}", err=True)
        click.echo("error: nothing was published", err=True)
        sys.exit(2)

    settings = _settings(resumable, first_wait, max_wait, give_up, max_rate_wait)
    if dry_run:
        with GraphClient(token, base_url=base, api_version=api_version) as client:
            journal = Journal.open_readonly(jpath)
            plan = plan_calls(client, account, posts, journal=journal, resumable=settings.resumable)
            if journal:
                journal.close()
            click.echo(render_plan(plan, client, fmt), nl=False)
        return
    uploader = (
        CdnMediaUrl(
            bucket=bucket,
            prefix=prefix,
            endpoint_url=endpoint_url,
            region=region,
            public_base_url=public_base_url,
            presign=presign,
            acl=acl,
            allow_private=allow_private,
        )
        if bucket
        else None
    )
    progress = _progress()
    outcomes = publish_posts(
        posts,
        ig_user_id=account,
        token=token,
        journal_path=jpath,
        graph_url=base,
        api_version=api_version,
        settings=settings,
        media_url=uploader,
        url_checker=url_rechecker(allow_private),
        timeout=timeout,
        progress=progress,
        check=not no_check,
        allow_private=allow_private,
    )
    if progress is not None:
        click.echo("", err=True)  # end the progress line
    for message, ids in auth_stops(outcomes).items():
        # One message for the account, however many posts it stopped (README).
        click.echo(f"error: reconnect-auth: {message}", err=True)
        click.echo(f"error: stopped, still queued: {', '.join(ids)}", err=True)
    if fmt == "json":
        click.echo(render_json(outcomes, account, base, str(jpath)), nl=False)
    else:
        click.echo(render_text(outcomes), nl=False)
    sys.exit(0 if all(o.status == "published" for o in outcomes) else 1)
