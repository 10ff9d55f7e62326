"""A full or read-only disk under the service: a 507 or 503 the client can act on.

The service writes uploads, fetched URLs, fixed files and the fix ledger into
`--data-dir` (and SQLite databases beside it). When that disk fills up or is
remounted read-only, every write fails with an OSError (or SQLite's "database or
disk is full"), which used to surface as a 500 "the service failed" with a
traceback per request. It is not a bug in the request: `storage_problem` names it
(507 `insufficient-storage`, 503 `data-unavailable`), so a client knows to try
again later, and the log gets one line instead of a traceback.
"""

from __future__ import annotations

import errno
import logging
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from igpreflight.serve.problems import Problem, problem_response

log = logging.getLogger("igpreflight.serve")

FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
UNWRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})
SQLITE_FULL = "database or disk is full"
SQLITE_UNWRITABLE = ("attempt to write a readonly database", "disk I/O error")


def storage_problem(exc: BaseException) -> Problem | None:
    """The problem a disk error is for the client, or None for any other error."""
    if isinstance(exc, OSError) and exc.errno in FULL:
        reason = exc.strerror or "no space left"
        return _problem(_FULL, reason)
    if isinstance(exc, OSError) and exc.errno in UNWRITABLE:
        return _problem(_UNWRITABLE, exc.strerror or "not writable")
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        if SQLITE_FULL in text:
            return _problem(_FULL, text)
        if any(s in text for s in SQLITE_UNWRITABLE):
            return _problem(_UNWRITABLE, text)
    return None


# What each kind of disk error is for the client: status, what to say, problem type.
_FULL = (507, "the service's disk is full", "insufficient-storage")
_UNWRITABLE = (503, "the service cannot write to its disk", "data-unavailable")


def _problem(kind: tuple[int, str, str], reason: str) -> Problem:
    status, what, slug = kind
    return Problem(
        status, f"{what} ({reason}); try again later", slug, headers={"Retry-After": "60"}
    )


def install(app: FastAPI) -> None:
    """Answer disk errors as their problem; anything else goes on to the 500 handler."""

    async def _disk(request: Request, exc: Exception) -> JSONResponse:
        problem = storage_problem(exc)
        if problem is None:
            raise exc
        log.warning("%s %s: %s", request.method, request.url.path, problem.detail)
        return problem_response(problem, request.url.path)

    app.add_exception_handler(OSError, _disk)
    app.add_exception_handler(sqlite3.OperationalError, _disk)
