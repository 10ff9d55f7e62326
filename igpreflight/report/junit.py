"""JUnit XML for test dashboards: one testcase per file and per post.

A file checked in more than one role (walked as a feed image and listed in a
manifest's carousel) is still one testcase, as SPEC says: its classname lists the
roles (`image.feed+carousel-item`) and each finding says the roles it broke in
(`as feed, carousel-item: format WEBP ...`). Two testcases of one name were one
test to a dashboard keyed on names (its history, GitLab's diff of failures).

A testcase fails when it has error findings, with one `<failure>` that names them
all: its message lists each as "rule: message", its type their rule codes, its text
each one's detail. (One `<failure>` per error showed only the first in Jenkins and
in GitHub's junit-report actions, and junitparser counted failures from them.)
Warnings and notes do not fail a test: they go to the testcase's `<system-out>`.
The suite's `failures` counts failing testcases, as JUnit consumers expect; the
number of error findings is in the suite's properties.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from igpreflight._version import __version__
from igpreflight.model import Finding, Report, Severity
from igpreflight.preflight.rules import rule_info
from igpreflight.report.locate import ci_path, post_path
from igpreflight.report.per_file import by_path, findings_of, roles_of
from igpreflight.textcheck import escaped_char, one_line, printable, shown_lines

SUITE = "igpreflight"

# The two non-characters XML 1.0 cannot carry that no other escape covers (C0
# controls go as `one_line` shows them, lone surrogates and NUL as `printable` does).
_NONCHARACTER = re.compile("[\ufffe\uffff]")


def render(report: Report, strict: bool = False) -> str:
    """JUnit XML; with `strict` (check --strict) warnings fail a testcase too, so the
    dashboard agrees with the exit code."""
    failing_levels = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    cases: list[ET.Element] = []
    for path, files in by_path(report.files).items():
        cases.append(
            _case(
                path,
                f"{files[0].kind.value}.{roles_of(files)}",
                findings_of(files),
                path,
                failing=failing_levels,
            )
        )
    for post in report.posts:
        media = ", ".join(m.label for m in post.post.media)
        cases.append(
            _case(
                f"post {post.post.id}",
                f"post.{(post.post.media_type or 'unknown').lower()}",
                post.findings,
                post_path(post),
                out_prefix=f"media: {media}\n" if media else "",
                failing=failing_levels,
            )
        )
    failing = sum(1 for c in cases if c.find("failure") is not None)
    root = ET.Element("testsuites", {"name": SUITE, "tests": str(len(cases))})
    root.set("failures", str(failing))
    root.set("errors", "0")
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": SUITE,
            "tests": str(len(cases)),
            "failures": str(failing),
            "errors": "0",
            "skipped": "0",
            "time": "0",
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("igpreflight.version", __version__),
        ("findings.errors", str(len(report.errors))),
        ("findings.warnings", str(len(report.warnings))),
        ("findings.fixable", str(len(report.fixable))),
    ):
        ET.SubElement(props, "property", {"name": name, "value": value})
    suite.extend(cases)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _case(
    name: str,
    classname: str,
    findings: list[Finding],
    file: str,
    *,
    out_prefix: str = "",
    failing: frozenset[Severity] | set[Severity] = frozenset({Severity.ERROR}),
) -> ET.Element:
    case = ET.Element(
        "testcase",
        {"name": _clean(name), "classname": _clean(classname), "file": _clean(ci_path(file))},
    )
    case.set("time", "0")
    failed = [f for f in findings if f.severity in failing]
    if failed:
        codes = ",".join(dict.fromkeys(f.rule for f in failed))
        message = "; ".join(f"{f.rule}: {f.tagged_message}" for f in failed)
        failure = ET.SubElement(
            case, "failure", {"message": _clean(message, lines=True), "type": codes}
        )
        failure.text = _clean("\n\n".join(_detail(f) for f in failed), lines=True)
    others = [f for f in findings if f.severity not in failing]
    if others or out_prefix:
        out = ET.SubElement(case, "system-out")
        out.text = _clean(
            out_prefix
            + "".join(f"{f.severity.value}: {f.rule}: {f.tagged_message}\n" for f in others),
            lines=True,
        )
    return case


def _detail(f: Finding) -> str:
    lines = [f"{f.rule}: {f.tagged_message}"]
    graph = "/".join(str(c) for c in (f.code, f.subcode) if c is not None)
    if graph:
        lines.append(f"Graph error prevented: {graph}")
    info = rule_info(f.rule)
    hint = info.fix_hint if info is not None else ""
    if hint:
        lines.append(f"{'fix' if f.fixable else 'to do'}: {hint}")
    return "\n".join(lines)


def _clean(text: str, *, lines: bool = False) -> str:
    """Text as XML carries it and a dashboard shows it inertly: each control character
    (ESC, a bidi override) as its escape, `ctl\\x01.jpg` as the text report names it;
    `lines` keeps the line breaks of a message or a failure's text. It was U+FFFD,
    which named `ctl\\x01.jpg` and `ctl\\x1b.jpg` alike, and a file really called
    `ctl` U+FFFD `.jpg` too: one test to a dashboard keyed on names."""
    shown = shown_lines(printable(text)) if lines else one_line(printable(text))
    return _NONCHARACTER.sub(lambda m: escaped_char(m.group()), shown)
