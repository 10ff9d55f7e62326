"""Project configuration, the way ruff does it.

Settings come from `[tool.igpreflight]` in a `pyproject.toml` or from the top level
of an `igpreflight.toml`, the first found from the working directory upwards
(`igpreflight.toml` wins when a folder has both; a `pyproject.toml` without the
table is passed over, and so is a broken one without our table's header).
`--config FILE` names the file, `--isolated` reads none, and CLI flags win over
the file. Every key is checked: an unknown key or rule
code is a `ConfigError` naming it, which commands turn into a usage error (exit 2).

The result is a `Settings`; its `rules` (a `RuleSelection`) is plain frozen data,
so it travels into worker processes and decides, per path, which findings exist
and which role a file is checked in (`rule_selection.py`; its globs are matched by
`path_globs.py`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from igpreflight.config_errors import ConfigError
from igpreflight.model import AsOption
from igpreflight.profiles import ProfileError, is_default
from igpreflight.profiles.schema import suggest
from igpreflight.profiles.settings import parse_profiles
from igpreflight.records import record
from igpreflight.rule_selection import DEFAULT_RULES, RuleSelection
from igpreflight.tomlread import toml

CONFIG_NAME = "igpreflight.toml"
PYPROJECT = "pyproject.toml"
ROLE_VALUES = tuple(a.value for a in AsOption)
# `check`'s report formats (report.RENDERERS; a test keeps the two equal). Commands
# with fewer formats (fix, publish: text and json) use the key only when they have it.
FORMATS = ("github", "json", "junit", "sarif", "text")

# key -> what it holds; the README's configuration table documents the same keys.
KEYS = {
    "select": "rule codes or prefixes to report (default: all rules; ALL means all)",
    "ignore": "rule codes or prefixes never reported",
    "per-file-ignores": "glob -> rule codes or prefixes not reported for matching files",
    "roles": "glob -> role (auto, feed, reels, story, carousel-item) for matching files",
    "profile": "the profiles files are checked against (names or .toml files; default instagram)",
    "profiles": "glob -> profiles for matching files; NAME = {extends = ...}: a house profile",
    "strict": "true: warnings fail too (as --strict)",
    "format": "report format when --format is not given",
    "jobs": "parallel workers when --jobs is not given (at most 4 per CPU)",
}


# Parallel workers beyond this many per CPU only add memory and contention (`jobs =
# 5000` once started 347 processes and took 9.5 GB in under 2 s).
JOBS_PER_CPU = 4


def max_jobs() -> int:
    """The most parallel workers `--jobs`, `jobs =` and `--workers` may ask for."""
    return JOBS_PER_CPU * (os.cpu_count() or 1)


def check_jobs(value: int, where: str) -> int:
    """`value` when it is a sensible number of workers, else a ConfigError naming `where`."""
    if value > max_jobs():
        raise ConfigError(
            f"{where}: {value} is too many parallel workers; at most {max_jobs()} "
            f"({JOBS_PER_CPU} per CPU, {os.cpu_count() or 1} CPUs here)"
        )
    return value


def jobs_argument(value: int | None) -> int | None:
    """The API's `jobs=`, held to the bounds of --jobs: `check(jobs=5000)` started a
    process a few dozen files (a pool sized by the batch, as --jobs 5000 once did) and
    `jobs=0` or `-1` quietly checked on one core. None is one worker a CPU."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"jobs={value!r}: give a whole number of at least 1, or None")
    return check_jobs(value, "jobs")


def known_codes() -> tuple[str, ...]:
    from igpreflight.catalog import RULES

    return tuple(sorted(RULES))


def expand(selectors: Iterable[str], where: str) -> frozenset[str]:
    """Rule codes named by `selectors`: a code, a prefix (`IMG`, `VID01`) or `ALL`.

    A selector that names no rule is a ConfigError saying where it came from.
    """
    codes = known_codes()
    out: set[str] = set()
    for raw in selectors:
        sel = str(raw).strip().upper()
        if not sel:
            continue
        matched = codes if sel == "ALL" else [c for c in codes if c.startswith(sel)]
        if not matched:
            raise ConfigError(f"{where}: unknown rule code {raw!r}")
        out.update(matched)
    return frozenset(out)


def split_codes(values: Iterable[str]) -> list[str]:
    """CLI values: repeatable and comma-separated (`--ignore IMG003,VID020`)."""
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


@record
class Settings:
    """What the config file and the CLI decided; None means "not set"."""

    rules: RuleSelection = DEFAULT_RULES
    strict: bool | None = None
    format: str | None = None
    jobs: int | None = None
    source: Path | None = None  # the file read, None when none was


# ---------------------------------------------------------------- finding and reading


def find_config(start: Path | None = None) -> Path | None:
    """The first igpreflight.toml, or pyproject.toml with [tool.igpreflight], from
    `start` (default: the working directory) upwards."""
    folder = (start or Path.cwd()).resolve()
    for here in (folder, *folder.parents):
        own = here / CONFIG_NAME
        if own.is_file():
            return own
        pyproject = here / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


# A table header of ours in a pyproject.toml, read from its text: `[tool.igpreflight]`,
# `[tool.igpreflight.roles]`, `[ tool . "igpreflight" ]`, or one missing its `]`.
_OUR_HEADER = re.compile(r"""^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*["']?igpreflight(?![\w-])""", re.M)


