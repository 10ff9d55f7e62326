"""Every error class on every media type, on the durable engine: one fault at
media_publish, the calls that follow it (from the emulator's request log) and the
outcome."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("publish_support")

from publish_support import (  # noqa: E402
    carousel_post,
    image_post,
    make_publisher,
    reel_post,
    story_post,
)

pytest_plugins = ("publish_support",)

POSTS = {
    "IMAGE": lambda ms: image_post(ms, "post"),
    "REELS": lambda ms: reel_post(ms, "post"),
    "STORIES": lambda ms: story_post(ms, "post"),
    "CAROUSEL": lambda ms: carousel_post(ms, "post"),
}

# class -> (fault kind, options, expected status, media_publish calls, extra containers)
FAULTS = {
    "retry-same": ("transient", {}, "published", 2, 0),
    "recreate-container": ("expired", {}, "published", 2, 1),
    # -1/2207032 ("re-create media") is settled first: the container, still FINISHED past
    # the settle window, is sent again, never remade while it may publish.
    "recreate-container-settled": ("create_failed", {}, "published", 2, 0),
    "wait-quota": ("rate_limit_user", {"regain_minutes": 1}, "published", 2, 0),
    "fix-media": ("error", {"code": 36004, "subcode": 2207010}, "failed", 1, 0),
    "reconnect-auth": ("token_expired", {}, "failed", 1, 0),
    "permanent": ("policy", {}, "failed", 1, 0),
}


@pytest.mark.parametrize("error_class", list(FAULTS))
@pytest.mark.parametrize("media_type", list(POSTS))
def test_error_class_on_media_type(emu, media, tmp_path, media_type, error_class):
    kind, options, status, publishes, extra = FAULTS[error_class]
    post = POSTS[media_type](media)
    containers = len(post.media) + (1 if media_type == "CAROUSEL" else 0)
    emu.inject("media_publish", kind, **options)
    pub, clock = make_publisher(emu, tmp_path / "j.sqlite")
    [out] = pub.run([post])

    assert out.status == status
    assert out.media_type == media_type
    pub_calls = emu.calls("POST", "/media_publish")
    assert len(pub_calls) == publishes
    creates = [r for r in emu.requests if r["endpoint"] == "media"]
    assert len(creates) == containers + extra
    if extra and media_type == "CAROUSEL":
        # only the parent was rebuilt: the children were created once each
        assert [c["params"].get("media_type") for c in creates[-2:]] == ["CAROUSEL", "CAROUSEL"]
    if status == "published":
        assert len(emu.published) == 1 and out.media_id == emu.published[0]["media_id"]
        assert emu.published[0]["media_type"] == media_type
        after = emu.requests[emu.requests.index(pub_calls[0]) + 1]["endpoint"]
        if error_class == "wait-quota":
            assert after == "media_publish"  # refused by the rate limit: nothing to look at
        else:
            # after a failure that may hide a success, the container is looked at first
            # (or, when it must be rebuilt, a new one is created)
            assert after in ("status", "media")
    else:
        assert emu.published == []
        assert out.error_class == error_class
    if error_class == "wait-quota":
        assert 60.0 in clock.sleeps
    if error_class == "fix-media":
        assert out.rule == "POST001" and "POST001" in out.message
    if error_class == "reconnect-auth":
        assert "reconnect" in out.message
    assert pub.state("post")["state"] == status
