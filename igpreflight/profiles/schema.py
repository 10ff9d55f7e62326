"""A profile as TOML-able data and back: which keys exist, what each holds, how it tightens.

The keys are the fields of the limit dataclasses (`igpreflight.limits`). A section
table ([image], [video]) sets every role of it; a role table ([image.story],
[video.reels]) sets one. Ratios are written "4:5", "1.91:1" or as numbers, "none"
is no limit. `to_dict` writes every value, so `from_dict(to_dict(p)) == p`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any

from igpreflight.limits import (
    SOURCE_STATUSES,
    ImageLimits,
    PostLimits,
    Source,
    VideoLimits,
)
from igpreflight.model import Role
from igpreflight.profiles.model import IMAGE_ROLES, VIDEO_ROLES, Profile


class ProfileError(ValueError):
    """A profile cannot be built or used; commands report it as a usage error (exit 2)."""


# How a field may change in a house profile (and how profiles intersect).
MAX = "max"  # at most the base's (None in the base: no limit)
MIN = "min"  # at least the base's (None in the base: no limit)
SUBSET = "subset"  # a subset of the base's
TOLERATED = "tolerated"  # a subset of the base's accepted and tolerated together
SUPERSET = "superset"  # the base's and more (required hashtags, warned codecs)
SAME = "same"  # equal to the base's
STRICT_TRUE = "strict-true"  # a flag that may be turned on, never off
ASPECTS = "aspects"  # allowed ratios: inside the range, and inside the base's list
FREE = "free"  # a recommendation or a wording: any value

IMAGE_FIELDS: dict[str, str] = {
    "accepted_formats": SUBSET,
    "tolerated_formats": TOLERATED,
    "max_bytes": MAX,
    "min_aspect": MIN,
    "max_aspect": MAX,
    "aspects": ASPECTS,
    "aspect_tolerance": MAX,
    "min_width": MIN,
    "max_width": MAX,
    "max_long_edge": MAX,
    "max_bits": MAX,
    "max_frames": MAX,
    "recommended_aspect": FREE,
    "recommended_aspect_tolerance": FREE,
    "max_alt_text": MAX,
}
VIDEO_FIELDS: dict[str, str] = {
    "containers": SUBSET,
    "video_codecs": SUBSET,
    "warned_video_codecs": SUPERSET,
    "audio_codecs": SUBSET,
    "min_fps": MIN,
    "max_fps": MAX,
    "max_width": MAX,
    "min_short_edge": MIN,
    "min_long_edge": MIN,
    "min_aspect": MIN,
    "max_aspect": MAX,
    "aspects": ASPECTS,
    "aspect_tolerance": MAX,
    "recommended_aspect": FREE,
    "recommended_aspect_tolerance": FREE,
    "min_duration": MIN,
    "max_duration": MAX,
    "max_bytes": MAX,
    "max_video_bitrate": MAX,
    "min_audio_sample_rate": MIN,
    "max_audio_sample_rate": MAX,
    "min_audio_channels": MIN,
    "max_audio_channels": MAX,
    "chroma": SAME,
    "max_bit_depth": MAX,
    "recommended_audio_bitrate": FREE,
    "min_audio_bitrate": MIN,
    "max_audio_bitrate": MAX,
    "keyframe_interval": MAX,
    # How many tracks a player takes is the platform's, not a house rule's, to say.
    "max_video_tracks": SAME,
    "max_audio_tracks": SAME,
}
POST_FIELDS: dict[str, str] = {
    "max_caption": MAX,
    "emoji_as_utf8_bytes": STRICT_TRUE,
    "max_hashtags": MAX,
    "hashtag_cap_announced": MAX,
    "hashtag_spam_risk": MAX,
    "hashtag_cap_reason": FREE,
    "required_hashtags": SUPERSET,
    "forbidden_hashtags": SUPERSET,
    "max_mentions": MAX,
    "min_carousel_items": MIN,
    "max_carousel_items": MAX,
    "carousel_aspect_tolerance": MAX,
    "max_product_tags": MAX,
    "max_user_tags": MAX,
    "max_collaborators": MAX,
    "max_links": MAX,
}
SECTION_FIELDS = {"image": IMAGE_FIELDS, "video": VIDEO_FIELDS, "post": POST_FIELDS}
RATIO_FIELDS = frozenset({"min_aspect", "max_aspect", "recommended_aspect"})
OPTIONAL_FIELDS = RATIO_FIELDS | {
    "min_short_edge",
    "min_long_edge",
    "min_audio_sample_rate",
    "max_links",
}
TOP_KEYS = ("name", "platform", "description", "extends", "image", "video", "post", "sources")
SOURCE_KEYS = ("text", "url", "read", "status")
NONE = "none"  # how TOML writes "no limit"


def suggest(key: str, known: Mapping[str, Any] | tuple[str, ...] | list[str]) -> str:
    """' (did you mean "max_width"?)' for a key close to a known one, else ''."""
    import difflib  # only to suggest a fix for a mistyped key

    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def unknown_key(key: str, known: Mapping[str, Any] | tuple[str, ...], where: str) -> ProfileError:
    return ProfileError(f"{where}: unknown key {key!r}{suggest(key, known)}")


# ---------------------------------------------------------------- values


def parse_ratio(value: Any, where: str) -> float:
    """'4:5', '1.91:1' or a number -> width / height."""
    if isinstance(value, bool):
        raise ProfileError(f'{where}: {value!r} is not a ratio (write "4:5" or 0.8)')
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    if isinstance(value, str) and value.count(":") == 1:
        left, right = value.split(":")
        try:
            ratio = Fraction(left.strip()) / Fraction(right.strip())
        except (ValueError, ZeroDivisionError):
            ratio = Fraction(0)
        if ratio > 0:
            return float(ratio)
    raise ProfileError(f'{where}: {value!r} is not a ratio (write "4:5", "1.91:1" or 0.8)')


def ratio_text(value: float) -> str:
    """0.8 -> '4:5', 1.91 -> '1.91:1', 0.01 -> '0.01:1': as `parse_ratio` reads it back."""
    exact = Fraction(repr(float(value))).limit_denominator(1_000_000)
    if exact.denominator <= 20:
        return f"{exact.numerator}:{exact.denominator}"
    return f"{float(value):g}:1" if float(f"{float(value):g}") == value else f"{value!r}:1"


def _parse_value(name: str, value: Any, default: Any, where: str) -> Any:
    """One TOML value as the field `name` holds it (`default` gives the type)."""
    at = f"{where}.{name}"
    if name in OPTIONAL_FIELDS and isinstance(value, str) and value.strip().lower() == NONE:
        return None
    if name in RATIO_FIELDS:
        return parse_ratio(value, at)
    if name == "aspects":
        if not isinstance(value, list):
            raise ProfileError(f'{at}: write a list of ratios, e.g. ["4:5", "1:1"]')
        return tuple(parse_ratio(v, at) for v in value)
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProfileError(f"{at}: write a list of strings")
        if name.endswith("hashtags"):
            return tuple(v if v.startswith("#") else f"#{v}" for v in (s.strip() for s in value))
        if name == "accepted_formats" or name == "tolerated_formats":
            return tuple(v.strip().upper() for v in value)
        return tuple(v.strip() for v in value)
    if isinstance(default, bool) or isinstance(value, bool):
        if not isinstance(value, bool) or not isinstance(default, bool):
            raise ProfileError(
                f"{at}: {value!r} is not {'true or false' if isinstance(default, bool) else 'a number'}"
            )
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ProfileError(f"{at}: {value!r} is not a string")
        return value
    if isinstance(value, (int, float)) and value >= 0:
        if isinstance(default, float):
            return float(value)
        if float(value).is_integer():
            return int(value)
    kind = "a whole number" if not isinstance(default, float) else "a number"
    raise ProfileError(f"{at}: {value!r} is not {kind} (at least 0)")


def value_data(name: str, value: Any) -> Any:
    """A field's value as TOML writes it (the inverse of `_parse_value`)."""
    if value is None:
        return NONE
    if name in RATIO_FIELDS:
        return ratio_text(value)
    if name == "aspects":
        return [ratio_text(v) for v in value]
    if isinstance(value, tuple):
        return list(value)
    return value


