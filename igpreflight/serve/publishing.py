"""What the posts endpoints share: the publish database, the accounts, the publish
settings, and the publishing worker serve runs in the background.

The database is `--db` (PostgreSQL for several processes or hosts); by default the
SQLite file `publish.sqlite` beside --data-dir, which with the default data dir is
`.igpreflight/publish.sqlite`, where `worker` and `status` look by default. Its
client and tables are made on first use, so a service that never publishes never
touches it. The worker is `igpreflight.api.worker` in a thread of each serve
process (DBOS's queue gives each post to one worker, whichever process it is in);
`--no-publish` leaves publishing to `igpreflight worker` processes on the same --db.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from igpreflight.serve.problems import Problem
from igpreflight.serve.settings import ServeSettings

log = logging.getLogger("igpreflight.serve")
DB_NAME = "publish.sqlite"
RETRY = 5.0  # seconds before the worker tries a database that failed again


def default_db(settings: ServeSettings) -> str:
    """--db, else publish.sqlite beside the data folder (see the module docstring)."""
    return settings.db or str(settings.data_path.parent / DB_NAME)


class Publishing:
    """The publishing side of one serve process (see the module docstring)."""

    def __init__(self, settings: ServeSettings) -> None:
        self.serve = settings
        self.options: dict[str, Any] = dict(settings.publish or {})
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._engine: Any = None

    @cached_property
    def url(self) -> str:
        from igpreflight.publish.durable.plan import db_url

        return db_url(default_db(self.serve))

    @cached_property
    def queue(self) -> Any:
        """The PostQueue (made on first use; 503 when the database cannot be used)."""
        from igpreflight.serve.posts_queue import PostQueue

        return self._open(lambda: PostQueue(self.url, self.options.get("ahead")))

    def client(self) -> Any:
        """The database's DBOSClient (runs nothing; jobs are enqueued through it too)."""
        return self.queue.queue.client

    def exists(self) -> bool:
        """Is there a database yet? (A SQLite file is made on first use, not before.)"""
        if self.url.startswith("sqlite:///"):
            return Path(self.url[len("sqlite:///") :]).exists()
        return True

    @cached_property
    def idempotency(self) -> Any:
        from igpreflight.serve.idempotency import Idempotency

        return self._open(lambda: Idempotency(self.url))

    def _open(self, make: Any) -> Any:
        with self._lock, self.guard():
            return make()

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """A database that fails under a request is a 503 naming it (never a 500)."""
        from igpreflight.publish.durable.dbfaults import DatabaseFault, fault_line

        try:
            yield
        except Problem:  # a guard inside this one made it already: said once
            raise
        except DatabaseFault as exc:
            raise Problem(503, str(exc), "database-unavailable") from None
        except Exception as exc:
            line = fault_line(exc, self.url)
            if line is None:
                raise
            raise Problem(503, line, "database-unavailable") from None

    @cached_property
    def accounts(self) -> dict[str, Any]:
        from igpreflight.publish.accounts import load_accounts

        return load_accounts(self.serve.accounts_file)

    def account(self, name: str) -> Any:
        """The Account `name`, its token registered for redaction (422 when unknown
        or its token variable is not set)."""
        from igpreflight.publish.accounts import AccountError
        from igpreflight.redaction import register_secret

        acc = self.accounts.get(name)
        if acc is None:
            raise Problem(422, f"no account {name!r} in the accounts file", "unknown-account")
        try:
            register_secret(acc.token())
        except AccountError as exc:
            raise Problem(422, str(exc), "unknown-account") from None
        return acc

    @cached_property
    def settings(self) -> Any:
        from igpreflight.publish.service import publish_settings

        waits = ("first_wait", "max_wait", "give_up", "max_rate_wait", "settle_window")
        return publish_settings(
            resumable=bool(self.options.get("resumable")),
            **{k: self.options.get(k) for k in waits},
        )

    @property
    def dedupe_window(self) -> float | None:
        if self.options.get("allow_duplicate"):
            return None
        hours = self.options.get("dedupe_window")
        return (24.0 if hours is None else float(hours)) * 3600.0

    @cached_property
    def target(self) -> Any:
        """Where stored media go before Instagram fetches them (None without --bucket)."""
        from igpreflight.storage.upload import UploadTarget

        s = self.serve
        if not s.bucket:
            return None
        return UploadTarget(
            s.bucket, s.prefix, s.endpoint_url, s.region, s.public_base_url, s.presign, s.acl
        )

    # ---- the background worker ------------------------------------------------------

    def start_worker(self) -> None:
        """Publish in this process: a thread running the durable worker until stop."""
        self._thread = threading.Thread(target=self._work, name="igp-publisher", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        from igpreflight.api.durable import worker
        from igpreflight.api.errors import UsageError

        said = ""  # the last failure told, so a lasting one is told once
        while not self._stop.is_set():
            try:
                self.queue  # noqa: B018 - the database and its schema exist before the worker
                result = worker(
                    self.url,
                    until_idle=False,
                    stop=self._stop,
                    ahead=self.options.get("ahead"),
                    notify=lambda level, text: log.log(_LEVELS.get(level, 20), "%s", text),
                    accounts_file=self.serve.accounts_file,
                    graph_url=self.options.get("graph_url"),
                    allow_private=self.serve.allow_private,
                    upload=self.target,
                    timeout=float(self.options.get("timeout") or 30.0),
                )
                self._engine = result.engine
                return
            except (UsageError, Problem) as exc:  # a database fault, a token not set
                if str(exc) != said:
                    said = str(exc)
                    log.error("the publishing worker cannot run (trying again): %s", said)
                self._stop.wait(RETRY)

    def close(self) -> None:
        """Stop the worker (posts running here are resumed by the next worker, never
        twice) and the database clients."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)
        if self._engine is not None:
            self._engine.close()
        for name in ("queue", "idempotency"):
            made = self.__dict__.get(name)
            if made is not None:
                made.close() if name == "queue" else made.dispose()


_LEVELS = {"warning": logging.WARNING, "note": logging.INFO, "error": logging.ERROR}
