"""Webhooks of `igpreflight serve`, end to end over loopback: the service in this
process on a real socket, posts published by the real CLI (`igpreflight publish`)
against the Graph emulator over HTTP, and receivers on 127.0.0.1 that verify every
delivery with `standardwebhooks.Webhook.verify`."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from fixtures.graph_emulator import GraphEmulator, MediaServer

pytest.register_assert_rewrite("durable_support", "webhook_support")

from durable_support import FAST, A, cli  # noqa: E402
from serve_support import SECRETS, keys_file, running  # noqa: E402
from webhook_support import Receiver, new_secret, webhooks_file  # noqa: E402

from igpreflight.serve.settings import ServeSettings  # noqa: E402
from igpreflight.serve.webhooks.events import event_id  # noqa: E402

pytest_plugins = ("durable_support",)
FASTER = {"timeout": 5, "retry_schedule": [0, 0.3, 0.3]}  # three quick attempts


@pytest.fixture
def emu(two_accounts: GraphEmulator) -> GraphEmulator:
    return two_accounts


@pytest.fixture
def media(durable_media: MediaServer) -> MediaServer:
    return durable_media


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(secret: str, answer=None) -> Receiver:
        made.append(Receiver(secret, answer))
        return made[-1]

    yield make
    for r in made:
        r.close()


def posts_toml(path: Path, media: MediaServer, posts: list[tuple[str, str, str]]) -> Path:
    """(account, post id, file) -> a manifest."""
    lines = []
    for account, pid, name in posts:
        lines += ["[[post]]", f'id = "{pid}"', f'account = "{account}"']
        lines += [f'media = ["{media.url_for(name)}"]', f'caption = "post {pid}"']
    path.write_text("\n".join(lines) + "\n")
    return path


def settings_for(tmp_path: Path, hooks: Path, db: Path) -> ServeSettings:
    return ServeSettings(
        data_dir=str(tmp_path / "serve"),
        db=str(db),
        webhooks_file=str(hooks),
        allow_private=True,
    )


def outbox_when(db: Path, test, timeout: float = 90.0) -> list[tuple]:
    """The outbox rows once `test(rows)` holds (they are written after each answer)."""
    deadline = time.monotonic() + timeout
    while True:
        found = outbox(db)
        if test(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def outbox(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute(
            "SELECT endpoint, post_id, event_type, status, attempts, last_status"
            " FROM igpreflight_webhook_outbox ORDER BY post_id"
        ).fetchall()


def _dead_so_far() -> float:
    from prometheus_client import REGISTRY

    found = REGISTRY.get_sample_value("igpreflight_webhook_deliveries_total", {"outcome": "dead"})
    return float(found or 0.0)


def test_a_signed_event_per_transition_scoped_by_account_and_event(
    emu, media, accounts_env, tmp_path, monkeypatch, receivers
):
    dead_before = _dead_so_far()  # the counter is the process's: other tests add to it
    secrets = {name: new_secret() for name in ("ALL", "B", "PUB", "BAD")}
    for name, value in secrets.items():
        monkeypatch.setenv(f"IGPF_TEST_WH_{name}", value)
    every = receivers(secrets["ALL"])
    only_b = receivers(secrets["B"])
    only_published = receivers(secrets["PUB"])
    # A receiver whose secret differs from the one the service signs with: its verify fails.
    wrong = receivers(new_secret(), lambda d: 200 if d.verified else 401)
    hooks = webhooks_file(
        tmp_path / "webhooks.toml",
        [
            {"url": every.url, "secret_env": "IGPF_TEST_WH_ALL"},
            {"url": only_b.url, "secret_env": "IGPF_TEST_WH_B", "accounts": ["brand-b"]},
            {
                "url": only_published.url,
                "secret_env": "IGPF_TEST_WH_PUB",
                "events": ["post.published"],
            },
            {"url": wrong.url, "secret_env": "IGPF_TEST_WH_BAD"},
        ],
        **FASTER,
    )
    db = tmp_path / "q.sqlite"
    emu.set_quota(49, total=50, user_id=A)  # brand-a: one post left, the next is held
    m = posts_toml(
        tmp_path / "posts.toml",
        media,
        [
            ("brand-a", "a0", "feed.jpg"),
            ("brand-a", "a1", "feed.jpg"),
            ("brand-b", "b0", "tall.jpg"),
        ],
    )
    settings = replace(
        settings_for(tmp_path, hooks, db), keys_file=str(keys_file(tmp_path, monkeypatch))
    )
    with running(settings) as svc:
        r = cli(accounts_env, "publish", str(m), "--db", str(db), *FAST)
        assert r.returncode == 1, r.stdout + r.stderr  # a1 held, b0 failed (1:3 refused)
        got = every.wait_for(lambda d: len({x.id for x in d}) == 3)
        wrong.wait_for(lambda d: len(d) == 9)  # three events, three attempts each, then dead
        only_b.wait_for(lambda d: len(d) == 1)
        only_published.wait_for(lambda d: len(d) == 1)
        outbox_when(db, lambda rows: all(r[3] != "pending" for r in rows))
        seen = {}
        for name, key in (
            ("a", "IGPF_TEST_KEY_A"),
            ("b", "IGPF_TEST_KEY_B"),
            ("all", "IGPF_TEST_KEY_ALL"),
        ):
            with svc.client(SECRETS[key]) as c:
                answer = c.get("/v1/webhooks/deliveries")
                assert answer.status_code == 200, answer.text
                seen[name] = answer.json()
        with svc.client(SECRETS["IGPF_TEST_KEY_ALL"]) as c:
            metrics = c.get("/metrics").text
            dead_only = c.get("/v1/webhooks/deliveries", params={"status": "dead"}).json()
            assert c.get("/v1/webhooks/deliveries").status_code == 200
        with svc.client() as c:
            assert c.get("/v1/webhooks/deliveries").status_code == 401
    # The deliveries each key sees: its accounts' posts only, every endpoint's.
    assert {(d["account"], d["post_id"]) for d in seen["b"]} == {("brand-b", "b0")}
    assert len(seen["b"]) == 3  # every, only_b, wrong (only_published wants no failures)
    assert {d["account"] for d in seen["a"]} == {"brand-a"} and len(seen["a"]) == 5
    assert len(seen["all"]) == 8 and {d["status"] for d in dead_only} == {"dead"}
    assert {d["endpoint"] for d in seen["all"]} == {
        every.url,
        only_b.url,
        only_published.url,
        wrong.url,
    }
    assert not any(s in str(seen) for s in secrets.values())
    assert len(got) == 3 and all(d.verified for d in got)  # once each: all acknowledged
    by_post = {d.payload["data"]["post_id"]: d for d in got}
    a0, a1, b0 = by_post["a0"].payload, by_post["a1"].payload, by_post["b0"].payload
    assert a0["type"] == "post.published" and a0["data"]["media_id"] and a0["data"]["attempt"] == 1
    assert a1["type"] == "post.held" and a1["data"]["error_class"] == "wait-quota"
    assert a1["data"]["until"] and "QUOTA001" in a1["data"]["error"]
    assert b0["type"] == "post.failed" and b0["data"]["account"] == "brand-b"
    assert "2207009" in b0["data"]["error"] and b0["data"]["media_id"] is None
    for post, d in by_post.items():
        state = d.payload["data"]["state"]
        assert d.id == event_id(d.payload["data"]["account"], post, state, 1)
        assert set(d.payload) == {"type", "timestamp", "data"}
        assert d.headers["webhook-timestamp"].isdigit()
        assert d.headers["webhook-signature"].startswith("v1,")
    # Scoping: brand-b's endpoint saw brand-b's post only; the other saw the publication only.
    assert [d.payload["data"]["post_id"] for d in only_b.deliveries()] == ["b0"]
    assert [d.payload["type"] for d in only_published.deliveries()] == ["post.published"]
    # The receiver with the wrong secret detected every forgery; the same id was retried.
    assert not any(d.verified for d in wrong.deliveries())
    assert sorted({d.id for d in wrong.deliveries()}) == sorted(by_post[p].id for p in by_post)
    assert 'igpreflight_webhook_deliveries_total{outcome="delivered"}' in metrics
    assert f'igpreflight_webhook_deliveries_total{{outcome="dead"}} {dead_before + 3}' in metrics
    assert not any(s in metrics for s in secrets.values())
    dead = [row for row in outbox(db) if row[3] == "dead"]
    assert len(dead) == 3 and all(row[4] == 3 and row[5] == 401 for row in dead)
    assert not any(s.encode() in db.read_bytes() for s in secrets.values())


def test_retries_after_500s_a_410_stops_and_a_slow_receiver_times_out(
    emu, media, accounts_env, tmp_path, monkeypatch, receivers
):
    secret = new_secret()
    monkeypatch.setenv("IGPF_TEST_WH", secret)
    tries: dict[str, int] = {}

    def flaky_answer(d):  # 500, 500, then 200 for each event
        tries[d.id] = tries.get(d.id, 0) + 1
        return 200 if tries[d.id] >= 3 else 500

    flaky = receivers(secret, flaky_answer)
    gone = receivers(secret, lambda d: 410)
    slow = receivers(secret)
    slow.delay = 4.0  # longer than the 2 s timeout the file below sets
    hooks = webhooks_file(
        tmp_path / "webhooks.toml",
        [{"url": r.url, "secret_env": "IGPF_TEST_WH"} for r in (flaky, gone, slow)],
        **{**FASTER, "timeout": 2},  # six timeouts of 5 s were most of the test's 25 s
    )
    db = tmp_path / "q.sqlite"
    m = posts_toml(tmp_path / "posts.toml", media, [("brand-a", "a0", "feed.jpg")])
    with running(settings_for(tmp_path, hooks, db)):
        r = cli(accounts_env, "publish", str(m), "--db", str(db), *FAST)
        assert r.returncode == 0, r.stdout + r.stderr
        gone.wait_for(lambda d: len(d) == 1)
        flaky.wait_for(lambda d: len(d) == 3)
        outbox_when(db, lambda rows: any(r[3] == "disabled" for r in rows))
        # a second post: the endpoint that answered 410 is not sent it
        m = posts_toml(tmp_path / "posts.toml", media, [("brand-a", "a1", "feed.jpg")])
        r = cli(accounts_env, "publish", str(m), "--db", str(db), *FAST)
        assert r.returncode == 0, r.stdout + r.stderr
        flaky.wait_for(lambda d: len(d) == 6)
        slow.wait_for(lambda d: len(d) >= 6)

        def settled(row: tuple) -> bool:
            return row[3] != "pending"

        deadline_rows = outbox_when(db, lambda rows: len(rows) == 5 and all(map(settled, rows)))
    attempts = flaky.deliveries()
    for post in ("a0", "a1"):
        mine = [d for d in attempts if d.payload["data"]["post_id"] == post]
        assert [d.answered for d in mine] == [500, 500, 200]
        assert len({d.id for d in mine}) == 1 and len({d.body for d in mine}) == 1
        assert all(d.verified for d in mine)
    assert [d.payload["data"]["post_id"] for d in gone.deliveries()] == ["a0"]
    statuses = sorted((row[1], row[3], row[4], row[5]) for row in deadline_rows)
    assert statuses == [
        ("a0", "dead", 3, None),  # the slow receiver: three timeouts
        ("a0", "delivered", 3, 200),
        ("a0", "disabled", 1, 410),
        ("a1", "dead", 3, None),
        ("a1", "delivered", 3, 200),
    ]
    assert len({d.id for d in slow.deliveries()}) == 2


def test_the_retry_schedule_is_standard_webhooks_with_jitter_then_ends():
    from igpreflight.serve.webhooks.config import DEFAULT_SCHEDULE
    from igpreflight.serve.webhooks.dispatcher import next_delay

    assert DEFAULT_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    for attempts, base in enumerate(DEFAULT_SCHEDULE):
        delays = {next_delay(DEFAULT_SCHEDULE, attempts) for _ in range(50)}
        assert all(0.9 * base <= d <= 1.1 * base for d in delays)
        assert len(delays) > 1 or base == 0  # jittered, so retries do not arrive in step
    assert next_delay(DEFAULT_SCHEDULE, len(DEFAULT_SCHEDULE)) is None  # then dead


def start_serve(args: list[str], env: dict[str, str]):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "igpreflight", "serve", "--port", "0", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.parametrize(
    ("secret", "url", "extra", "says"),
    [
        ("whsec_" + "c2hvcnQ=", None, [], "bytes; Standard Webhooks asks for 24 to 64"),
        ("not-a-whsec-secret-at-all-0123456789", None, [], "must be whsec_"),
        ("whsec_!!!notbase64!!!", None, [], "not base64"),
        (None, None, [], "IGPF_TEST_WH is not set"),
        ("ok", "http://127.0.0.1:9/hook", [], "127.0.0.1 is loopback"),
        ("ok", "https://10.1.2.3/hook", [], "10.1.2.3 is private"),
        ("ok", "https://hooks.example.com/x", ["--allow-private"], None),
        ("ok", "ftp://hooks.example.com/x", [], "url must be an https:// URL"),
    ],
)
def test_a_bad_webhooks_file_stops_serve_before_it_listens(tmp_path, secret, url, extra, says):
    good = new_secret()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IGPREFLIGHT_")}
    if secret is not None:
        env["IGPF_TEST_WH"] = good if secret == "ok" else secret
    hooks = webhooks_file(
        tmp_path / "webhooks.toml",
        [{"url": url or "https://hooks.example.com/x", "secret_env": "IGPF_TEST_WH"}],
    )
    if says is None:  # a good file: a bad accounts scope is still refused
        (tmp_path / "acc.toml").write_text(
            '[[account]]\nname = "brand-a"\nig_user_id = "1"\ntoken_env = "IGT_A"\n'
        )
        env["IGT_A"] = "EAAG-token"
        hooks.write_text(hooks.read_text() + 'accounts = ["brand-z"]\n')
        extra = [*extra, "--accounts", str(tmp_path / "acc.toml")]
        says = "unknown account 'brand-z'"
    r = start_serve(
        ["--webhooks", str(hooks), "--db", str(tmp_path / "q.sqlite"), *extra,
         "--data-dir", str(tmp_path / "d")],
        env,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert says in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert good not in r.stderr + r.stdout
    assert not (tmp_path / "q.sqlite").exists()  # nothing was started


def test_the_webhooks_file_comes_from_the_environment_too(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IGPREFLIGHT_")}
    hooks = webhooks_file(
        tmp_path / "w.toml", [{"url": "http://10.0.0.1/x", "secret_env": "NOPE_X"}]
    )
    env["IGPREFLIGHT_WEBHOOKS"] = str(hooks)
    r = start_serve(["--data-dir", str(tmp_path / "d")], env)
    assert r.returncode == 2 and "NOPE_X is not set" in r.stderr, r.stderr


def test_the_outbox_keeps_one_row_per_event_one_claim_at_a_time_and_prunes_ended_ones(tmp_path):
    from igpreflight.serve.webhooks.events import event_of
    from igpreflight.serve.webhooks.outbox import DELIVERED, Outbox

    box = Outbox(f"sqlite:///{tmp_path / 'q.sqlite'}")
    row = {"state": "published", "account": "brand-a", "post_id": "a0", "attempt": 1}
    first = event_of({**row, "completed_at": 1_796_000_000_000, "media_id": "1"})
    second = event_of({**row, "post_id": "a1", "completed_at": 1_796_000_000_000})
    now = time.time()
    box.add([("e1", first), ("e1", second)], now, 0)
    box.add([("e1", first)], now + 5, 0)  # seen again by another process: kept as it was
    assert len(box.rows()) == 2
    mine = box.claim("e1", first.id, "one", now, 30)
    assert mine is not None and mine.attempts == 1 and mine.body == first.body
    assert box.claim("e1", first.id, "two", now, 30) is None  # leased to "one"
    box.finish(mine, "two", DELIVERED)  # not its lease: nothing changes
    assert {r["status"] for r in box.rows()} == {"pending"}
    box.finish(mine, "one", DELIVERED, code=204)
    assert box.claim("e1", first.id, "two", now + 60, 30) is None  # delivered: never again
    assert box.prune(time.time() + 1) == 1  # the delivered one; the pending one stays
    assert [r["post_id"] for r in box.rows()] == ["a1"]
    box.close()
