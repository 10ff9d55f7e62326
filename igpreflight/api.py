"""The Python API: `check` and `fix` for tools that call igpreflight as a pre-publish hook.

Nothing here prints or exits; misuse (a bad manifest, a missing path, bad options)
raises ValueError or FileNotFoundError, while bad media become findings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from igpreflight.model import AsOption, Post, Report
from igpreflight.preflight.engine import check_paths
from igpreflight.preflight.manifest import load_manifest
from igpreflight.storage.s3uri import is_s3
from igpreflight.transcode.types import FileFixResult, FixOptions

PathLike = str | os.PathLike[str]


def _as_list(paths: PathLike | Iterable[PathLike]) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = [os.fspath(p) for p in paths]
    for p in out:
        if not is_s3(p) and not os.path.exists(p):
            raise FileNotFoundError(p)
    return out


def check(
    paths: PathLike | Iterable[PathLike] = (),
    as_: str = "auto",
    manifest: PathLike | Sequence[Post] | None = None,
    jobs: int | None = 1,
    allow_private: bool = False,
) -> Report:
    """Check files, folders and/or a manifest; returns a Report (`.to_dict()` is the JSON report)."""
    AsOption(as_)  # ValueError for an unknown role
    posts: Sequence[Post] = ()
    if manifest is not None:
        posts = (
            load_manifest(manifest) if isinstance(manifest, (str, os.PathLike)) else list(manifest)
        )
    return check_paths(
        _as_list(paths), as_=as_, posts=posts, jobs=jobs, allow_private=allow_private
    )


@dataclass
class FixResult:
    """What `fix` did to each input, in input order."""

    files: list[FileFixResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def failed(self) -> list[FileFixResult]:
        return [f for f in self.files if not f.ok]

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status.value] = counts.get(f.status.value, 0) + 1
        return {"version": 1, "summary": counts, "files": [f.to_dict() for f in self.files]}


def fix(
    paths: PathLike | Iterable[PathLike],
    out: PathLike | None = None,
    jobs: int | None = 1,
    **options: Any,
) -> FixResult:
    """Fix files into `out` (mirroring the input layout), or in place with in_place=True.

    `options` are the fields of FixOptions: as_, aspect, pad_color, background,
    trim, extend, keep_png, keep_hevc, keep_metadata, in_place, dry_run.
    """
    from igpreflight.transcode.batch import fix_paths

    opts = FixOptions(**options)
    if out is None and not opts.in_place and not opts.dry_run:
        raise ValueError("give out= or in_place=True")
    results = fix_paths(_as_list(paths), Path(out) if out is not None else None, opts, jobs=jobs)
    return FixResult(list(results))
