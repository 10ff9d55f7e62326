"""The two races of the posts endpoints, decided by a unique row on SQLite and on
PostgreSQL: cancel against send (claims.py) and two requests with one Idempotency-Key
(idempotency.py). Many threads race each time; exactly one wins, and all agree."""

from __future__ import annotations

import concurrent.futures
import threading
from pathlib import Path
from typing import Any

import pytest
from durable_support import pg_db  # noqa: F401 - the fixture

from igpreflight.publish.durable.claims import CANCEL, SEND, Claims, gate
from igpreflight.serve.idempotency import Idempotency, Record, body_digest


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'claims.sqlite'}"
    return request.getfixturevalue("pg_db")


def race(n: int, fn: Any) -> list[Any]:
    start = threading.Barrier(n)

    def one(i: int) -> Any:
        start.wait()
        return fn(i)

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_a_cancelled_post_is_never_sent_and_a_sent_one_never_cancelled(db: str) -> None:
    claims = Claims(db)
    try:
        assert claims.claim("igp:a:1", CANCEL) == CANCEL
        assert not gate(claims, "igp:a:1", "create") and not gate(claims, "igp:a:1", SEND)
        assert gate(claims, "igp:a:2", "create")  # creating claims nothing
        assert claims.held("igp:a:2") is None
        assert gate(claims, "igp:a:2", SEND) and gate(claims, "igp:a:2", SEND)  # resends too
        assert claims.claim("igp:a:2", CANCEL) == SEND
        assert claims.cancelled(["igp:a:1", "igp:a:2", "igp:a:3"]) == {"igp:a:1"}
        for post in range(5):  # cancel and send racing, many threads each side
            wid = f"igp:b:{post}"
            got = race(12, lambda i, wid=wid: claims.claim(wid, CANCEL if i % 2 else SEND))
            assert len(set(got)) == 1 and got[0] == claims.held(wid)
    finally:
        claims.dispose()


def test_one_idempotency_key_makes_one_record(db: str) -> None:
    book = Idempotency(db)
    try:
        body = {"account": "brand-a", "media": ["https://x/a.jpg"], "caption": "c"}
        record = Record(body_digest(body), "brand-a", "p_1")
        got = race(12, lambda i: book.claim("key-a", "idem", record))
        assert sum(g is None for g in got) == 1  # exactly one request made it
        assert all(g == record for g in got if g is not None)
        other = Record(body_digest({**body, "caption": "d"}), "brand-a", "p_1")
        assert book.claim("key-a", "idem", other) == record  # the first body holds
        assert book.claim("key-b", "idem", other) is None  # per API key
        book.release("key-a", "idem")
        assert book.get("key-a", "idem") is None
        assert body_digest(dict(reversed(list(body.items())))) == body_digest(body)
    finally:
        book.dispose()