# ---------------------------------------------------------------- building


def _defaults(section: str, role: Role) -> ImageLimits | VideoLimits:
    """A role's values when nothing is extended: the schema's defaults for the role."""
    return ImageLimits(role) if section == "image" else VideoLimits(role)


def _apply(limits: Any, table: Mapping[str, Any], names: Mapping[str, str], where: str) -> Any:
    changes = {}
    for key, value in table.items():
        if key not in names:
            raise unknown_key(key, tuple(names), where)
        changes[key] = _parse_value(key, value, getattr(limits, key), where)
    return replace(limits, **changes)


def _section(
    data: Mapping[str, Any],
    section: str,
    base: Profile | None,
    platform: str,
    where: str,
) -> tuple[Any, ...]:
    roles = IMAGE_ROLES if section == "image" else VIDEO_ROLES
    names = SECTION_FIELDS[section]
    table = data.get(section, {})
    if not isinstance(table, dict):
        raise ProfileError(f"{where}: [{section}] must be a table")
    shared = {k: v for k, v in table.items() if not isinstance(v, dict)}
    own = {k: v for k, v in table.items() if isinstance(v, dict)}
    for key in own:
        if key not in roles.values():
            known = (*names, *roles.values())
            raise unknown_key(key, known, f"{where} [{section}]")
    out = []
    for role, key in roles.items():
        start = base.limits(role) if base is not None else _defaults(section, role)
        limits = _apply(start, shared, names, f"{where} [{section}]")
        limits = _apply(limits, own.get(key, {}), names, f"{where} [{section}.{key}]")
        out.append(replace(limits, platform=platform))
    return tuple(out)


