"""MkDocs hook: the profiles page's tables, generated from the profiles at build time.

docs/profiles.md holds two markers: `<!-- profile-values -->` becomes a table per
section with every built-in profile's value of every key, and `<!-- profile-sources -->`
where each value comes from (URL, the date it was read, official, unverified or
igpreflight's own choice). Nothing generated is committed: a changed value or source
in `igpreflight/limits.py` or `igpreflight/profiles/builtin.py` changes the page.
"""

from __future__ import annotations

from typing import Any

from mkdocs.exceptions import PluginError

from igpreflight.limits import Source
from igpreflight.preflight.profile_values import section_values
from igpreflight.profiles import BUILTIN
from igpreflight.profiles.model import SECTION_ROLES
from igpreflight.profiles.schema import SECTION_FIELDS

VALUES = "<!-- profile-values -->"
SOURCES = "<!-- profile-sources -->"
PAGE = "profiles.md"
TITLES = {"image": "Images", "video": "Videos", "post": "Posts (captions and carousels)"}
STATUS = {
    "official": "official",
    "unverified": "**unverified** (a third-party page only)",
    "policy": "igpreflight's choice",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _link(source: Source | None) -> str:
    """A short mark of where a value comes from: the page (official), the third-party
    page (unverified), or igpreflight's own choice."""
    if source is None:
        return ""
    if source.status == "policy":
        return " (igpreflight's choice)"
    if source.status == "house":
        return " (house rule)"
    label = "unverified" if source.status == "unverified" else "source"
    return f" ([{label}]({source.url}))" if source.url else f" ({label})"


def _value(profile: Any, section: str, name: str) -> str:
    text = section_values(profile, section, [name], bare=True) or "—"
    if section == "image" and not profile.takes_images:
        return text
    roles = SECTION_ROLES.get(section, {None: ""})
    marks = dict.fromkeys(_link(profile.source(section, role, name)) for role in roles)
    return text + "".join(marks)


def values_tables() -> str:
    profiles = list(BUILTIN.values())
    lines: list[str] = []
    for section, names in SECTION_FIELDS.items():
        lines += [f"### {TITLES[section]}", ""]
        lines.append("| key | " + " | ".join(f"`{p.name}`" for p in profiles) + " |")
        lines.append("|---" * (len(profiles) + 1) + "|")
        for name in names:
            cells = [_cell(_value(p, section, name)) for p in profiles]
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _source_line(key: str, source: Source) -> str:
    where = f" [{source.url.split('/')[2]}]({source.url})" if source.url else ""
    read = f", read {source.read}" if source.read else ""
    return f"- `{key}`: {source.text}.{where} ({STATUS.get(source.status, source.status)}{read})"


def sources_lists() -> str:
    lines: list[str] = []
    for profile in BUILTIN.values():
        lines += [f"### `{profile.name}`", "", f"{profile.description}.", ""]
        lines += [_source_line(key, src) for key, src in profile.sources]
        lines.append("")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if VALUES not in markdown or SOURCES not in markdown:
        raise PluginError(f"{PAGE} must hold the markers {VALUES} and {SOURCES}")
    return markdown.replace(VALUES, values_tables()).replace(SOURCES, sources_lists())
