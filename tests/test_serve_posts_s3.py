"""Posts whose media are ids from /v1/media or s3:// keys: put in the service's bucket
(moto's S3 server on loopback) so Instagram (the Graph emulator over HTTP) fetches
them by URL, then published once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from durable_support import TOK_A, TOK_B, A, B
from PIL import Image
from posts_support import KEY_A, post_body, posts_settings, wait_state
from s3_support import s3server  # noqa: F401 - the fixture
from serve_support import running

from fixtures.graph_emulator import GraphEmulator


@pytest.fixture
def emu() -> Any:
    with GraphEmulator(accounts={A: TOK_A, B: TOK_B}, container_delay=0.05) as e:
        yield e


def test_stored_and_s3_media_go_through_the_bucket(
    tmp_path: Path,
    emu: GraphEmulator,
    s3server: Any,  # noqa: F811
    monkeypatch: Any,
) -> None:
    bucket = s3server.bucket()
    Image.new("RGB", (1080, 1350), (10, 200, 30)).save(tmp_path / "up.jpg", quality=85)
    Image.new("RGB", (1080, 1080), (200, 10, 30)).save(tmp_path / "key.jpg", quality=85)
    s3server.put(bucket, "library/key.jpg", tmp_path / "key.jpg")
    settings = posts_settings(
        tmp_path,
        emu,
        monkeypatch,
        bucket=bucket,
        prefix="posts",
        endpoint_url=s3server.endpoint,
        presign=3600,
    )
    with running(settings) as svc, svc.client(KEY_A) as c:
        up = c.post("/v1/media", files={"file": ("up.jpg", (tmp_path / "up.jpg").read_bytes())})
        assert up.status_code == 201
        stored = c.post(
            "/v1/posts",
            json=post_body(up.json()["id"], "from the store"),
            headers={"Idempotency-Key": "s-1"},
        )
        assert stored.status_code == 201, stored.text
        keyed = c.post(
            "/v1/posts",
            json=post_body(f"s3://{bucket}/library/key.jpg", "from a key"),
            headers={"Idempotency-Key": "s-2"},
        )
        assert keyed.status_code == 201, keyed.text
        for answer in (stored, keyed):
            done = wait_state(c, answer.json()["id"], ("published", "failed"))
            assert done["state"] == "published", done
        other = c.post(
            "/v1/posts",
            json=post_body("s3://another-bucket/x.jpg", "not ours"),
            headers={"Idempotency-Key": "s-3"},
        )
        assert other.status_code == 422
    assert sorted(p["caption"] for p in emu.published) == ["from a key", "from the store"]
    assert any(k.startswith("posts/") for k in s3server.keys(bucket))  # the upload went there
    fetched = [c["params"].get("image_url", "") for c in emu.containers]
    assert all(url.startswith(s3server.endpoint) for url in fetched), fetched
