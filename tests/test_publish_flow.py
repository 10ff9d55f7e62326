"""Publishing on the durable engine (DBOS on SQLite, in this process, on the emulator's
virtual clock) against the Graph emulator over HTTP: every media type, every error
class, the calls made (from the emulator's request log) and the outcome."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from fixtures.graph_emulator import MediaServer
from igpreflight.model import MediaItem, Post
from igpreflight.preflight.manifest import parse_rfc3339
from igpreflight.publish.settings import PublishSettings

pytest.register_assert_rewrite("publish_support")

from publish_support import (  # noqa: E402
    FAKE_TOKEN,
    TEST_SETTINGS,
    EmuClock,
    carousel_post,
    endpoints,
    image_post,
    item,
    make_publisher,
    published_captions,
    reel_post,
    story_post,
)

pytest_plugins = ("publish_support",)


def media_calls(emu):
    return [r for r in emu.requests if r["endpoint"] == "media"]


# ---- each media type -------------------------------------------------------------------


def test_image_post_creates_polls_publishes(emu, media, tmp_path):
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([image_post(media, "img", alt_text="a bird", location_id="123")])
    assert out.status == "published" and out.media_id == emu.published[0]["media_id"]
    assert out.media_id_source == "media_publish"
    eps = endpoints(emu)
    assert eps[0] == "limit" and eps[1] == "media" and eps[-1] == "media_publish"
    assert set(eps[2:-1]) == {"status"}
    create = media_calls(emu)[0]["params"]
    assert create["image_url"].endswith("/feed.jpg")
    assert "media_type" not in create
    assert create["caption"] == "caption img" and create["alt_text"] == "a bird"
    assert create["location_id"] == "123"
    # a first wait before the first poll, never a tight loop
    assert clock.sleeps and clock.sleeps[0] >= 2.0
    row = pub.state("img")
    assert row["state"] == "published" and row["media_id"] == out.media_id


def test_reel_sends_video_params(emu, media, tmp_path):
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    post = reel_post(
        media, "reel", share_to_feed=True, thumb_offset=1000, collaborators=("friend",)
    )
    [out] = pub.run([post])
    assert out.status == "published"
    p = media_calls(emu)[0]["params"]
    assert p["media_type"] == "REELS" and p["video_url"].endswith("/reel.mp4")
    assert p["share_to_feed"] == "true" and p["thumb_offset"] == "1000"
    assert json.loads(p["collaborators"]) == ["friend"]
    assert emu.published[0]["media_type"] == "REELS"
    # video: the first wait is longer than an image's
    assert clock.sleeps[0] >= 8.0


def test_stories_are_published_one_by_one_in_order(emu, media, tmp_path):
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    posts = [
        story_post(media, "s1", "feed.jpg"),
        story_post(media, "s2"),
        story_post(media, "s3", "tall.jpg"),
    ]
    outs = pub.run(posts)
    assert [o.status for o in outs] == ["published"] * 3
    # containers are made ahead, but published strictly in order, each once
    assert [p["container_id"] for p in emu.published] == [o.container_id for o in outs]
    assert len(emu.calls("POST", "/media_publish")) == 3
    creates = sorted(media_calls(emu), key=lambda c: "caption" in c["params"])
    assert all(c["params"]["media_type"] == "STORIES" for c in creates)
    assert all("caption" not in c["params"] for c in creates)


def test_carousel_with_video_child(emu, media, tmp_path):
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([carousel_post(media, "car")])
    assert out.status == "published"
    creates = media_calls(emu)
    children, parent = creates[:3], creates[3]
    assert all(c["params"]["is_carousel_item"] == "true" for c in children)
    assert children[1]["params"]["media_type"] == "VIDEO" and "video_url" in children[1]["params"]
    assert "media_type" not in children[0]["params"]
    assert all("caption" not in c["params"] for c in children)
    assert json.loads(children[0]["params"]["user_tags"]) == [
        {"username": "ana", "x": 0.5, "y": 0.5}
    ]
    child_ids = [c["response"]["id"] for c in children]
    assert parent["params"]["media_type"] == "CAROUSEL"
    assert parent["params"]["children"] == ",".join(child_ids)
    assert parent["params"]["caption"] == "caption car"
    # the parent is created only after every child reported FINISHED
    parent_at = emu.requests.index(parent)
    finished = {
        r["path"].rsplit("/", 1)[-1]
        for r in emu.requests[:parent_at]
        if r["endpoint"] == "status" and r["response"].get("status_code") == "FINISHED"
    }
    assert finished == set(child_ids)
    assert emu.published[0]["children"] == child_ids


def test_resumable_upload_of_a_local_video(emu, media_dir, tmp_path):
    local = media_dir / "reel.mp4"
    post = Post(
        id="r",
        media_type="REELS",
        media=(MediaItem(path="reel.mp4", resolved=str(local)),),
        caption="up",
    )
    pub, _ = make_publisher(
        emu, tmp_path / "j.sqlite", settings=replace(TEST_SETTINGS, resumable=True)
    )
    [out] = pub.run([post])
    assert out.status == "published"
    create = media_calls(emu)[0]
    assert create["params"]["upload_type"] == "resumable" and "video_url" not in create["params"]
    [upload] = [r for r in emu.requests if r["endpoint"] == "upload"]
    assert upload["headers"]["offset"] == "0"
    assert upload["headers"]["file_size"] == str(local.stat().st_size)
    assert upload["body_size"] == local.stat().st_size
    assert endpoints(emu).index("upload") < endpoints(emu).index("status")


# ---- retry-same ------------------------------------------------------------------------


def test_a_post_failing_early_does_not_let_the_next_one_jump_the_queue(
    emu, media, media_dir, tmp_path
):
    # b fails at once (1:3 image) while a's media is still being fetched (slow host):
    # c must still wait for a, not only for b.
    with MediaServer(media_dir, delay=2.0) as slow:
        pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
        posts = [image_post(slow, "a"), image_post(media, "b", "tall.jpg"), image_post(media, "c")]
        outs = pub.run(posts)
    assert [o.status for o in outs] == ["published", "failed", "published"]
    assert published_captions(emu) == ["caption a", "caption c"]


def test_transient_errors_retry_the_same_call(emu, media, tmp_path):
    emu.inject("media", "transient")  # code 2, is_transient
    emu.inject("status", "http_500")
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "published"
    assert len(media_calls(emu)) == 2  # the failed creation, then the same call again
    assert len(emu.calls("POST", "/media_publish")) == 1


def test_not_ready_on_publish_waits_and_publishes_once(emu, media, tmp_path):
    emu.inject("media_publish", "not_ready")  # 9007/2207027
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "published"
    pubs = emu.calls("POST", "/media_publish")
    assert len(pubs) == 2 and pubs[0]["fault"] == "not_ready"
    # between the two, the container's status was read (never publish blind twice)
    between = emu.requests[emu.requests.index(pubs[0]) + 1 : emu.requests.index(pubs[1])]
    assert [r["endpoint"] for r in between] == ["status"]
    assert len(emu.published) == 1


def test_builder_expired_retries_then_recreates(emu, media, tmp_path):
    emu.inject("media_publish", "builder_expired", times=3)  # 24/2207008
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "published"
    pubs = emu.calls("POST", "/media_publish")
    assert [p["fault"] for p in pubs] == ["builder_expired"] * 3 + [None]
    assert len(media_calls(emu)) == 2  # tried twice more, then a new container
    assert pubs[-1]["params"]["creation_id"] == media_calls(emu)[1]["response"]["id"]


def test_lost_publish_response_is_not_repeated(emu, media, tmp_path):
    emu.inject("media_publish", "lost_response")  # carried out, connection closed
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "published", out.message
    assert len(emu.calls("POST", "/media_publish")) == 1
    assert len(emu.published) == 1
    # settled by its container (PUBLISHED); the id Graph did not return is read from
    # the account's media (its caption and type, published since)
    assert out.media_id == emu.published[0]["media_id"] and out.media_id_source == "container"
    assert out.container_id == emu.published[0]["container_id"]
    assert pub.state("img")["state"] == "published"


def test_502_after_publish_is_settled_by_status(emu, media, tmp_path):
    emu.inject("media_publish", "lost_502")
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([reel_post(media, "r")])
    assert out.status == "published" and len(emu.published) == 1
    assert len(emu.calls("POST", "/media_publish")) == 1


def test_retry_same_is_bounded(emu, media, tmp_path):
    emu.inject("media", "http_500", times=10)
    settings = replace(TEST_SETTINGS, retry_attempts=3)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=settings)
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "failed" and out.error_class == "retry-same"
    assert len(media_calls(emu)) == 3


# ---- recreate-container ----------------------------------------------------------------


def test_carousel_second_child_failing_recreates_only_that_child(emu, media, tmp_path):
    emu.fail_container(nth=2, subcode=2207053)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([carousel_post(media, "car")])
    assert out.status == "published"
    creates = media_calls(emu)
    urls = [c["params"].get("image_url") or c["params"].get("video_url") for c in creates]
    names = [u.rsplit("/", 1)[-1] if u else "PARENT" for u in urls]
    assert names == ["feed.jpg", "square.mp4", "square.jpg", "square.mp4", "PARENT"]
    ids = [c["response"]["id"] for c in creates]
    assert creates[-1]["params"]["children"] == ",".join([ids[0], ids[3], ids[2]])
    assert len(emu.published) == 1 and ids[1] not in emu.published[0]["children"]


def test_expired_container_is_recreated(emu, media, tmp_path):
    emu.inject("media_publish", "expired")  # -2/2207020
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "published"
    assert len(media_calls(emu)) == 2
    assert emu.published[0]["container_id"] == media_calls(emu)[1]["response"]["id"]


def test_a_failed_post_is_a_new_attempt_with_a_fresh_container_on_rerun(emu, media, tmp_path):
    emu.inject("media_publish", "token_expired")  # stops the first run before publishing
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    [first] = pub.run([image_post(media, "img")])
    assert first.status == "failed" and first.error_class == "reconnect-auth"
    old = media_calls(emu)[0]["response"]["id"]
    clock.advance(25 * 3600)  # the old container has expired meanwhile
    [again] = pub.run([image_post(media, "img")])
    assert again.status == "published" and not again.already
    assert pub.state("img")["attempt"] == 2
    creates = media_calls(emu)
    assert (
        len(creates) == 2
        and emu.published[0]["container_id"] == creates[1]["response"]["id"] != old
    )
    assert [p["params"]["creation_id"] for p in emu.calls("POST", "/media_publish")] == [
        old,
        creates[1]["response"]["id"],
    ]
    # a third run finds it published: nothing is sent
    n = len(emu.requests)
    [third] = pub.run([image_post(media, "img")])
    assert third.already and len(emu.requests) == n


# ---- wait-quota ------------------------------------------------------------------------


def test_rate_limit_613_waits_for_the_usage_headers(emu, media, tmp_path):
    emu.inject("media_publish", "rate_limit_613", regain_minutes=2)
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "published"
    # estimated_time_to_regain_access, honoured exactly, once
    assert [s for s in clock.sleeps if s >= 60] == [120.0]
    assert len(emu.published) == 1


def test_rate_limit_4_on_creation_waits_then_succeeds(emu, media, tmp_path):
    emu.inject("media", "rate_limit_app")
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "published"
    assert len(media_calls(emu)) == 2
    assert any(s >= 60 for s in clock.sleeps)


def test_rate_limit_too_long_holds_the_post_and_the_ones_after_it(emu, media, tmp_path):
    emu.inject("media", "rate_limit_buc", regain_minutes=120)
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite", ahead=0)
    outs = pub.run([image_post(media, "a"), image_post(media, "b")])
    assert [o.status for o in outs] == ["queued", "queued"]  # held: a later run goes on
    assert outs[0].error_class == "wait-quota" and "regain access" in outs[0].message
    assert pub.state("a")["state"] == "held" and pub.state("a")["until"]
    assert pub.state("b")["state"] == "held" and "after a" in outs[1].message
    assert len(media_calls(emu)) == 1 and not any(s >= 3600 for s in clock.sleeps)
    assert emu.published == []


def test_quota_exhaustion_queues_the_rest_and_a_later_run_finishes(emu, media, tmp_path):
    emu.set_quota(48, total=50)
    posts = [image_post(media, f"p{i}") for i in range(4)]
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    outs = pub.run(posts)
    assert [o.status for o in outs] == ["published", "published", "queued", "queued"]
    assert outs[2].rule == "QUOTA001" and outs[2].error_class == "wait-quota"
    assert endpoints(emu)[0] == "limit"  # read once, before any container
    assert len([e for e in endpoints(emu) if e == "limit"]) == 1
    assert len(emu.calls("POST", "/media_publish")) == 2  # none for a held post
    assert [pub.state(f"p{i}")["state"] for i in range(4)] == ["published"] * 2 + ["held"] * 2

    clock.advance(24 * 3600 + 60)  # the window slides: the held posts resume, never twice
    outs2 = pub.run(posts)
    assert [o.status for o in outs2] == ["published"] * 4
    assert [o.already for o in outs2] == [True, True, False, False]
    assert sorted(published_captions(emu)) == [f"caption p{i}" for i in range(4)]


def test_publishing_limit_error_holds_the_rest(emu, media, tmp_path):
    emu.inject("media_publish", "quota")  # 9/2207042
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    outs = pub.run([image_post(media, "a"), image_post(media, "b")])
    assert [o.status for o in outs] == ["queued", "queued"]
    assert outs[0].rule == "QUOTA001"
    assert len(emu.calls("POST", "/media_publish")) == 1 and emu.published == []


def test_unreadable_quota_counts_this_databases_own_publishes(emu, media, tmp_path):
    # content_publishing_limit refused on every read: the limit is assumed (3 here) and
    # what this database published for the account in the last 24 h is counted.
    emu.inject("limit", "error", times=20, code=100, http_status=400, message="no limit")
    settings = replace(TEST_SETTINGS, fallback_quota=3)
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite", settings=settings)
    first = clock.now()
    assert [o.status for o in pub.run([image_post(media, "p0"), image_post(media, "p1")])] == [
        "published"
    ] * 2
    clock.advance(3600)
    posts = [image_post(media, f"p{i}") for i in range(4)]
    outs = pub.run(posts)  # a new run: its count starts from the database, not from 0
    assert [o.status for o in outs] == ["published", "published", "published", "queued"]
    held = pub.state("p3")
    assert held["state"] == "held" and outs[3].rule == "QUOTA001"
    until = parse_rfc3339(held["until"])  # when p0 leaves the window
    assert first + 24 * 3600 - 1 <= until <= first + 24 * 3600 + 60
    assert len(emu.published) == 3

    clock.advance(23 * 3600 + 60)  # p0 and p1 left the window
    assert [o.status for o in pub.run(posts)] == ["published"] * 4
    assert sorted(published_captions(emu)) == [f"caption p{i}" for i in range(4)]


# ---- fix-media -------------------------------------------------------------------------


def test_fix_media_is_not_retried_and_names_the_rule(emu, media, tmp_path):
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    outs = pub.run([image_post(media, "tall", "tall.jpg"), image_post(media, "ok")])
    assert outs[0].status == "failed" and outs[0].error_class == "fix-media"
    assert (outs[0].code, outs[0].subcode, outs[0].rule) == (36003, 2207009, "IMG003")
    assert "IMG003" in outs[0].message
    assert outs[1].status == "published"  # the batch goes on
    tall = [c for c in media_calls(emu) if c["params"]["image_url"].endswith("tall.jpg")]
    assert len(tall) == 1
    assert pub.state("tall")["error"]["rule"] == "IMG003"


def test_fetch_failure_rechecks_the_url_and_retries(emu, media, tmp_path):
    emu.inject("media", "fetch_failed")  # 9004/2207052
    checked = []

    def checker(url, it):
        checked.append(url)
        return True, "ok"

    pub, clock = make_publisher(emu, tmp_path / "j.sqlite", url_checker=checker)
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "published"
    assert len(checked) == 1 and 60.0 in clock.sleeps
    assert len(media_calls(emu)) == 2


def test_fetch_failure_with_a_broken_url_is_fix_media(emu, media, tmp_path):
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", url_checker=lambda u, i: (False, "URL001"))
    [out] = pub.run([image_post(media, "img", "missing.jpg")])
    assert out.status == "failed" and out.error_class == "fix-media"
    assert out.subcode == 2207052 and out.rule == "URL001"
    assert len(media_calls(emu)) == 1


# ---- reconnect-auth ------------------------------------------------------------------


def test_token_expiry_stops_everything_for_the_account(emu, media, tmp_path):
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    posts = [image_post(media, "a"), image_post(media, "b"), image_post(media, "c")]
    first = pub.run(posts[:1])
    emu.revoke_token()
    n = len(emu.requests)
    outs = first + pub.run(posts[1:])
    assert [o.status for o in outs] == ["published", "failed", "failed"]
    assert outs[1].error_class == "reconnect-auth" and outs[1].code == 190
    assert "reconnect" in outs[1].message and FAKE_TOKEN not in outs[1].message
    assert outs[1].message == outs[2].message  # one message for the account
    assert len(emu.requests) == n + 1  # one refused call (the quota read), then nothing


def test_permission_error_is_reconnect_auth(emu, media, tmp_path):
    emu.inject("media", "permission")  # code 10
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", ahead=0)
    outs = pub.run([image_post(media, "a"), image_post(media, "b")])
    assert [o.error_class for o in outs] == ["reconnect-auth", "reconnect-auth"]
    assert len(media_calls(emu)) == 1


# ---- permanent -----------------------------------------------------------------------


def test_spam_block_is_permanent_and_not_retried(emu, media, tmp_path):
    emu.inject("media_publish", "spam")  # 4/2207051: a subcode decides before its code
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    outs = pub.run([image_post(media, "a"), image_post(media, "b")])
    assert outs[0].status == "failed" and outs[0].error_class == "permanent"
    assert (outs[0].code, outs[0].subcode) == (4, 2207051)
    assert not any(s >= 60 for s in clock.sleeps)  # not treated as a rate limit
    assert outs[1].status == "published"
    assert len(emu.calls("POST", "/media_publish")) == 2


def test_restricted_account_is_permanent(emu, media, tmp_path):
    emu.inject("media", "restricted")
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([reel_post(media, "r")])
    assert out.error_class == "permanent" and out.subcode == 2207050


# ---- polling -------------------------------------------------------------------------


def test_give_up_then_rerun_publishes_with_a_new_attempt(emu, media, tmp_path):
    emu.container_delay = 10_000
    settings = PublishSettings(give_up_image=120, jitter=0)
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite", settings=settings)
    [out] = pub.run([image_post(media, "img")])
    assert out.status == "failed" and "run publish again" in out.message
    waits = clock.sleeps[1:]  # after the first wait (sized to the media): backing off
    assert waits == sorted(waits) and max(waits) <= settings.max_wait  # capped backoff
    polls = len(emu.calls("GET"))
    assert polls < 10  # never a tight loop
    emu.container_delay = 0.2
    [again] = pub.run([image_post(media, "img")])
    assert again.status == "published"
    assert len(emu.published) == 1 and len(media_calls(emu)) == 2


def test_published_post_is_never_republished(emu, media, tmp_path):
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    pub.run([image_post(media, "a")])
    n = len(emu.requests)
    [out] = pub.run([image_post(media, "a", "square.jpg")])  # even when changed since
    assert out.status == "published" and out.already
    assert len(emu.published) == 1
    assert emu.requests[n:] == []


def test_changed_post_starts_from_fresh_containers(emu, media, tmp_path):
    emu.inject("media_publish", "token_expired")
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    pub.run([image_post(media, "a")])
    changed = image_post(media, "a", "square.jpg")  # the user fixed the post after it failed
    [out] = pub.run([changed])
    assert out.status == "published"
    assert emu.published[0]["params"]["image_url"].endswith("square.jpg")


def test_database_holds_no_token(emu, media, tmp_path):
    emu.inject("media", "token_expired")
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    pub.run([image_post(media, "a"), image_post(media, "b")])
    files = list(Path(tmp_path).glob("j.sqlite*"))
    assert files
    for f in files:
        assert FAKE_TOKEN.encode() not in f.read_bytes()


def test_media_not_found_recreates_then_repeats_as_reconnect_auth(emu, media, tmp_path):
    emu.inject("media_publish", "media_not_found", times=2)  # 24/2207006
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", ahead=0)
    outs = pub.run([image_post(media, "a"), image_post(media, "b")])
    assert [o.status for o in outs] == ["failed", "failed"]
    assert outs[1].error_class == "reconnect-auth"
    assert outs[0].error_class == "reconnect-auth" and outs[0].subcode == 2207006
    assert len(media_calls(emu)) == 2  # recreated once, then stopped


def test_children_that_expired_under_the_parent_are_recreated(emu, media, tmp_path):
    # the two children are created normally; creating the parent meets a revoked token
    emu.inject("media", "slow", times=2, delay=0)
    emu.inject("media", "token_expired")
    post = carousel_post(media, "car", ("feed.jpg", "square.jpg"))
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    [first] = pub.run([post])
    assert first.status == "failed" and first.error_class == "reconnect-auth"
    old_children = [c["response"]["id"] for c in media_calls(emu)[:2]]
    emu.expire_all()
    [out] = pub.run([post])
    assert out.status == "published"
    published = emu.published[0]
    assert len(published["children"]) == 2
    assert not set(published["children"]) & set(old_children)


class Crash(BaseException):
    """Stands for a kill: DBOS records nothing of a step it cuts (no Exception)."""


class CrashingClock(EmuClock):
    """Dies (Crash) at the publisher's first look at the clock once `when()` holds:
    inside the step that is running then, before its result is recorded."""

    def __init__(self, emu, when) -> None:
        super().__init__(emu)
        self.when = when
        self.crashed: Crash | None = None

    def _maybe_crash(self) -> None:
        if self.crashed is None and self.when():
            self.crashed = Crash()
            raise self.crashed

    def now(self) -> float:
        self._maybe_crash()
        return super().now()

    def sleep(self, seconds: float) -> None:
        self._maybe_crash()
        super().sleep(seconds)


def test_unsettled_publish_is_settled_before_the_quota_check(emu, media, tmp_path):
    emu.inject("media_publish", "lost_response")
    clock = CrashingClock(emu, lambda: len(emu.published) == 1)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", clock=clock)
    with pytest.raises(Crash):  # cut inside the media_publish step, its answer lost
        pub.run([image_post(media, "a")])
    emu.set_quota(50, total=50)  # that post took the last slot of the window
    clock.when, clock.crashed = (lambda: False), None
    outs = pub.run([image_post(media, "a"), image_post(media, "b")])
    assert [o.status for o in outs] == ["published", "queued"]
    assert outs[0].media_id_source == "container" and outs[1].rule == "QUOTA001"
    assert len(emu.published) == 1 and len(emu.calls("POST", "/media_publish")) == 1


def test_reel_cover_and_story_without_reel_params(emu, media, tmp_path):
    reel = reel_post(media, "r", cover=item(media, "feed.jpg"), thumb_offset=500)
    story = Post(
        id="s",
        media_type="STORIES",
        media=(item(media, "reel.mp4"),),
        cover=item(media, "feed.jpg"),
        thumb_offset=500,
        share_to_feed=True,
        caption="ignored",
    )
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    outs = pub.run([reel, story])
    assert [o.status for o in outs] == ["published", "published"]
    [reel_params] = [c["params"] for c in media_calls(emu) if c["params"]["media_type"] == "REELS"]
    [story_params] = [c["params"] for c in media_calls(emu) if c["params"]["media_type"] != "REELS"]
    assert reel_params["cover_url"].endswith("/feed.jpg")
    assert "thumb_offset" not in reel_params  # ignored when a cover is given (SPEC, POST018)
    assert set(story_params) == {"media_type", "video_url"}


# ---- a journal written by an earlier version ------------------------------------------

# The schema version 1 of the hand-made journal wrote (igpreflight/publish/journal.py,
# before the durable engine replaced it), as it was: a journal of that version settles.
JOURNAL_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE posts (
    account TEXT NOT NULL, post_id TEXT NOT NULL, media_type TEXT NOT NULL,
    fingerprint TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, error_class TEXT, error_code INTEGER,
    error_subcode INTEGER, error_message TEXT, error_rule TEXT, media_id TEXT,
    media_id_source TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    published_at REAL, PRIMARY KEY (account, post_id));
CREATE TABLE containers (
    row_id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, post_id TEXT NOT NULL,
    slot INTEGER NOT NULL, role TEXT NOT NULL, container_id TEXT, upload_uri TEXT,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    publish_attempts INTEGER NOT NULL DEFAULT 0, error_class TEXT, error_code INTEGER,
    error_subcode INTEGER, error_message TEXT, media_id TEXT, created_at REAL NOT NULL,
    updated_at REAL NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
"""


