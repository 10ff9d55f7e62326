"""GitHub Actions workflow commands: one annotation per finding, then a summary line.

`::error file=assets/a.webp,title=IMG002::format WEBP is not accepted...` makes
GitHub show the finding on the file in the pull request and the run summary.
Errors are `::error`, warnings `::warning`, info findings `::notice`. Data and
property values are escaped as the runner expects, so a file name with a comma
or a message with a newline cannot break or forge a command. Every other control
character (ESC, BEL, a bidi override: textcheck's UNSHOWN) is percent-encoded the
same way (`%1B`, `%E2%80%AE`): the runner has no escape for it, click drops an
escape sequence from stdout and a terminal acts on it, so raw it renamed the file
(`t\x1b[31mred.jpg` became `tred.jpg`). The runner leaves such a code as it is,
and since '%' itself is always `%25`, each name reads back as exactly one file.
"""

from __future__ import annotations

from igpreflight.model import Finding, Report, Severity
from igpreflight.preflight.rules import rule_info
from igpreflight.report.locate import ci_path, post_path
from igpreflight.report.per_file import by_path, findings_of
from igpreflight.report.text import summary_line
from igpreflight.textcheck import UNSHOWN

COMMAND: dict[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


# GitHub shows this many annotations of each kind (error, warning, notice) per step,
# and 50 per job; later ones stay in the log only (actions/toolkit, problem-matchers.md).
ANNOTATIONS_PER_KIND = 10


def render(report: Report) -> str:
    lines: list[str] = []
    for path, files in by_path(report.files).items():  # a finding of several roles once
        lines.extend(annotation(f, path) for f in findings_of(files))
    for post in report.posts:
        where = post_path(post)
        lines.extend(annotation(f, where, prefix=f"post {post.post.id}: ") for f in post.findings)
    lines.append(summary_line(report))
    overflow = _overflow_notice(lines)
    return "\n".join([*overflow, *lines]) + "\n"


def _overflow_notice(lines: list[str]) -> list[str]:
    """A first notice when GitHub will not show every annotation, so a reviewer who
    sees ten does not take them for all: it counts them and says where the rest are."""
    counts = {
        kind: sum(line.startswith(f"::{kind} ") for line in lines) for kind in COMMAND.values()
    }
    if max(counts.values()) <= ANNOTATIONS_PER_KIND:
        return []
    shown = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items() if n)
    message = (
        f"{shown}: GitHub shows {ANNOTATIONS_PER_KIND} annotations of each kind per step "
        "(50 per job); every finding is in this step's log"
    )
    return [f"::notice title={escape_property('igpreflight')}::{escape_data(message)}"]


def annotation(f: Finding, path: str, *, prefix: str = "") -> str:
    """One workflow command for one finding."""
    message = prefix + f.tagged_message
    info = rule_info(f.rule)
    hint = info.fix_hint if info is not None else ""
    if hint and f.severity is not Severity.INFO:
        message += f"\n{'fix' if f.fixable else 'to do'}: {hint}"
    props = f"file={escape_property(ci_path(path))},title={escape_property(f.rule)}"
    return f"::{COMMAND[f.severity]} {props}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """Escape a command's message: '%', CR and LF (as the Actions runner unescapes),
    and every other control character as the percent codes of its UTF-8 bytes."""
    text = text.replace("%", "%25")
    return UNSHOWN.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), text)


def escape_property(text: str) -> str:
    """Escape a property value: as data, plus ':' and ',' which delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
