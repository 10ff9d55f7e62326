"""Runs probes and rules over a batch and builds a Report.

The engine is the only place that knows a batch: which files to look at (folders
are walked, hidden files and the output folder skipped), in which role each one
is checked (from `--as`, or from the post that uses it), and how posts are
checked against the facts of their media. Probing and rules stay pure per file,
so files can be checked in a process pool and still come back in input order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from igpreflight import formats
from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.model import AsOption, Facts, FileReport, Kind, Post, PostReport, Report
from igpreflight.pathnames import shown_path
from igpreflight.preflight.checks import check_posts

# One target, and how it is checked alone, live in preflight.target (overlap.py runs
# them too); they are named here as well, where a batch's callers have found them.
from igpreflight.preflight.target import (
    COVER,
    Progress,
    Target,
    check_file,
    check_target,
    role_for_use,
)
from igpreflight.profiles import is_default
from igpreflight.states import MediaType

__all__ = [
    "COVER",
    "POOL_PAYS_FILES_X_WORKERS",
    "POST_TYPE_USE",
    "S3_THREADS",
    "Progress",
    "Target",
    "check_file",
    "check_paths",
    "check_target",
    "infer_media_type",
    "iter_media_files",
    "role_for_use",
    "run_targets",
    "targets_for_paths",
    "targets_for_posts",
]

# Files picked up when a folder is walked. A file named on the command line is
# always checked, whatever its extension (a text file named .png is FILE001).

# How a post's media_type decides the role its media are checked in.
POST_TYPE_USE = {
    MediaType.IMAGE: "feed",
    MediaType.REELS: "reels",
    MediaType.VIDEO: "reels",
    MediaType.STORIES: "story",
    MediaType.CAROUSEL: "carousel-item",
}
Runner = Callable[[Sequence["Target"], "Progress | None"], list[FileReport]]
S3_THREADS = 64  # concurrent ranged GETs when probing objects (the S3 client pools 64)
PER_TASK = 25  # local files one process-pool task checks
# Starting a process pool and sending reports back costs about what checking two
# thousand headers-only files costs one process (0.25 ms each), measured on two
# CPUs; with more workers it pays sooner. Decoding (--deep) and fetching (URLs)
# pay at once. An explicit --jobs (or `jobs =`) always gets its pool.
POOL_PAYS_FILES_X_WORKERS = 4000


def iter_media_files(
    paths: Iterable[str | os.PathLike[str]], exclude: Iterable[str | os.PathLike[str]] = ()
) -> list[tuple[str, str]]:
    """Expand files and folders into (display path, absolute path), in a stable order.

    The display path is the one given, or the folder given joined with the file's
    place in it, without `./` (`pathnames.shown_path`: `check .` shows `posts/x.webp`).

    Folders are walked recursively in sorted order; hidden files and folders and
    anything under an excluded folder (the fix output) are skipped. The absolute
    path is the real one (symbolic links resolved). Plain string operations, and
    one lstat a file: pathlib's resolve() took a third of checking 300 files.
    """
    excluded = [os.path.realpath(e) for e in exclude]
    walked = formats.media_extensions()  # the registry's, as registered now
    seen: set[str] = set()
    out: list[tuple[str, str]] = []

    def add(display: str, absolute: str) -> None:
        if absolute not in seen and not any(_is_within(absolute, e) for e in excluded):
            seen.add(absolute)
            out.append((display, absolute))

    for given in paths:
        text = os.fspath(given)
        if not os.path.isdir(text):
            add(shown_path(text), os.path.realpath(text))
            continue
        real_root = os.path.realpath(text)
        for dirpath, dirnames, filenames in os.walk(text):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, text)  # os.walk follows no link below the root
            real_dir = real_root if rel_dir == "." else os.path.join(real_root, rel_dir)
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                if os.path.splitext(name)[1].lower().lstrip(".") not in walked:
                    continue
                real = os.path.join(real_dir, name)
                if os.path.islink(real):
                    real = os.path.realpath(real)
                rel = name if rel_dir == "." else os.path.join(rel_dir, name)
                add(shown_path(os.path.join(text, rel)), real)
    return out


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def targets_for_paths(
    paths: Sequence[str | os.PathLike[str]],
    use: str,
    exclude: Iterable[str | os.PathLike[str]] = (),
) -> list[Target]:
    """Local files and folders, and s3:// objects and prefixes, in the order given."""
    from igpreflight.storage.scheme import is_s3

    excluded = list(exclude)
    s3_exclude = []
    if any(is_s3(os.fspath(e)) for e in excluded):
        from igpreflight.storage.s3uri import S3Uri

        s3_exclude = [S3Uri.parse(os.fspath(e)) for e in excluded if is_s3(os.fspath(e))]
    local_exclude = [e for e in excluded if not is_s3(os.fspath(e))]
    targets: list[Target] = []
    for given in paths:
        text = os.fspath(given)
        if is_s3(text):
            from igpreflight.storage.objects import list_media

            _, objects = list_media(text, s3_exclude)
            targets += [Target(o.uri, o.uri, use, obj=o) for o in objects]
        else:
            targets += [Target(d, r, use) for d, r in iter_media_files([text], local_exclude)]
    return targets


