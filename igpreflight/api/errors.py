"""Errors the API raises for misuse, apart from bad media (which become findings).

Also the errors of the layers below that reach an API caller, named here so that a
caller (the commands) catches them without knowing where they live: ManifestError
(a bad manifest), StorageError (an s3:// listing or transfer failed), FolderBusy
(another run writes to the same folder), BatchInterrupted (Ctrl-C during `fix`, with
the files finished so far). They load their modules on first use, so naming the
API's errors costs a command nothing until one of those is needed (the manifest
reader and its TOML parser are no part of fixing one video).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from igpreflight.preflight.manifest import ManifestError
    from igpreflight.storage.s3 import StorageError
    from igpreflight.transcode.batch import BatchInterrupted
    from igpreflight.transcode.folderlock import FolderBusy

__all__ = [
    "BatchInterrupted",
    "DatabaseError",
    "FolderBusy",
    "ManifestError",
    "PublishRefused",
    "StorageError",
    "UsageError",
]


class UsageError(ValueError):
    """Arguments that cannot work together (the CLI's exit 2). Messages name the
    options as the CLI spells them; the API's keyword arguments are the same names."""


class PublishRefused(UsageError):
    """`publish` refused the batch before any call: `problems` says why, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[PublishRefused], tuple[list[str]]]:
        # Rebuilt from `problems`, not from the joined message (pickle's default),
        # which split the message into characters when a process pool or Dask
        # handed the error back: "p; o; s; t; ...".
        return type(self), (self.problems,)


class DatabaseError(UsageError):
    """The publish database cannot be used (unreachable, missing, full): one line that
    says what to do (`createdb NAME`, free space...). The CLI's exit 2."""


def __getattr__(name: str) -> Any:
    """ManifestError, StorageError, FolderBusy and BatchInterrupted, loaded when first
    named."""
    if name == "ManifestError":
        from igpreflight.preflight.manifest import ManifestError

        return ManifestError
    if name == "StorageError":
        from igpreflight.storage.s3 import StorageError

        return StorageError
    if name == "FolderBusy":
        from igpreflight.transcode.folderlock import FolderBusy

        return FolderBusy
    if name == "BatchInterrupted":
        from igpreflight.transcode.batch import BatchInterrupted

        return BatchInterrupted
    raise AttributeError(name)
