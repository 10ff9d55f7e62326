"""Where a CI annotation points: a file's path, or for a post its manifest or first media.

SARIF, JUnit and GitHub annotations all need one file per finding, named as the
CI system names the repository's files (`ci_path`); a post is not
a file, so its findings are pinned to the manifest it came from (`post.source`),
else (stdin) to the post's first media, so they still show up next to something
the user can open.
"""

from __future__ import annotations

import os
from pathlib import Path

from igpreflight.model import ROLE_LABEL, FileReport, PostReport
from igpreflight.pathnames import shown_path

# Where CI runs a job's steps from the repository's root, whatever folder a step
# runs in: GitHub Actions' workspace, GitLab's project folder.
CI_ROOT_VARIABLES = ("GITHUB_WORKSPACE", "CI_PROJECT_DIR")


def ci_root() -> Path:
    """The folder CI matches report paths against. GitHub relates an annotation's
    `file` and a SARIF result's relative URI to the repository's root (its runner
    and upload-sarif make an absolute path relative to the workspace), GitLab a JUnit
    `file` to the project folder; so a step with `working-directory: site` must
    name `site/posts/x.webp`, not `posts/x.webp`. Outside CI: the working directory."""
    for name in CI_ROOT_VARIABLES:
        value = os.environ.get(name, "")
        if os.path.isabs(value):
            return Path(value)
    return Path.cwd()


def ci_path(path: str) -> str:
    """A path as CI tools match it against the repository (GitHub annotations, JUnit
    `file`, SARIF URIs): relative to `ci_root()` (the working directory outside CI),
    with `/`, never `./`. An absolute path outside that folder, and a URI, stay as
    they are."""
    if "://" in path:
        return path
    shown = Path(shown_path(path))
    cwd = Path.cwd()
    root = ci_root()
    if not shown.is_absolute():
        if root == cwd:
            return shown.as_posix()  # `../shared/x.jpg` kept as given
        shown = Path(os.path.normpath(cwd / shown))
    for base in (root, root.resolve()):  # the variable may name the folder via a link
        try:
            return shown.relative_to(base).as_posix()
        except ValueError:
            continue
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
