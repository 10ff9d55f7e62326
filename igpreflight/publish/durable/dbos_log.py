"""DBOS's `dbos` logger while an engine runs: its lines become our one-line messages,
and the logger is given back as it was when the engine closes.

DBOS configures the `dbos` logger process-wide (a console handler, its level, no
propagation), and an engine replaces DBOS's handlers with `_OneLine`, so tracebacks
never reach the terminal. Left so, a program that called `igpreflight.publish` and
then ran DBOS or logging of its own had its `dbos` records sent to the closed
engine and its own handlers gone; `quiet_dbos_log` returns the function that puts
back the handlers, filters, level and propagation there were before DBOS started.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from igpreflight.publish.durable.dbfaults import describe, is_connection_loss

log = logging.getLogger("igpreflight.publish")
DBOS_LOGGER = "dbos"


class Engine(Protocol):
    """What DBOS's lines tell the running engine (engine.Engine)."""

    url: str
    fault: str | None

    def _lost(self, exc: BaseException) -> None: ...


def saved_dbos_log() -> Callable[[], None]:
    """What the `dbos` logger is now (before DBOS configures it); call the result to
    make it so again."""
    logger = logging.getLogger(DBOS_LOGGER)
    handlers, filters = list(logger.handlers), list(logger.filters)
    level, propagate, disabled = logger.level, logger.propagate, logger.disabled

    def restore() -> None:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        for kept in handlers:
            logger.addHandler(kept)
        logger.filters[:] = filters
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled

    return restore


def quiet_dbos_log(engine: Engine) -> None:
    """DBOS's own log lines become our one-line messages: a lost connection is said
    once (engine._lost), tracebacks never reach the terminal."""
    dbos_log = logging.getLogger(DBOS_LOGGER)
    for handler in list(dbos_log.handlers):
        dbos_log.removeHandler(handler)
    dbos_log.propagate = False
    dbos_log.addHandler(_OneLine(engine))


class _OneLine(logging.Handler):
    def __init__(self, engine: Engine) -> None:
        super().__init__(logging.WARNING)
        self.engine = engine

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text = f"{text} {record.exc_info[1]}"
            if "Database connection failed" in text or is_connection_loss(Exception(text)):
                self.engine._lost(Exception(text))
                return
            line = describe(Exception(text), self.engine.url)
            if line is not None and record.levelno >= logging.ERROR:
                if self.engine.fault is None:
                    self.engine.fault = line
                return
            log.log(record.levelno, "dbos: %s", " ".join(text.split())[:300])
        except Exception:  # noqa: BLE001 - logging never breaks a worker
            self.handleError(record)
