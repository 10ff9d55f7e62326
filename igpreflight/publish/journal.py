"""The publish journal: SQLite rows that make `publish` safe to kill and re-run.

One row per post (keyed by account and post id) and one row per container the
publisher created. Every state change is committed before the next network
call, so a kill -9 at any point loses at most the answer to the call in flight;
the publisher then looks at the container (`status_code`) instead of guessing.
A recreated container gets a new row; the old one is marked `replaced`.

The journal never stores the access token, only ids, states and Graph error
codes/messages (which the client has already redacted).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from igpreflight.states import ContainerStatus, MediaIdSource, PostStatus

SCHEMA_VERSION = 1
DEFAULT_DIRNAME = ".igpreflight"
DEFAULT_FILENAME = "journal.sqlite"

# A post's `status` column holds a PostStatus value, a container's a ContainerStatus
# value (Graph's status_code, plus our bookkeeping states); a published post's
# `media_id_source` a MediaIdSource value. The text is what version 1 wrote, so
# every earlier journal reads back (and settles) unchanged.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS posts (
    account        TEXT NOT NULL,
    post_id        TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    error_class    TEXT,
    error_code     INTEGER,
    error_subcode  INTEGER,
    error_message  TEXT,
    error_rule     TEXT,
    media_id       TEXT,
    media_id_source TEXT,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL,
    published_at   REAL,
    PRIMARY KEY (account, post_id)
);
CREATE TABLE IF NOT EXISTS containers (
    row_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account        TEXT NOT NULL,
    post_id        TEXT NOT NULL,
    slot           INTEGER NOT NULL,
    role           TEXT NOT NULL,
    container_id   TEXT,
    upload_uri     TEXT,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    publish_attempts INTEGER NOT NULL DEFAULT 0,
    error_class    TEXT,
    error_code     INTEGER,
    error_subcode  INTEGER,
    error_message  TEXT,
    media_id       TEXT,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS containers_by_post ON containers (account, post_id, slot);
"""

PARENT_SLOT = -1  # the carousel parent, or the only container of a single post


@dataclass(frozen=True)
class PostRow:
    account: str
    post_id: str
    media_type: str
    fingerprint: str
    seq: int
    status: PostStatus
    attempts: int
    error_class: str | None
    error_code: int | None
    error_subcode: int | None
    error_message: str | None
    error_rule: str | None
    media_id: str | None
    media_id_source: MediaIdSource | None
    created_at: float
    updated_at: float
    published_at: float | None

    @classmethod
    def from_db(cls, row: sqlite3.Row) -> PostRow:
        data = dict(row)
        data["status"] = PostStatus(data["status"])
        if data["media_id_source"] is not None:
            data["media_id_source"] = MediaIdSource(data["media_id_source"])
        return cls(**data)


@dataclass(frozen=True)
class ContainerRow:
    row_id: int
    account: str
    post_id: str
    slot: int
    role: str  # single, child, parent
    container_id: str | None
    upload_uri: str | None
    status: ContainerStatus
    attempts: int
    publish_attempts: int
    error_class: str | None
    error_code: int | None
    error_subcode: int | None
    error_message: str | None
    media_id: str | None
    created_at: float
    updated_at: float

    @classmethod
    def from_db(cls, row: sqlite3.Row) -> ContainerRow:
        data = dict(row)
        data["status"] = ContainerStatus(data["status"])
        return cls(**data)


@dataclass(frozen=True)
class ErrorInfo:
    """What the journal keeps of a failure (class, codes, one-line message)."""

    error_class: str | None
    code: int | None = None
    subcode: int | None = None
    message: str | None = None
    rule: str | None = None


def default_journal_path(manifest: str | os.PathLike[str]) -> Path:
    """`.igpreflight/journal.sqlite` beside the manifest (cwd for a manifest on stdin)."""
    base = Path.cwd() if str(manifest) == "-" else Path(manifest).resolve().parent
    return base / DEFAULT_DIRNAME / DEFAULT_FILENAME


