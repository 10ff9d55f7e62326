"""`check` on an engine: targets cut into tasks of many files (a check costs far
less than a task), each task checks its files on a worker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from igpreflight.model import FileReport
from igpreflight.preflight.engine import S3_THREADS, Target, check_target
from igpreflight.scale.engine import (
    EngineSpec,
    Run,
    batches,
    light_batch_size,
    network_map,
    run,
)
from igpreflight.storage.s3 import S3Settings, configure, current_settings

CHECKS_PER_TASK = 256


def check_task(targets: list[Target], settings: S3Settings) -> list[FileReport]:
    configure(settings)
    return network_map(check_target, targets, lambda t: t.obj is not None, S3_THREADS)


def _failed(target: Target, reason: str) -> FileReport:
    """A file whose task kept failing (its worker died each time): one FILE001."""
    return check_target(
        Target(
            target.display, target.resolved, target.use, problem=f"could not be checked: {reason}"
        )
    )


def engine_runner(engine: EngineSpec):  # noqa: ANN201 - preflight.engine.Runner
    """A `check_paths` runner for `engine` (None: this machine's pool, as before)."""
    if engine.kind == "local":
        return None
    return lambda targets, progress: check_on_engine(targets, engine, progress)


def check_on_engine(
    targets: Sequence[Target], engine: EngineSpec, progress: Callable[[str], None] | None = None
) -> list[FileReport]:
    """Every target's report, in input order, checked on `engine`."""
    start = getattr(progress, "start", None)
    if start is not None:
        start(len(targets))
    per_task = light_batch_size(len(targets), engine.slots, CHECKS_PER_TASK)
    tasks = batches(targets, lambda t: False, per_task)
    done = (lambda r: progress(r.path)) if progress is not None else None
    work = Run(partial(check_task, settings=current_settings()), _failed, done)
    return run(engine, work, list(targets), tasks)
