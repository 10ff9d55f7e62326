"""The background thread of each service process: read the publishing database for
post attempts that ended published, failed or held, write their events to the
outbox, and deliver what is due.

Every process runs one; they share the work through the database. Each reads the
ended attempts since the shared cursor (less a margin, for attempts whose end
was committed late), inserts their events (once: the rows' keys are stable), and
claims due rows one by one with a lease, so each delivery is made by one process.
A killed process's claimed rows come back when their lease runs out.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from igpreflight.serve.webhooks.config import WebhookConfig
from igpreflight.serve.webhooks.deliver import Answer, send
from igpreflight.serve.webhooks.events import event_of
from igpreflight.serve.webhooks.outbox import DEAD, DELIVERED, DISABLED, PENDING, Claimed, Outbox

log = logging.getLogger("igpreflight.serve.webhooks")

MARGIN_MS = 60_000  # ended attempts re-read behind the cursor (commits seen late)
JITTER = 0.1  # +-10 % on every retry delay
SENDERS = 4  # deliveries in flight per process
KEEP = 30 * 86400.0  # seconds an ended delivery stays in the outbox (and the API)
PRUNE_EVERY = 3600.0


def next_delay(schedule: tuple[float, ...], attempts: int) -> float | None:
    """Seconds before attempt `attempts + 1`, jittered; None after the last."""
    if attempts >= len(schedule):
        return None
    base = schedule[attempts]
    return base * random.uniform(1 - JITTER, 1 + JITTER)


class Dispatcher:
    """Scans and delivers every `poll` seconds until `stop()`."""

    def __init__(self, config: WebhookConfig, db_url: str, *, poll: float = 1.0) -> None:
        self.config = config
        self.db_url = db_url
        self.poll = poll
        self.by_key = {e.key: e for e in config.endpoints}
        self.lease = 2 * config.timeout + 5.0
        self.outbox: Outbox | None = None
        self.reader: Any = None  # api.durable.EndedPosts, opened with the outbox
        self.cursor: int | None = None
        self.seen: dict[tuple[str, str], int] = {}
        self.inflight = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="igp-webhook")
        self.thread = threading.Thread(target=self._run, name="igp-webhooks", daemon=True)
        self._failing = False
        self._pruned = 0.0

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop scanning and let the deliveries in flight finish (at most `timeout` s each)."""
        self.stopping.set()
        self.thread.join(timeout)
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.reader is not None:
            self.reader.close()
        if self.outbox is not None:
            self.outbox.close()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
                if self._failing:
                    log.info("webhooks: the publishing database answers again")
                self._failing = False
            except Exception as exc:  # a database down or locked: try again next time
                if not self._failing:
                    log.warning("webhooks: %s", " ".join(str(exc).split())[:300])
                self._failing = True
            self.stopping.wait(self.poll)

    def tick(self) -> None:
        """One scan, then start what is due."""
        if self.outbox is None:
            from igpreflight.api.durable import db_for

            outbox = Outbox(db_for(self.db_url, None))
            outbox.register(list(self.by_key))
            self.outbox = outbox
        if self.reader is None:
            from igpreflight.api.durable import EndedPosts

            self.reader = EndedPosts(self.db_url)
        self.scan(self.outbox, self.reader)
        self.deliver_due(self.outbox)
        if time.time() - self._pruned > PRUNE_EVERY:
            self._pruned = time.time()
            self.outbox.prune(self._pruned - KEEP)

    def scan(self, outbox: Outbox, reader: Any) -> None:
        endpoints = outbox.endpoints()
        live = {k: since for k, (since, off) in endpoints.items() if k in self.by_key and not off}
        if not live:
            return
        start = self.cursor if self.cursor is not None else outbox.cursor()
        if start is None:
            start = min(live.values())
        rows = reader.read(max(0, start - MARGIN_MS) / 1000.0)
        pairs = []
        for row in rows:
            event = event_of(row)
            if event is None:
                continue
            for key, since in live.items():
                endpoint = self.by_key[key]
                if event.ended_ms < since or not endpoint.wants(event.type, event.account):
                    continue
                if (key, event.id) not in self.seen:
                    pairs.append((key, event))
        outbox.add(pairs, time.time(), self.config.schedule[0])
        for key, event in pairs:
            self.seen[(key, event.id)] = event.ended_ms
        if rows:
            top = max(int(r["completed_at"]) for r in rows)
            self.cursor = max(start, top)
            outbox.advance(self.cursor)
            floor = self.cursor - 2 * MARGIN_MS
            self.seen = {k: v for k, v in self.seen.items() if v >= floor}

    def deliver_due(self, outbox: Outbox) -> None:
        with self.lock:
            room = SENDERS - self.inflight
        if room <= 0:
            return
        now = time.time()
        for key, msg_id in outbox.due(now, list(self.by_key), room):
            owner = uuid.uuid4().hex
            row = outbox.claim(key, msg_id, owner, now, self.lease)
            if row is None:
                continue  # another process took it
            with self.lock:
                self.inflight += 1
            self.pool.submit(self._deliver, outbox, row, owner)

    def _deliver(self, outbox: Outbox, row: Claimed, owner: str) -> None:
        from igpreflight.serve.metrics import WEBHOOK_DELIVERIES

        endpoint = self.by_key[row.endpoint]
        try:
            answer = send(
                endpoint,
                row.msg_id,
                row.body,
                timeout=self.config.timeout,
                allow_private=self.config.allow_private,
            )
            outcome = self._record(outbox, row, owner, answer)
            WEBHOOK_DELIVERIES.labels(outcome).inc()
            log.info("webhook %s to %s: %s", row.msg_id, endpoint.shown, outcome)
        except Exception as exc:  # the database went away mid-way: the lease runs out
            log.warning("webhook %s: %s", row.msg_id, " ".join(str(exc).split())[:300])
        finally:
            with self.lock:
                self.inflight -= 1

    def _record(self, outbox: Outbox, row: Claimed, owner: str, answer: Answer) -> str:
        """Write what the attempt came to; returns the outcome counted in /metrics."""
        if answer.delivered:
            outbox.finish(row, owner, DELIVERED, code=answer.status)
            return DELIVERED
        if answer.gone:
            outbox.finish(row, owner, DISABLED, code=answer.status, error=answer.error)
            outbox.disable(row.endpoint, time.time())
            log.warning("webhook %s answered 410 Gone: disabled", self.by_key[row.endpoint].shown)
            return DISABLED
        delay = next_delay(self.config.schedule, row.attempts)
        if delay is None:
            outbox.finish(row, owner, DEAD, code=answer.status, error=answer.error)
            return DEAD
        outbox.finish(
            row, owner, PENDING, next_at=time.time() + delay, code=answer.status, error=answer.error
        )
        return "retried"
