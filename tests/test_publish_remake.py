"""-1/2207032 ("Create media fail, please try to re-create media") at every
media_publish, over HTTP against the Graph emulator on the durable engine (SQLite).
Such an answer may be carried out all the same (the publishing trial), so it is
settled, never a new container at once; but a FINISHED container Instagram refuses
that way at every send was settled and sent again until it expired (24 h): its post
uncertain on every run, its account's later posts held behind it."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from fixtures.graph_emulator import GraphEmulator

pytest.register_assert_rewrite("publish_support")

from publish_support import TEST_SETTINGS, EmuClock, image_post, make_publisher  # noqa: E402

pytest_plugins = ("publish_support",)

SETTLE = replace(TEST_SETTINGS, settle_window=20.0)


def sends_of(emu: GraphEmulator, cid: str) -> list[dict]:
    return [r for r in emu.calls("POST", "/media_publish") if r["params"]["creation_id"] == cid]


def first_of(emu: GraphEmulator, caption: str) -> str | None:
    """The id of the first container made for the post with `caption` (the posts'
    containers are made concurrently, in no fixed order)."""
    made = [r for r in emu.calls("POST", "/media") if r["params"].get("caption") == caption]
    return made[0]["response"]["id"] if made else None


class RefusedForGood(EmuClock):
    """Post a's first container is refused for good: it reads FINISHED and every
    media_publish for it answers -1/2207032, until it expires."""

    def sleep(self, seconds: float) -> None:
        if (cid := first_of(self.emu, "caption a")) is not None:
            self.emu.store.containers[cid].remake_refused = True
        super().sleep(seconds)


class PublishesInTime(EmuClock):
    """Instagram carries out the second media_publish (answered 2207032) within the
    settle window, as the window says: once it was answered, a sleep of the publisher
    waits (in real time) for its background publish to land, so the virtual clock
    never outruns the emulator's thread (which may not even have started yet)."""

    def sleep(self, seconds: float) -> None:
        if len(self.emu.calls("POST", "/media_publish")) >= 2:
            end = time.monotonic() + 10.0
            while not self.emu.published:
                assert time.monotonic() < end, "the emulator's publish never landed"
                time.sleep(0.01)
        super().sleep(seconds)


def test_a_container_refused_with_2207032_at_every_send_gets_one_new_container(
    emu, media, tmp_path
):
    """Two sends refused in a row (the first, then one resend a settle window later
    that did not answer 2207006), FINISHED through the window after the last, nothing
    in the account's media: the container is dead, one new container is published."""
    emu.inject("media_publish", "create_failed")
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=SETTLE, clock=RefusedForGood(emu))
    posts = [image_post(media, "a"), image_post(media, "b")]
    outs = pub.run(posts)
    assert [o.status for o in outs] == ["published", "published"], [o.message for o in outs]
    assert sorted(p["caption"] for p in emu.published) == ["caption a", "caption b"]
    creates = emu.calls("POST", "/media")
    assert len(creates) == 3  # a's two containers, b's one
    old = first_of(emu, "caption a")
    assert old is not None
    assert len(sends_of(emu, old)) == 2  # the first send and one resend
    assert all(p["container_id"] != old for p in emu.published)
    # the old container was read after its last send, before a's new one was made
    new = next(p["container_id"] for p in emu.published if p["caption"] == "caption a")
    made = next(r for r in creates if r["response"]["id"] == new)
    last_send = emu.requests.index(sends_of(emu, old)[-1])
    between = emu.requests[last_send : emu.requests.index(made)]
    assert any(r["endpoint"] == "status" and r["path"].endswith(old) for r in between)


def test_a_second_2207032_carried_out_all_the_same_is_published_once(emu, media, tmp_path):
    """The resend answered 2207032 is the one Instagram carries out, a second later:
    the settle window after it reads PUBLISHED, so no new container is ever made."""
    emu.publish_delay = 1.0  # real seconds, in the background after the answer
    emu.inject("media_publish", "create_failed")
    emu.inject("media_publish", "create_failed", carry_out="background")
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=SETTLE, clock=PublishesInTime(emu))
    [out] = pub.run([image_post(media, "a")])
    assert out.status == "published", out.message
    assert [p["caption"] for p in emu.published] == ["caption a"]
    assert len(emu.calls("POST", "/media")) == 1
    assert len(emu.calls("POST", "/media_publish")) == 2
