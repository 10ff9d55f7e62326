"""What a post is reported as when its own container is the media on the account, over
HTTP against the Graph emulator on the durable engine (SQLite). The phone app
publishes post a's container while it processes, and the token stops working at that
moment: a's first run fails on the container read (190) with no container on record.
The user renews the token and runs again: a new container, and the gate finds a's
caption on the account. It reported `duplicate` ("already on Instagram", as if someone
else had posted it); the media is a's own container, so a is published (pub17, the
simulator's seed 966). Nothing is ever posted twice either way."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fixtures.graph_emulator import GraphEmulator

pytest.register_assert_rewrite("publish_support")

from publish_support import EmuClock, image_post, make_publisher  # noqa: E402

pytest_plugins = ("publish_support",)

PROCESSING = 200.0  # virtual seconds a container reads IN_PROGRESS once fetched
DAY = 86400.0


def containers_of(emu: GraphEmulator, caption: str) -> list:  # the emulator's own
    return [c for c in list(emu.store.containers.values()) if c.params.get("caption") == caption]


class PhoneAppThenExpiry(EmuClock):
    """Once a's first container is fetched, the phone app publishes it and the token
    expires, before a's workflow reads the container (under the emulator's lock, which
    its reads take)."""

    done = False
    caption: str | None = "caption a"  # of the post whose first container it publishes

    def sleep(self, seconds: float) -> None:
        self.act()
        super().sleep(seconds)
        self.act()

    def act(self) -> None:
        with self.emu.lock:
            mine = containers_of(self.emu, self.caption)
            if self.done or not mine or mine[0].processed_at is None:
                return
            mine[0].processed_at -= PROCESSING + 1.0
            self.emu._publish_elsewhere(mine[0].id)  # the emulator's phone app (a fault kind)
            self.emu.revoke_token()
            self.done = mine[0].media_id is not None


def test_a_post_whose_own_earlier_container_is_on_the_account_is_published(emu, media, tmp_path):
    emu.container_delay = PROCESSING
    clock = PhoneAppThenExpiry(emu)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", clock=clock)
    [first] = pub.run([image_post(media, "a")], dedupe_window=DAY)
    assert clock.done
    assert (first.status, first.code) == ("failed", 190), first.message
    assert first.container_id is None  # the failed attempt never learnt it was published
    emu.restore_token()
    [again] = pub.run([image_post(media, "a")], dedupe_window=DAY)
    [shown] = emu.published
    assert (again.status, again.error_class) == ("published", None), again.message
    assert again.already and again.media_id == shown["media_id"]
    assert not emu.calls("POST", "/media_publish")  # the phone app's, never sent by us


def test_a_post_someone_else_published_with_no_container_of_its_own_is_a_duplicate(
    emu, media, tmp_path
):
    """`duplicate` keeps its promise: the same caption published by someone else (no
    container of a's behind it) is not a's, even when a made containers before."""
    emu.container_delay = PROCESSING
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    emu.revoke_token(after_calls=3)  # a's first run: the quota, a container, then 190
    [first] = pub.run([image_post(media, "a")], dedupe_window=DAY)
    assert (first.status, first.code) == ("failed", 190), first.message
    assert len(containers_of(emu, "caption a")) == 1  # a's, never published
    emu.restore_token()
    other = replace(image_post(media, "other"), caption="caption a")
    pub2, _ = make_publisher(emu, tmp_path / "other.sqlite", clock=clock)
    [theirs] = pub2.run([other])
    assert theirs.status == "published", theirs.message
    [again] = pub.run([image_post(media, "a")], dedupe_window=DAY)
    assert (again.status, again.error_class) == ("failed", "duplicate"), again.message
    assert again.media_id == theirs.media_id
    assert len(emu.published) == 1


class PhoneAppThenExpiryNoCaption(PhoneAppThenExpiry):
    caption = None


def test_a_caption_less_post_whose_earlier_container_is_on_the_account_is_not_sent_again(
    emu, media, tmp_path
):
    """The same for a post the gate cannot find on the account (no caption; a story
    neither): the re-run made a new container and sent it, posted twice (sim19, the
    simulator's targeted mix). Its earlier container is read before it is sent now."""
    emu.container_delay = PROCESSING
    clock = PhoneAppThenExpiryNoCaption(emu)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", clock=clock)
    bare = replace(image_post(media, "a"), caption=None)
    [first] = pub.run([bare], dedupe_window=DAY)
    assert clock.done
    assert (first.status, first.code) == ("failed", 190), first.message
    assert first.container_id is None
    emu.restore_token()
    [again] = pub.run([bare], dedupe_window=DAY)
    assert len(emu.published) == 1, emu.published
    assert (again.status, again.error_class) == ("published", None), again.message
    assert again.already
    assert not emu.calls("POST", "/media_publish")


def test_a_rate_limited_read_of_an_earlier_container_holds_the_post_unsent(emu, media, tmp_path):
    """The caption-less post again, but on the re-run the rate limit answers the read of
    its earlier container (the one the phone app published). That read says nothing, so
    the post is held before media_publish, and the next run finds it published. It was
    taken for unpublished, and the re-run's new container was sent: posted twice."""
    emu.container_delay = PROCESSING
    clock = PhoneAppThenExpiryNoCaption(emu)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", clock=clock)
    bare = replace(image_post(media, "a"), caption=None)
    [first] = pub.run([bare], dedupe_window=DAY)
    assert (first.status, first.code) == ("failed", 190), first.message
    [earlier] = list(emu.store.containers)
    emu.restore_token()
    emu.inject("status", "rate_limit_user", times=20, target=earlier)
    [held] = pub.run([bare], dedupe_window=DAY)
    assert len(emu.published) == 1, emu.published  # the phone app's alone
    assert held.status == "queued" and "rate limited" in held.message, held.message
    with emu.lock:  # the rate limit is over
        emu._faults.clear()
    [again] = pub.run([bare], dedupe_window=DAY)
    assert (again.status, again.error_class) == ("published", None), again.message
    assert len(emu.published) == 1, emu.published
    assert not emu.calls("POST", "/media_publish")
