"""`run`: check, fix, upload and publish in one go: `check`, `fix` and `publish` composed.

Each post goes through the stages in order and stops at the first one it fails:
check (post-level errors no fix can resolve), fix (a media file that cannot be made
to pass), then upload and publish (`publish`, fed a manifest of the fixed files
written under `out`). Re-running is safe: the fixed files are rewritten, and the
journal beside the user's manifest never publishes a post twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from igpreflight.api.checking import check
from igpreflight.api.errors import UsageError
from igpreflight.api.fixing import fix
from igpreflight.api.paths import PathLike, as_list
from igpreflight.api.publishing import PublishPlan, PublishResult, publish
from igpreflight.atomic import write_text
from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.envelope import envelope
from igpreflight.model import AsOption, Kind, MediaItem, Post, Severity
from igpreflight.publish.settings import Outcome
from igpreflight.states import MediaType
from igpreflight.transcode.types import FileFixResult

MANIFEST_SUFFIXES = (".toml", ".json")


@dataclass
class RunResult:
    """Every post of the run: stopped at check or fix (`stopped`: id -> (stage, why)),
    or handed to `publish` (`publish`: its result, a plan for a dry run). When
    `publish` refused the batch before any call, `publish_error` says why."""

    posts: list[Post] = field(default_factory=list)
    stopped: dict[str, tuple[str, str]] = field(default_factory=dict)
    publish: PublishResult | PublishPlan | None = None
    publish_error: UsageError | None = None

    @property
    def ok(self) -> bool:
        published = self.publish is None or self.publish.ok
        return not self.stopped and self.publish_error is None and published

    def stops(self) -> list[tuple[str, str, str]]:
        """(post id, stage, reason) of the posts that stopped, in manifest order."""
        return [(p.id, *self.stopped[p.id]) for p in self.posts if p.id in self.stopped]

    def to_dict(self) -> dict[str, Any]:
        """`publish`'s document plus one entry per post stopped at check or fix."""
        doc = (
            self.publish.to_dict()
            if self.publish is not None
            else envelope(summary={"posts": 0}, posts=[])
        )
        for post_id, stage, message in self.stops():
            doc["posts"].append(
                {"id": post_id, "status": "stopped", "stage": stage, "message": message}
            )
        summary = doc.setdefault("summary", {})
        summary["stopped"] = len(self.stopped)
        summary["posts"] = summary.get("posts", 0) + len(self.stopped)
        return doc


def posts_for_files(
    paths: Sequence[str], as_: str, rules: RuleSelection = DEFAULT_RULES
) -> list[Post]:
    """Without a manifest each file is one post: an image IMAGE (STORIES with --as
    story, or a `roles` glob of the configuration saying story), a video REELS; the
    post id is the path as given (the journal key)."""
    from igpreflight.preflight.engine import iter_media_files
    from igpreflight.preflight.probe import probe

    posts = []
    for display, absolute in iter_media_files(paths):
        kind = probe(absolute).kind
        if rules.role(absolute, as_) == AsOption.STORY.value:
            media_type = MediaType.STORIES
        else:
            media_type = MediaType.REELS if kind is Kind.VIDEO else MediaType.IMAGE
        posts.append(Post(id=display, media_type=media_type, media=(MediaItem(display, absolute),)))
    return posts


def _fixed_posts(
    posts: list[Post],
    out: Path,
    jobs: int | None,
    stopped: dict[str, tuple[str, str]],
    progress: Callable[[FileFixResult], None] | None,
    **options: Any,
) -> list[Post]:
    """Fix the media of `posts` under out/media/<role>/; the posts with every media
    fixed, pointing at the fixed files. A post with a media that cannot be fixed stops."""
    from igpreflight.transcode.posts import media_uses

    fixed = fix(manifest=posts, out=out / "media", jobs=jobs, progress=progress, **options).media
    ready: list[Post] = []
    for post in posts:
        new_items: dict[int, MediaItem] = {}
        for item, use in media_uses(post):
            if item.url or not item.resolved:
                continue
            result = fixed.get((item.resolved, use))
            if result is None or not result.ok or result.output is None:
                reason = (result and result.reason) or "not fixed"
                status = result.status.value if result else ""
                stopped[post.id] = ("fix", f"{item.path}: {status} {reason}")
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
    return ready


