"""Graph behaviours a new account's Instagram shows beyond the usual error bodies, over
HTTP against the Graph emulator (docs/publish-protocol.md, "What each fault does"):
errors that come with the post published all the same, a container that is gone, usage
headers at 100 %, and answers that are not Graph's (HTML, empty, a redirect). Each test
here failed on the code before its fix (a double post, an account stuck uncertain, a
silent 15-minute sleep before every call, a ValueError, a message quoting markup)."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import httpx
import pytest

from fixtures.graph_emulator import GraphEmulator
from igpreflight.publish.graph.client import GraphClient
from igpreflight.publish.graph.errors import GraphError

pytest.register_assert_rewrite("publish_support")

from publish_support import (  # noqa: E402
    FAKE_TOKEN,
    TEST_SETTINGS,
    EmuClock,
    image_post,
    make_publisher,
    story_post,
)

pytest_plugins = ("publish_support",)

SETTLE = replace(TEST_SETTINGS, settle_window=20.0)


def captionless(media, pid: str):
    return replace(image_post(media, pid), caption=None)


def quiet(emu: GraphEmulator, timeout: float = 20.0) -> None:
    """Until no media_publish is being carried out by the emulator (background ones too)."""
    deadline = time.time() + timeout
    time.sleep(0.2)
    while any(c.publishing for c in emu.store.containers.values()) and time.time() < deadline:
        time.sleep(0.05)


def shown(emu: GraphEmulator) -> dict[str, int]:
    """Posts Instagram shows, per post (a double post counts 2)."""
    out: dict[str, int] = {}
    for p in emu.published:
        key = f"{p['media_type']}:{p['caption'] or p['params'].get('image_url')}"
        out[key] = out.get(key, 0) + 1
    return out


# ---- errors that come with the post published all the same ----------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error", "code": 2, "http_status": 400, "is_transient": True},
        {"kind": "server_error"},  # -1/2207001
        {"kind": "error", "code": 1, "http_status": 200, "message": "An unknown error occurred"},
    ],
    ids=["code2-in-a-400", "2207001", "error-body-in-a-200"],
)
def test_an_unknown_outcome_error_on_media_publish_is_settled_never_published_twice(
    emu, media, tmp_path, fault
):
    """Instagram answers "unexpected error" and publishes anyway, a second later. It was
    taken for a refusal: the same media_publish again, 2207006 (still publishing), a new
    container: the story, the caption-less image and the captioned image, each twice."""
    emu.publish_delay = 1.0  # real seconds, in the background after the answer
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=SETTLE)
    posts = [story_post(media, "s", "feed.jpg"), captionless(media, "bare"), image_post(media, "c")]
    for _ in posts:
        emu.inject("media_publish", fault["kind"], carry_out="background", **{
            k: v for k, v in fault.items() if k != "kind"
        })  # fmt: skip
    outs = pub.run(posts)
    quiet(emu)
    if any(o.status != "published" for o in outs):  # Instagram outlasted the settle window
        assert {o.status for o in outs} <= {"published", "uncertain", "queued"}
        outs = pub.run(posts)  # the next run settles them
    quiet(emu)
    assert [o.status for o in outs] == ["published"] * 3, [o.message for o in outs]
    assert len(emu.published) == 3, shown(emu)
    assert len(emu.calls("POST", "/media")) == 3  # never a second container


# ---- a container that is gone ----------------------------------------------------------


class GoneAfterPublish(EmuClock):
    """Once a media_publish went out, its container is gone: reading it answers 100/33
    ("Unsupported get request": the object does not exist), for good."""

    done = False

    def sleep(self, seconds: float) -> None:
        sent = self.emu.calls("POST", "/media_publish")
        if not self.done and sent:
            self.done = True
            del self.emu.store.containers[sent[0]["params"]["creation_id"]]
        super().sleep(seconds)


def test_an_uncertain_post_whose_container_is_gone_is_published_once_with_a_new_one(
    emu, media, tmp_path
):
    """media_publish's request is lost (nothing published), then its container is gone.
    The post stayed uncertain on every run, and every post of the account after it
    waited behind it for ever. Past the settle window a gone container is dead."""
    clock = GoneAfterPublish(emu)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=SETTLE, clock=clock)
    emu.inject("media_publish", "drop")
    posts = [captionless(media, "bare"), image_post(media, "after")]
    outs = pub.run(posts)
    if any(o.status != "published" for o in outs):
        outs = pub.run(posts)
    assert [o.status for o in outs] == ["published", "published"], [o.message for o in outs]
    assert sorted(shown(emu).values()) == [1, 1], shown(emu)
    assert len(emu.calls("POST", "/media")) == 3  # the gone one, its successor, "after"


def test_a_container_gone_while_processing_is_made_again(emu, media, tmp_path):
    emu.inject("status", "error", code=100, subcode=33, message="Unsupported get request.")
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([image_post(media, "a")])
    assert out.status == "published", out.message
    assert len(emu.calls("POST", "/media")) == 2 and len(emu.published) == 1


# ---- usage headers at 100 % ------------------------------------------------------------


def test_usage_headers_asking_for_longer_than_max_rate_wait_hold_without_a_call(
    emu, media, tmp_path
):
    """X-Business-Use-Case-Usage at 100 % with 30 minutes to regain access on a
    successful answer: the publisher slept --max-rate-wait (15 min), silently, before
    every call. Now the post is held without that call, and the message says why."""
    emu.set_usage(100, regain_minutes=30)
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    posts = [image_post(media, "a"), image_post(media, "b")]
    outs = pub.run(posts)
    assert [o.status for o in outs] == ["queued", "queued"], [o.message for o in outs]
    assert "usage headers at 100 %" in (outs[0].message or "")
    assert "about 30 min to regain access" in (outs[0].message or "")
    # Each post asks Graph at most once (the first answer with the headers is the quota
    # read; a post running ahead makes one call and hears the same); none publishes.
    assert emu.calls("POST", "/media_publish") == [] and emu.published == []
    assert len(emu.requests) <= 1 + len(posts)
    assert max(clock.sleeps, default=0) < TEST_SETTINGS.rate_wait_max
    emu.set_usage(1)  # access regained
    assert [o.status for o in pub.run(posts)] == ["published", "published"]
    assert len(emu.published) == 2


# ---- answers that are not Graph's ------------------------------------------------------


@pytest.fixture
def client(emu):
    with GraphClient(FAKE_TOKEN, base_url=emu.url, timeout=5.0) as c:
        yield c


def failure(fn) -> GraphError:
    with pytest.raises(GraphError) as info:
        fn()
    return info.value


@pytest.mark.parametrize(
    ("kind", "options", "status", "says"),
    [
        ("html_200", {}, 200, "an HTML page, not a Graph answer: Sorry, something went wrong."),
        ("empty_200", {}, 200, "an empty answer"),
        ("edge_html", {"http_status": 504}, 504, "an HTML page, not a Graph answer: 504 Gateway"),
        ("edge_html", {"http_status": 502}, 502, "an HTML page, not a Graph answer: 502 Gateway"),
        ("body", {"body": "[1, 2"}, 200, "not a Graph answer: [1, 2"),
    ],
)
def test_an_answer_that_is_not_graphs_is_uncertain_and_says_what_it_was(
    emu, client, kind, options, status, says
):
    emu.inject("media_publish", kind, **options)
    err = failure(lambda: client.publish(emu.user_id, "1790"))
    assert err.uncertain and err.http_status == status
    assert str(err) == f"HTTP {status}: {says}" or str(err).startswith(f"HTTP {status}: {says}")
    assert "<" not in str(err) and "HTTP 5" not in err.message  # no markup, no repeated status


def test_a_redirect_is_never_followed_and_names_where_it_pointed(emu, client):
    emu.inject("status", "redirect", http_status=301, location="https://graph.example/v1/x")
    err = failure(lambda: client.container_status("1790"))
    assert err.http_status == 301 and err.uncertain
    assert "redirected to https://graph.example/v1/x (not followed" in err.message
    assert len(emu.requests) == 1  # the token went nowhere else


def test_an_error_body_in_a_200_is_a_graph_error(emu, client):
    body = {"error": {"code": 2, "message": "Service temporarily unavailable"}}
    emu.inject("media_publish", "body", body=json.dumps(body))
    err = failure(lambda: client.publish(emu.user_id, "1790"))
    assert (err.http_status, err.code) == (200, 2)


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"data": [{"quota_usage": 3, "config": {}}]},
        {"data": [{"quota_usage": "x", "config": {"quota_total": "fifty"}}]},
        [],
    ],
    ids=["empty-data", "no-quota-total", "not-numbers", "a-list"],
)
def test_a_quota_read_without_numbers_is_unreadable_not_an_error(emu, client, body):
    emu.inject("limit", "body", body=json.dumps(body))
    assert client.publishing_limit(emu.user_id) is None


def test_the_emulators_odd_replies_are_carried_out_only_when_asked(emu, media):
    """fixtures/graph_emulator: an odd reply does nothing unless carry_out says so;
    "background" answers first and publishes after (publish_delay)."""
    auth = {"Authorization": f"Bearer {emu.token}"}
    with httpx.Client(base_url=emu.url, headers=auth) as h:
        made = h.post(f"/{emu.user_id}/media", data={"image_url": media.url_for("feed.jpg")})
        cid = made.json()["id"]
        for _ in range(200):
            emu.advance(1)
            if h.get(f"/{cid}", params={"fields": "status_code"}).json()["status_code"] != "IN_PROGRESS":  # fmt: skip
                break
            time.sleep(0.02)
        publish = {"creation_id": cid}
        emu.inject("media_publish", "html_200")
        r = h.post(f"/{emu.user_id}/media_publish", data=publish)
        assert r.status_code == 200 and r.headers["content-type"] == "text/html"
        assert emu.published == []
        emu.publish_delay = 0.3
        emu.inject("media_publish", "error", code=2, http_status=400, carry_out="background")
        emu.publish_gate.clear()  # it lands once let go, not 0.3 s after, however slow we are
        try:
            r = h.post(f"/{emu.user_id}/media_publish", data=publish)
            assert r.status_code == 400 and emu.published == []  # answered before it lands
        finally:
            emu.publish_gate.set()
        quiet(emu)
        assert len(emu.published) == 1
