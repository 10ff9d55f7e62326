"""Profiles (SPEC 12) for a front end: the ones there are, one as TOML, and what a
rule reads in each.

The profiles themselves (`igpreflight.profiles`) are data the checks read; this is
what `igpreflight profiles`, `profiles show` and `explain` ask of them. A house
profile comes from the project configuration (`config.load_settings().rules.house`),
which the caller reads and passes in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from igpreflight.profiles import BUILTIN, Profile, ProfileError, resolve, show

if TYPE_CHECKING:
    from igpreflight.preflight.rules import RuleInfo

__all__ = ["BUILTIN", "Profile", "ProfileError", "known_profiles", "resolve", "rule_values", "show"]


def known_profiles(house: Mapping[str, Profile] | None = None) -> dict[str, Profile]:
    """Every profile by name: the built-in ones (instagram first, the default), then
    the configuration's house profiles."""
    return {**BUILTIN, **dict(house or {})}


def rule_values(rule: RuleInfo, profile: Profile) -> str:
    """The values rule `rule` reads in `profile`, in one line ("" when it reads none)."""
    from igpreflight.preflight.profile_values import rule_values

    return rule_values(rule, profile)
