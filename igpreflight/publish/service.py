"""The batch-level decisions of publishing, made once for every path (`publish`,
`run`, the Python API, the durable engine): why a batch cannot be sent at all,
which posts `check` refuses, the settings from the command's waits, the uploader
that turns local media into checked public URLs, and the 9004/2207052 URL re-check.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.model import Finding, Kind, MediaItem, Post, Severity
from igpreflight.preflight.rules.url import public_host
from igpreflight.publish.graph.table import ErrorClass
from igpreflight.publish.params import is_video_item
from igpreflight.publish.settings import ErrorInfo, MediaRefused, PublishSettings, UrlChecker
from igpreflight.states import UploadStatus
from igpreflight.storage.upload import UploadTarget

NO_CHECK_HINT = (
    "fix the post or its media (`igpreflight check` / `fix`), or publish with --no-check"
)


def _media_items(post: Post) -> list[MediaItem]:
    return [*post.media, *([post.cover] if post.cover else [])]


def publish_refusals(
    posts: Sequence[Post], *, bucket: str | None, resumable: bool, allow_private: bool
) -> list[str]:
    """Why the batch cannot be sent as given (before any call): missing files, local
    media with nowhere to upload, URLs Instagram cannot reach."""
    from igpreflight.net.guard import host_problem

    problems: list[str] = []
    for post in posts:
        for item in _media_items(post):
            if item.url:
                reason, _ = host_problem(item.url, allow_private=allow_private)
                if reason:
                    problems.append(
                        f"post {post.id}: {item.url}: {reason} ({public_host.code}; --allow-private for local tests)"
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


def publish_settings(
    *,
    resumable: bool = False,
    first_wait: float | None = None,
    max_wait: float | None = None,
    give_up: float | None = None,
    max_rate_wait: float | None = None,
    settle_window: float | None = None,
) -> PublishSettings:
    """PublishSettings from the command's waits (None keeps the default)."""
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
    if settle_window is not None:
        s = replace(
            s, settle_window=settle_window, settle_poll=min(s.settle_poll, settle_window / 6)
        )
    return s


def preflight_refusals(
    posts: Sequence[Post],
    *,
    allow_private: bool = False,
    jobs: int | None = 1,
    kinds: dict[str, Kind] | None = None,
    rules: RuleSelection = DEFAULT_RULES,
) -> dict[str, ErrorInfo]:
    """Run `check` on `posts` (each media in its post's role); the posts with an ERROR
    finding, on the post or on one of its media, by id, each as a fix-media failure
    naming every rule broken. Instagram would reject them: nothing is sent for them.
    `kinds`, when given, receives what each media was probed as (by MediaItem.key),
    so the publisher decides image or video from facts. Rules the project
    configuration (`rules`) turns off refuse nothing."""
    from igpreflight.preflight.engine import check_paths, targets_for_posts

    if not posts:
        return {}
    report = check_paths(posts=posts, allow_private=allow_private, jobs=jobs, rules=rules)
    # check_paths checks each distinct (file, role) target once, in first-seen order.
    unique = list(dict.fromkeys(targets_for_posts(posts, allow_private)))
    by_target = dict(zip(unique, report.files, strict=True))
    if kinds is not None:
        for target, file_report in by_target.items():
            kinds.setdefault(target.key, file_report.kind)
    refused: dict[str, ErrorInfo] = {}
    for post, post_report in zip(posts, report.posts, strict=True):
        errors: list[tuple[Finding, str | None]] = []
        for target in dict.fromkeys(targets_for_posts([post], allow_private)):
            file_report = by_target[target]
            errors += [(f, file_report.path) for f in file_report.errors]
        errors += [(f, None) for f in post_report.findings if f.severity is Severity.ERROR]
        if errors:
            refused[post.id] = _refusal(errors)
    return refused


def _refusal(errors: list[tuple[Finding, str | None]]) -> ErrorInfo:
    parts = [f"{f.rule} {f.message}" + (f" ({where})" if where else "") for f, where in errors]
    rules = ",".join(dict.fromkeys(f.rule for f, _ in errors))
    return ErrorInfo(
        ErrorClass.FIX_MEDIA.value,
        message=f"refused by preflight, nothing sent: {'; '.join(parts)}; {NO_CHECK_HINT}",
        rule=rules,
    )


class CdnMediaUrl:
    """Local media -> public URL through `stage_file`: uploaded once per file to
    `target`, then the URL rules fetch it as Instagram would. A URL that breaks a rule raises MediaRefused, so the post fails before any container.

    The file itself is not checked again here: `publish` checks every post, each
    media in its post's role, before the first call (`preflight_refusals`).
    """

    def __init__(self, target: UploadTarget, *, allow_private: bool = False) -> None:
        self.target = target
        self.allow_private = allow_private
        self.cache: dict[str, str] = {}

    def __call__(self, item: MediaItem) -> str:
        if item.url:
            return item.url
        if item.resolved not in self.cache:
            self.cache[item.resolved] = self._stage(item)
        return self.cache[item.resolved]

    def _stage(self, item: MediaItem) -> str:
        from igpreflight.publish.stage import stage_file
        from igpreflight.storage.upload import UploadError

        staged = stage_file(
            item.path, item.resolved, self.target, check=False, allow_private=self.allow_private
        )
        if staged.status == UploadStatus.FAILED or staged.upload is None:
            raise UploadError(staged.error or f"upload of {item.path} failed")
        result = staged.url_check
        if result is not None and not result.ok:
            parts = "; ".join(f"{f.rule} {f.message}" for f in result.errors)
            raise MediaRefused(
                ErrorInfo(
                    ErrorClass.FIX_MEDIA.value,
                    message=f"uploaded {item.path} to {staged.upload.url}, but the URL fails"
                    f" the URL rules, nothing sent to Instagram: {parts}",
                    rule=",".join(dict.fromkeys(f.rule for f in result.errors)),
                )
            )
        return staged.upload.url


def url_rechecker(allow_private: bool) -> UrlChecker:
    """9004/2207052 re-check: the URL rules again, against the local file when there is one."""
    from igpreflight.preflight.urlcheck import check_url

    def check(url: str, item: MediaItem) -> tuple[bool, str]:
        local = item.resolved if item.resolved and os.path.isfile(item.resolved) else None
        result = check_url(url, local_path=local, allow_private=allow_private)
        return result.ok, "; ".join(f"{f.rule} {f.message}" for f in result.errors) or "ok"

    return check