class Journal:
    """The SQLite journal. Every method that changes state commits before returning."""

    def __init__(
        self, path: str | os.PathLike[str], *, now: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._now = now
        self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        with self._tx():
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                (str(SCHEMA_VERSION),),
            )

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str]) -> Journal | None:
        """The journal if it exists (for `--dry-run`, which must not create files)."""
        return cls(path) if Path(path).is_file() else None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- posts ---

    def post(self, account: str, post_id: str) -> PostRow | None:
        row = self._db.execute(
            "SELECT * FROM posts WHERE account = ? AND post_id = ?", (account, post_id)
        ).fetchone()
        return PostRow.from_db(row) if row else None

    def posts(self, account: str | None = None) -> list[PostRow]:
        if account is None:
            rows = self._db.execute("SELECT * FROM posts ORDER BY account, seq").fetchall()
        else:
            rows = self._db.execute(
                "SELECT * FROM posts WHERE account = ? ORDER BY seq", (account,)
            ).fetchall()
        return [PostRow.from_db(r) for r in rows]

    def ensure_post(
        self, account: str, post_id: str, *, media_type: str, fingerprint: str, seq: int
    ) -> PostRow:
        """The post's row, created queued if new. A post whose content changed and is not
        yet published starts over: its containers were built from the old content."""
        now = self._now()
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM posts WHERE account = ? AND post_id = ?", (account, post_id)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO posts (account, post_id, media_type, fingerprint, seq, status,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (account, post_id, media_type, fingerprint, seq, PostStatus.QUEUED, now, now),
                )
            elif row["fingerprint"] != fingerprint and row["status"] != PostStatus.PUBLISHED:
                db.execute(
                    "UPDATE containers SET status = ?, updated_at = ? WHERE account = ?"
                    " AND post_id = ? AND status != ?",
                    (ContainerStatus.REPLACED, now, account, post_id, ContainerStatus.REPLACED),
                )
                db.execute(
                    "UPDATE posts SET fingerprint = ?, media_type = ?, seq = ?, status = ?,"
                    " updated_at = ? WHERE account = ? AND post_id = ?",
                    (fingerprint, media_type, seq, PostStatus.QUEUED, now, account, post_id),
                )
            elif row["seq"] != seq:
                db.execute(
                    "UPDATE posts SET seq = ? WHERE account = ? AND post_id = ?",
                    (seq, account, post_id),
                )
        found = self.post(account, post_id)
        assert found is not None
        return found

    def set_post_status(
        self,
        account: str,
        post_id: str,
        status: PostStatus,
        error: ErrorInfo | None = None,
        *,
        count_attempt: bool = False,
    ) -> None:
        """Move a post to `status`; an error (or None to clear it) is stored with it."""
        e = error or ErrorInfo(None)
        with self._tx() as db:
            db.execute(
                "UPDATE posts SET status = ?, attempts = attempts + ?, error_class = ?,"
                " error_code = ?, error_subcode = ?, error_message = ?, error_rule = ?,"
                " updated_at = ? WHERE account = ? AND post_id = ? AND status != ?",
                (
                    status,
                    1 if count_attempt else 0,
                    e.error_class,
                    e.code,
                    e.subcode,
                    e.message,
                    e.rule,
                    self._now(),
                    account,
                    post_id,
                    PostStatus.PUBLISHED,
                ),
            )

    def mark_published(
        self,
        account: str,
        post_id: str,
        media_id: str | None,
        source: MediaIdSource,
        container_row: int | None,
    ) -> None:
        """Record success, in one transaction for the post and its container."""
        now = self._now()
        with self._tx() as db:
            db.execute(
                "UPDATE posts SET status = ?, media_id = ?, media_id_source = ?, published_at = ?,"
                " updated_at = ?, error_class = NULL, error_code = NULL, error_subcode = NULL,"
                " error_message = NULL, error_rule = NULL WHERE account = ? AND post_id = ?",
                (PostStatus.PUBLISHED, media_id, source, now, now, account, post_id),
            )
            if container_row is not None:
                db.execute(
                    "UPDATE containers SET status = ?, media_id = ?, updated_at = ? WHERE row_id = ?",
                    (ContainerStatus.PUBLISHED, media_id, now, container_row),
                )

    def published_since(self, account: str, since: float) -> int:
        """How many posts this journal published for the account after `since` (quota fallback)."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM posts WHERE account = ? AND status = ? AND published_at >= ?",
            (account, PostStatus.PUBLISHED, since),
        ).fetchone()
        return int(row[0])

    # --- containers ---

    def containers(
        self, account: str, post_id: str, *, current_only: bool = True
    ) -> list[ContainerRow]:
        sql = "SELECT * FROM containers WHERE account = ? AND post_id = ?"
        if current_only:
            sql += f" AND status != '{ContainerStatus.REPLACED}'"
        rows = self._db.execute(sql + " ORDER BY row_id", (account, post_id)).fetchall()
        return [ContainerRow.from_db(r) for r in rows]

    def container(self, row_id: int) -> ContainerRow:
        row = self._db.execute("SELECT * FROM containers WHERE row_id = ?", (row_id,)).fetchone()
        if row is None:
            raise KeyError(row_id)
        return ContainerRow.from_db(row)

    def new_container(self, account: str, post_id: str, slot: int, role: str) -> ContainerRow:
        """A CREATING row for a slot, written before the POST /media that fills it. Any
        earlier container of the slot is marked replaced in the same transaction."""
        now = self._now()
        with self._tx() as db:
            prev = db.execute(
                "SELECT MAX(attempts) FROM containers WHERE account = ? AND post_id = ? AND slot = ?",
                (account, post_id, slot),
            ).fetchone()[0]
            db.execute(
                "UPDATE containers SET status = ?, updated_at = ? WHERE account = ? AND post_id = ?"
                " AND slot = ? AND status != ?",
                (ContainerStatus.REPLACED, now, account, post_id, slot, ContainerStatus.REPLACED),
            )
            cur = db.execute(
                "INSERT INTO containers (account, post_id, slot, role, status, attempts,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    account,
                    post_id,
                    slot,
                    role,
                    ContainerStatus.CREATING,
                    int(prev or 0) + 1,
                    now,
                    now,
                ),
            )
            row_id = cur.lastrowid
        assert row_id is not None
        return self.container(row_id)

    def update_container(self, row_id: int, **fields: Any) -> ContainerRow:
        """Set some columns of a container row (status, container_id, error...)."""
        allowed = {
            "container_id",
            "upload_uri",
            "status",
            "error_class",
            "error_code",
            "error_subcode",
            "error_message",
            "media_id",
            "created_at",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not a container column: {sorted(unknown)}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._tx() as db:
            db.execute(
                f"UPDATE containers SET {sets}, updated_at = ? WHERE row_id = ?",
                (*fields.values(), self._now(), row_id),
            )
        return self.container(row_id)

    def container_error(
        self, row_id: int, status: ContainerStatus, error: ErrorInfo
    ) -> ContainerRow:
        return self.update_container(
            row_id,
            status=status,
            error_class=error.error_class,
            error_code=error.code,
            error_subcode=error.subcode,
            error_message=error.message,
        )

    def begin_publish(self, row_id: int) -> ContainerRow:
        """Count a media_publish attempt; committed BEFORE the call so a crash leaves a trace."""
        with self._tx() as db:
            db.execute(
                "UPDATE containers SET publish_attempts = publish_attempts + 1, updated_at = ?"
                " WHERE row_id = ?",
                (self._now(), row_id),
            )
        return self.container(row_id)
