"""An account's order around a post someone else published (the phone app, another
tool given its container id) before its turn, over HTTP against the Graph emulator on
the durable engine (SQLite). Posts a, b, c are queued in that order; while a's
container is still processing, b's is published by the phone app, so b's workflow ends
published before its turn. c waited only for b and went out before a: out of order
(never twice), a known limit until b named the post it had to wait for."""

from __future__ import annotations

import pytest

from fixtures.graph_emulator import GraphEmulator

pytest.register_assert_rewrite("publish_support")

from publish_support import EmuClock, image_post, make_publisher  # noqa: E402

pytest_plugins = ("publish_support",)

PROCESSING = 200.0  # virtual seconds a container reads IN_PROGRESS once fetched
A_LATER = 1000.0  # a's container takes that much longer


def container_of(emu: GraphEmulator, caption: str):  # noqa: ANN201 - the emulator's own
    for c in list(emu.store.containers.values()):
        if c.params.get("caption") == caption:
            return c
    return None


class PhoneApp(EmuClock):
    """The publisher's clock, and the phone app beside it: once a's container is fetched
    it takes A_LATER longer to process; once b's is fetched, it turns FINISHED and the
    phone app publishes it at once, before b's own workflow reads it FINISHED
    (every container reads IN_PROGRESS for PROCESSING after its fetch, more than a
    poll's wait)."""

    def __init__(self, emu: GraphEmulator) -> None:
        super().__init__(emu)
        self.slowed = self.published = False

    def sleep(self, seconds: float) -> None:
        self.act()
        super().sleep(seconds)
        self.act()

    def act(self) -> None:
        # Under the emulator's lock, which its reads and its fetches take: no read comes
        # between b turning FINISHED and its publish by the phone app.
        with self.emu.lock:
            a, b = container_of(self.emu, "caption a"), container_of(self.emu, "caption b")
            if not self.slowed and a is not None and a.processed_at is not None:
                a.processed_at += A_LATER
                self.slowed = True
            if not self.published and b is not None and b.processed_at is not None:
                b.processed_at -= PROCESSING + 1.0
                self.emu._publish_elsewhere(b.id)  # the emulator's phone app (a fault kind)
                self.published = b.media_id is not None


def test_the_post_after_one_published_elsewhere_before_its_turn_keeps_the_order(
    emu, media, tmp_path
):
    emu.container_delay = PROCESSING
    clock = PhoneApp(emu)
    pub, _ = make_publisher(emu, tmp_path / "j.sqlite", clock=clock)
    outs = pub.run([image_post(media, p) for p in ("a", "b", "c")])
    assert clock.slowed and clock.published
    assert [o.status for o in outs] == ["published"] * 3, [o.message for o in outs]
    # b by the phone app, before a; then a, then c: never c before a, never twice
    assert [p["caption"] for p in emu.published] == ["caption b", "caption a", "caption c"]
    sent = [r["params"]["creation_id"] for r in emu.calls("POST", "/media_publish")]
    assert container_of(emu, "caption b").id not in sent  # the phone app's, not ours
