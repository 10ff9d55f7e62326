"""One file to check, and how it is checked alone.

Its own module because two runners share it: the engine (which builds a batch's
targets and picks how to run them) and `overlap` (one worker's files, MediaInfo's
waits overlapped), which the engine calls. Probing and the rules stay pure per
file, so a target can be checked in any process or thread and still come back
the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from igpreflight.model import (
    AsOption,
    Facts,
    FileReport,
    ImageFacts,
    Kind,
    Role,
    Unreadable,
    VideoFacts,
    role_for,
)
from igpreflight.pathnames import shown_path
from igpreflight.preflight.checks import check_facts, sort_findings
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules.image import image_format
from igpreflight.profiles import Profile
from igpreflight.records import record

if TYPE_CHECKING:  # checking a local file never loads the S3 layer
    from igpreflight.storage.s3 import ObjectInfo

COVER = "cover"  # the use of a post's cover image

Progress = Callable[[str], None]  # told each file's display path once it is checked


@record
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