def _has_tool_table(path: Path) -> bool:
    """Whether the pyproject.toml holds our settings. One that is not valid TOML is
    passed over (another tool's file is not ours to judge) unless its text has a
    `[tool.igpreflight...]` header: then its TOML error is a ConfigError, since
    passing it over would drop the project's settings without a word (its `strict`,
    `ignore` and `roles` gone from CI and the pre-commit hook, which then passed)."""
    try:
        data = _read_toml(path)
    except ConfigError:
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return False
        if _OUR_HEADER.search(text):
            raise
        return False
    return isinstance(data.get("tool"), dict) and "igpreflight" in data["tool"]


def _read_toml(path: Path) -> dict[str, Any]:
    tomllib = toml()
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except RecursionError:  # tomllib recurses once a nesting level
        raise ConfigError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None


def read_table(path: Path) -> dict[str, Any]:
    """The settings table of a config file: [tool.igpreflight] of a pyproject.toml,
    the whole file otherwise."""
    data = _read_toml(path)
    if path.name == PYPROJECT:
        tool = data.get("tool", {})
        table = tool.get("igpreflight", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.igpreflight] must be a table")
        return table
    return data


def parse_table(
    table: Mapping[str, Any], where: str, root: Path
) -> tuple[dict[str, Any], RuleSelection]:
    """Validate a settings table; returns (strict/format/jobs, the file's rule layer)."""
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        hint = suggest(unknown[0], list(KEYS))
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}{hint} (known: {', '.join(sorted(KEYS))})"
        )
    plain: dict[str, Any] = {}
    if "strict" in table:
        if not isinstance(table["strict"], bool):
            raise ConfigError(f"{where}: strict must be true or false")
        plain["strict"] = table["strict"]
    if "format" in table:
        if table["format"] not in FORMATS:
            raise ConfigError(
                f"{where}: unknown format {table['format']!r} (one of {', '.join(FORMATS)})"
            )
        plain["format"] = table["format"]
    if "jobs" in table:
        jobs = table["jobs"]
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ConfigError(f"{where}: jobs must be a whole number of at least 1")
        plain["jobs"] = check_jobs(jobs, f"{where}: jobs")
    select = _code_list(table, "select", where)
    ignore = _code_list(table, "ignore", where)
    enabled = None
    if select is not None or ignore:
        enabled = expand(select, f"{where}: select") if select is not None else None
        enabled = (enabled if enabled is not None else frozenset(known_codes())) - expand(
            ignore or [], f"{where}: ignore"
        )
    per_file = []
    for glob, codes in _glob_table(table, "per-file-ignores", where).items():
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list):
            raise ConfigError(f"{where}: per-file-ignores.{glob!r} must be a list of rule codes")
        per_file.append((glob, expand(codes, f"{where}: per-file-ignores.{glob!r}")))
    roles = []
    for glob, role in _glob_table(table, "roles", where).items():
        if role not in ROLE_VALUES:
            raise ConfigError(
                f"{where}: roles.{glob!r}: unknown role {role!r} (one of {', '.join(ROLE_VALUES)})"
            )
        roles.append((glob, role))
    try:
        prof = parse_profiles(table, where, root)
    except ProfileError as exc:
        raise ConfigError(str(exc)) from None
    default = () if is_default(prof.profiles) else prof.profiles
    rules = RuleSelection(
        enabled, tuple(per_file), tuple(roles), str(root), default, prof.by_glob, prof.house
    )
    return plain, rules


def _code_list(table: Mapping[str, Any], key: str, where: str) -> list[str] | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of rule codes")
    return value


def _glob_table(table: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} must be a table of glob = value")
    return value


def load_settings(
    *,
    config: str | os.PathLike[str] | None = None,
    isolated: bool = False,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    start: Path | None = None,
    profile: Any = None,
) -> Settings:
    """The settings for one command: the config file (found, named, or none with
    `isolated`), then the CLI's --select/--ignore (and --profile) on top of it.

    Rule layers go the ruff way: a layer's `select` replaces the rules so far and
    its `ignore` removes from them, the file's layer first, then the CLI's, so
    `--select IMG003` brings back a rule the file ignores.
    """
    if config is not None and isolated:
        raise ConfigError("--config and --isolated exclude each other")
    path: Path | None = None
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"--config {config}: no such file")
    elif not isolated:
        path = find_config(start)
    plain: dict[str, Any] = {}
    rules = DEFAULT_RULES
    if path is not None:
        where = f"{path}" + (" [tool.igpreflight]" if path.name == PYPROJECT else "")
        plain, rules = parse_table(read_table(path), where, path.resolve().parent)
    cli_select, cli_ignore = split_codes(select), split_codes(ignore)
    if cli_select or cli_ignore:
        enabled = rules.enabled if rules.enabled is not None else frozenset(known_codes())
        if cli_select:
            enabled = expand(cli_select, "--select")
        enabled -= expand(cli_ignore, "--ignore")
        rules = replace(rules, enabled=enabled)
    if not rules.root:
        rules = replace(rules, root=str(Path.cwd()))
    rules = rules.with_profiles(profile)  # --profile wins over profile/profiles
    return Settings(rules=rules, source=path, **plain)


# ConfigError, RuleSelection and DEFAULT_RULES live in their own modules (config_errors,
# rule_selection) and stay importable from here, where every importer finds them.
__all__ = [
    "CONFIG_NAME",
    "DEFAULT_RULES",
    "FORMATS",
    "JOBS_PER_CPU",
    "KEYS",
    "PYPROJECT",
    "ROLE_VALUES",
    "ConfigError",
    "RuleSelection",
    "Settings",
    "check_jobs",
    "jobs_argument",
    "expand",
    "find_config",
    "known_codes",
    "load_settings",
    "max_jobs",
    "parse_table",
    "read_table",
    "split_codes",
]
