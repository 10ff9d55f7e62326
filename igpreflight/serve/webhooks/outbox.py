"""The webhooks' tables in the publishing database (SQLite or PostgreSQL).

    igpreflight_webhook_outbox     one row per (endpoint, event): its body, status
                                   (pending, delivered, dead, disabled), attempts made,
                                   when it is due, and the lease of the process sending it
    igpreflight_webhook_endpoints  per endpoint: since when its events count, and
                                   whether it answered 410 (disabled)
    igpreflight_webhook_cursor     how far the database's ended attempts were read

A row is inserted once (its key is the endpoint and the event's stable id, so two
processes seeing the same transition make one row) and claimed by one process at
a time: the claim is a conditional UPDATE whose lease a process killed mid-send
lets expire, so another takes the row up. Only names, ids and bodies are stored:
never a secret.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from igpreflight.publish.durable.tables import open_tables
from igpreflight.serve.webhooks.events import Event

PENDING, DELIVERED, DEAD, DISABLED = "pending", "delivered", "dead", "disabled"

meta = sa.MetaData()
OUTBOX = sa.Table(
    "igpreflight_webhook_outbox",
    meta,
    sa.Column("endpoint", sa.String(32), primary_key=True),
    sa.Column("msg_id", sa.String(40), primary_key=True),
    sa.Column("event_type", sa.String(32), nullable=False),
    sa.Column("account", sa.String(255), nullable=False),
    sa.Column("post_id", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default=PENDING),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_until", sa.Float, nullable=False, default=0.0),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.String(500)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("done_at", sa.Float),
    sa.Index("igpreflight_webhook_due", "status", "next_at"),
)
ENDPOINTS = sa.Table(
    "igpreflight_webhook_endpoints",
    meta,
    sa.Column("endpoint", sa.String(32), primary_key=True),
    sa.Column("since_ms", sa.BigInteger, nullable=False),
    sa.Column("disabled_at", sa.Float),
)
CURSOR = sa.Table(
    "igpreflight_webhook_cursor",
    meta,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("at_ms", sa.BigInteger, nullable=False),
)


@dataclass(frozen=True)
class Claimed:
    endpoint: str
    msg_id: str
    body: str
    attempts: int  # including this one


def since_now() -> int:
    """An endpoint's start, in the database's terms: attempts' end times are the
    database clock's, whole seconds on SQLite, so a second is allowed before now."""
    return (int(time.time()) - 1) * 1000


