"""`igpreflight profiles` and `igpreflight profiles show NAME`: the profiles there are.

The list holds the built-in profiles and the house profiles of the project
configuration (found as `check` finds it, or --config FILE); `show` prints one
profile as TOML, every value with its source, which a house profile file may copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from igpreflight.commands.common import terminal_options
from igpreflight.commands.config_options import settings


def _config(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--isolated", is_flag=True, help="Read no configuration file.")(command)
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=str),
        metavar="FILE",
        help="Read house profiles from FILE instead of the configuration found upwards.",
    )(command)


def known_profiles(config_file: str | None, isolated: bool) -> dict[str, Any]:
    """Every profile by name: built-in, then the configuration's house profiles."""
    from igpreflight.api.profiles import known_profiles as known

    return known(settings(config_file=config_file, isolated=isolated).rules.house)


@click.group("profiles", invoke_without_command=True)
@terminal_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_config
@click.pass_context
def profiles_command(ctx: click.Context, fmt: str, config_file: str | None, isolated: bool) -> None:
    """List the profiles: instagram (the default), threads, facebook-reels and the
    configuration's house profiles. `igpreflight profiles show NAME` prints one."""
    if ctx.invoked_subcommand is not None:
        return
    found = known_profiles(config_file, isolated)
    if fmt == "json":
        rows = [
            {
                "name": p.name,
                "platform": p.platform,
                "extends": p.extends,
                "origin": p.origin,
                "description": p.description,
            }
            for p in found.values()
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(name) for name in found) + 2
    for p in found.values():
        kind = f"house profile, extends {p.extends} ({p.origin})" if p.extends else "built-in"
        default = " (the default)" if p.name == "instagram" else ""
        click.echo(f"{p.name:<{width}}{p.platform}: {kind}{default}")


@profiles_command.command("show")
@terminal_options
@click.argument("name")
@_config
def show_command(name: str, config_file: str | None, isolated: bool) -> None:
    """Print profile NAME (or a .toml file's) as TOML: every value and its source."""
    from igpreflight.api.profiles import ProfileError, resolve, show

    found = known_profiles(config_file, isolated)
    try:
        (profile,) = resolve(name, {k: v for k, v in found.items()})
    except ProfileError as exc:
        raise click.UsageError(str(exc)) from None
    except ValueError:
        raise click.UsageError("give one profile name") from None
    click.echo(show(profile), nl=False)
