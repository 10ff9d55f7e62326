"""What a profile's values look like to people: '8,000,000 bytes', 'aspect 4:5..1.91:1'.

Each rule's registration names the profile values it reads (`RuleInfo.limits`);
`rule_values(info, profile)` says them in one line, roles that differ named
("feed, carousel-item: aspect 4:5..1.91:1; story, cover: aspect any"). `explain`,
the rule and profile pages of the docs and SARIF's rule properties use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from igpreflight.limits import Source
from igpreflight.preflight.rules import RuleInfo
from igpreflight.preflight.rules.fmt import fmt_int, fmt_number, fmt_rate, fmt_seconds, ratio_name
from igpreflight.profiles import Profile
from igpreflight.profiles.model import SECTION_ROLES

RATIOS = frozenset({"min_aspect", "max_aspect", "recommended_aspect"})


def value_text(name: str, value: Any) -> str:
    """One value in words and units."""
    if value is None:
        return "none"
    if name in RATIOS:
        return ratio_name(value)
    if name == "aspects":
        return ", ".join(ratio_name(v) for v in value) or "any"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name.endswith("bytes") and not isinstance(value, bool):
        return f"{fmt_int(value)} bytes"
    if "bitrate" in name:
        return fmt_rate(value, "Mbps" if value >= 1_000_000 else "kbps")
    if "sample_rate" in name:
        return f"{fmt_number(value / 1000)} kHz"
    if "duration" in name:
        return fmt_seconds(value)
    if name.endswith(("width", "edge")):
        return f"{value} px"
    if isinstance(value, float):
        return fmt_number(value)
    return str(value)


LABELS = {"max_bytes": "max size", "max_caption": "max caption length"}


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def describe(names: Sequence[str], limits: Any, bare: bool = False) -> str:
    """The values of fields `names` of one limits object: 'aspect 4:5..1.91:1, ...';
    `bare`: one field's value alone ('4:5'), as a table of keys shows it."""
    if bare and len(names) == 1:
        value = getattr(limits, names[0])
        return "any" if names[0] == "aspects" and not value else value_text(names[0], value)
    parts: list[str] = []
    done: set[str] = set()
    for name in names:
        if name in done:
            continue
        pair = "max_" + name[4:] if name.startswith("min_") else None
        if pair in names:
            lo, hi = getattr(limits, name), getattr(limits, pair)
            done |= {name, pair}
            label = _label(name[4:])
            if lo is None and hi is None:
                parts.append(f"{label} any")
            elif lo is None:
                parts.append(f"{label} up to {value_text(pair, hi)}")
            elif hi is None:
                parts.append(f"{label} at least {value_text(name, lo)}")
            elif lo == hi:
                parts.append(f"{label} {value_text(name, lo)} only")
            else:
                parts.append(f"{label} {value_text(name, lo)}..{value_text(pair, hi)}")
            continue
        value = getattr(limits, name)
        if name == "aspects" and not value:
            continue  # any ratio in the range: the range says it
        if name == "emoji_as_utf8_bytes":
            if value:
                parts.append("emoji counted as their UTF-8 bytes")
            continue
        parts.append(f"{_label(name)} {value_text(name, value)}")
    return ", ".join(parts)


def section_values(profile: Profile, section: str, names: Sequence[str], bare: bool = False) -> str:
    """The values of `names` in one section of `profile`, grouping roles that agree."""
    if section == "post":
        return describe(names, profile.post, bare)
    if section == "image" and not profile.takes_images:
        return "no images (videos only)"
    groups: dict[str, list[str]] = {}
    for role, key in SECTION_ROLES[section].items():
        groups.setdefault(describe(names, profile.limits(role), bare), []).append(key)
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{', '.join(keys)}: {text}" for text, keys in groups.items())


def rule_values(info: RuleInfo, profile: Profile) -> str:
    """The values rule `info` reads in `profile`, in one line ("" for a rule that reads none)."""
    by_section: dict[str, list[str]] = {}
    for ref in info.limits:
        section, _, name = ref.partition(".")
        by_section.setdefault(section, []).append(name)
    return "; ".join(section_values(profile, s, names) for s, names in by_section.items())


def rule_sources(info: RuleInfo, profile: Profile) -> list[Source]:
    """Where the values rule `info` reads come from in `profile` (each source once)."""
    found: dict[Source, None] = {}
    for ref in info.limits:
        section, _, name = ref.partition(".")
        roles = SECTION_ROLES.get(section, {None: ""})
        for role in roles:
            source = profile.source(section, role, name)
            if source is not None:
                found[source] = None
    return list(found)
