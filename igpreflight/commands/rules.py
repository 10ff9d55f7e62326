"""`igpreflight rules` and `igpreflight explain`: the catalog, for people and tools."""

from __future__ import annotations

import json
import sys

import click

from igpreflight.api.explaining import (
    EXAMPLE_RULE,
    GRAPH_ERRORS,
    RULES,
    GraphErrorInfo,
    RuleInfo,
    rule_dict,
)
from igpreflight.api.explaining import explain as explain_api
from igpreflight.commands.common import terminal_options
from igpreflight.terminal import TERMINAL


@click.command("rules")
@terminal_options
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def rules_command(fmt: str) -> None:
    """List every rule: code, severity, what it checks, the Graph error it prevents, fixable."""
    if fmt == "json":
        click.echo(json.dumps([rule_dict(r) for r in RULES.values()], indent=2))
        return
    for r in RULES.values():
        graph = "/".join(str(c) for c in (r.graph_code, r.graph_subcode) if c is not None) or "-"
        fix = "fix" if r.fixable else "-"
        click.echo(f"{r.code:<9}{r.severity.value:<8}{graph:<14}{fix:<4} {r.summary}")


def _graph_lines(info: GraphErrorInfo) -> list[str]:
    pair = "/".join(str(c) for c in (info.code, info.subcode) if c is not None) or "HTTP 5xx"
    lines = [
        f"Graph error {pair}: {info.meaning}",
        f"  class: {info.error_class.value}",
        f"  what to do: {info.advice}",
    ]
    rules = info.rules  # every rule registered as preventing this subcode
    if len(rules) == 1:
        lines.append(f"  caught before upload by: {rules[0].code} ({rules[0].summary})")
    elif rules:
        lines.append("  caught before upload by:")
        lines.extend(f"    {r.code:<9}{r.summary}" for r in rules)
    return lines


def profile_lines(info: RuleInfo) -> list[str]:
    """What rule `info` reads in each profile: the built-in ones and the project
    configuration's house profiles (a broken configuration is a usage error)."""
    from igpreflight.api.profiles import known_profiles, rule_values
    from igpreflight.commands.config_options import settings

    profiles = known_profiles(settings().rules.house)
    width = max(len(name) for name in profiles) + 1
    return [f"    {p.name + ':':<{width}} {rule_values(info, p)}" for p in profiles.values()]


@click.command(context_settings={"ignore_unknown_options": True})
@terminal_options
@click.argument("code")
def explain(code: str) -> None:
    """Explain a rule code (IMG003) or a Graph error (2207026, 190, 352/2207026)."""
    found = explain_api(code)
    if found is not None and found.rule is not None:
        r = found.rule
        click.echo(f"{r.code} ({r.severity.value}): {r.summary}")
        if r.graph_subcode or r.graph_code:
            graph = "/".join(str(c) for c in (r.graph_code, r.graph_subcode) if c is not None)
            meaning = f": {found.graph[0].meaning}" if found.graph else ""
            click.echo(f"  prevents Graph error {graph}{meaning}")
        click.echo(f"  {'igpreflight fix: ' if r.fixable else 'to do: '}{r.fix_hint}")
        if r.limits:
            click.echo("  per profile:")
            click.echo("\n".join(profile_lines(r)))
        return
    if found is not None:
        if found.family:
            click.echo(f"Graph code {found.code} has these subcodes:")
        for info in found.graph:
            click.echo("\n".join(_graph_lines(info)))
        return
    known = ", ".join(sorted({str(g.subcode) for g in GRAPH_ERRORS if g.subcode})[:5])
    TERMINAL.error(
        f"unknown code {code!r}: try a rule code ({EXAMPLE_RULE}) or a Graph subcode ({known}, ...)"
    )
    sys.exit(1)
