"""24/2207008 on media_publish over HTTP, against the Graph emulator, on the durable
engine (SQLite): SPEC's retry-same ("1-2 tries within 2 min, then recreate") meets
Instagram's other use of 2207008, "already published". Before this, a "refusal"
carried out all the same (at once, or a second later) was retried, answered 2207008
(or 2207006) again and a new container was published beside it: posted twice. The
genuine kind, a builder that is really gone, must still get its new container."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fixtures.graph_emulator import GraphEmulator

pytest.register_assert_rewrite("publish_support")

from publish_support import (  # noqa: E402
    TEST_SETTINGS,
    EmuClock,
    image_post,
    make_publisher,
    run_twice_if_needed,
    story_post,
)

pytest_plugins = ("publish_support",)

SETTLE = replace(TEST_SETTINGS, settle_window=20.0)


def a_post(media, kind: str):
    post = image_post(media, "a") if kind != "story" else story_post(media, "a", "feed.jpg")
    return replace(post, caption=None) if kind == "bare" else post


def shown(emu: GraphEmulator) -> dict[str, int]:
    """Posts Instagram shows, per post (a double post counts 2)."""
    out: dict[str, int] = {}
    for p in emu.published:
        key = f"{p['media_type']}:{p['caption'] or p['params'].get('image_url')}"
        out[key] = out.get(key, 0) + 1
    return out


def sends_of(emu: GraphEmulator, cid: str) -> list[dict]:
    return [r for r in emu.calls("POST", "/media_publish") if r["params"]["creation_id"] == cid]


@pytest.mark.parametrize("kind", ["image", "bare", "story"])
@pytest.mark.parametrize("carry", ["true", "background"], ids=["at-once", "a-second-later"])
def test_2207008_on_a_fresh_container_carried_out_all_the_same_posts_once(
    emu, media, tmp_path, kind, carry
):
    """The first media_publish answers 400 24/2207008, yet Instagram publishes the
    container (at once, or a second later in the background). Its retries got 2207008
    ("already published") or 2207006 (still publishing) and the post was published
    again on a new container: a captioned image, a caption-less one and a story."""
    emu.publish_delay = 1.0 if carry == "background" else 0.0
    emu.inject("media_publish", "builder_expired", carry_out=carry)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=SETTLE)
    outs = run_twice_if_needed(pub, [a_post(media, kind)], emu)
    assert [o.status for o in outs] == ["published"], [o.message for o in outs]
    assert len(emu.published) == 1, shown(emu)
    assert len(emu.calls("POST", "/media")) == 1  # never a second container


class BuilderGone(EmuClock):
    """Once a media_publish was answered 2207008, its container's builder is really
    gone: `how` "for good" (it reads FINISHED and refuses every media_publish with
    2207008), "expired" (it reads EXPIRED) or "error" (it reads ERROR)."""

    how = "for good"
    done = False

    def sleep(self, seconds: float) -> None:
        pubs = self.emu.calls("POST", "/media_publish")
        if pubs and not self.done:
            self.done = True
            cid = pubs[0]["params"]["creation_id"]
            if self.how == "for good":
                self.emu.store.containers[cid].builder_gone = True
            elif self.how == "expired":
                self.emu.expire_all()
            else:
                self.emu.fail_container(container_id=cid, subcode=2207032)
        super().sleep(seconds)


@pytest.mark.parametrize("how", ["for good", "expired", "error"])
def test_2207008_for_a_builder_really_gone_still_gets_a_new_container_once(
    emu, media, tmp_path, how
):
    """SPEC's recreate must still come: after the retries the old container is read
    through the settle window (FINISHED and still refused, EXPIRED or ERROR: it can
    never publish), then one new container is published, once."""
    emu.inject("media_publish", "builder_expired")
    clock = BuilderGone(emu)
    clock.how = how
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=SETTLE, clock=clock)
    [out] = pub.run([image_post(media, "a")])
    assert out.status == "published", out.message
    assert len(emu.published) == 1, shown(emu)
    creates = emu.calls("POST", "/media")
    assert len(creates) == 2
    old = creates[0]["response"]["id"]
    assert emu.published[0]["container_id"] == creates[1]["response"]["id"]
    # the old container was read after its last send, before the new one was made
    last_send = emu.requests.index(sends_of(emu, old)[-1])
    between = emu.requests[last_send : emu.requests.index(creates[1])]
    assert any(r["endpoint"] == "status" and r["path"].endswith(old) for r in between)
    if how == "for good":
        assert len(sends_of(emu, old)) == 3  # the first send and SPEC's two retries


def test_2207008_after_a_lost_send_for_a_builder_gone_for_good_gets_a_new_container(
    emu, media, tmp_path
):
    """A media_publish lost on the way (not carried out), then the container's builder
    is gone: every resend answers 2207008 while it reads FINISHED. Settled again and
    again, the post stayed uncertain on every run until the container expired (24 h),
    its account's later posts held behind it."""
    emu.inject("media_publish", "drop")
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", settings=SETTLE, clock=BuilderGone(emu))
    [out] = pub.run([image_post(media, "a")])
    assert out.status == "published", out.message
    assert len(emu.published) == 1, shown(emu)
    assert len(emu.calls("POST", "/media")) == 2
