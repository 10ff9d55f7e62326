"""`igpreflight run`: check, fix, upload and publish in one go.

Each post goes through the stages in order and stops at the first one it fails:
check (post-level errors no fix can resolve), fix (a media file that cannot be
made to pass), then upload and publish (the `publish` command's machinery, fed
a manifest of the fixed files written under --out). Re-running is safe: the
fixed files are rewritten, and the journal beside that manifest never publishes
a post twice.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import replace
from pathlib import Path

import click

from igpreflight.commands.common import as_option
from igpreflight.commands.publish import publish
from igpreflight.model import AsOption, Kind, MediaItem, Post, Severity
from igpreflight.preflight.engine import check_paths, iter_media_files
from igpreflight.preflight.manifest import ManifestError, dump_posts, load_manifest
from igpreflight.publish.journal import default_journal_path
from igpreflight.transcode.atomic import write_text
from igpreflight.transcode.posts import fix_posts, media_uses
from igpreflight.transcode.types import FixOptions

MANIFEST_SUFFIXES = (".toml", ".json")


def _posts_for_files(paths: tuple[str, ...], as_: str) -> list[Post]:
    """Without a manifest each file is one post: an image IMAGE (STORIES with --as
    story), a video REELS; the post id is the path as given (the journal key)."""
    from igpreflight.preflight.probe import probe

    posts = []
    for display, absolute in iter_media_files(paths):
        kind = probe(absolute).kind
        if as_ == AsOption.STORY.value:
            media_type = "STORIES"
        else:
            media_type = "REELS" if kind is Kind.VIDEO else "IMAGE"
        posts.append(Post(id=display, media_type=media_type, media=(MediaItem(display, absolute),)))
    return posts


@click.command("run")
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
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None)
@click.option("--dry-run", is_flag=True, help="Check and fix, then print the publish calls only.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def run(
    ctx: click.Context,
    inputs: tuple[str, ...],
    out: Path | None,
    as_: str,
    aspect: str,
    pad_color: str,
    trim: bool,
    extend: bool,
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
    is_manifest = len(inputs) == 1 and Path(inputs[0]).suffix.lower() in MANIFEST_SUFFIXES
    try:
        posts = load_manifest(inputs[0]) if is_manifest else _posts_for_files(inputs, as_)
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from exc
    if not posts:
        raise click.UsageError("no media found in the given paths")
    base = Path(inputs[0]).resolve().parent if is_manifest else Path.cwd()
    out = (out or base / ".igpreflight" / "run").resolve()

    stopped: dict[str, str] = {}
    report = check_paths(
        posts=posts, jobs=jobs, allow_private=publish_options.get("allow_private", False)
    )
    for pr in report.posts:
        errors = [f for f in pr.findings if f.severity is Severity.ERROR]
        if errors:
            stopped[pr.post.id] = "check: " + "; ".join(f"{f.rule} {f.message}" for f in errors)

    options = FixOptions(aspect=aspect, pad_color=pad_color, trim=trim, extend=extend)
    live = [p for p in posts if p.id not in stopped]
    fixed = fix_posts(live, out / "media", options, jobs)
    ready: list[Post] = []
    for post in live:
        new_items: dict[int, MediaItem] = {}
        for item, use in media_uses(post):
            if item.url or not item.resolved:
                continue
            result = fixed.get((item.resolved, use))
            if result is None or not result.ok or result.output is None:
                reason = (result and result.reason) or "not fixed"
                stopped[post.id] = (
                    f"fix: {item.path}: {result.status.value if result else ''} {reason}"
                )
                break
            new_items[id(item)] = replace(item, resolved=str(Path(result.output).resolve()))
        else:
            ready.append(
                replace(
                    post,
                    media=tuple(new_items.get(id(m), m) for m in post.media),
                    cover=new_items.get(id(post.cover), post.cover) if post.cover else None,
                )
            )

    _print_stops(posts, stopped)
    code = 0
    published_json: dict | None = None
    if ready:
        derived = out / "posts.json"
        derived.parent.mkdir(parents=True, exist_ok=True)  # no local media: nothing made it yet
        # One journal with `publish`: beside the user's manifest (or in the current
        # folder for paths), never beside the derived one, so neither republishes.
        if publish_options.get("journal_path") is None:
            publish_options["journal_path"] = default_journal_path(
                inputs[0] if is_manifest else Path.cwd() / "posts"
            )
        write_text(
            derived, json.dumps(dump_posts(ready, derived.parent), indent=2, ensure_ascii=False)
        )
        captured = io.StringIO()
        try:
            # In JSON mode publish's report is captured and merged with the stopped
            # posts, so one document says what happened to every post.
            with (
                contextlib.redirect_stdout(captured) if fmt == "json" else contextlib.nullcontext()
            ):
                ctx.invoke(
                    publish,
                    manifest=str(derived),
                    dry_run=dry_run,
                    fmt=fmt,
                    # click fills in publish's own defaults for whatever run did not get.
                    **{k: v for k, v in publish_options.items() if v is not None},
                )
        except SystemExit as exc:
            code = int(exc.code or 0)
        if fmt == "json" and captured.getvalue().strip():
            published_json = json.loads(captured.getvalue())
    if fmt == "text" and stopped:
        click.echo(f"{len(stopped)} more stopped before publishing: {', '.join(stopped)}")
    if fmt == "json":
        click.echo(json.dumps(_merge(published_json, posts, stopped), indent=2, ensure_ascii=False))
    sys.exit(code if code else (1 if stopped else 0))


def _merge(doc: dict | None, posts: list[Post], stopped: dict[str, str]) -> dict:
    """publish's JSON report plus one entry per post that stopped at check or fix."""
    doc = doc or {"version": 1, "summary": {"posts": 0}, "posts": []}
    for post in posts:
        if post.id in stopped:
            stage, _, message = stopped[post.id].partition(": ")
            doc["posts"].append(
                {"id": post.id, "status": "stopped", "stage": stage, "message": message}
            )
    summary = doc.setdefault("summary", {})
    summary["stopped"] = len(stopped)
    summary["posts"] = summary.get("posts", 0) + len(stopped)
    return doc


def _print_stops(posts: list[Post], stopped: dict[str, str]) -> None:
    """Posts that stopped before publishing: one line each on stderr (the JSON
    report carries them too; the text report ends with their count)."""
    for post in posts:
        if post.id in stopped:
            click.echo(f"{post.id}: stopped at {stopped[post.id]}", err=True)


# Every option of `publish` except the ones run defines itself is accepted as is.
for _param in publish.params:
    if _param.name not in ("manifest", "dry_run", "fmt") and isinstance(_param, click.Option):
        run.params.append(_param)
