"""House profiles: a team's rules on top of a built-in profile, only ever stricter.

A house profile names the profile it `extends` and sets any key of the schema
(`schema.py`). Every value must be at least as strict as the base's: a looser one
is a ProfileError naming both values, so a typo can never let through what the
platform refuses. Values the house changes are sourced "house rule".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from igpreflight.limits import Source
from igpreflight.profiles.model import SECTION_ROLES, Profile
from igpreflight.profiles.schema import (
    ASPECTS,
    MAX,
    MIN,
    SAME,
    SECTION_FIELDS,
    STRICT_TRUE,
    SUBSET,
    SUPERSET,
    TOLERATED,
    ProfileError,
    from_dict,
    parse_sources,
    suggest,
    value_data,
)

HOUSE = Source("house rule", status="house")
# (smaller, larger) fields of one section that must stay in order.
ORDERED = {
    "image": (("min_aspect", "max_aspect"), ("min_width", "max_width")),
    "video": (
        ("min_aspect", "max_aspect"),
        ("min_fps", "max_fps"),
        ("min_duration", "max_duration"),
        ("min_audio_sample_rate", "max_audio_sample_rate"),
        ("min_audio_channels", "max_audio_channels"),
        ("min_audio_bitrate", "max_audio_bitrate"),
    ),
    "post": (("min_carousel_items", "max_carousel_items"),),
}


def shown(name: str, value: Any) -> str:
    """A value as a message shows it: '4:5', 'none', 'JPEG, PNG', '1440'."""
    data = value_data(name, value)
    if isinstance(data, list):
        return ", ".join(str(v) for v in data) or "none"
    return str(data).lower() if isinstance(data, bool) else str(data)


def _fold(values: Any) -> set[str]:
    return {str(v).casefold() for v in values}


def near(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * b


def looser(kind: str, new: Any, old: Any, base: Any, name: str) -> bool:
    """Is `new` less strict than `old` (the base's value of field `name`)?"""
    if kind == MAX:
        return old is not None and (new is None or new > old)
    if kind == MIN:
        return old is not None and (new is None or new < old)
    if kind == SUBSET:
        return not _fold(new) <= _fold(old)
    if kind == TOLERATED:
        return not _fold(new) <= _fold(base.accepted_formats) | _fold(base.tolerated_formats)
    if kind == SUPERSET:
        return not _fold(old) <= _fold(new)
    if kind == SAME:
        return new != old
    if kind == STRICT_TRUE:
        return bool(old) and not new
    if kind == ASPECTS:
        tol = base.aspect_tolerance
        return bool(old) and (not new or any(not any(near(n, o, tol) for o in old) for n in new))
    return False


def _where(section: str, key: str, name: str) -> str:
    return f"{section}.{key}.{name}" if key else f"{section}.{name}"


def check_tighter(profile: Profile, base: Profile, where: str) -> None:
    """Raise ProfileError at the first value looser than the base's, naming both."""
    for section, kinds in SECTION_FIELDS.items():
        if section == "post":
            pairs = [("", profile.post, base.post)]
        else:
            roles = SECTION_ROLES[section]
            pairs = [(roles[r], profile.limits(r), base.limits(r)) for r in roles]
        for name, kind in kinds.items():
            bad = [
                (key, getattr(new, name), getattr(old, name))
                for key, new, old in pairs
                if looser(kind, getattr(new, name), getattr(old, name), old, name)
            ]
            if not bad:
                continue
            key, new, old = bad[0]
            if (
                len(bad) == len(pairs)
                and len({(shown(name, n), shown(name, o)) for _, n, o in bad}) == 1
            ):
                key = ""  # the same in every role: name the section's key
            raise ProfileError(
                f"{where}: {_where(section, key, name)} {shown(name, new)} is looser than "
                f"{base.name}'s {shown(name, old)}; a house profile may only tighten"
            )


def check_consistent(profile: Profile, where: str) -> None:
    """Raise ProfileError when a minimum is above its maximum, an allowed ratio is
    outside the range, or a hashtag is both required and forbidden."""
    for section, pairs in ORDERED.items():
        if section == "post":
            items = [("", profile.post)]
        else:
            items = [(SECTION_ROLES[section][r], profile.limits(r)) for r in SECTION_ROLES[section]]
        for key, limits in items:
            for low, high in pairs:
                lo, hi = getattr(limits, low), getattr(limits, high)
                if lo is not None and hi is not None and lo > hi:
                    raise ProfileError(
                        f"{where}: {_where(section, key, low)} {shown(low, lo)} is above "
                        f"{high} {shown(high, hi)}"
                    )
            for ratio in getattr(limits, "aspects", ()):
                lo, hi = limits.min_aspect, limits.max_aspect
                if (lo is not None and ratio < lo) or (hi is not None and ratio > hi):
                    raise ProfileError(
                        f"{where}: {_where(section, key, 'aspects')} {shown('max_aspect', ratio)} "
                        f"is outside {shown('min_aspect', lo)}..{shown('max_aspect', hi)}"
                    )
    both = _fold(profile.post.required_hashtags) & _fold(profile.post.forbidden_hashtags)
    if both:
        raise ProfileError(f"{where}: {', '.join(sorted(both))} is both required and forbidden")


def _changed(profile: Profile, base: Profile) -> dict[str, Source]:
    """A "house rule" source for every value the house profile changes."""
    out: dict[str, Source] = {}
    for section, kinds in SECTION_FIELDS.items():
        if section == "post":
            items = [("post", profile.post, base.post)]
        else:
            roles = SECTION_ROLES[section]
            items = [(f"{section}.{roles[r]}", profile.limits(r), base.limits(r)) for r in roles]
        for prefix, new, old in items:
            for name in kinds:
                if getattr(new, name) != getattr(old, name):
                    out[f"{prefix}.{name}"] = HOUSE
    return out


def house_profile(
    name: str, table: Mapping[str, Any], *, where: str, known: Mapping[str, Profile]
) -> Profile:
    """Build house profile `name` from its TOML table, extending one of `known`."""
    from igpreflight.profiles.builtin import BUILTIN

    if name in BUILTIN:
        raise ProfileError(
            f"{where}: {name!r} is a built-in profile; give the house one another name"
        )
    extends = table.get("extends")
    if extends is None:
        raise ProfileError(
            f'{where}: a house profile needs extends = "NAME" (one of {", ".join(known)})'
        )
    if not isinstance(extends, str) or extends not in known:
        raise ProfileError(
            f"{where}: extends {extends!r}: no such profile{suggest(str(extends), list(known))} "
            f"(known: {', '.join(known)})"
        )
    base = known[extends]
    data = {k: v for k, v in table.items() if k not in ("extends", "name")}
    profile = from_dict(data, name=name, base=base, where=where)
    check_tighter(profile, base, where)
    check_consistent(profile, where)
    given = parse_sources(data, where)  # the team's own citations win
    sources = {**dict(base.sources), **_changed(profile, base), **given}
    return replace(profile, sources=tuple(sorted(sources.items())))
