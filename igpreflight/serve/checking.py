"""POST /v1/check and the findings of /v1/media: requests into `igpreflight.api.check`.

A post arrives in the manifest's JSON shape; each media reference becomes a
manifest media entry (a URL stays a URL, a media id becomes the path of the
stored file, an s3:// key is fetched into the store for the request), and the
manifest parser and `api.check` do the rest, exactly as for `igpreflight check
--manifest`. The answer lists every finding with the media item it is about.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from igpreflight.catalog import RULES
from igpreflight.config import (
    ConfigError,
    RuleSelection,
    Settings,
    expand,
    known_codes,
    split_codes,
)
from igpreflight.model import ROLE_LABEL, FileReport, Finding, Post, Report, Severity
from igpreflight.preflight.probe import ProbeMemo, remembering
from igpreflight.serve.keys import Principal
from igpreflight.serve.problems import Problem
from igpreflight.serve.store import MEDIA_ID, MediaStore, StoredMedia

S3_SCHEME = "s3://"


class RuleLayers:
    """The server's rule selection, with a request's select/ignore as one more layer
    (the way `--select/--ignore` go over a configuration file)."""

    def __init__(self, settings: Settings) -> None:
        self.base = settings.rules

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one instance per app, bounded
    def for_request(self, select: tuple[str, ...], ignore: tuple[str, ...]) -> RuleSelection:
        if not select and not ignore:
            return self.base
        try:
            enabled = self.base.enabled if self.base.enabled is not None else None
            if enabled is None:
                enabled = frozenset(known_codes())
            if select:
                enabled = expand(split_codes(select), "select")
            enabled -= expand(split_codes(ignore), "ignore")
        except ConfigError as exc:
            raise Problem(422, str(exc), "unknown-rule") from None
        return replace(self.base, enabled=enabled)


def finding_dict(f: Finding, item: int | None, media: str | None) -> dict[str, Any]:
    info = RULES.get(f.rule)
    return {
        **f.to_dict(),
        "hint": info.fix_hint if info is not None else "",
        "item": item,
        "media": media,
    }


def verdict(findings: Sequence[dict[str, Any]], strict: bool) -> dict[str, Any]:
    """{valid, errors, warnings, info}: valid means what exit 0 means for `check`."""
    by = {s.value: [f for f in findings if f["severity"] == s.value] for s in Severity}
    valid = not by["error"] and not (strict and by["warning"])
    return {"valid": valid, "errors": by["error"], "warnings": by["warning"], "info": by["info"]}


def file_summary(report: FileReport) -> dict[str, Any]:
    """kind, as and facts of one checked file, for a media's answer."""
    return {
        "kind": report.kind.value,
        "as": ROLE_LABEL[report.role] if report.role else None,
        "facts": report.facts.summary(),
    }


@dataclass
class Resolved:
    """A request's post as a manifest entry, and what each of its media was called."""

    entry: dict[str, Any]
    refs: list[str]  # per media item, as the request named it
    cover: str | None
    scratch: list[str] = field(default_factory=list)  # incoming ids to discard after


class Resolver:
    """Turns a request's media references into manifest media entries."""

    def __init__(
        self,
        store: MediaStore,
        principal: Principal,
        bucket: str | None,
        fetch_s3: Any,
    ) -> None:
        self.store = store
        self.principal = principal
        self.bucket = bucket
        self.fetch_s3 = fetch_s3  # (uri) -> (incoming id, name)

    def post(self, post: dict[str, Any]) -> Resolved:
        entry = {k: v for k, v in post.items() if v is not None}
        resolved = Resolved(entry, [], None)
        try:
            media = [self.media(m, resolved) for m in post["media"]]
            entry["media"] = [m for m, _ in media]
            resolved.refs = [r for _, r in media]
            if post.get("cover") is not None:
                entry["cover"], resolved.cover = self.media(post["cover"], resolved)
        except BaseException:
            self.release(resolved)
            raise
        return resolved

    def media(self, raw: Any, resolved: Resolved) -> tuple[dict[str, Any], str]:
        extra: dict[str, Any] = {}
        if isinstance(raw, dict):
            extra = {k: v for k, v in raw.items() if v is not None and k not in ("media_id", "url")}
            given = [k for k in ("media_id", "url") if raw.get(k) is not None]
            if len(given) != 1:
                raise Problem(422, "a media object needs exactly one of media_id or url")
            ref = str(raw[given[0]])
            if given[0] == "media_id":
                return {"path": self.stored(ref).relative_to(self.store.root), **extra}, ref
        else:
            ref = str(raw)
        if ref.startswith(S3_SCHEME):
            incoming, name = self.fetch_s3(ref, self.bucket)
            resolved.scratch.append(incoming)
            path = self.store.incoming_root.relative_to(self.store.root) / incoming / name
            return {"path": path, **extra}, ref
        if "://" in ref:
            return {"url": ref, **extra}, ref
        if MEDIA_ID.match(ref):
            return {"path": self.stored(ref).relative_to(self.store.root), **extra}, ref
        raise Problem(
            422,
            f"media {ref[:80]!r} is not an https URL, an s3:// key or a media id from"
            " POST /v1/media (paths on the server are not accepted)",
            "bad-media-reference",
        )

    def stored(self, media_id: str) -> Path:
        media = self.store.get(media_id, self.principal)
        if media is None:
            raise Problem(404, f"no media {media_id!r} (it may have expired)", "no-such-media")
        return media.path

    def release(self, resolved: Resolved) -> None:
        """Discard what the check downloaded from the bucket."""
        for incoming in resolved.scratch:
            self.store.discard(incoming)