def targets_for_posts(posts: Sequence[Post], allow_private: bool = False) -> list[Target]:
    """The files a manifest's posts use, each in the role its post gives it."""
    targets: list[Target] = []
    for post in posts:
        use = _use_for_post(post)
        items = [(i, use) for i in post.media]
        if post.cover is not None:
            items.append((post.cover, COVER))
        for item, item_use in items:
            targets.append(
                Target(item.label, item.resolved, item_use, item.problem, item.url, allow_private)
            )
    return targets


def _use_for_post(post: Post) -> str:
    if post.media_type:
        return POST_TYPE_USE.get(post.media_type, AsOption.AUTO.value)
    return "carousel-item" if len(post.media) > 1 else AsOption.AUTO.value


def infer_media_type(post: Post, facts: dict[str, Facts]) -> Post:
    """Fill in media_type when the manifest leaves it out: several media make a
    CAROUSEL, one image an IMAGE post, one video a REELS post."""
    if post.media_type:
        return post
    if len(post.media) > 1:
        return replace(post, media_type=MediaType.CAROUSEL)
    kind = facts.get(post.media[0].key)
    is_video = kind is not None and kind.kind is Kind.VIDEO
    return replace(post, media_type=MediaType.REELS if is_video else MediaType.IMAGE)


def check_paths(
    paths: Sequence[str | os.PathLike[str]] = (),
    as_: str = "auto",
    posts: Sequence[Post] = (),
    *,
    jobs: int | None = 1,
    exclude: Iterable[str | os.PathLike[str]] = (),
    progress: Progress | None = None,
    allow_private: bool = False,
    runner: Runner | None = None,
    keep: Callable[[str], bool] | None = None,
    deep: bool = False,
    rules: RuleSelection = DEFAULT_RULES,
) -> Report:
    """Check files/folders (each a post of its own) and the posts of a manifest.

    `deep` decodes every frame and sample (`preflight.decode`), of local files and of
    s3:// objects (fetched to a temporary file each, within a disk budget): one that
    does not decode is FILE001 with where the damage is.

    Remote media (URLs in a manifest) are fetched and checked with the URL rules;
    private hosts and plain http only with allow_private. `keep` selects the files
    of `paths` to check (a shard); `runner` checks the targets elsewhere than in
    this machine's pool (a Dask cluster: `scale.check.check_on_engine`). `rules` (the
    project configuration) gives files under a `roles` glob their role when `as_` is
    auto, gives each file and post its profiles (SPEC 12), and drops the findings of
    rules turned off, counting them in `Report.ignored`.
    """
    use = AsOption(as_).value
    # An object's `resolved` is its s3:// URI: globs see it as bucket/key.
    targets = [
        replace(t, use=rules.role(t.resolved, use), profiles=rules.profiles_for(t.resolved))
        for t in targets_for_paths(paths, use, exclude)
    ]
    if keep is not None:  # a shard: files only, a manifest's posts need all their media
        targets = [t for t in targets if keep(t.display)]
    targets += [
        replace(t, profiles=rules.profiles_for(t.resolved or None))
        for t in targets_for_posts(posts, allow_private)
    ]
    unique = list(dict.fromkeys(targets))
    if deep:
        unique = [replace(t, deep=True) for t in unique]
    if runner is not None:
        reports = runner(unique, progress)
    else:
        reports = run_targets(unique, jobs=jobs, progress=progress)
    facts = {t.key: r.facts for t, r in zip(unique, reports, strict=True) if t.key}
    checked_posts = [infer_media_type(p, facts) for p in posts]
    post_findings = check_posts(
        checked_posts, facts, lambda post: rules.profiles_for(post.source or None)
    )
    ignored = 0
    for target, report in zip(unique, reports, strict=True):
        report.findings, n = rules.keep(report.findings, target.resolved or None)
        ignored += n
    post_reports = []
    for post in checked_posts:
        kept, n = rules.keep(post_findings.get(post.id, []), post.source or None)
        post_reports.append(PostReport(post, kept))
        ignored += n
    used = [t.profiles for t in unique] + [rules.profiles_for(p.source or None) for p in posts]
    profiles = tuple(dict.fromkeys(p for ps in used if not is_default(ps) for p in ps))
    return Report(files=reports, posts=post_reports, ignored=ignored, profiles=profiles)