def parse_sources(data: Mapping[str, Any], where: str) -> dict[str, Source]:
    table = data.get("sources", {})
    if not isinstance(table, dict):
        raise ProfileError(f"{where}: [sources] must be a table")
    out = {}
    for key, entry in table.items():
        at = f"{where} [sources.{key!r}]"
        if isinstance(entry, str):
            entry = {"text": entry}
        if not isinstance(entry, dict):
            raise ProfileError(f"{at}: write text = ..., and url, read, status")
        for k in entry:
            if k not in SOURCE_KEYS:
                raise unknown_key(k, SOURCE_KEYS, at)
        status = entry.get("status", "official")
        if status not in (*SOURCE_STATUSES, "house"):
            raise ProfileError(
                f"{at}: status {status!r} is not one of {', '.join(SOURCE_STATUSES)}"
            )
        values = {k: entry.get(k, "") for k in ("text", "url", "read")}
        if not all(isinstance(v, str) for v in values.values()):
            raise ProfileError(f"{at}: text, url and read are strings")
        out[key] = Source(status=status, **values)
    return out


def from_dict(
    data: Mapping[str, Any],
    *,
    name: str,
    base: Profile | None = None,
    where: str = "profile",
    extra_sources: Mapping[str, Source] | None = None,
) -> Profile:
    """A profile from TOML data: the base's values (or the schema's defaults), then the
    [image]/[video]/[post] tables. Checks keys and types; not tightening (house.py)."""
    for key in data:
        if key not in TOP_KEYS:
            raise unknown_key(key, TOP_KEYS, where)
    platform = data.get("platform", base.platform if base is not None else name)
    description = data.get("description", "")
    if not isinstance(platform, str) or not isinstance(description, str):
        raise ProfileError(f"{where}: platform and description are strings")
    post_table = data.get("post", {})
    if not isinstance(post_table, dict):
        raise ProfileError(f"{where}: [post] must be a table")
    post_base = base.post if base is not None else PostLimits()
    post = replace(_apply(post_base, post_table, POST_FIELDS, f"{where} [post]"), platform=platform)
    sources = dict(base.sources) if base is not None else {}
    sources.update(extra_sources or {})
    sources.update(parse_sources(data, where))
    return Profile(
        name=name,
        platform=platform,
        images=_section(data, "image", base, platform, where),
        videos=_section(data, "video", base, platform, where),
        post=post,
        description=description,
        extends=base.name if base is not None else None,
        sources=tuple(sorted(sources.items())),
        origin=where,
    )


# ---------------------------------------------------------------- writing


def _values(limits: Any, names: Mapping[str, str]) -> dict[str, Any]:
    return {n: value_data(n, getattr(limits, n)) for n in names}


def to_dict(profile: Profile) -> dict[str, Any]:
    """Every value of `profile` as TOML data: [image] holds the first role's values
    and [image.<role>] what another role changes (so for [video])."""
    data: dict[str, Any] = {"name": profile.name, "platform": profile.platform}
    if profile.description:
        data["description"] = profile.description
    if profile.extends:
        data["extends"] = profile.extends
    for section, items in (("image", profile.images), ("video", profile.videos)):
        names = SECTION_FIELDS[section]
        roles = IMAGE_ROLES if section == "image" else VIDEO_ROLES
        shared = _values(items[0], names)
        table: dict[str, Any] = dict(shared)
        for limits in items[1:]:
            own = _values(limits, names)
            diff = {k: v for k, v in own.items() if v != shared[k]}
            if diff:
                table[roles[limits.role]] = diff
        data[section] = table
    data["post"] = _values(profile.post, POST_FIELDS)
    data["sources"] = {
        key: {k: v for k, v in vars(src).items() if v or k == "text"}
        for key, src in profile.sources
    }
    return data
