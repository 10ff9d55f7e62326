"""Which rules exist for which file, the profiles it is checked against, and its role.

Split from `config.py`: reading the configuration happens once, but a
`RuleSelection` travels on (into worker processes, the fix ledger's options key)
and answers per path; it is plain frozen data over globs and profiles.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from igpreflight.config_errors import ConfigError
from igpreflight.model import AsOption, Finding
from igpreflight.path_globs import glob_matches
from igpreflight.profiles import Profile, ProfileError, is_default, resolve
from igpreflight.records import record


@record
class RuleSelection:
    """Which rules exist for which file, and the role a file is checked in.

    `enabled` None means every rule. Plain tuples and frozensets, so it pickles
    into worker processes and hashes into the fix ledger's options key.
    """

    enabled: frozenset[str] | None = None
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    roles: tuple[tuple[str, str], ...] = ()
    root: str = ""
    # The profiles files are checked against (SPEC 12): every file's, then by glob
    # (the first match wins); () is instagram. `house` names the house profiles.
    profiles: tuple[Profile, ...] = ()
    path_profiles: tuple[tuple[str, tuple[Profile, ...]], ...] = ()
    house: tuple[tuple[str, Profile], ...] = ()

    @property
    def is_default(self) -> bool:
        return (
            self.enabled is None
            and not self.per_file_ignores
            and not self.roles
            and is_default(self.profiles)
            and not self.path_profiles
        )

    def profiles_for(self, path: str | os.PathLike[str] | None) -> tuple[Profile, ...]:
        """The profiles `path` is checked against: the first matching `profiles` glob,
        else `profile` (() means instagram alone)."""
        if path is not None and str(path):
            for glob, profiles in self.path_profiles:
                if glob_matches(glob, path, self.root):
                    return profiles
        return self.profiles

    def with_profiles(self, spec: Any) -> RuleSelection:
        """These rules with `spec` (names, files or Profile objects) for every path,
        as `--profile` gives them (a file relative to the working directory); None
        keeps the configuration's."""
        if spec is None:
            return self
        try:
            chosen = resolve(spec, dict(self.house), Path.cwd())
        except ProfileError as exc:
            raise ConfigError(f"--profile: {exc}") from None
        return replace(self, profiles=() if is_default(chosen) else chosen, path_profiles=())

    def allows(self, code: str, path: str | os.PathLike[str] | None = None) -> bool:
        if self.enabled is not None and code not in self.enabled:
            return False
        if path is None or not str(path):
            return True
        return not any(
            code in codes and glob_matches(glob, path, self.root)
            for glob, codes in self.per_file_ignores
        )

    def keep(
        self, findings: Sequence[Finding], path: str | os.PathLike[str] | None = None
    ) -> tuple[list[Finding], int]:
        """The findings still reported for `path`, and how many were ignored."""
        if self.is_default:
            return list(findings), 0
        kept = [f for f in findings if self.allows(f.rule, path)]
        return kept, len(findings) - len(kept)

    def role(self, path: str | os.PathLike[str], given: str) -> str:
        """The `--as` value for `path`: an explicit `--as` wins, then the first
        matching `roles` glob, then auto."""
        if given != AsOption.AUTO.value or not self.roles:
            return given
        for glob, role in self.roles:
            if glob_matches(glob, path, self.root):
                return role
        return given


DEFAULT_RULES = RuleSelection()
