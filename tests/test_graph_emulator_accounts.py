"""The emulator's accounts: own tokens, own quotas, the media listing, per-account usage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from fixtures.graph_emulator import GraphEmulator, MediaServer

A, B = "17841400000000011", "17841400000000022"
TOK_A, TOK_B = "token-of-account-a", "token-of-account-b"


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with GraphEmulator(accounts={A: TOK_A, B: TOK_B}, container_delay=0.01) as e:
        yield e


@pytest.fixture
def media(tmp_path: Path) -> Iterator[MediaServer]:
    Image.new("RGB", (108, 108), (10, 90, 200)).save(tmp_path / "a.jpg", "JPEG")
    with MediaServer(tmp_path) as ms:
        yield ms


def as_(emu: GraphEmulator, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{emu.url}/v25.0", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def publish_one(c: httpx.Client, user: str, url: str, caption: str) -> str:
    cid = c.post(f"/{user}/media", data={"image_url": url, "caption": caption}).json()["id"]
    for _ in range(500):
        if (
            c.get(f"/{cid}", params={"fields": "status_code"}).json()["status_code"]
            != "IN_PROGRESS"
        ):
            break
    r = c.post(f"/{user}/media_publish", data={"creation_id": cid})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def test_a_token_reaches_only_its_own_account(emu, media):
    with as_(emu, TOK_A) as a, as_(emu, TOK_B) as b:
        cid = a.post(f"/{A}/media", data={"image_url": media.url_for("a.jpg")}).json()["id"]
        for call in (
            lambda: b.get(f"/{cid}", params={"fields": "status_code"}),  # A's container
            lambda: b.post(f"/{A}/media_publish", data={"creation_id": cid}),  # A's user
            lambda: b.get(f"/{A}/content_publishing_limit"),
            lambda: b.get(f"/{A}/media"),
        ):
            r = call()
            assert r.status_code >= 400 and r.json()["error"]["code"] == 190
        assert a.get(f"/{cid}", params={"fields": "status_code"}).status_code == 200
        assert emu.published == []


def test_each_account_has_its_own_quota(emu, media):
    emu.set_quota(1, total=1, user_id=A)
    with as_(emu, TOK_A) as a, as_(emu, TOK_B) as b:
        cid = a.post(f"/{A}/media", data={"image_url": media.url_for("a.jpg")}).json()["id"]
        for _ in range(500):
            if (
                a.get(f"/{cid}", params={"fields": "status_code"}).json()["status_code"]
                != "IN_PROGRESS"
            ):
                break
        r = a.post(f"/{A}/media_publish", data={"creation_id": cid})
        assert r.json()["error"]["error_subcode"] == 2207042
        publish_one(b, B, media.url_for("a.jpg"), "b")
        limit = b.get(f"/{B}/content_publishing_limit", params={"fields": "quota_usage,config"})
        assert limit.json()["data"][0]["quota_usage"] == 1
        assert emu.quota_usage(A) == 1 and emu.quota_total_of(B) == 50


def test_media_listing_newest_first_with_the_fields_asked(emu, media):
    old = emu.add_media(A, "from a phone", "IMAGE", age=3600)
    with as_(emu, TOK_A) as a:
        new = publish_one(a, A, media.url_for("a.jpg"), "fresh #post")
        r = a.get(f"/{A}/media", params={"fields": "caption,timestamp,media_type"})
    rows = r.json()["data"]
    assert [row["id"] for row in rows] == [new, old]
    assert rows[0]["caption"] == "fresh #post" and rows[0]["media_type"] == "IMAGE"
    assert rows[0]["timestamp"] > rows[1]["timestamp"]
    assert rows[0]["timestamp"].endswith("+0000")


def test_usage_of_one_account_only(emu):
    emu.set_usage(100, regain_minutes=0.05, user_id=A)
    with as_(emu, TOK_A) as a, as_(emu, TOK_B) as b:
        ra, rb = a.get(f"/{A}/content_publishing_limit"), b.get(f"/{B}/content_publishing_limit")
    buc_a = json.loads(ra.headers["x-business-use-case-usage"])[A][0]
    buc_b = json.loads(rb.headers["x-business-use-case-usage"])[B][0]
    assert buc_a["call_count"] == 100 and buc_a["estimated_time_to_regain_access"] == 0.05
    assert buc_b["call_count"] == 1
    assert json.loads(ra.headers["x-app-usage"])["call_count"] == 1  # the app is not busy
