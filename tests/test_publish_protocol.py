"""The publish protocol (SPEC section 10, docs/publishing.md) against the Graph emulator
over HTTP, the engine in this process on the emulator's virtual clock: an unseen
media_publish makes the post uncertain, and the only way on is to settle it from its
container. Each test here reproduced a defect of issue 19 on the code before it."""

from __future__ import annotations

import time

import pytest

from fixtures.graph_emulator import GraphEmulator

pytest.register_assert_rewrite("publish_support")

from publish_support import (  # noqa: E402
    EmuClock,
    image_post,
    make_publisher,
    reel_post,
    story_post,
)

pytest_plugins = ("publish_support",)


def captionless(media, pid: str):
    from dataclasses import replace

    return replace(image_post(media, pid), caption=None)


def per_container(emu: GraphEmulator) -> dict[str, int]:
    """Posts Instagram shows, by caption and media type (a double post counts 2)."""
    out: dict[str, int] = {}
    for p in emu.published:
        key = f"{p['media_type']}:{p['caption'] or p['params'].get('image_url') or p['params'].get('video_url')}"
        out[key] = out.get(key, 0) + 1
    return out


def quiet(emu: GraphEmulator, timeout: float = 20.0) -> None:
    """Until no media_publish is being carried out by the emulator."""
    deadline = time.time() + timeout
    while any(c.publishing for c in emu.store.containers.values()) and time.time() < deadline:
        time.sleep(0.05)


# ---- defect 1: a media_publish Instagram is still carrying out ------------------------


def test_a_timed_out_publish_still_processing_is_settled_not_recreated(emu, media, tmp_path):
    """The answer to media_publish does not come within the time-out while Instagram
    carries it out; meanwhile the container reads FINISHED and a second media_publish
    answers 24/2207006. Before the fix that 2207006 recreated the container: a story,
    a caption-less image and a captioned image were each posted twice."""
    emu.publish_delay = 1.5  # real seconds; the client gives up after 0.4
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", timeout=0.4)
    posts = [story_post(media, "s", "feed.jpg"), captionless(media, "bare"), image_post(media, "c")]
    outs = pub.run(posts)
    quiet(emu)  # every media_publish Instagram accepted has taken effect
    assert len(emu.published) == 3, per_container(emu)
    assert [o.status for o in outs] == ["published"] * 3, [o.message for o in outs]
    assert len(emu.calls("POST", "/media")) == 3  # never a second container


# ---- defect 2: an unseen outcome, then a token error ----------------------------------


class RevokeAfterPublish(EmuClock):
    """The token expires right after Instagram published (its answer was lost): from
    the publisher's next look at the clock on, every call gets 190."""

    revoked = False

    def _revoke(self) -> None:
        if self.emu.published and not self.revoked:
            self.revoked = True
            self.emu.revoke_token()

    def now(self) -> float:
        self._revoke()
        return super().now()

    def sleep(self, seconds: float) -> None:
        self._revoke()
        super().sleep(seconds)


def test_a_lost_answer_then_an_expired_token_is_uncertain_and_settled_next_run(
    emu, media, tmp_path
):
    emu.inject("media_publish", "lost_response")
    clock = RevokeAfterPublish(emu)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", clock=clock)
    [first] = pub.run([image_post(media, "a")])
    assert first.status == "uncertain", (first.status, first.error_class, first.message)
    assert "settle" in (first.message or "")
    emu.restore_token()
    [again] = pub.run([image_post(media, "a")])
    assert again.status == "published" and again.media_id == emu.published[0]["media_id"]
    assert len(emu.published) == 1 and len(emu.calls("POST", "/media")) == 1


# ---- defect 4: 200 without an id -------------------------------------------------------


def test_a_reply_without_an_id_is_settled_from_the_container(emu, media, tmp_path):
    emu.inject("media_publish", "no_id")  # 200 {}, nothing published
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([reel_post(media, "r")])
    assert out.status == "published"
    assert len(emu.published) == 1 and out.media_id == emu.published[0]["media_id"]
    pubs = emu.calls("POST", "/media_publish")
    assert len(pubs) == 2 and pubs[0]["params"]["creation_id"] == pubs[1]["params"]["creation_id"]


# ---- defect 6: held posts re-decided from content_publishing_limit ---------------------


def test_a_held_post_is_re_decided_from_the_quota_on_the_next_run(emu, media, tmp_path):
    emu.set_quota(50, total=50)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    posts = [image_post(media, "a"), image_post(media, "b")]
    assert [o.status for o in pub.run(posts)] == ["queued", "queued"]  # held
    reads = len(emu.calls("GET", "/content_publishing_limit"))
    emu.set_quota(0)  # the window moved on (another app's posts left it): room again
    outs = pub.run(posts)  # at once: long before the "until" the hold guessed
    assert len(emu.calls("GET", "/content_publishing_limit")) > reads
    assert [o.status for o in outs] == ["published", "published"], [o.message for o in outs]
    assert [p["caption"] for p in emu.published] == ["caption a", "caption b"]


# ---- the duplicate check: caption and type, never caption alone ------------------------


def test_a_reel_and_an_image_with_the_same_caption_are_not_duplicates(emu, media, tmp_path):
    """The account shows an image and a Reel captioned "Summer": a Reel and an image
    with that caption are each refused as the one of their own type, and a Reel is
    never taken for the image (nor the image for the Reel)."""
    from dataclasses import replace

    image_id = emu.add_media(emu.user_id, "Summer", media_type="IMAGE", age=600)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite")
    reel = replace(reel_post(media, "r"), caption="Summer")
    [out] = pub.run([reel], dedupe_window=86400.0)
    assert out.status == "published", out.message  # not the image's duplicate
    reel_id = emu.add_media(emu.user_id, "Winter", media_type="REELS", age=600)
    photo = replace(image_post(media, "i"), caption="Winter")
    [out] = pub.run([photo], dedupe_window=86400.0)
    assert out.status == "published", out.message  # not the Reel's duplicate
    same = replace(image_post(media, "i2"), caption="Summer")
    [dup] = pub.run([same], dedupe_window=86400.0)
    assert dup.error_class == "duplicate" and dup.media_id == image_id
    same = replace(reel_post(media, "r2"), caption="Winter")
    [dup] = pub.run([same], dedupe_window=86400.0)
    assert dup.error_class == "duplicate" and dup.media_id == reel_id


def test_the_duplicate_rule_compares_caption_and_listed_type():
    from igpreflight.publish.steps.gate import duplicate

    recent = [
        {
            "id": "1",
            "caption": "Summer",
            "media_type": "IMAGE",
            "timestamp": "2027-01-15T10:00:00+0000",
        },
        {
            "id": "2",
            "caption": "Summer",
            "media_type": "VIDEO",
            "timestamp": "2027-01-15T10:00:00+0000",
        },
    ]
    horizon = 0.0
    assert duplicate(recent, "Summer", "IMAGE", horizon, set()) == "1"
    assert duplicate(recent, "Summer", "REELS", horizon, set()) == "2"  # a Reel lists as VIDEO
    assert duplicate(recent, "Summer", "CAROUSEL", horizon, set()) is None
    assert duplicate(recent[:1], "Summer", "REELS", horizon, set()) is None
    assert duplicate(recent[1:], "Summer", "IMAGE", horizon, set()) is None
    assert duplicate(recent, "Summer", "IMAGE", horizon, {"1"}) is None  # our own post