def as_posix(entry: dict[str, Any]) -> dict[str, Any]:
    """Paths as manifest strings."""

    def fix(m: Any) -> Any:
        return {**m, "path": Path(m["path"]).as_posix()} if isinstance(m.get("path"), Path) else m

    out = dict(entry)
    out["media"] = [fix(m) for m in entry["media"]]
    if "cover" in out:
        out["cover"] = fix(out["cover"])
    return out


def parse_post(entry: dict[str, Any], base: Path) -> Post:
    """The manifest parser's Post for one entry; its refusals are 422s."""
    from igpreflight.preflight.manifest import ManifestError, parse_manifest

    try:
        return parse_manifest({"post": [as_posix(entry)]}, base=base)[0]
    except ManifestError as exc:
        raise Problem(422, str(exc).replace("post #1: ", ""), "invalid-post") from None


_PROBED = ProbeMemo()  # this worker's stored uploads' facts (uploads never change)


def check_post(
    post: Post,
    resolved: Resolved,
    *,
    rules: RuleSelection,
    deep: bool,
    allow_private: bool,
) -> tuple[Report, list[dict[str, Any]]]:
    """Run `igpreflight.api.check` on one post; its findings, each with its media item."""
    from igpreflight.api.checking import check
    from igpreflight.preflight.engine import targets_for_posts

    with remembering(_PROBED):  # stored uploads never change: probed once a worker
        report = check(manifest=[post], jobs=1, allow_private=allow_private, deep=deep, rules=rules)
    # The engine checks each distinct (file, use) once, in this order: map them back.
    unique = list(dict.fromkeys(targets_for_posts([post], allow_private)))
    by_target = dict(zip(unique, report.files, strict=True))
    per_item = targets_for_posts([post], allow_private)
    findings: list[dict[str, Any]] = []
    for index, target in enumerate(per_item[: len(post.media)]):
        ref = resolved.refs[index]
        findings += [finding_dict(f, index, ref) for f in by_target[target].findings]
    for target in per_item[len(post.media) :]:  # the cover
        findings += [finding_dict(f, None, resolved.cover) for f in by_target[target].findings]
    for post_report in report.posts:
        findings += [finding_dict(f, None, None) for f in post_report.findings]
    return report, findings


def check_file(path: Path, as_: str, rules: RuleSelection) -> tuple[FileReport, list[dict]]:
    """Check one stored file in a role (POST /v1/media)."""
    from igpreflight.api.checking import check

    report = check([os.fspath(path)], as_=as_, jobs=1, rules=rules)
    only = report.files[0]
    return only, [finding_dict(f, None, None) for f in only.findings]


def media_answer(media: StoredMedia, strict: bool = False) -> dict[str, Any]:
    """A stored media as the API shows it."""
    from igpreflight.preflight.rfc3339 import format_moment

    report = media.report
    findings = [{**f, "media": media.id} for f in report.get("findings", [])]
    return {
        "id": media.id,
        "name": media.name,
        "bytes": media.bytes,
        "kind": report.get("kind", "unknown"),
        "as": report.get("as"),
        "facts": report.get("facts", {}),
        "origin": media.origin,
        "source": media.source,
        "expires_at": format_moment(media.expires),
        **verdict(findings, strict),
    }


def all_findings(answer: dict[str, Any]) -> Iterable[dict[str, Any]]:
    return [*answer["errors"], *answer["warnings"], *answer["info"]]
