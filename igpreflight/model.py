"""The values that flow through igpreflight: facts, findings, posts and reports.

Everything here is a frozen record (a dataclass, see `records.py`) or an enum so
that a probe's facts cannot be changed by a rule and a finding means the same thing
wherever it travels. A file's kind and role live in `roles.py`, a probe's facts in
`media_facts.py`; both are imported from here, as the rest of igpreflight does.
Posts stay here: the publish queue pickles them under this module's name.
"""

from __future__ import annotations

from dataclasses import field
from enum import Enum
from typing import Any

from igpreflight.envelope import envelope
from igpreflight.media_facts import Facts, ImageFacts, Unreadable, VideoFacts
from igpreflight.records import record
from igpreflight.roles import ROLE_LABEL, AsOption, Kind, Role, role_for


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@record
class Finding:
    """One broken (or noteworthy) limit: a rule code, how bad, and why, in one line."""

    rule: str
    severity: Severity
    message: str
    code: int | None = None
    subcode: int | None = None
    fixable: bool = False
    # The profile(s) whose limit failed, comma-separated ("threads", "instagram,threads");
    # None when the run checks Instagram alone (the default), as before profiles existed.
    profile: str | None = None

    @property
    def tagged_message(self) -> str:
        """The message with its profile in front: '[threads] aspect ratio ...'."""
        return f"[{self.profile}] {self.message}" if self.profile else self.message

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "code": self.code,
            "subcode": self.subcode,
            "message": self.message,
            "fixable": self.fixable,
        }
        if self.profile is not None:  # report version 1, an optional field
            data["profile"] = self.profile
        return data


@record
class Tag:
    """A user tag (username) or product tag (product_id), with optional x/y."""

    username: str | None = None
    product_id: str | None = None
    x: float | None = None
    y: float | None = None


@record
class MediaItem:
    """One media of a post: a local path (resolved) or a URL, with its tags."""

    path: str  # as written in the manifest, or the file path given on the command line
    resolved: str  # absolute local path (a temporary download for URLs)
    url: str | None = None
    media_type: str | None = None  # for carousel children: IMAGE, VIDEO, REELS, STORIES, CAROUSEL
    user_tags: tuple[Tag, ...] = ()
    product_tags: tuple[Tag, ...] = ()
    alt_text: str | None = None
    caption: str | None = None  # a caption given on a carousel child (ignored by Instagram)
    problem: str | None = None  # why the path cannot be used (escapes the manifest, missing)
    # The path as the user would type it from where igpreflight runs (the manifest's
    # folder joined with `path`), for reports and CI annotations; "" means `path`.
    display: str = ""

    @property
    def label(self) -> str:
        return self.display or self.path

    @property
    def key(self) -> str:
        """What identifies this media in a batch: its local path, or its URL."""
        return self.resolved or self.url or ""


@record
class Post:
    """One Instagram post as the manifest (or a lone file) describes it."""

    id: str
    media_type: str  # IMAGE, REELS, STORIES, CAROUSEL (VIDEO accepted to be reported)
    media: tuple[MediaItem, ...]
    caption: str | None = None
    thumb_offset: int | None = None  # milliseconds
    cover: MediaItem | None = None
    share_to_feed: bool | None = None
    collaborators: tuple[str, ...] = ()
    alt_text: str | None = None
    location_id: str | None = None
    user_tags: tuple[Tag, ...] = ()  # post-level tags (single-media posts)
    product_tags: tuple[Tag, ...] = ()
    media_type_given: bool = True  # False when inferred
    source: str = ""  # the manifest this post came from, as given ("" for a lone file or stdin)
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@record(frozen=False)
class FileReport:
    """The findings for one file in one role."""

    path: str
    kind: Kind
    role: Role | None
    facts: Facts
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind.value,
            "as": ROLE_LABEL[self.role] if self.role else None,
            "facts": self.facts.summary(),
            "findings": [f.to_dict() for f in self.findings],
        }


@record(frozen=False)
class PostReport:
    """One post's findings (the post itself, then its media's)."""

    post: Post
    findings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.post.id,
            "media_type": self.post.media_type,
            "media": [m.label for m in self.post.media],
            "findings": [f.to_dict() for f in self.findings],
        }


@record(frozen=False)
class Report:
    """The result of `check`: one FileReport per (file, role) and one PostReport per post."""

    files: list[FileReport] = field(default_factory=list)
    posts: list[PostReport] = field(default_factory=list)
    ignored: int = 0  # findings of rules the configuration turned off (reported nowhere)
    # The profiles files and posts were checked against (igpreflight.profiles.Profile),
    # when any is not instagram alone (SPEC 12); () for today's instagram-only checks.
    profiles: tuple[Any, ...] = ()

    def _all(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings] + [
            f for p in self.posts for f in p.findings
        ]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self._all() if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self._all() if f.severity is Severity.WARNING]

    @property
    def fixable(self) -> list[Finding]:
        """Errors and warnings that `igpreflight fix` resolves."""
        return [f for f in self._all() if f.fixable and f.severity is not Severity.INFO]

    def to_dict(self) -> dict[str, Any]:
        return envelope(
            summary={
                "files": len({r.path for r in self.files}),
                "posts": len(self.posts),
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "fixable": len(self.fixable),
                "ignored": self.ignored,
            },
            files=[r.to_dict() for r in self.files],
            posts=[p.to_dict() for p in self.posts],
        )


__all__ = [
    "ROLE_LABEL",
    "AsOption",
    "Facts",
    "FileReport",
    "Finding",
    "ImageFacts",
    "Kind",
    "MediaItem",
    "Post",
    "PostReport",
    "Report",
    "Role",
    "Severity",
    "Tag",
    "Unreadable",
    "VideoFacts",
    "role_for",
]
