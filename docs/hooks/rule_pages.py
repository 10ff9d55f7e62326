"""MkDocs hook: a page per rule and the Graph error table, generated from the registry.

Like `ruff rule`, each rule's page comes from its registration (code, severity, what it
checks, the Graph error it prevents, what `fix` does) plus an example run through the
real rules at build time (example_output.py). Nothing generated is committed: a new
rule gets its page and its place in the navigation from this hook, and the build (run
`--strict` by tests/test_docs.py) fails when a rule has no example or its example no
longer breaks it.
"""

from __future__ import annotations

import logging
from typing import Any

from example_output import ExampleError, example_markdown
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from rule_examples import EXAMPLES

from igpreflight.limits import Source
from igpreflight.preflight.profile_values import rule_sources, rule_values
from igpreflight.preflight.rules import RULE_MODULES, Rule, listing_order, load_rules
from igpreflight.profiles import BUILTIN
from igpreflight.publish.graph.table import (
    GRAPH_ERRORS,
    ErrorClass,
    GraphErrorInfo,
    lookup_graph_error,
)

log = logging.getLogger("mkdocs.plugins.rule_pages")

RULES_INDEX = "rules/index.md"
GRAPH_PAGE = "graph-errors.md"

FAMILIES = {
    "image": "Images",
    "video": "Videos",
    "post": "Posts",
    "url": "URLs",
    "quota": "Quota",
    "file": "Input files",
}

# What each kind of rule reads, and which commands apply it.
READS = {
    "image": "the facts a probe reads from an image's headers (no pixel is decoded), "
    "against the limits of the role the file is checked in",
    "video": "the facts MediaInfo and the MP4 box walker read from a video's headers "
    "(no frame is decoded), against the limits of the role the file is checked in",
    "post": "one post of a manifest and the facts of its media",
    "batch": "every post of a manifest together",
    "url": "one fetch of a media URL, made the way Instagram's fetcher makes it",
    "quota": "the account's publishing quota, read before each post is published",
    "file": "the probe's verdict on a file it could not read as media",
}
COMMANDS = {
    "image": "`check`, `fix`, `upload`, `publish` and `run`",
    "video": "`check`, `fix`, `upload`, `publish` and `run`",
    "file": "`check`, `fix`, `upload`, `publish` and `run`",
    "post": "`check --manifest`, `publish` and `run`",
    "batch": "`check --manifest`, `publish` and `run`",
    "url": "`check-url`, `upload`, `publish`, `run`, and `check` for a manifest's URLs",
    "quota": "`publish` and `run`",
}
SEVERITY = {
    "error": "An error: `check` exits 1 and `upload`, `publish` and `run` refuse the file or post.",
    "warning": "A warning: Instagram takes the media but not as you meant it; "
    "`check --strict` (or `strict = true`) fails on it.",
    "info": "A note: it never fails a check.",
}


def registry_rules() -> list[Rule]:
    return sorted(load_rules().rules.values(), key=listing_order)


def family(rule: Rule) -> str:
    module = rule.family
    return FAMILIES.get(module, module.title())


def sentence(text: str) -> str:
    """`text` with a capital first letter and a full stop."""
    return f"{text[:1].upper()}{text[1:]}."


def graph_anchor(info: GraphErrorInfo) -> str:
    pair = "-".join(str(c) for c in (info.code, info.subcode) if c is not None)
    return f"graph-{pair or 'http-5xx'}"


def graph_label(code: int | None, subcode: int | None) -> str:
    return "/".join(str(c) for c in (code, subcode) if c is not None)


