"""Cancel or send: one row per post that decides which came first, atomically.

A post that is cancelled must never be published, even by a worker that dequeued it
a moment before. DBOS's own cancel stops a workflow at its next step, but a step
already under way (a media_publish in flight) would go on. So before a post's
workflow creates containers or sends media_publish, it claims the post "send" (a
row keyed by the post's first workflow id, under a unique constraint); a cancel
claims it "cancel" the same way. Whichever row is written first wins, on SQLite and
on PostgreSQL alike, with no read-then-write race: a cancelled post stops before
its first call that matters, and a post once claimed for sending cannot be cancelled.
"""

from __future__ import annotations

import time
from typing import Any

from igpreflight.publish.durable.tables import open_tables

TABLE = "igpreflight_post_claims"
SEND = "send"
CANCEL = "cancel"


class Claims:
    """The claims table on the publish database `url` (made when missing)."""

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa

        self.sa = sa
        meta = sa.MetaData()
        self.table = sa.Table(
            TABLE,
            meta,
            sa.Column("post", sa.String(512), primary_key=True),  # the first workflow id
            sa.Column("claim", sa.String(16), nullable=False),
            sa.Column("at", sa.Float, nullable=False),
        )
        self.engine = open_tables(url, meta)

    def claim(self, post: str, what: str) -> str:
        """Claim `post` for `what` (SEND or CANCEL); returns the claim that holds,
        ours when we were first (or the post already had it)."""
        t = self.table
        try:
            with self.engine.begin() as c:
                c.execute(t.insert().values(post=post, claim=what, at=time.time()))
            return what
        except self.sa.exc.IntegrityError:
            return self.held(post) or what

    def held(self, post: str) -> str | None:
        """The claim on `post`, if any."""
        t = self.table
        with self.engine.connect() as c:
            row = c.execute(self.sa.select(t.c.claim).where(t.c.post == post)).first()
        return str(row[0]) if row else None

    def cancelled(self, posts: list[str]) -> set[str]:
        """Which of `posts` are claimed cancelled."""
        if not posts:
            return set()
        t = self.table
        with self.engine.connect() as c:
            rows = c.execute(
                self.sa.select(t.c.post).where(t.c.post.in_(posts), t.c.claim == CANCEL)
            )
            return {str(r[0]) for r in rows}

    def dispose(self) -> None:
        self.engine.dispose()


def gate(claims: Any, post: str, what: str) -> bool:
    """May the workflow of `post` go on to `what` ("create" or "send")? Creating needs
    only that nobody cancelled it; sending claims it for good."""
    if claims is None:
        return True
    if what == SEND:
        return claims.claim(post, SEND) == SEND
    return claims.held(post) != CANCEL
