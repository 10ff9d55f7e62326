"""`fix`: make every input publishable, without touching the originals."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from igpreflight.api.errors import UsageError
from igpreflight.api.paths import PathLike, as_list
from igpreflight.config import DEFAULT_RULES, jobs_argument
from igpreflight.envelope import envelope
from igpreflight.model import Post
from igpreflight.records import record
from igpreflight.scale.engine import EngineSpec, needs_scale
from igpreflight.transcode.batch import fix_paths, summarize
from igpreflight.transcode.types import FileFixResult, FixOptions

if TYPE_CHECKING:
    from igpreflight.scale.shard import Shard


@record(frozen=False)
class FixResult:
    """What `fix` did to each input, in input order (files first, then manifest media)."""

    files: list[FileFixResult] = field(default_factory=list)
    dry_run: bool = False
    # A manifest's media: (resolved source, use) -> its result, the use being the
    # post's role or "cover" (what `run` needs to point each post at its fixed files).
    media: dict[tuple[str, str], FileFixResult] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def failed(self) -> list[FileFixResult]:
        return [f for f in self.files if not f.ok]

    def summary(self) -> dict[str, int]:
        """Files per status, plus `files` (all) and `ok` (the ones that pass)."""
        return summarize(self.files)

    def to_dict(self) -> dict[str, Any]:
        """The `fix --format json` document."""
        return envelope(
            dry_run=self.dry_run,
            summary=self.summary(),
            files=[f.to_dict() for f in self.files],
        )


def refuse_out_around_inputs(out: PathLike, paths: Iterable[PathLike]) -> None:
    """`out` may sit inside an input folder (it is skipped), but an input folder inside
    `out` (or `out` itself) would be skipped whole: say so instead of "nothing to do"."""
    target = Path(out).resolve()
    for given in paths:
        folder = Path(given).resolve()
        if folder.is_dir() and (folder == target or target in folder.parents):
            raise UsageError(
                f"--out {out} contains the input folder {given}; use another folder, "
                "or --in-place to replace the originals"
            )


def _encodes_only(progress: Any) -> Callable[[FileFixResult], None] | None:
    """`progress` for a manifest's media: their long encodes are drawn (its `file`), but
    they are not counted in the bar of the given paths (one batch per role would
    restart its total)."""
    file = getattr(progress, "file", None)
    if file is None:
        return None

    def uncounted(result: FileFixResult) -> None:
        pass

    uncounted.file = file  # type: ignore[attr-defined]
    return uncounted


def fix(
    paths: PathLike | Iterable[PathLike] = (),
    out: PathLike | None = None,
    jobs: int | None = 1,
    *,
    manifest: PathLike | Sequence[Post] | None = None,
    progress: Callable[[FileFixResult], None] | None = None,
    engine: EngineSpec | None = None,
    shard: Shard | str | None = None,
    **options: Any,
) -> FixResult:
    """Fix files into `out` (mirroring the input layout), or in place with in_place=True.

    `manifest` (a TOML/JSON file, or parsed posts) also fixes the media of its posts,
    each in its post's role, under out/<role>/. `options` are the fields of FixOptions:
    as_, aspect, pad_color, background, trim, extend, keep_png, keep_hevc, deep
    (videos: decode every picture of a copied or remuxed one, not only its structure),
    keep_metadata, in_place, dry_run, rules (the project configuration,
    `igpreflight.config.load_settings().rules`), and `profile` (names, .toml files or
    Profile objects, as `check` takes them): each file is fixed to pass every one. `progress(result)` hears of each finished
    file (and, if it has `file(name)`, may draw one file's encode); without it, nothing is shown.
    Ctrl-C raises BatchInterrupted carrying the files finished so far.

    Paths and `out` may be s3:// URIs (a failed listing raises StorageError, and so
    does an s3:// `out` refusing a write as it would any: keys, bucket, permissions);
    `engine=EngineSpec("dask", workers=4)` fixes on Dask, `shard="3/10"` one
    deterministic tenth of the inputs (`scale.fix`).
    """
    profile = options.pop("profile", None)
    if profile is not None:
        options["rules"] = (options.get("rules") or DEFAULT_RULES).with_profiles(profile)
    jobs = jobs_argument(jobs)
    opts = FixOptions(**options)
    if out is None and not opts.in_place and not opts.dry_run:
        raise UsageError("give out= or in_place=True")
    if manifest is not None and out is None and not opts.dry_run:
        raise UsageError("a manifest needs out= (media are fixed per role under it)")
    files = as_list(paths)
    target = os.fspath(out) if out is not None else None
    if isinstance(shard, str):
        from igpreflight.scale.shard import Shard

        shard = Shard.parse(shard)
    chosen = engine is not None and (engine.kind != "local" or engine.workers)
    spec = engine if chosen else EngineSpec("local", jobs)
    if needs_scale(files, target, spec, shard):
        if manifest is not None or opts.in_place:
            raise UsageError(
                "--manifest and --in-place work with local paths and --engine local only"
            )
        from igpreflight.scale.fix import fix_scaled

        try:
            return FixResult(fix_scaled(files, target, opts, spec, shard, progress), opts.dry_run)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if out is not None:
        refuse_out_around_inputs(out, files)
    out_dir = Path(out) if out is not None else None
    results = fix_paths(files, out_dir, opts, jobs=jobs, progress=progress) if files else []
    media: dict[tuple[str, str], FileFixResult] = {}
    if manifest is not None:
        from igpreflight.preflight.manifest import load_manifest
        from igpreflight.transcode.posts import fix_posts

        posts = (
            load_manifest(manifest) if isinstance(manifest, (str, os.PathLike)) else list(manifest)
        )
        media = fix_posts(posts, out_dir or Path("."), opts, jobs, _encodes_only(progress))
        results += media.values()
    return FixResult(list(results), dry_run=opts.dry_run, media=media)


__all__ = ["FixResult", "fix", "refuse_out_around_inputs"]