def rule_page(rule: Rule) -> str:
    info = rule.info
    lines = [f"# {info.code}: {info.summary}", ""]
    source = rule.module.replace(".", "/") + ".py"
    lines += [f"| rule | {info.code} |", "|---|---|", f"| severity | {info.severity.value} |"]
    lines.append(f"| family | {family(rule)}, registered in `{source}` |")
    label = graph_label(info.graph_code, info.graph_subcode)
    # No Graph code, no Graph error (a lookup of none would find the HTTP 5xx entry).
    graph = lookup_graph_error(info.graph_code, info.graph_subcode) if label else None
    if label:
        meaning = f": {graph.meaning}" if graph else ""
        target = f"(../{GRAPH_PAGE}#{graph_anchor(graph)})" if graph else ""
        shown = f"[{label}]{target}" if graph else label
        lines.append(f"| prevents Graph error | {shown}{meaning} |")
    fix = "yes" if info.fixable else "when asked" if info.on_request else "no"
    lines += [f"| `fix` resolves it | {fix} |", ""]

    lines += ["## What it checks", ""]
    reads, used_by = READS.get(rule.kind, rule.kind), COMMANDS.get(rule.kind, "igpreflight")
    lines += [f"*{sentence(info.summary)}* It reads {reads}, and {used_by} apply it.", ""]

    lines += ["## Why", ""]
    if graph is not None:
        lines.append(
            f"If it reaches the Graph API, the answer is Graph error {label}, *{graph.meaning}* "
            "(for media, minutes after the upload, when Instagram processes the container). "
            f"The publisher's class for that error is `{graph.error_class.value}`; what to do: "
            f"{graph.advice}."
        )
    elif label:
        lines.append(f"If it reaches the Graph API, the answer is Graph error {label}.")
    lines += ["", SEVERITY[info.severity.value], ""]

    lines += ["## Example", ""]
    example = EXAMPLES.get(info.code)
    if example is None:
        raise PluginError(
            f"rule {info.code} has no example: add one to docs/hooks/rule_examples.py"
        )
    try:
        lines.append(example_markdown(rule, example))
    except ExampleError as exc:
        raise PluginError(str(exc)) from exc

    lines += ["## How fix resolves it", ""]
    if info.fixable:
        lines.append(f"`igpreflight fix` resolves it: {info.fix_hint}.")
    elif info.on_request:
        lines.append(
            f"`igpreflight fix` resolves it only when an option asks, since it changes the "
            f"content: {info.fix_hint}. Without the option the file is reported `unfixable` "
            "with the reason."
        )
    else:
        lines.append(f"`fix` does not change this. What to do: {info.fix_hint}.")
    lines += profiles_section(info)
    lines += [
        "",
        "## Configuration",
        "",
        f'Turn it off with `ignore = ["{info.code}"]` in the configuration or '
        f"`--ignore {info.code}` on the command line; `per-file-ignores` turns it off for "
        "some files only (see [Configuration](../configuration.md)). "
        f"`igpreflight explain {info.code}` prints this rule's summary in a terminal.",
        "",
    ]
    return "\n".join(lines)


def source_link(source: Source) -> str:
    """A value's source as a page shows it: a link, and a mark when unverified."""
    mark = {"unverified": " (unverified)", "policy": " (igpreflight's choice)"}.get(
        source.status, ""
    )
    if source.url:
        host = source.url.split("/")[2]
        return f"[{host}]({source.url}){mark}"
    return source.text + mark


def profiles_section(info: Any) -> list[str]:
    """The value the rule reads in each built-in profile, with where it comes from
    (the profiles page has every value; `explain CODE` shows house profiles too)."""
    if not info.limits:
        return []
    lines = ["", "## Per profile", ""]
    lines += ["| profile | value | source |", "|---|---|---|"]
    for profile in BUILTIN.values():
        sources = ", ".join(dict.fromkeys(source_link(s) for s in rule_sources(info, profile)))
        lines.append(f"| `{profile.name}` | {rule_values(info, profile)} | {sources or '—'} |")
    lines += [
        "",
        "A house profile may tighten these (see [Profiles](../profiles.md)); "
        f"`igpreflight explain {info.code}` shows its values too.",
    ]
    return lines