class Outbox:
    """The tables above on one database (created if missing)."""

    def __init__(self, url: str) -> None:
        args = {"timeout": 30} if url.startswith("sqlite") else {}
        self.engine = open_tables(url, meta, **args)

    def _insert_ignoring(self, table: sa.Table) -> Any:
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table).on_conflict_do_nothing()

    # ---- endpoints and the cursor ------------------------------------------------------

    def register(self, keys: list[str]) -> None:
        """Endpoints seen for the first time count events from now on (not the history)."""
        rows = [{"endpoint": k, "since_ms": since_now()} for k in keys]
        if rows:
            with self.engine.begin() as c:
                c.execute(self._insert_ignoring(ENDPOINTS), rows)

    def endpoints(self) -> dict[str, tuple[int, float | None]]:
        """endpoint -> (since_ms, disabled_at)."""
        with self.engine.begin() as c:
            return {e: (s, d) for e, s, d in c.execute(sa.select(ENDPOINTS))}

    def enable(self, keys: list[str]) -> list[str]:
        """Lift a 410's disabling (a new start of `serve`); returns those it lifted."""
        t = ENDPOINTS
        with self.engine.begin() as c:
            found = c.execute(
                sa.select(t.c.endpoint).where(t.c.endpoint.in_(keys), t.c.disabled_at.is_not(None))
            ).scalars()
            lifted = list(found)
            if lifted:
                c.execute(t.update().where(t.c.endpoint.in_(lifted)).values(disabled_at=None))
        return lifted

    def disable(self, key: str, now: float) -> None:
        """A 410: no more deliveries to it; its pending rows end `disabled`."""
        with self.engine.begin() as c:
            c.execute(ENDPOINTS.update().where(ENDPOINTS.c.endpoint == key).values(disabled_at=now))
            c.execute(
                OUTBOX.update()
                .where(OUTBOX.c.endpoint == key, OUTBOX.c.status == PENDING)
                .values(status=DISABLED, done_at=now, lease_owner=None)
            )

    def cursor(self) -> int | None:
        with self.engine.begin() as c:
            return c.execute(sa.select(CURSOR.c.at_ms).where(CURSOR.c.name == "scan")).scalar()

    def advance(self, at_ms: int) -> None:
        """The cursor moves forward only (two processes may advance it at once)."""
        with self.engine.begin() as c:
            c.execute(self._insert_ignoring(CURSOR), [{"name": "scan", "at_ms": at_ms}])
            c.execute(
                CURSOR.update()
                .where(CURSOR.c.name == "scan", CURSOR.c.at_ms < at_ms)
                .values(at_ms=at_ms)
            )

    # ---- the outbox ----------------------------------------------------------------------

    def add(self, pairs: list[tuple[str, Event]], now: float, first_delay: float) -> None:
        """One pending row per (endpoint key, event); rows already there are kept as they are."""
        rows = [
            {
                "endpoint": key,
                "msg_id": e.id,
                "event_type": e.type,
                "account": e.account,
                "post_id": e.post_id,
                "body": e.body,
                "status": PENDING,
                "attempts": 0,
                "next_at": now + first_delay,
                "lease_until": 0.0,
                "created_at": now,
            }
            for key, e in pairs
        ]
        if rows:
            with self.engine.begin() as c:
                c.execute(self._insert_ignoring(OUTBOX), rows)

    def due(self, now: float, keys: list[str], limit: int) -> list[tuple[str, str]]:
        """Pending rows of these endpoints whose time has come and whose lease is free."""
        t = OUTBOX
        q = (
            sa.select(t.c.endpoint, t.c.msg_id)
            .where(
                t.c.status == PENDING,
                t.c.next_at <= now,
                t.c.lease_until < now,
                t.c.endpoint.in_(keys),
            )
            .order_by(t.c.next_at)
            .limit(limit)
        )
        with self.engine.begin() as c:
            return [(e, m) for e, m in c.execute(q)]

    def claim(self, key: str, msg_id: str, owner: str, now: float, lease: float) -> Claimed | None:
        """Take the row for one attempt (None: another process took it first)."""
        t = OUTBOX
        mine = (t.c.endpoint == key) & (t.c.msg_id == msg_id)
        with self.engine.begin() as c:
            n = c.execute(
                t.update()
                .where(mine, t.c.status == PENDING, t.c.lease_until < now, t.c.next_at <= now)
                .values(lease_owner=owner, lease_until=now + lease, attempts=t.c.attempts + 1)
            ).rowcount
            if n != 1:
                return None
            body, attempts = c.execute(sa.select(t.c.body, t.c.attempts).where(mine)).one()
        return Claimed(key, msg_id, body, attempts)

    def finish(
        self,
        row: Claimed,
        owner: str,
        status: str,
        *,
        next_at: float | None = None,
        code: int | None = None,
        error: str | None = None,
    ) -> None:
        """What this attempt came to; `next_at` keeps it pending for another attempt."""
        t = OUTBOX
        now = time.time()
        values: dict[str, Any] = {
            "status": status,
            "lease_owner": None,
            "lease_until": 0.0,
            "last_status": code,
            "last_error": (error or None) and error[:500],
        }
        if next_at is not None:
            values["next_at"] = next_at
        if status != PENDING:
            values["done_at"] = now
        with self.engine.begin() as c:
            c.execute(
                t.update()
                .where(t.c.endpoint == row.endpoint, t.c.msg_id == row.msg_id)
                .where(t.c.lease_owner == owner)
                .values(**values)
            )

    def rows(
        self, accounts: frozenset[str] | None = None, limit: int = 100, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The latest deliveries (for the API), of these accounts (None: all)."""
        t = OUTBOX
        cols = [t.c[n] for n in ("endpoint", "msg_id", "event_type", "account", "post_id",
                                 "status", "attempts", "next_at", "last_status", "last_error",
                                 "created_at", "done_at")]  # fmt: skip
        q = sa.select(*cols).order_by(t.c.created_at.desc()).limit(limit)
        if accounts is not None:
            q = q.where(t.c.account.in_(sorted(accounts)))
        if status is not None:
            q = q.where(t.c.status == status)
        with self.engine.begin() as c:
            return [dict(r._mapping) for r in c.execute(q)]

    def prune(self, before: float) -> int:
        """Forget deliveries that ended before `before` (epoch s); pending ones stay."""
        t = OUTBOX
        with self.engine.begin() as c:
            return c.execute(t.delete().where(t.c.status != PENDING, t.c.done_at < before)).rowcount

    def close(self) -> None:
        self.engine.dispose()
