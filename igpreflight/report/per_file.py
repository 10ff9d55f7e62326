"""A file's findings once, whatever the number of roles it was checked in.

A file walked as a feed image and listed in a manifest's carousel has one report
per role, and most findings (WEBP, a broken file) are the same in each. CI shows
findings on the file: two identical annotations, two code-scanning alerts with
one message at one place, two testcases of one name, that a reviewer cannot tell
apart. So CI formats report each distinct finding of a file once, its message
saying the roles it was found in when there are several
(`as feed, carousel-item: format WEBP ...`); the JSON report keeps every role.
"""

from __future__ import annotations

from dataclasses import replace

from igpreflight.model import FileReport, Finding
from igpreflight.report.locate import role_label


def by_path(files: list[FileReport]) -> dict[str, list[FileReport]]:
    """The reports of each path (one per role it was checked in), in input order."""
    grouped: dict[str, list[FileReport]] = {}
    for file in files:
        grouped.setdefault(file.path, []).append(file)
    return grouped


def roles_of(files: list[FileReport]) -> str:
    """The roles of one file's reports, `feed+carousel-item`."""
    return "+".join(dict.fromkeys(role_label(file) for file in files))


def findings_of(files: list[FileReport]) -> list[Finding]:
    """One file's findings; of a file checked in several roles, each finding once,
    its message saying the roles it was found in."""
    return [f for f, _ in findings_with_roles(files)]


def findings_with_roles(files: list[FileReport]) -> list[tuple[Finding, str]]:
    """Each distinct finding of one file, with the roles it was found in
    (`feed+carousel-item`): two findings of one rule that differ by role (an
    aspect ratio too tall for the feed, too wide for a story) stay two."""
    if len(files) == 1:
        return [(f, role_label(files[0])) for f in files[0].findings]
    roles: dict[Finding, list[str]] = {}
    for file in files:
        for f in file.findings:
            roles.setdefault(f, []).append(role_label(file))
    return [
        (replace(f, message=f"as {', '.join(r)}: {f.message}"), "+".join(r))
        for f, r in roles.items()
    ]
