"""The configuration options every media command takes: --select, --ignore, --config,
--isolated (and --profile, which check, fix and run take). `settings()` reads the project configuration (igpreflight.config) with
the CLI's flags on top and turns a bad configuration into a usage error (exit 2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from igpreflight.config import ConfigError, Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
    click.option(
        "--select",
        multiple=True,
        metavar="CODES",
        help="Only these rule codes or prefixes (comma-separated, repeatable; ALL for all).",
    ),
    click.option(
        "--ignore",
        multiple=True,
        metavar="CODES",
        help="Never report these rule codes or prefixes (comma-separated, repeatable).",
    ),
    click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=str),
        metavar="FILE",
        help="Read settings from FILE (an igpreflight.toml, or a pyproject.toml's "
        "[tool.igpreflight]) instead of searching from the working directory upwards.",
    ),
    click.option("--isolated", is_flag=True, help="Read no configuration file."),
)


profile_option = click.option(
    "--profile",
    "profile",
    metavar="NAME[,NAME...]",
    default=None,
    help="Check against these profiles: instagram (the default), threads, facebook-reels, "
    "a house profile of the configuration or a .toml file; with several, every one, and "
    "fix makes one output that passes them all (`igpreflight profiles` lists them).",
)


def config_options(func: F) -> F:
    """Add --select/--ignore/--config/--isolated to a command."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def settings(
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    config_file: str | None = None,
    isolated: bool = False,
    profile: str | None = None,
) -> Settings:
    """The project configuration for this run, CLI flags winning; exit 2 when it is bad."""
    try:
        return load_settings(
            config=config_file, isolated=isolated, select=select, ignore=ignore, profile=profile
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def pick_format(given: str | None, conf: Settings, choices: Sequence[str]) -> str:
    """--format, else the configuration's `format` when this command has it, else text."""
    return given or (conf.format if conf.format in choices else None) or "text"


def settings_of(options: dict[str, Any]) -> Settings:
    """`settings()` from a command's option dict (publish and run pass theirs on)."""
    return settings(
        options.get("select", ()),
        options.get("ignore", ()),
        options.get("config_file"),
        options.get("isolated", False),
        options.get("profile"),
    )


CONFIG_PARAMS = ("select", "ignore", "config_file", "isolated", "profile")
