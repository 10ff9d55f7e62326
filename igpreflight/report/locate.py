"""Where a CI annotation points: a file's path, or for a post its manifest or first media.

SARIF, JUnit and GitHub annotations all need one file per finding; a post is not
a file, so its findings are pinned to the manifest it came from (`post.source`),
else (stdin) to the post's first media, so they still show up next to something
the user can open.
"""

from __future__ import annotations

from pathlib import Path

from igpreflight.model import ROLE_LABEL, FileReport, PostReport
from igpreflight.pathnames import shown_path


def ci_path(path: str) -> str:
    """A path as CI tools match it against the repository (GitHub annotations, JUnit
    `file`): relative to the working directory, with `/`, never `./`. An absolute path
    outside the working directory, and a URI, stay as they are."""
    if "://" in path:
        return path
    shown = Path(shown_path(path))
    if shown.is_absolute():
        try:
            shown = shown.relative_to(Path.cwd())
        except ValueError:
            return shown.as_posix()
    return shown.as_posix()


def post_path(post: PostReport) -> str:
    """The file a post's findings are reported against."""
    if post.post.source:
        return post.post.source
    if post.post.media:
        return post.post.media[0].label
    return "manifest"


def role_label(file: FileReport) -> str:
    """The `--as` spelling of a file's role, or "unknown" for unreadable files."""
    return ROLE_LABEL[file.role] if file.role else "unknown"
