"""Idempotency-Key records for POST /v1/posts, in the publishing database.

One row per (API key name, Idempotency-Key) under a primary key, so two requests
with the same key (in one process, two workers, or two `serve` processes on one
PostgreSQL) cannot both create a post: the insert decides, never a read followed
by a write. The row holds a digest of the body (never the body, which may carry
nothing secret but need not be kept) and the post it made.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

TABLE = "igpreflight_idempotency"


@dataclass(frozen=True)
class Record:
    body: str  # sha256 of the canonical body
    account: str
    post_id: str
    # when the key was claimed (0: not read from the table); not part of what it holds
    created: float = field(default=0.0, compare=False)


def body_digest(body: dict[str, Any]) -> str:
    """The same JSON body gives the same digest, whatever its key order or spacing."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Idempotency:
    """The records table on the publish database `url` (made when missing)."""

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa

        from igpreflight.publish.durable.tables import open_tables

        self.sa = sa
        meta = sa.MetaData()
        self.table = sa.Table(
            TABLE,
            meta,
            sa.Column("key_name", sa.String(255), primary_key=True),
            sa.Column("idem_key", sa.String(255), primary_key=True),
            sa.Column("body", sa.String(64), nullable=False),
            sa.Column("account", sa.String(255), nullable=False),
            sa.Column("post_id", sa.String(64), nullable=False),
            sa.Column("created", sa.Float, nullable=False),
        )
        self.engine = open_tables(url, meta)

    def get(self, key_name: str, idem_key: str) -> Record | None:
        t = self.table
        with self.engine.connect() as c:
            row = c.execute(
                self.sa.select(t.c.body, t.c.account, t.c.post_id, t.c.created).where(
                    t.c.key_name == key_name, t.c.idem_key == idem_key
                )
            ).first()
        return Record(*row) if row else None

    def claim(self, key_name: str, idem_key: str, record: Record) -> Record | None:
        """Insert `record`; None when it is now ours, else the record already there."""
        t = self.table
        try:
            with self.engine.begin() as c:
                c.execute(
                    t.insert().values(
                        key_name=key_name,
                        idem_key=idem_key,
                        body=record.body,
                        account=record.account,
                        post_id=record.post_id,
                        created=time.time(),
                    )
                )
            return None
        except self.sa.exc.IntegrityError:
            return self.get(key_name, idem_key) or record

    def take_over(
        self, key_name: str, idem_key: str, stale: Record, record: Record, before: float
    ) -> bool:
        """Put `record` in place of `stale`, a claim made before `before` whose request
        stopped before it enqueued anything (a crash): True when it is ours now. The
        update names the stale row exactly, so of two requests taking it over one wins."""
        t = self.table
        with self.engine.begin() as c:
            done = c.execute(
                t.update()
                .where(
                    t.c.key_name == key_name,
                    t.c.idem_key == idem_key,
                    t.c.body == stale.body,
                    t.c.created == stale.created,
                    t.c.created < before,
                )
                .values(body=record.body, account=record.account, created=time.time())
            )
        return done.rowcount == 1

    def release(self, key_name: str, idem_key: str) -> None:
        """Forget a key whose request was refused (the client may fix the post and
        send it again with the same key)."""
        t = self.table
        with self.engine.begin() as c:
            c.execute(t.delete().where(t.c.key_name == key_name, t.c.idem_key == idem_key))

    def dispose(self) -> None:
        self.engine.dispose()
