"""Our own tables on the publish database, beside DBOS's (worker heartbeats, cancel
claims, the service's idempotency records and webhook outbox): one way to reach
the database and to make them, so every table copes alike with two processes
making it at the same moment."""

from __future__ import annotations

import time
from typing import Any


def sa_url(url: str) -> str:
    """SQLAlchemy's spelling of a database URL (psycopg 3 for PostgreSQL)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def open_tables(url: str, meta: Any, **connect_args: Any) -> Any:
    """An engine on `url` with the tables of `meta` made when missing; another process
    making them at the same moment is no error (they exist after a short wait)."""
    import sqlalchemy as sa

    engine = sa.create_engine(sa_url(url), pool_pre_ping=True, connect_args=connect_args)
    for attempt in range(3):
        try:
            meta.create_all(engine)
            return engine
        except sa.exc.DBAPIError:
            if attempt == 2:
                raise
            time.sleep(0.1 * (attempt + 1))
    return engine