def run(
    inputs: PathLike | Iterable[PathLike],
    *,
    out: PathLike | None = None,
    as_: str = "auto",
    aspect: str = "crop",
    pad_color: str = "white",
    trim: bool = False,
    extend: bool = False,
    deep: bool = False,
    jobs: int | None = None,
    dry_run: bool = False,
    progress: Callable[[Outcome], None] | None = None,
    on_stop: Callable[[str, str, str], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    fix_progress: Callable[[FileFixResult], None] | None = None,
    **publish_options: Any,
) -> RunResult:
    """Check, fix, upload and publish a manifest (one .toml/.json file) or media paths
    (each file one post). `out` holds the fixed media and the derived manifest
    (default: .igpreflight/run beside the manifest, or in the current folder).
    `publish_options` are `publish`'s keyword arguments (ig_user_id, upload (an
    UploadTarget, or its fields: bucket=...), journal, rules...); `rules` (the project configuration) holds for the check and fix stages too.
    `on_stage(text)` hears each stage as it starts ("checking 3 posts"), so a terminal
    shows what a long run is doing before publishing starts. `deep` fixes as
    `fix --deep` does: every picture decoded before upload (the post check reads
    post rules only, its media are proved by the fix).
    `on_stop(post id, stage, reason)` hears of each post stopped at check or fix as soon
    as that is known, before publishing starts; `fix_progress` is `fix`'s `progress`.
    """
    from igpreflight.preflight.manifest import dump_posts, load_manifest
    from igpreflight.publish.legacy import default_journal_path

    paths = as_list(inputs)
    is_manifest = len(paths) == 1 and Path(paths[0]).suffix.lower() in MANIFEST_SUFFIXES
    rules = publish_options.get("rules") or DEFAULT_RULES  # the project configuration
    posts = load_manifest(paths[0]) if is_manifest else posts_for_files(paths, as_, rules)
    if not posts:
        raise UsageError("no media found in the given paths")
    base = Path(paths[0]).resolve().parent if is_manifest else Path.cwd()
    out_dir = Path(out or base / ".igpreflight" / "run").resolve()
    allow_private = publish_options.get("allow_private", False)

    stage = on_stage or (lambda text: None)
    result = RunResult(posts=list(posts))
    stage(f"checking {len(posts)} post{'s' if len(posts) != 1 else ''}")
    report = check(manifest=posts, jobs=jobs, allow_private=allow_private, rules=rules, deep=deep)
    for pr in report.posts:
        errors = [f for f in pr.findings if f.severity is Severity.ERROR]
        if errors:
            why = "; ".join(f"{f.rule} {f.tagged_message}" for f in errors)
            result.stopped[pr.post.id] = ("check", why)

    live = [p for p in posts if p.id not in result.stopped]
    fix_options = {
        "aspect": aspect,
        "pad_color": pad_color,
        "trim": trim,
        "extend": extend,
        "deep": deep,
        "rules": rules,
    }
    stage(f"fixing the media of {len(live)} post{'s' if len(live) != 1 else ''}")
    ready = _fixed_posts(live, out_dir, jobs, result.stopped, fix_progress, **fix_options)
    for stop in result.stops() if on_stop else ():
        on_stop(*stop)
    if not ready:
        return result
    derived = out_dir / "posts.json"
    derived.parent.mkdir(parents=True, exist_ok=True)  # no local media: nothing made it yet
    doc = json.dumps(dump_posts(ready, derived.parent), indent=2, ensure_ascii=False)
    write_text(derived, doc)
    # One database with `publish`: beside the user's manifest (or in the current folder
    # for paths), never beside the derived one, so neither republishes.
    if publish_options.get("journal") is None:
        publish_options["journal"] = default_journal_path(
            paths[0] if is_manifest else Path.cwd() / "posts"
        )
    try:
        result.publish = publish(
            os.fspath(derived), dry_run=dry_run, progress=progress, **publish_options
        )
    except UsageError as exc:  # PublishRefused too: the stopped posts are still reported
        result.publish_error = exc
    return result


__all__ = ["RunResult", "posts_for_files", "run"]