def rules_index(rules: list[Rule]) -> str:
    lines = [
        "# Rules",
        "",
        "Every rule has a stable code, never renumbered or reused. This list and the pages it",
        "links to are generated from the rule registry (`igpreflight/preflight/rules/`) when",
        "the site is built; `igpreflight rules` prints the same list in a terminal and",
        "`igpreflight rules --format json` as data.",
        "",
        "A rule marked *fix* is resolved by `igpreflight fix` without being asked; *asked* is",
        "resolved only when an option asks for it.",
        "",
    ]
    by_family: dict[str, list[Rule]] = {}
    for rule in rules:
        by_family.setdefault(family(rule), []).append(rule)
    for name, members in by_family.items():
        lines += [f"## {name}", "", "| code | severity | Graph error | fix | what it checks |"]
        lines.append("|---|---|---|---|---|")
        for rule in members:
            info = rule.info
            fix = "fix" if info.fixable else "asked" if info.on_request else ""
            graph = graph_label(info.graph_code, info.graph_subcode) or ""
            code = f"[{info.code}]({info.code}.md)"
            lines.append(f"| {code} | {info.severity.value} | {graph} | {fix} | {info.summary} |")
        lines.append("")
    return "\n".join(lines)


CLASS_TEXT = {
    ErrorClass.RETRY_SAME: "the same call is retried, with backoff, a bounded number of times",
    ErrorClass.RECREATE_CONTAINER: "a new container is created (a carousel recreates only "
    "the children that failed)",
    ErrorClass.WAIT_QUOTA: "the account waits for its usage or quota to allow calls",
    ErrorClass.FIX_MEDIA: "no retry: the media must change; the rules below catch it first",
    ErrorClass.RECONNECT_AUTH: "the account stops: its token must be renewed",
    ErrorClass.PERMANENT: "no retry",
}


def graph_page(rules_by_code: dict[str, Rule]) -> str:
    lines = [
        "# Graph errors",
        "",
        "What each Graph API error means, what the publisher does about it, and which rules",
        "catch it before upload. Generated from the catalog (`igpreflight/catalog.py`), the",
        "one table `explain`, the reports and the publisher's retries all read;",
        "`igpreflight explain 2207026` prints an entry in a terminal. A known subcode decides",
        "before its code: 4/2207051 is spam, a bare 4 a rate limit.",
        "",
    ]
    for cls in ErrorClass:
        lines += [f"## {cls.value}", "", sentence(CLASS_TEXT[cls]), ""]
        for info in (g for g in GRAPH_ERRORS if g.error_class is cls):
            label = graph_label(info.code, info.subcode) or "HTTP 5xx"
            lines += [f"### {label} {{#{graph_anchor(info)}}}", ""]
            lines.append(f"{sentence(info.meaning)} What to do: {info.advice}.")
            caught = [r for r in info.rules if r.code in rules_by_code]
            if caught:
                links = ", ".join(f"[{r.code}](rules/{r.code}.md)" for r in caught)
                lines.append(f"Caught before upload by {links}.")
            lines.append("")
    return "\n".join(lines)


def _rules_nav(rules: list[Rule]) -> list[Any]:
    by_family: dict[str, list[Any]] = {}
    for rule in rules:
        by_family.setdefault(family(rule), []).append({rule.code: f"rules/{rule.code}.md"})
    return [RULES_INDEX, *({name: pages} for name, pages in by_family.items())]


def _expand(nav: list[Any], rules: list[Rule]) -> bool:
    """Replace the nav entry of rules/index.md with a section holding every rule page."""
    for i, entry in enumerate(nav):
        if isinstance(entry, dict):
            ((title, value),) = entry.items()
            if value == RULES_INDEX:
                nav[i] = {title: _rules_nav(rules)}
                return True
            if isinstance(value, list) and _expand(value, rules):
                return True
    return False


def on_config(config: MkDocsConfig, **_: Any) -> MkDocsConfig:
    if not config.nav or not _expand(config.nav, registry_rules()):
        raise PluginError(f"mkdocs.yml's nav must list {RULES_INDEX}")
    return config


def on_files(files: Files, config: MkDocsConfig, **_: Any) -> Files:
    rules = registry_rules()
    unknown = set(EXAMPLES) - {r.code for r in rules}
    if unknown:
        raise PluginError(f"examples of rules that are not registered: {sorted(unknown)}")
    pages = {RULES_INDEX: rules_index(rules), GRAPH_PAGE: graph_page({r.code: r for r in rules})}
    pages.update({f"rules/{r.code}.md": rule_page(r) for r in rules})
    for uri, text in pages.items():
        files.append(File.generated(config, uri, content=text))
    log.info("rule_pages: %d rule pages from %d rule modules", len(rules), len(RULE_MODULES))
    return files