def run_targets(
    targets: Sequence[Target], *, jobs: int | None = 1, progress: Progress | None = None
) -> list[FileReport]:
    """Check every target, in a process pool when jobs > 1; results in input order.
    jobs None means one worker a CPU, for a batch big enough to repay a pool."""
    workers = jobs or os.cpu_count() or 1
    start = getattr(progress, "start", None)
    if start is not None:
        start(len(targets))
    if any(t.obj is not None for t in targets):
        from concurrent.futures import ThreadPoolExecutor

        # Probing objects waits on the network, not the CPU: threads overlap the GETs.
        with ThreadPoolExecutor(max_workers=max(workers, S3_THREADS)) as pool:
            results = []
            for t, report in zip(targets, pool.map(check_target, targets), strict=True):
                results.append(report)
                if progress:
                    progress(t.display)
            return results
    if len(targets) == 1:  # nothing to overlap with: `check FILE` loads no lanes
        report = check_target(targets[0])
        if progress:
            progress(targets[0].display)
        return [report]
    from igpreflight.preflight.overlap import check_overlapped  # fix walks, never runs

    if workers <= 1 or len(targets) <= 1 or (jobs is None and not _pool_pays(targets, workers)):
        return check_overlapped(targets, progress)
    from concurrent.futures import ProcessPoolExecutor

    # Each process checks runs of a few dozen neighbouring files a task (few round
    # trips; a manifest's URL used twice stays in one process, which fetches it once),
    # overlapping its videos' parses with the rest (check_overlapped).
    parts = [
        list(range(k, min(k + PER_TASK, len(targets)))) for k in range(0, len(targets), PER_TASK)
    ]
    results: list[FileReport | None] = [None] * len(targets)
    with ProcessPoolExecutor(max_workers=min(workers, len(targets))) as pool:
        futures = [pool.submit(check_overlapped, [targets[i] for i in part]) for part in parts]
        for part, future in zip(parts, futures, strict=True):
            for i, report in zip(part, future.result(), strict=True):
                results[i] = report
                if progress:
                    progress(targets[i].display)
    return [r for r in results if r is not None]


def _pool_pays(targets: Sequence[Target], workers: int) -> bool:
    """Whether `workers` processes would finish sooner than this one alone."""
    if any(t.deep or t.url for t in targets):
        return True
    return len(targets) * workers >= POOL_PAYS_FILES_X_WORKERS
