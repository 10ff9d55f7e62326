"""POST/GET/DELETE /v1/posts on a real service (uvicorn on loopback), the Graph emulator
over HTTP and DBOS on SQLite: idempotency, tenants, cancel, a post published."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import Any

import pytest
from durable_support import TOK_A, TOK_B, A, B
from PIL import Image
from posts_support import KEY_A, KEY_ALL, KEY_B, post_body, posts_settings, wait_state
from serve_support import running

from fixtures.graph_emulator import GraphEmulator, MediaServer

FUTURE = "2099-01-01T12:00:00Z"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Any:
    d = tmp_path_factory.mktemp("posts-media")
    Image.new("RGB", (1080, 1350), (200, 120, 40)).save(d / "feed.jpg", quality=80)
    Image.new("RGB", (400, 1200), (90, 90, 90)).save(d / "tall.jpg", quality=80)
    with MediaServer(d) as ms:
        yield ms


@pytest.fixture
def emu() -> Any:
    with GraphEmulator(accounts={A: TOK_A, B: TOK_B}, container_delay=0.05) as e:
        yield e


@pytest.fixture
def svc(tmp_path: Path, emu: GraphEmulator, monkeypatch: Any) -> Any:
    with running(posts_settings(tmp_path, emu, monkeypatch)) as s:
        yield s


def _post(client: Any, body: dict[str, Any], key: str | None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/v1/posts", json=body, headers=headers)


def _publishes(emu: GraphEmulator) -> list[dict[str, Any]]:
    return emu.calls("POST", "/media_publish")


def test_a_post_is_published_once_through_the_emulator(svc, emu, media) -> None:
    with svc.client(KEY_A) as c:
        body = post_body(media.url_for("feed.jpg"), "hello from serve")
        made = _post(c, body, "k-1")
        assert made.status_code == 201, made.text
        post = made.json()
        assert made.headers["location"] == f"/v1/posts/{post['id']}"
        assert post["account"] == "brand-a"
        assert post["state"] in ("queued", "creating", "processing")
        done = wait_state(c, post["id"], ("published", "failed", "held", "uncertain"))
        assert done["state"] == "published", done
        assert done["media_id"] and done["attempts"] == 1 and done["error"] is None
        again = _post(c, body, "k-1")  # a retry after publishing: the same post
        assert again.status_code == 200 and again.json()["id"] == post["id"]
        listed = c.get("/v1/posts", params={"state": "published"}).json()["posts"]
        assert [p["id"] for p in listed] == [post["id"]]
    assert [p["caption"] for p in emu.published] == ["hello from serve"]


def test_idempotency_key_required_and_bound_to_the_body(svc, emu, media) -> None:
    body = post_body(media.url_for("feed.jpg"), "once", publish_at=FUTURE)
    with svc.client(KEY_A) as c:
        missing = _post(c, body, None)
        assert missing.status_code == 400
        assert missing.headers["content-type"] == "application/problem+json"
        assert "Idempotency-Key" in missing.json()["detail"]
        first = _post(c, body, "same")
        assert first.status_code == 201, first.text
        assert first.json()["state"] == "scheduled"
        second = _post(c, {**body}, "same")
        assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
        other = _post(c, {**body, "caption": "another"}, "same")
        assert other.status_code == 409
        assert other.json()["type"].endswith("idempotency-conflict")
        assert len(c.get("/v1/posts").json()["posts"]) == 1
    with svc.client(KEY_ALL) as c:  # keys are per API key: another key's "same" is its own
        mine = _post(c, body, "same")
        assert mine.status_code == 201 and mine.json()["id"] != first.json()["id"]


def test_a_key_claimed_by_a_request_that_died_before_enqueueing_is_taken_over(
    svc, emu, media
) -> None:
    """A process killed between claiming an Idempotency-Key and enqueueing leaves a
    claim no post came of; a refused post releases its key, a killed one cannot. After
    an hour (longer than any request) the key is free for another body; before that,
    or once a post exists, it is still 409."""
    import sqlite3

    from igpreflight.serve.idempotency import TABLE
    from igpreflight.serve.posts import post_id_for

    def claim(idem: str, age: float) -> None:
        with sqlite3.connect(svc.settings.db) as conn:
            conn.execute(
                f"INSERT INTO {TABLE} (key_name, idem_key, body, account, post_id, created)"
                " VALUES ('a', ?, ?, 'brand-a', ?, ?)",
                (idem, "0" * 64, post_id_for("a", idem), time.time() - age),
            )

    body = post_body(media.url_for("feed.jpg"), "after a crash", publish_at=FUTURE)
    with svc.client(KEY_A) as c:
        assert _post(c, body, "warm-up").status_code == 201  # the table exists
        claim("crashed", age=7200)
        taken = _post(c, body, "crashed")
        assert taken.status_code == 201, taken.text
        assert taken.json()["id"] == post_id_for("a", "crashed")
        claim("in-flight", age=10)  # a request may still be at work on it
        assert _post(c, body, "in-flight").status_code == 409
        with sqlite3.connect(svc.settings.db) as conn:  # an old claim that made its post
            conn.execute(f"UPDATE {TABLE} SET created = created - 7200 WHERE idem_key = 'crashed'")
        again = _post(c, {**body, "caption": "another"}, "crashed")
        assert again.status_code == 409, again.text


def test_concurrent_identical_requests_make_one_post(svc, emu, media) -> None:
    body = post_body(media.url_for("feed.jpg"), "raced")
    with svc.client(KEY_A) as c:

        def send(_: int) -> Any:
            return _post(c, body, "race-key")

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, range(8)))
        assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers]
        assert [a.status_code for a in answers].count(201) <= 1
        ids = {a.json()["id"] for a in answers}
        assert len(ids) == 1
        done = wait_state(c, ids.pop(), ("published", "failed"))
        assert done["state"] == "published"
        assert len(c.get("/v1/posts").json()["posts"]) == 1
    assert [p["caption"] for p in emu.published] == ["raced"]


def test_a_refused_post_is_422_with_findings_and_the_key_stays_free(svc, emu, media) -> None:
    with svc.client(KEY_A) as c:
        bad = _post(c, post_body(media.url_for("tall.jpg"), "too tall"), "k-fix")
        assert bad.status_code == 422, bad.text
        problem = bad.json()
        assert problem["type"].endswith("preflight-refused") and problem["valid"] is False
        assert {f["rule"] for f in problem["errors"]} and problem["errors"][0]["item"] == 0
        assert c.get("/v1/posts").json()["posts"] == []
        good = _post(c, post_body(media.url_for("feed.jpg"), "fixed"), "k-fix")
        assert good.status_code == 201, good.text
        wait_state(c, good.json()["id"], ("published",))
    assert _publishes(emu) and [p["caption"] for p in emu.published] == ["fixed"]


def test_a_media_id_needs_a_bucket(svc, media, tmp_path) -> None:
    Image.new("RGB", (1080, 1080), (1, 2, 3)).save(tmp_path / "sq.jpg")
    with svc.client(KEY_A) as c:
        up = c.post("/v1/media", files={"file": ("sq.jpg", (tmp_path / "sq.jpg").read_bytes())})
        assert up.status_code == 201
        answer = _post(c, post_body(up.json()["id"], "stored"), "k-media")
        assert answer.status_code == 422
        assert answer.json()["type"].endswith("no-bucket") and "--bucket" in answer.json()["detail"]


def test_every_posts_endpoint_keeps_tenants_apart(svc, emu, media) -> None:
    body = post_body(media.url_for("feed.jpg"), "brand a's", publish_at=FUTURE)
    with svc.client(KEY_A) as a, svc.client(KEY_B) as b, svc.client(KEY_ALL) as ops:
        post = _post(a, body, "t-1").json()
        # B cannot enqueue for A, see, list or cancel A's post.
        forbidden = _post(b, body, "t-1")
        assert forbidden.status_code == 403
        assert forbidden.json()["type"].endswith("account-forbidden")
        assert b.get(f"/v1/posts/{post['id']}").status_code == 404
        assert b.delete(f"/v1/posts/{post['id']}").status_code == 404
        assert b.get("/v1/posts").json()["posts"] == []
        assert a.get(f"/v1/posts/{post['id']}").json()["state"] == "scheduled"
        # Unknown accounts and keys.
        unknown = _post(ops, {**body, "account": "brand-z"}, "t-2")
        assert unknown.status_code in (403, 422)
        assert svc.client("not-a-key-0123456789").get("/v1/posts").status_code == 401
        # A key for every account sees it.
        assert [p["id"] for p in ops.get("/v1/posts").json()["posts"]] == [post["id"]]
        assert ops.get(f"/v1/posts/{post['id']}").status_code == 200


def test_cancel_a_scheduled_post(svc, emu, media) -> None:
    body = post_body(media.url_for("feed.jpg"), "never", publish_at=FUTURE)
    with svc.client(KEY_A) as c:
        post = _post(c, body, "c-1").json()
        assert post["state"] == "scheduled"
        gone = c.delete(f"/v1/posts/{post['id']}")
        assert gone.status_code == 200, gone.text
        assert gone.json()["state"] == "cancelled"
        shown = c.get(f"/v1/posts/{post['id']}").json()
        assert shown["state"] == "cancelled"
        assert shown["error"] is None and shown["error_class"] is None  # asked for, no error
        assert c.delete(f"/v1/posts/{post['id']}").json()["state"] == "cancelled"  # again: same
        retry = _post(c, body, "c-1")  # its key still names it: never a second post
        assert retry.status_code == 200 and retry.json()["state"] == "cancelled"
    assert emu.calls("POST", "/media") == [] and _publishes(emu) == []


def test_cancel_after_the_worker_took_the_post_stops_it_before_media_publish(
    svc, emu, media
) -> None:
    # Instagram takes its time: the post waits in processing until the cancel is in (a
    # fixed delay could run out first on a loaded machine and the post be published).
    emu.container_delay = 10_000
    with svc.client(KEY_A) as c:
        post = _post(c, post_body(media.url_for("feed.jpg"), "stopped"), "c-2").json()
        wait_state(c, post["id"], ("processing",))
        gone = c.delete(f"/v1/posts/{post['id']}")
        assert gone.status_code == 200, gone.text
        assert gone.json()["state"] == "cancelled"
        # The container finishes; the worker's next step sees the cancel and stops.
        emu.container_delay = 0.05
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
            x["status_code"] != "FINISHED" for x in emu.containers
        ):
            time.sleep(0.1)
        time.sleep(2.0)  # several of the worker's steps after it
        assert c.get(f"/v1/posts/{post['id']}").json()["state"] == "cancelled"
    assert _publishes(emu) == [] and emu.published == []


def test_a_published_post_cannot_be_cancelled(svc, emu, media) -> None:
    with svc.client(KEY_A) as c:
        post = _post(c, post_body(media.url_for("feed.jpg"), "too late"), "c-3").json()
        wait_state(c, post["id"], ("published",))
        late = c.delete(f"/v1/posts/{post['id']}")
        assert late.status_code == 409
        assert late.json()["state"] == "published"
        assert c.get(f"/v1/posts/{post['id']}").json()["state"] == "published"
    assert [p["caption"] for p in emu.published] == ["too late"]


def test_metrics_count_posts_and_jobs_by_state(svc, emu, media) -> None:
    with svc.client(KEY_A) as c:
        sent = _post(c, post_body(media.url_for("feed.jpg"), "counted"), "m-1").json()
        _post(c, post_body(media.url_for("feed.jpg"), "later", publish_at=FUTURE), "m-2")
        wait_state(c, sent["id"], ("published",))
        page = c.get("/metrics").text
    assert 'igpreflight_posts{state="published"} 1.0' in page
    assert 'igpreflight_posts{state="scheduled"} 1.0' in page
    assert 'igpreflight_posts{state="failed"} 0.0' in page
    assert 'igpreflight_jobs{state="queued"} 0.0' in page
    assert TOK_A not in page and KEY_A not in page


def test_a_database_that_is_down_is_a_503_never_a_500(tmp_path, emu, media, monkeypatch) -> None:
    db = "postgresql://nobody:hunter2-secret@127.0.0.1:1/none"
    settings = posts_settings(tmp_path, emu, monkeypatch, db=db)
    with running(settings) as down, down.client(KEY_A) as c:
        answers = [
            _post(c, post_body(media.url_for("feed.jpg"), "x"), "d-1"),
            c.get("/v1/posts"),
            c.get("/v1/posts/p_AAAAAAAAAAAAAAAAAAAAAA"),
            c.delete("/v1/posts/p_AAAAAAAAAAAAAAAAAAAAAA"),
            c.get("/v1/jobs/j_AAAAAAAAAAAAAAAAAAAAAA"),
        ]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["type"].endswith("database-unavailable")
        assert "hunter2" not in answer.text


def test_a_sqlite_database_that_cannot_be_opened_is_said_once(
    tmp_path, emu, media, monkeypatch
) -> None:
    """The trial's --db on a read-only disk answered 'cannot open the publish database
    X: cannot open the publish database X: unable to open database file': a layer
    described the fault line another layer had already made."""
    blocked = tmp_path / "publish.sqlite"
    blocked.mkdir()  # a folder where the database file should be: SQLite cannot open it
    settings = posts_settings(tmp_path, emu, monkeypatch, db=str(blocked))
    with running(settings) as down, down.client(KEY_A) as c:
        answers = [
            _post(c, post_body(media.url_for("feed.jpg"), "x"), "o-1"),
            c.get("/v1/posts"),
        ]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        detail = answer.json()["detail"]
        assert detail.count("publish database") == 1, detail
        assert detail.endswith(": unable to open database file"), detail


def test_a_cancelled_held_post_taken_up_again_stops_before_media_publish(svc, emu, media):
    """The worker's own gate (not DBOS's cancel): a held post's attempt has ended, so a
    cancel only claims it; when a worker takes it up again, the new attempt goes as far
    as the quota read and stops at the claim, before media_publish."""
    from igpreflight.publish.durable.plan import db_url
    from igpreflight.publish.durable.queue import Enqueuer

    emu.set_quota(50, total=50, user_id=A)  # used up: the post is held
    with svc.client(KEY_A) as c:
        post = _post(c, post_body(media.url_for("feed.jpg"), "held then cancelled"), "h-1")
        post = wait_state(c, post.json()["id"], ("held",))
        assert post["until"] and post["error_class"]
        assert c.delete(f"/v1/posts/{post['id']}").json()["state"] == "cancelled"
        emu.set_quota(0, total=50, user_id=A)  # the quota is back
        with Enqueuer(db_url(svc.settings.db)) as q:
            [wid] = q.taken_up(due_only=False)  # what a worker does with held posts
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                [w] = q.client.list_workflows(workflow_ids=[wid], load_input=False)
                if w.status == "CANCELLED":
                    break
                time.sleep(0.1)
            assert w.status == "CANCELLED"
        assert c.get(f"/v1/posts/{post['id']}").json()["state"] == "cancelled"
    assert emu.calls("GET", "/content_publishing_limit")  # it went as far as the gate
    assert _publishes(emu) == [] and emu.published == []
