"""Every step runs through `run_step`: what it returns is redacted before anything
records it, and an exception of its own becomes `StepCrashed` (one line), so one
post's bad input (a lone surrogate in a caption) ends that post, never the queue."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from igpreflight.publish.steps.results import StepCrashed, scrubbed
from igpreflight.redaction import redact

log = logging.getLogger("igpreflight.publish")


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no detail"
    return redact(f"{type(exc).__name__}: {text}")[:500]


def run_step(fn: Callable[..., Any], rt: Any, *args: Any) -> Any:
    """`fn(rt, *args)`, redacted; an Exception becomes StepCrashed. BaseExceptions (a
    kill stand-in, the engine closing) go through: the step is then not recorded."""
    try:
        result = fn(rt, *args)
    except Exception as exc:
        log.warning("step %s raised %s", getattr(fn, "__name__", fn), one_line(exc))
        return StepCrashed(one_line(exc))
    return scrubbed(result, redact)
