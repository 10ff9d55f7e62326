"""Errors the API raises for misuse, apart from bad media (which become findings)."""

from __future__ import annotations

from igpreflight.preflight.manifest import ManifestError

__all__ = ["DatabaseError", "ManifestError", "PublishRefused", "UsageError"]


class UsageError(ValueError):
    """Arguments that cannot work together (the CLI's exit 2). Messages name the
    options as the CLI spells them; the API's keyword arguments are the same names."""


class PublishRefused(UsageError):
    """`publish` refused the batch before any call: `problems` says why, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class DatabaseError(UsageError):
    """The publish database cannot be used (unreachable, missing, full): one line that
    says what to do (`createdb NAME`, free space...). The CLI's exit 2."""
