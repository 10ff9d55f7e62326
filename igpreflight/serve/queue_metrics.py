"""/metrics' gauges read from the publishing database: posts by state, jobs by state.

They are the database's counts, not a process's, so every worker reports the same
numbers and the page never sums them (a gauge per scrape, not a counter per worker).
A scrape reads the database at most once every CACHE seconds per process; a service
whose database does not exist yet reports nothing rather than making it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("igpreflight.serve")
CACHE = 5.0  # seconds a reading is reused
JOB_STATES = ("queued", "running", "succeeded", "failed")


class QueueStates(Collector):
    """A prometheus collector over `publishing` (serve.publishing.Publishing)."""

    def __init__(self, publishing: Any) -> None:
        self.publishing = publishing
        self._lock = threading.Lock()
        self._at = 0.0
        self._posts: dict[str, int] = {}
        self._jobs: dict[str, int] = {}

    def read(self) -> tuple[dict[str, int], dict[str, int]]:
        with self._lock:
            if time.monotonic() - self._at >= CACHE:
                self._posts, self._jobs = self._count()
                self._at = time.monotonic()
            return self._posts, self._jobs

    def _count(self) -> tuple[dict[str, int], dict[str, int]]:
        from igpreflight.serve.durable_jobs import WORKFLOW, job_of

        if not self.publishing.exists():
            return {}, {}
        try:
            posts: dict[str, int] = {}
            for row in self.publishing.queue.rows():
                posts[str(row["state"])] = posts.get(str(row["state"]), 0) + 1
            jobs = dict.fromkeys(JOB_STATES, 0)
            client = self.publishing.client()
            every = client.list_workflows(name=WORKFLOW, load_input=True, load_output=True)
            for w in every:  # the jobs of every data folder's queue
                job = job_of(w)
                if job is not None:
                    jobs[job.state] = jobs.get(job.state, 0) + 1
            return posts, jobs
        except Exception as exc:  # noqa: BLE001 - a scrape never fails the page
            log.info("metrics: the publishing database was not read: %s", exc)
            return self._posts, self._jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from igpreflight.states import PostState

        posts, jobs = self.read()
        if not posts and not jobs:
            return
        g = GaugeMetricFamily(
            "igpreflight_posts", "Posts in the publishing database, by state.", labels=["state"]
        )
        for state in PostState:
            g.add_metric([state.value], posts.get(state.value, 0))
        yield g
        j = GaugeMetricFamily(
            "igpreflight_jobs", "Jobs in the publishing database, by state.", labels=["state"]
        )
        for state in JOB_STATES:
            j.add_metric([state], jobs.get(state, 0))
        yield j
