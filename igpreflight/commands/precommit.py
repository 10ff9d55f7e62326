"""`check --pre-commit`: the file names pre-commit appends are taken as file names.

pre-commit runs `entry + args + staged file names`, with no `--` before the names
(it leaves that to each hook: pre-commit/pre-commit#2896). So a staged `-oops.webp`
at the repository's root was parsed as `-o ops.webp`: the report went to a new file
`ops.webp`, the WebP was never checked and the commit passed. The hook's entry ends
with `--pre-commit`; then the trailing arguments that name existing files are
pre-commit's, whatever they look like:

- one that starts with `-` is passed on as `./-oops.webp` (reports show `-oops.webp`);
- one without a media extension the hook takes (`HOOK_EXTENSIONS`) is skipped, as a
  folder walk skips it: a repository's `files: ^posts/` replaces the hook's extension
  pattern, and README.md or notes.txt under posts/ would otherwise be FILE001 errors.

The run of file names ends at the first argument that is not an existing file, or
that is the value of an option before it (`--config house.toml`), so the user's
`args:` are parsed as they were written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import click

FLAG = "--pre-commit"


def hook_extensions() -> frozenset[str]:
    """What the hook's `files` pattern in .pre-commit-hooks.yaml matches: every
    extension a folder walk takes but `.ts`, which in a repository is far more often
    TypeScript than an MPEG transport stream."""
    from igpreflight.api.options import media_extensions

    return media_extensions() - {"ts"}


def hook_arguments(args: Sequence[str], value_options: Iterable[str]) -> list[str]:
    """`args` with pre-commit's trailing file names made safe, when FLAG is among the
    options (before any `--`); otherwise `args` unchanged."""
    options = args[: args.index("--")] if "--" in args else args
    if FLAG not in options:
        return list(args)
    takes_value = set(value_options)
    start = len(args)
    while start > 0:
        token = args[start - 1]
        if token in ("--", FLAG) or not os.path.isfile(token):
            break
        if start >= 2 and args[start - 2] in takes_value:
            break  # `--config house.toml`: an option's value, not a staged file
        start -= 1
    media = hook_extensions()
    names = [
        f"./{name}" if name.startswith("-") else name
        for name in args[start:]
        if os.path.splitext(name)[1].lower().lstrip(".") in media
    ]
    return [*args[:start], *names]


class PreCommitCommand(click.Command):
    """A click command that reads pre-commit's file names as `hook_arguments` says."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        value_options = [
            opt
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag and not param.count
            for opt in (*param.opts, *param.secondary_opts)
        ]
        return super().parse_args(ctx, hook_arguments(args, value_options))


def pre_commit_option(command: Any) -> Any:
    """The hidden `--pre-commit` flag that the hook's entry passes."""
    return click.option(
        FLAG,
        "pre_commit",
        is_flag=True,
        hidden=True,
        help="Trailing file names come from pre-commit (the hook's entry passes it).",
    )(command)
