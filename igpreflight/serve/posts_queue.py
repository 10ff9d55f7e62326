"""The service's side of the publishing queue: enqueue one post, read posts, cancel one.

Everything goes through one DBOSClient per process (publish/durable/queue.py's
Enqueuer), which writes and reads workflow rows and can run nothing: a request never
dequeues a post nor calls Graph. The worker (serve's own, or `igpreflight worker` on
the same --db) publishes. A post's public id is its durable post id, the one
`igpreflight status` shows; its workflow is `igp:<account>:<post id>`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from igpreflight.model import Post
from igpreflight.publish.accounts import Account
from igpreflight.publish.durable.claims import CANCEL, SEND, Claims
from igpreflight.publish.durable.queries import latest_attempts, post_states, workflows
from igpreflight.publish.durable.queue import Enqueuer
from igpreflight.publish.settings import PublishSettings
from igpreflight.publish.steps.spec import ATTEMPT, PREFIX, workflow_id
from igpreflight.states import PostState

# A post may be cancelled while nothing of it has reached Instagram's feed.
CANCELLABLE = {
    PostState.QUEUED,
    PostState.SCHEDULED,
    PostState.HELD,
    PostState.CREATING,
    PostState.PROCESSING,
    PostState.INTERRUPTED,
}
LIVE = ("ENQUEUED", "DELAYED", "PENDING")


class NotCancellable(Exception):
    """The post was sent (or is being sent), or has ended: its state says which."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


class PostQueue:
    """The publish database `url`, as the routes use it (see the module docstring)."""

    def __init__(self, url: str, ahead: int | None = None) -> None:
        self.url = url
        self.queue = Enqueuer(url, ahead)
        self.claims = Claims(url)
        self._lock = threading.Lock()

    def close(self) -> None:
        self.queue.close()
        self.claims.dispose()

    def enqueue(
        self,
        post: Post,
        account: Account,
        settings: PublishSettings,
        dedupe_window: float | None,
        probed: dict[str, Any],
    ) -> str:
        """Put the first attempt of `post` on the queue: its workflow id is fixed, so a
        second call (a retried or racing request) finds it there and DBOS keeps one,
        whatever became of the first meanwhile (never a second attempt). Returns the
        workflow id. `probed`: what check found each media to be."""
        import time

        from igpreflight.publish.durable.plan import build_specs

        [spec] = build_specs(
            [post], lambda _p: account, settings, dedupe_window=dedupe_window, probed=probed
        )
        self.queue.put(spec, time.time())
        return spec.wid

    def rows(self, accounts: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The latest attempt of every post (of `accounts`, or all)."""
        wanted = None if accounts is None else set(accounts)
        found = workflows(self.queue.client, inputs=True)
        rows = [
            r
            for r in self._rows(latest_attempts(found))
            if wanted is None or r["account"] in wanted
        ]
        return rows

    def find(self, account: str, post_id: str) -> dict[str, Any] | None:
        """The latest attempt's row of one post, or None."""
        base = workflow_id(account, post_id)
        client = self.queue.client
        mine = [
            w
            for w in client.list_workflows(
                workflow_id_prefix=base, load_input=True, load_output=True
            )
            if w.workflow_id == base or w.workflow_id.startswith(base + ATTEMPT)
        ]
        if not mine:
            return None
        rows = self._rows(latest_attempts(mine))
        return rows[0] if rows else None

    def _rows(self, found: list[Any]) -> list[dict[str, Any]]:
        if not found:
            return []
        rows = post_states(self.queue.client, [w.workflow_id for w in found])
        cancelled = self.claims.cancelled([base_of(r["workflow_id"]) for r in rows])
        for r in rows:
            # Cancelled, but its attempt ended (held) or is still stopping: it is
            # stopped before any container or media_publish (claims.py).
            if base_of(r["workflow_id"]) in cancelled and r["state"] != PostState.PUBLISHED:
                r["state"] = PostState.CANCELLED
        return rows

    def cancel(self, account: str, post_id: str) -> dict[str, Any] | None:
        """Cancel a post not yet sent; its row after. None for no such post;
        NotCancellable when it was sent, is being sent, or has ended."""
        row = self.find(account, post_id)
        if row is None:
            return None
        state = PostState(row["state"])
        if state == PostState.CANCELLED:
            return row
        if state not in CANCELLABLE:
            raise NotCancellable(state)
        base = workflow_id(account, post_id)
        if self.claims.claim(base, CANCEL) == SEND:
            raise NotCancellable(PostState.PUBLISHING)  # a worker took it to media_publish
        client = self.queue.client
        for w in client.list_workflows(workflow_id_prefix=base, load_input=False):
            if w.status in LIVE and (
                w.workflow_id == base or w.workflow_id.startswith(base + ATTEMPT)
            ):
                client.cancel_workflow(w.workflow_id)
        return self.find(account, post_id)


def base_of(wid: str) -> str:
    return wid.split(ATTEMPT, 1)[0]


def split_id(wid: str) -> tuple[str, str]:
    """(account, post id) of a workflow id."""
    account, _, post_id = base_of(wid)[len(PREFIX) :].partition(":")
    return account, post_id
