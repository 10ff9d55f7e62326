"""/readyz: can the service do its work? Its database answers, its bucket is there,
and its data folder takes writes (a disk remounted read-only takes the host out).

The database is the publishing engine's (`--db`: SQLite, by default
`.igpreflight/publish.sqlite` in the current folder as for `worker`, or
PostgreSQL); the bucket is `--bucket` (not configured is fine: fixed media then
stay in the service's store). Each check has a short time-out, and its detail
names what failed without URLs, users or passwords.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from igpreflight.serve.settings import ServeSettings

DEFAULT_DB = Path(".igpreflight") / "publish.sqlite"
TIMEOUT = 3  # seconds per check


def database_url(db: str | None) -> str:
    """--db as a URL: a path (or nothing) is a SQLite file."""
    if db and "://" in db:
        return db
    return "sqlite:///" + str(Path(db).expanduser().resolve() if db else DEFAULT_DB.resolve())


def check_database(db: str | None) -> tuple[bool, str]:
    url = database_url(db)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        if not path.exists():
            folder = path.parent
            ok = folder.is_dir() or not folder.exists()
            return ok, "SQLite: not created yet (made on first use)"
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=TIMEOUT) as conn:
                conn.execute("select 1")
        except sqlite3.Error as exc:
            return False, f"SQLite: {exc}"
        return True, "SQLite"
    if url.startswith(("postgresql://", "postgres://", "postgresql+")):
        return _check_postgres(url)
    return False, "unsupported database URL scheme"


def _check_postgres(url: str) -> tuple[bool, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    try:
        parts = make_url(url)
    except Exception:  # noqa: BLE001 - any malformed URL
        return False, "PostgreSQL: malformed URL"
    try:
        with psycopg.connect(
            host=parts.host or "localhost",
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname=parts.database,
            connect_timeout=TIMEOUT,
        ) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return False, f"PostgreSQL: {type(exc).__name__}"
    return True, "PostgreSQL"


def check_bucket(settings: ServeSettings) -> tuple[bool, str]:
    if not settings.bucket:
        return True, "not configured"
    from igpreflight.storage.s3 import S3Settings, StorageError, client

    try:
        s3 = client(S3Settings(settings.endpoint_url, settings.region))
        s3.head_bucket(Bucket=settings.bucket)
    except StorageError as exc:
        return False, str(exc)
    except Exception as exc:  # noqa: BLE001 - botocore's many error types
        return False, f"bucket {settings.bucket}: {type(exc).__name__}"
    return True, f"bucket {settings.bucket}"


def check_data(settings: ServeSettings) -> tuple[bool, str]:
    """Can a file be made in the data folder? Its detail says how much room is left."""
    import os
    import tempfile

    folder = settings.data_path
    try:
        fd, probe = tempfile.mkstemp(prefix=".ready-", dir=folder)
        os.close(fd)
        os.unlink(probe)
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        return False, f"data folder: {exc.strerror or type(exc).__name__}"
    return True, f"data folder ({free / 2**30:,.1f} GiB free)"


def readiness(settings: ServeSettings) -> dict[str, Any]:
    from igpreflight.serve.publishing import default_db

    db_ok, db_detail = check_database(default_db(settings))
    s3_ok, s3_detail = check_bucket(settings)
    data_ok, data_detail = check_data(settings)
    return {
        "ready": db_ok and s3_ok and data_ok,
        "checks": {
            "database": {"ok": db_ok, "detail": db_detail},
            "storage": {"ok": s3_ok, "detail": s3_detail},
            "data": {"ok": data_ok, "detail": data_detail},
        },
    }
