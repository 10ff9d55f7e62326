"""Database faults as one line a user can act on (exit 2), never a traceback.

PostgreSQL unreachable, its database missing (`createdb NAME`), a SQLite file that
cannot be written (disk full), a password refused: `DatabaseFault` carries the line.
A connection lost in the middle of a run is not a fault: DBOS waits and reconnects,
and the engine says so (engine.py).
"""

from __future__ import annotations

import re
from pathlib import Path


class DatabaseFault(Exception):
    """The publish database cannot be used; the message is one line for the user."""


def where(url: str) -> str:
    """The database a message names: host:port/name, or the SQLite file (no password)."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    try:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        return f"{u.host or 'localhost'}:{u.port or 5432}/{u.database or ''}"
    except Exception:
        return re.sub(r"//[^@/]*@", "//", url)


_MISSING_DB = re.compile(r'database "([^"]+)" does not exist')


def describe(exc: BaseException, url: str) -> str | None:
    """The user's line for a database error, or None when it is not one."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    low = text.lower()
    place = where(url)
    if url.startswith("sqlite"):
        if "disk is full" in low or "disk i/o error" in low or "database or disk" in low:
            return f"cannot write the publish database {place}: {_first(text)} (is the disk full?)"
        if "unable to open" in low or "readonly" in low or "read-only" in low:
            return f"cannot open the publish database {place}: {_first(text)}"
        if "not a database" in low or "malformed" in low:
            return f"{place} is not a usable publish database: {_first(text)}"
        if "locked" in low:
            return None  # contention: DBOS retries it
        return None
    m = _MISSING_DB.search(text)
    if m:
        name = m.group(1)
        return (
            f"the database {name} does not exist on {place.rsplit('/', 1)[0]}:"
            f" create it with `createdb {name}` (or give another --db)"
        )
    if "password authentication failed" in low or "no password supplied" in low:
        return f"PostgreSQL at {place} refused the login: {_first(text)}"
    if "connection refused" in low or "could not connect" in low or "timeout expired" in low:
        reason = "connection refused" if "refused" in low else _first(text)
        return (
            f"cannot use the publish database at {place}: cannot reach the server ({reason});"
            " is PostgreSQL running there?"
        )
    if "could not translate host name" in low or "name or service not known" in low:
        return f"cannot use the publish database at {place}: cannot reach the server (unknown host)"
    return None


def fault_line(exc: BaseException, url: str) -> str | None:
    """`describe`, or for any other error of the database driver a plain line; None for
    an error that is not the database's."""
    line = describe(exc, url)
    if line is not None:
        return line
    names = {c.__module__.split(".")[0] for c in type(exc).__mro__}
    if names & {"sqlalchemy", "psycopg", "sqlite3"}:
        text = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return f"the publish database {where(url)} failed: {_first(text)}"
    return None


def _first(text: str) -> str:
    return text.split("(Background on this error")[0].split("[SQL:")[0].strip().rstrip(".")[:200]


def is_connection_loss(exc: BaseException) -> bool:
    """A lost connection (server restart, network): wait and reconnect, not a fault."""
    low = str(getattr(exc, "orig", None) or exc).lower()
    return any(
        s in low
        for s in (
            "server closed the connection",
            "connection refused",
            "could not connect",
            "terminating connection",
            "connection is closed",
            "consuming input failed",
            "the database system is",
            "ssl connection has been closed",
        )
    )


def missing_sqlite(url: str) -> Path | None:
    """The SQLite file a URL names when that file does not exist."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        return None if path.is_file() else path
    return None


def check_postgres(url: str) -> None:
    """Connect once before DBOS does (DBOS would retry forever): DatabaseFault if not."""
    if not url.startswith(("postgresql://", "postgres://")):
        return
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        raise DatabaseFault(
            describe(exc, url) or f"cannot use the database at {where(url)}: {_first(str(exc))}"
        ) from None
