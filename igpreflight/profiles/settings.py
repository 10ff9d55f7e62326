"""The profile keys of a project configuration: `profile` and `[profiles]`.

    profile = "instagram,threads"              # every file (default: instagram)
    [tool.igpreflight.profiles]
    "reels/**" = "instagram,facebook-reels"    # a glob: the profiles of matching files
    [tool.igpreflight.profiles.house]          # a table: a house profile named "house"
    extends = "instagram"

In `[profiles]` a string or list value maps a glob to profiles (like `roles`); a
table value defines a house profile. Names may be files (`brand/house.toml`),
relative to the configuration's folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from igpreflight.profiles import BUILTIN, Profile, ProfileError, house_profile, resolve
from igpreflight.records import record


@record
class ProfileSettings:
    """Which profiles apply to which files, from the configuration."""

    profiles: tuple[Profile, ...] = ()  # every file's, unless a glob says otherwise
    by_glob: tuple[tuple[str, tuple[Profile, ...]], ...] = ()
    house: tuple[tuple[str, Profile], ...] = ()  # house profiles by name, in file order


def _house(defs: Mapping[str, Any], where: str) -> dict[str, Profile]:
    """Build house profiles in dependency order (one may extend another)."""
    built: dict[str, Profile] = {}
    pending = dict(defs)
    while pending:
        ready = [n for n, t in pending.items() if t.get("extends") in {**BUILTIN, **built}]
        name = ready[0] if ready else next(iter(pending))  # none ready: report the first
        known = {**BUILTIN, **built}
        built[name] = house_profile(
            name, pending.pop(name), where=f"{where} [profiles.{name}]", known=known
        )
    return built


def _names(value: Any, where: str) -> str | list[str]:
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return value
    raise ProfileError(f'{where}: write profile names, e.g. "instagram,threads"')


def parse_profiles(table: Mapping[str, Any], where: str, root: Path) -> ProfileSettings:
    """The profile settings of a configuration table; ProfileError for a bad one."""
    section = table.get("profiles", {})
    if not isinstance(section, dict):
        raise ProfileError(f"{where}: profiles must be a table of glob = profiles or NAME tables")
    defs = {k: v for k, v in section.items() if isinstance(v, dict)}
    house = _house(defs, where)
    default: tuple[Profile, ...] = ()
    if "profile" in table:
        at = f"{where}: profile"
        default = _resolve(_names(table["profile"], at), house, root, at)
    by_glob = []
    for glob, value in section.items():
        if glob in defs:
            continue
        at = f"{where}: profiles.{glob!r}"
        by_glob.append((glob, _resolve(_names(value, at), house, root, at)))
    # Profiles named by file are house profiles too: `profiles` lists them, `show` finds them.
    for profile in (*default, *(p for _, ps in by_glob for p in ps)):
        if profile.name not in BUILTIN:
            house.setdefault(profile.name, profile)
    return ProfileSettings(default, tuple(by_glob), tuple(house.items()))


def _resolve(
    value: str | list[str], house: Mapping[str, Profile], root: Path, where: str
) -> tuple[Profile, ...]:
    try:
        found = resolve(value, house, root)
    except ProfileError as exc:
        raise ProfileError(f"{where}: {exc}") from None
    if not found:
        raise ProfileError(f"{where}: names no profile")
    return found
