"""Profiles (SPEC section 12): the limit table as data, one per target.

Built in: `instagram` (the default: `igpreflight.limits`), `threads` and
`facebook-reels`. A team adds house profiles in TOML, in the configuration
(`[tool.igpreflight.profiles.NAME]`) or in a file, each extending one and only
tightening it. `resolve("instagram,threads")` gives the profiles a run checks
against; `intersect(profiles)` what one fixed output must meet to pass them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from igpreflight.profiles.builtin import BUILTIN, DEFAULT, FACEBOOK_REELS, INSTAGRAM, THREADS
from igpreflight.profiles.house import house_profile
from igpreflight.profiles.intersect import Target, intersect
from igpreflight.profiles.model import Profile, role_key
from igpreflight.profiles.schema import ProfileError, from_dict, suggest, to_dict
from igpreflight.profiles.tomlout import dumps
from igpreflight.tomlread import toml

ProfileSpec = str | Profile | Iterable[str | Profile] | None


def is_default(profiles: Iterable[Profile]) -> bool:
    """True for no profile or instagram alone: today's checks, messages unmarked."""
    return tuple(profiles) in ((), (INSTAGRAM,))


def is_file_spec(name: str) -> bool:
    """A --profile entry that names a TOML file rather than a profile."""
    return name.endswith(".toml") or "/" in name or "\\" in name


def load_file(path: str | Path, known: Mapping[str, Profile], shown: str | None = None) -> Profile:
    """A house profile from its own TOML file (its `name`, else the file's stem)."""
    path = Path(path)
    where = shown or str(path)
    tomllib = toml()
    try:
        table = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ProfileError(f"profile {where}: cannot read it: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"profile {where}: invalid TOML: {exc}") from exc
    except RecursionError:  # tomllib recurses once a nesting level
        raise ProfileError(f"profile {where}: invalid TOML: nested too deeply") from None
    name = table.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise ProfileError(f"profile {where}: name must be a string")
    return house_profile(name, table, where=where, known=known)


def resolve(
    spec: ProfileSpec,
    house: Mapping[str, Profile] | None = None,
    root: str | Path | None = None,
) -> tuple[Profile, ...]:
    """The profiles `spec` names: "instagram,threads", a list of names, files (a path
    ending .toml, relative to `root`) or Profile objects. None: (). Unknown names are
    a ProfileError with a "did you mean" hint."""
    if spec is None:
        return ()
    items = [spec] if isinstance(spec, (str, Profile)) else list(spec)
    known = {**BUILTIN, **(house or {})}
    out: list[Profile] = []
    for item in items:
        if isinstance(item, Profile):
            out.append(item)
            continue
        if not isinstance(item, str):
            raise ProfileError(f"a profile is a name or a Profile, not {type(item).__name__}")
        for name in (part.strip() for part in item.split(",")):
            if not name:
                continue
            if is_file_spec(name):
                path = Path(root or ".") / name
                out.append(load_file(path, known, shown=name))
            elif name in known:
                out.append(known[name])
            else:
                raise ProfileError(
                    f"unknown profile {name!r}{suggest(name, list(known))} "
                    f"(known: {', '.join(known)})"
                )
    if not out and items:
        raise ProfileError("--profile names no profile")
    return tuple(dict.fromkeys(out))


def show(profile: Profile) -> str:
    """`profile` as TOML: every value and its source (`from_toml` reads it back)."""
    return dumps(to_dict(profile))


def from_toml(text: str, known: Mapping[str, Profile] | None = None) -> Profile:
    """A profile from `show`'s TOML: a house one when it `extends`, else standalone."""
    table = toml().loads(text)
    name = table.get("name", "profile")
    if "extends" in table:
        return house_profile(name, table, where=name, known={**BUILTIN, **(known or {})})
    data = {k: v for k, v in table.items() if k != "name"}
    return from_dict(data, name=name, where=name)


__all__ = [
    "BUILTIN",
    "DEFAULT",
    "FACEBOOK_REELS",
    "INSTAGRAM",
    "THREADS",
    "Profile",
    "ProfileError",
    "Target",
    "from_toml",
    "house_profile",
    "intersect",
    "is_default",
    "load_file",
    "resolve",
    "role_key",
    "show",
]
