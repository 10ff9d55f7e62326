"""Where a CI annotation points: a file's path, or for a post its manifest or first media.

SARIF, JUnit and GitHub annotations all need one file per finding; a post is not
a file, so its findings are pinned to the manifest it came from (`post.source`),
else (stdin) to the post's first media, so they still show up next to something
the user can open.
"""

from __future__ import annotations

from igpreflight.model import ROLE_LABEL, FileReport, PostReport


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