def _published_elsewhere(emu, media) -> str:
    """A container an earlier version made and sent media_publish for (answer lost)."""
    import time

    from igpreflight.publish.graph.client import GraphClient

    with GraphClient(FAKE_TOKEN, base_url=emu.url, timeout=10.0) as client:
        cid = client.create_container(emu.user_id, {"image_url": media.url_for("feed.jpg")})["id"]
        for _ in range(50):
            emu.advance(5)
            if client.container_status(cid)[0] == "FINISHED":
                break
            time.sleep(0.05)
        client.publish(emu.user_id, cid)
    return cid


def test_a_journal_of_an_earlier_version_settles_without_publishing_twice(emu, media, tmp_path):
    import sqlite3

    from igpreflight.publish.durable.runs import legacy_reader

    sent = _published_elsewhere(emu, media)
    path = tmp_path / "journal.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(JOURNAL_V1)
        row = "INSERT INTO posts (account, post_id, media_type, fingerprint, seq, status,"
        row += " media_id, created_at, updated_at) VALUES (?, ?, 'IMAGE', 'f', ?, ?, ?, 0, 0)"
        db.execute(row, (emu.user_id, "done", 0, "published", "17900000000000001"))
        db.execute(row, (emu.user_id, "sent", 1, "publishing", None))
        db.execute(
            "INSERT INTO containers (account, post_id, slot, role, container_id, status,"
            " publish_attempts, created_at, updated_at)"
            " VALUES (?, 'sent', -1, 'single', ?, 'FINISHED', 1, 0, 0)",
            (emu.user_id, sent),
        )
    before = len(emu.calls("POST", "/media_publish"))
    pub, _ = make_publisher(emu, tmp_path / "q.sqlite")
    posts = [image_post(media, "done"), image_post(media, "sent"), image_post(media, "new")]
    outs = pub.run(posts, legacy=legacy_reader(path))
    assert [o.status for o in outs] == ["published"] * 3
    # recorded published: nothing sent; media_publish sent: settled by its container
    assert outs[0].already and outs[0].media_id == "17900000000000001"
    assert outs[0].media_id_source == "journal"
    assert outs[1].already and outs[1].container_id == sent
    assert outs[1].media_id_source == "container"
    assert len(emu.calls("POST", "/media_publish")) == before + 1  # only "new"
    assert len(emu.published) == 2
    assert [c["params"]["caption"] for c in media_calls(emu)[1:]] == ["caption new"]
    # the journal was only read
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT status FROM posts WHERE post_id='sent'").fetchone() == (
            "publishing",
        )
