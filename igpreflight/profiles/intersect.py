"""The intersection of several profiles: what `fix` plans against so one output passes all.

Every maximum is the smallest of the profiles', every minimum the largest, every
set of accepted formats and codecs what all accept, every list of allowed ratios
what all allow. Where nothing is left for a role (a 1:1 house rule against a 9:16
to 16:9 profile, an image for a videos-only profile) `Target.conflict(role)` says
why in one line, naming the profiles that conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field, replace
from typing import Any

from igpreflight.model import Role
from igpreflight.profiles.house import ORDERED, near, shown
from igpreflight.profiles.model import IMAGE_ROLES, SECTION_ROLES, VIDEO_ROLES, Profile
from igpreflight.profiles.schema import (
    ASPECTS,
    MAX,
    MIN,
    SECTION_FIELDS,
    STRICT_TRUE,
    SUBSET,
    SUPERSET,
    TOLERATED,
)
from igpreflight.records import record

# What the fixer writes: an output must be one of these for every profile.
FIX_IMAGE_FORMATS = ("JPEG", "PNG")  # PNG only with --keep-png
FIX_CONTAINER, FIX_VIDEO_CODEC, FIX_AUDIO_CODEC = "MPEG-4", "AVC", "AAC"


def _fold(values: Any) -> list[str]:
    return [str(v).casefold() for v in values]


def _combine(name: str, kind: str, limits: Sequence[Any]) -> Any:
    values = [getattr(x, name) for x in limits]
    if kind == MAX:
        given = [v for v in values if v is not None]
        return min(given) if given else None
    if kind == MIN:
        given = [v for v in values if v is not None]
        return max(given) if given else None
    if kind == SUBSET:
        return tuple(v for v in values[0] if all(v.casefold() in _fold(o) for o in values[1:]))
    if kind == TOLERATED:
        ok = [_fold(x.accepted_formats) + _fold(x.tolerated_formats) for x in limits]
        accepted = _fold(_combine("accepted_formats", SUBSET, limits))
        pool = dict.fromkeys(v for x in limits for v in (*x.accepted_formats, *x.tolerated_formats))
        return tuple(
            v for v in pool if all(v.casefold() in o for o in ok) and v.casefold() not in accepted
        )
    if kind == SUPERSET:
        return tuple(dict.fromkeys(v for vs in values for v in vs))
    if kind == STRICT_TRUE:
        return any(values)
    if kind == ASPECTS:
        lists = [(x.aspects, x.aspect_tolerance) for x in limits if x.aspects]
        if not lists:
            return ()
        first, *others = lists
        return tuple(
            r for r in first[0] if all(any(near(r, o, tol) for o in vs) for vs, tol in others)
        )
    return values[0]  # same or free: the first profile's


def _intersect_limits(section: str, limits: Sequence[Any]) -> Any:
    changes = {n: _combine(n, k, limits) for n, k in SECTION_FIELDS[section].items()}
    merged = replace(limits[0], **changes)
    if section != "post" and merged.aspects:  # keep the allowed ratios inside the range
        lo, hi = merged.min_aspect, merged.max_aspect
        inside = tuple(
            r for r in merged.aspects if (lo is None or r >= lo) and (hi is None or r <= hi)
        )
        merged = replace(merged, aspects=inside or (0.0,))  # (0.0,): none is possible
    return merged


def _platforms(profiles: Sequence[Profile]) -> str:
    return " and ".join(dict.fromkeys(p.platform for p in profiles))


@record
class Target:
    """What `fix` aims at: the intersection of `profiles` (one profile: itself)."""

    profile: Profile
    profiles: tuple[Profile, ...] = field(default=())

    @property
    def names(self) -> str:
        return ", ".join(p.name for p in self.profiles)

    def conflict(self, role: Role) -> str | None:
        """Why no output of `role` can pass every profile (one line), or None."""
        section = "image" if role.is_image else "video"
        parts = _conflicts(section, role, self.profiles, self.profile.limits(role))
        if not parts:
            return None
        names = [p.name for p in self.profiles]
        who = names[0]
        if len(names) == 2:
            who = f"both {names[0]} and {names[1]}"
        elif len(names) > 2:
            who = f"all of {', '.join(names[:-1])} and {names[-1]}"
        return f"no {section} passes {who}: {'; '.join(parts)}"


def _by(profiles: Sequence[Profile], role: Role, name: str) -> list[tuple[str, Any]]:
    return [(p.name, getattr(p.limits(role), name)) for p in profiles]


def _conflicts(section: str, role: Role, profiles: Sequence[Profile], merged: Any) -> list[str]:
    out: list[str] = []
    if section == "image":
        formats = (*merged.accepted_formats, *merged.tolerated_formats)
        if not any(f.upper() in FIX_IMAGE_FORMATS for f in formats):
            given = "; ".join(
                f"{p.name} {shown('accepted_formats', _formats(p.image(role)))}" for p in profiles
            )
            out.append(f"image formats: {given}")
    else:
        for name, wanted in (
            ("containers", FIX_CONTAINER),
            ("video_codecs", FIX_VIDEO_CODEC),
            ("audio_codecs", FIX_AUDIO_CODEC),
        ):
            if wanted.casefold() not in _fold(getattr(merged, name)):
                refusing = [
                    n for n, v in _by(profiles, role, name) if wanted.casefold() not in _fold(v)
                ]
                out.append(
                    f"{name} without {wanted}, which the fixer writes ({', '.join(refusing)})"
                )
    for low, high in ORDERED[section]:
        lo, hi = getattr(merged, low), getattr(merged, high)
        if lo is not None and hi is not None and lo > hi:
            lows, highs = _by(profiles, role, low), _by(profiles, role, high)
            by_lo = next(n for n, v in lows if v == lo)
            by_hi = next(n for n, v in highs if v == hi)
            out.append(f"{by_lo} needs {low} {shown(low, lo)}, {by_hi} {high} {shown(high, hi)}")
    if merged.aspects == (0.0,) or (
        any(p.limits(role).aspects for p in profiles) and not merged.aspects
    ):
        given = "; ".join(f"{p.name} {_allowed(p.limits(role))}" for p in profiles)
        out.append(f"no aspect ratio is allowed by all: {given}")
    return out


def _formats(limits: Any) -> tuple[str, ...]:
    return (*limits.accepted_formats, *limits.tolerated_formats)


def _allowed(limits: Any) -> str:
    return shown("aspects", limits.aspects) if limits.aspects else _range(limits)


def _range(limits: Any) -> str:
    return f"{shown('min_aspect', limits.min_aspect)}..{shown('max_aspect', limits.max_aspect)}"


def intersect(profiles: Sequence[Profile]) -> Target:
    """The Target for `profiles` (in the order given; duplicates count once)."""
    unique = tuple(dict.fromkeys(profiles))
    if not unique:
        raise ValueError("intersect() needs at least one profile")
    if len(unique) == 1:
        return Target(unique[0], unique)
    platform = _platforms(unique)
    images = tuple(
        replace(_intersect_limits("image", [p.image(r) for p in unique]), platform=platform)
        for r in IMAGE_ROLES
    )
    videos = tuple(
        replace(_intersect_limits("video", [p.video(r) for p in unique]), platform=platform)
        for r in VIDEO_ROLES
    )
    post = replace(_intersect_limits("post", [p.post for p in unique]), platform=platform)
    merged = Profile(
        name="+".join(p.name for p in unique),
        platform=platform,
        images=images,
        videos=videos,
        post=post,
        description=f"what passes every one of {', '.join(p.name for p in unique)}",
        origin="intersection",
    )
    return Target(merged, unique)


__all__ = ["SECTION_ROLES", "Target", "intersect"]
