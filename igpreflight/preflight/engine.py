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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from igpreflight import formats
from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.model import (
    AsOption,
    Facts,
    FileReport,
    ImageFacts,
    Kind,
    Post,
    PostReport,
    Report,
    Role,
    Unreadable,
    VideoFacts,
    role_for,
)
from igpreflight.pathnames import shown_path
from igpreflight.preflight.checks import check_facts, check_posts, sort_findings
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules.image import image_format
from igpreflight.profiles import Profile, is_default
from igpreflight.states import MediaType

if TYPE_CHECKING:  # checking a local file never loads the S3 layer
    from igpreflight.storage.s3 import ObjectInfo

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
COVER = "cover"

Progress = Callable[[str], None]
Runner = Callable[[Sequence["Target"], "Progress | None"], list[FileReport]]
S3_THREADS = 64  # concurrent ranged GETs when probing objects (the S3 client pools 64)
PER_TASK = 25  # local files one process-pool task checks
# Starting a process pool and sending reports back costs about what checking two
# thousand headers-only files costs one process (0.25 ms each), measured on two
# CPUs; with more workers it pays sooner. Decoding (--deep) and fetching (URLs)
# pay at once. An explicit --jobs (or `jobs =`) always gets its pool.
POOL_PAYS_FILES_X_WORKERS = 4000


@dataclass(frozen=True)
class Target:
    """One file to check in one use: an `--as` value, or "cover"."""

    display: str  # the path as the user gave it
    resolved: str  # absolute path on disk ("" when there is none)
    use: str = AsOption.AUTO.value
    problem: str | None = None  # known before probing: why the file cannot be used
    url: str | None = None  # remote media: fetched and checked with the URL rules
    allow_private: bool = False
    obj: ObjectInfo | None = None  # an s3:// object: probed by ranged GETs
    deep: bool = False  # also decode every frame and sample (check --deep)
    profiles: tuple[Profile, ...] = ()  # checked against these (SPEC 12); (): instagram

    @property
    def key(self) -> str:
        return self.resolved or self.url or ""


def role_for_use(kind: Kind, use: str) -> Role | None:
    if use == COVER:
        return Role.COVER if kind is Kind.IMAGE else role_for(kind, AsOption.AUTO)
    return role_for(kind, use)


def check_target(target: Target) -> FileReport:
    """Probe one file and run the rules of its role. Never raises for bad input."""
    url_findings: list = []
    if target.problem:
        facts: Facts = Unreadable(target.display, target.problem)
    elif target.url:
        from igpreflight.preflight.remote import probe_remote

        facts, url_findings = probe_remote(target.url, allow_private=target.allow_private)
    elif target.obj is not None:
        from igpreflight.storage.objects import probe_object

        facts = probe_object(target.obj)
    else:
        facts = probe(target.resolved)
    if target.deep and isinstance(facts, (ImageFacts, VideoFacts)) and not target.url:
        facts = _deep(target, facts)
    role = role_for_use(facts.kind, target.use)
    if target.use == COVER and facts.kind is Kind.VIDEO:
        # A cover is an image: a video there is one error, not a Reel's checklist.
        cover = image_format.finding("a cover must be a JPEG image, not a video", fixable=False)
        return FileReport(target.display, facts.kind, None, facts, [cover, *url_findings])
    findings = sort_findings([*check_facts(facts, role, target.profiles), *url_findings])
    return FileReport(
        path=target.display, kind=facts.kind, role=role, facts=facts, findings=findings
    )


def _deep(target: Target, facts: ImageFacts | VideoFacts) -> Facts:
    """`--deep`: decode every frame and sample, a local file where it is and an object
    from a temporary copy; what does not decode is unreadable (FILE001)."""
    if target.obj is not None:
        from igpreflight.storage.objects import object_decode_error

        broken = object_decode_error(target.obj, facts)
    else:
        from igpreflight.preflight.decode import decode_error

        broken = decode_error(target.resolved, facts)
    if not broken:
        return facts
    reason = broken if broken.startswith("not decoded:") else f"does not decode: {broken}"
    return Unreadable(target.display, reason, facts.bytes)


def check_file(path: str | os.PathLike[str], as_: str = "auto") -> FileReport:
    """Check one file as a single post (or in the role `as_` names)."""
    text = os.fspath(path)
    shown = shown_path(text)
    return check_target(Target(shown, str(Path(text).resolve()), use=AsOption(as_).value))


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
    from igpreflight.storage.s3uri import S3Uri, is_s3

    excluded = list(exclude)
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
    from igpreflight.preflight.overlap import check_overlapped

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
