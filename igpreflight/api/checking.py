"""`check`: every predictable rejection of files, folders and post manifests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from igpreflight.api.paths import PathLike, as_list
from igpreflight.config import DEFAULT_RULES, RuleSelection, jobs_argument
from igpreflight.model import AsOption, Post, Report
from igpreflight.preflight.engine import check_paths

if TYPE_CHECKING:  # engines, shards and manifests load only when a call uses them
    from igpreflight.profiles import ProfileSpec
    from igpreflight.scale.shard import Shard
    from igpreflight.scale.spec import EngineSpec


def check(
    paths: PathLike | Iterable[PathLike] = (),
    as_: str = "auto",
    manifest: PathLike | Sequence[Post] | None = None,
    jobs: int | None = 1,
    allow_private: bool = False,
    progress: Callable[[Any], None] | None = None,
    engine: EngineSpec | None = None,
    shard: Shard | str | None = None,
    deep: bool = False,
    rules: RuleSelection | None = None,
    profile: ProfileSpec = None,
) -> Report:
    """Check files, folders, s3:// prefixes and/or a manifest; returns a Report
    (`.to_dict()` is the JSON report).

    `manifest` is a TOML/JSON file ('-' reads JSON from stdin) or parsed posts; a bad
    one raises ManifestError (a ValueError). `progress` is called once per checked file.
    `jobs` is worker processes, 1 to 4 per CPU as for --jobs (else a ValueError); None
    is one a CPU, for a batch big enough to repay them.
    `engine=EngineSpec("dask", workers=4)` checks on Dask; `shard="3/10"` checks one
    deterministic tenth of the files of `paths`. A listing that fails raises StorageError.
    `deep` also decodes every frame and sample (FILE001 for a file that does not decode).
    `rules` is the project configuration (`igpreflight.config.load_settings().rules`):
    rules turned off, per-file ignores and roles by glob; None checks every rule.
    `profile` checks against these profiles instead of the configuration's (SPEC 12):
    names ("instagram,threads"), .toml files or `igpreflight.profiles.Profile` objects;
    each finding then names its profile. An unknown one raises ConfigError (a ValueError).
    """
    if isinstance(shard, str):
        from igpreflight.scale.shard import Shard

        shard = Shard.parse(shard)
    AsOption(as_)  # ValueError for an unknown role
    jobs = jobs_argument(jobs)
    posts: Sequence[Post] = ()
    if manifest is not None:
        from igpreflight.preflight.manifest import load_manifest

        posts = (
            load_manifest(manifest) if isinstance(manifest, (str, os.PathLike)) else list(manifest)
        )
    runner = None
    if engine is not None and engine.kind != "local":  # local: this machine's pool
        from igpreflight.scale.check import engine_runner

        runner = engine_runner(engine)
    return check_paths(
        as_list(paths),
        as_=as_,
        posts=posts,
        jobs=jobs,
        allow_private=allow_private,
        progress=progress,
        runner=runner,
        keep=shard.owns if shard is not None else None,
        deep=deep,
        rules=(rules or DEFAULT_RULES).with_profiles(profile),
    )


__all__ = ["Report", "check"]
