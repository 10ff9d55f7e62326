"""Graph replies found by the adversarial publishing trial, over HTTP against the Graph
emulator and the durable engine on SQLite (docs/publish-protocol.md, "What each fault
does"). Each test failed on the code before its fix: a post published twice, a post
failed with a message naming a state it was not in, and a held post whose "tried again
at" no calendar holds, which crashed `publish` and every later `status`."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from fixtures.graph_emulator import GraphEmulator

pytest.register_assert_rewrite("publish_support")

from publish_support import (  # noqa: E402
    TEST_SETTINGS,
    EmuClock,
    image_post,
    make_publisher,
    quiet,
)

pytest_plugins = ("publish_support",)

SETTLE = replace(TEST_SETTINGS, settle_window=20.0)


# ---- -1/2207032 on media_publish: "re-create media", yet published ---------------------


def test_a_media_publish_asking_for_a_new_container_that_published_anyway_posts_once(
    emu, media, tmp_path
):
    """media_publish answers -1/2207032 ("Create media fail, please try to re-create
    media") and Instagram publishes it all the same, a second later. A new container
    was made at once and published too: the post was on the account twice."""
    emu.publish_delay = 1.0  # real seconds, in the background after the answer
    emu.inject("media_publish", "create_failed", carry_out="background")
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=SETTLE)
    posts = [image_post(media, "a"), image_post(media, "b")]
    outs = pub.run(posts)
    quiet(emu)
    if any(o.status != "published" for o in outs):  # Instagram outlasted the settle window
        outs = pub.run(posts)
    assert [o.status for o in outs] == ["published", "published"], [o.message for o in outs]
    assert sorted(p["caption"] for p in emu.published) == ["caption a", "caption b"]
    assert len(emu.calls("POST", "/media")) == 2  # never a second container


def test_a_media_publish_asking_for_a_new_container_is_settled_and_sent_again(emu, media, tmp_path):
    """Refused for real: the container still reads FINISHED past the settle window, so
    media_publish is sent again for it (never a second container), and publishes."""
    emu.inject("media_publish", "create_failed")
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=SETTLE)
    [out] = pub.run([image_post(media, "a")])
    assert out.status == "published", out.message
    assert [p["caption"] for p in emu.published] == ["caption a"]
    assert len(emu.calls("POST", "/media")) == 1
    assert len(emu.calls("POST", "/media_publish")) == 2


class FailsTheContainerOnceSent(EmuClock):
    """Once media_publish was refused with 2207032, the container reads ERROR, as one
    whose creation failed does (what Meta's "please re-create media" means)."""

    done = False

    def sleep(self, seconds: float) -> None:
        if not self.done and self.emu.calls("POST", "/media_publish"):
            self.done = True
            (first,) = self.emu.store.containers
            self.emu.fail_container(container_id=first, subcode=2207032)
        super().sleep(seconds)


def test_a_media_publish_asking_for_a_new_container_gets_one_once_the_old_one_is_dead(
    emu, media, tmp_path
):
    """Refused, and the container reads ERROR: past the settle window it can never
    publish, so a new container is made (SPEC's recreate-container), published once."""
    emu.inject("media_publish", "create_failed")
    clock = FailsTheContainerOnceSent(emu)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", clock=clock, settings=SETTLE)
    [out] = pub.run([image_post(media, "a")])
    assert out.status == "published", out.message
    assert [p["caption"] for p in emu.published] == ["caption a"]
    assert len(emu.calls("POST", "/media")) == 2  # the dead one, then its replacement
    assert len(emu.calls("POST", "/media_publish")) == 2
    assert sum(clock.sleeps) >= SETTLE.settle_window  # not at once: after the window


# ---- status_code values as Graph does not document them --------------------------------


class ReadsLowerCaseOnceSent(EmuClock):
    """Once a media_publish went out (beyond those sent before this clock), every read of
    a container answers " published" (before, a container reading PUBLISHED before its
    post's own media_publish is published by someone else: never sent)."""

    done = False

    def __init__(self, emu: GraphEmulator) -> None:
        super().__init__(emu)
        self.sent_before = len(emu.calls("POST", "/media_publish"))

    def sleep(self, seconds: float) -> None:
        if not self.done and len(self.emu.calls("POST", "/media_publish")) > self.sent_before:
            self.done = True
            body = json.dumps({"id": "1", "status_code": " published"})
            self.emu.inject("status", "body", times=10_000, body=body)
        super().sleep(seconds)


def test_a_status_code_in_another_case_is_read_as_documented(emu, media, tmp_path):
    """`"finished"` was not FINISHED: polled until --give-up, then failed as "still
    IN_PROGRESS"; and an uncertain post whose container read "published" never settled."""
    finished = {"id": "1", "status_code": "finished", "status": "Finished"}
    emu.inject("status", "body", body=json.dumps(finished))
    pub, _ = make_publisher(emu, tmp_path / "a.sqlite", settings=SETTLE)
    [out] = pub.run([image_post(media, "a")])
    assert out.status == "published", out.message
    sent = len(emu.calls("POST", "/media_publish"))
    emu.inject("media_publish", "drop")  # uncertain: settled from what the container reads
    clock = ReadsLowerCaseOnceSent(emu)
    pub, _ = make_publisher(emu, tmp_path / "b.sqlite", settings=SETTLE, clock=clock)
    [out] = pub.run([image_post(media, "b")])
    assert (out.status, out.media_id_source) == ("published", "container"), out.message
    assert len(emu.calls("POST", "/media_publish")) == sent + 1  # b's once: never resent


def test_giving_up_on_an_undocumented_status_code_names_it(emu, media, tmp_path):
    emu.inject(
        "status", "body", times=10_000, body=json.dumps({"id": "1", "status_code": "QUEUED"})
    )
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=replace(SETTLE, give_up_image=30))
    [out] = pub.run([image_post(media, "a")])
    assert out.status == "failed"
    assert "still reads status_code 'QUEUED' after 30 s (--give-up)" in (out.message or "")
    assert "IN_PROGRESS" not in (out.message or "")


# ---- a wait no calendar holds ----------------------------------------------------------


@pytest.mark.parametrize("regain_minutes", [1e12, 1e400], ids=["1e12-minutes", "infinite"])
def test_a_rate_limit_asking_for_ages_holds_the_post_for_a_day(
    emu, media, tmp_path, regain_minutes
):
    """X-Business-Use-Case-Usage's estimated_time_to_regain_access of 1e12 minutes held
    the post until a year past 9999: `publish` and every later `status` of the database
    ended "internal error: ValueError ... out of range". A header wait is capped at a day."""
    emu.inject("media", "rate_limit_app", regain_minutes=regain_minutes)
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite", ahead=0)  # "a" meets it
    outs = pub.run([image_post(media, "a"), image_post(media, "b")])
    assert [o.status for o in outs] == ["queued", "queued"], [o.message for o in outs]
    assert "about 1440 min to regain access" in (outs[0].message or "")
    until = pub.state("a")["until_ts"]
    assert 0 < until - clock.now() <= 86400
    assert emu.published == []
