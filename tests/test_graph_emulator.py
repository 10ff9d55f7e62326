"""The Graph API emulator, over real HTTP: the publisher's tests are only as good as it is."""

from __future__ import annotations

import io
import json
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from fixtures.graph_emulator import FAULT_KINDS, GraphEmulator, MediaServer, check_video

TOKEN = "secret-token-abc123"
_SSL = ssl.create_default_context()  # shared: httpx builds one per client otherwise (~50 ms)


def client(**kw) -> httpx.Client:
    return httpx.Client(verify=_SSL, **kw)


@pytest.fixture(scope="module")
def plain() -> Iterator[httpx.Client]:
    """An unauthenticated client for the calls that set their own token."""
    with client(timeout=10) as c:
        yield c


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with GraphEmulator(token=TOKEN, container_delay=0.02, fetch_timeout=5.0) as e:
        yield e


@pytest.fixture
def media(tmp_path: Path) -> Iterator[MediaServer]:
    with MediaServer(tmp_path) as ms:
        yield ms


@pytest.fixture
def api(emu: GraphEmulator) -> Iterator[httpx.Client]:
    with client(
        base_url=f"{emu.url}/v25.0", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as c:
        yield c


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3.5 s 320x568 H.264/AAC MP4, small enough to make in well under a second."""
    from igpreflight.ffmpeg_bin import ffmpeg_exe

    out = tmp_path_factory.mktemp("video") / "clip.mp4"
    cmd = [
        ffmpeg_exe(), "-v", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=320x568:rate=30:duration=3.5",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3.5",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(out),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=60)
    return out


def jpeg(path: Path, size: tuple[int, int] = (108, 108), fmt: str = "JPEG") -> Path:
    """A small image: only the ratio and the format matter to the checks."""
    Image.new("RGB", size, (200, 30, 30)).save(path, fmt)
    return path


def wait(api: httpx.Client, cid: str, timeout: float = 10.0) -> dict:
    """Poll like a publisher would, until the container leaves IN_PROGRESS."""
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/{cid}", params={"fields": "status_code,status"}).json()
        if body["status_code"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def create(api: httpx.Client, emu: GraphEmulator, **params: str) -> httpx.Response:
    return api.post(f"/{emu.user_id}/media", data=params)


def publish(api: httpx.Client, emu: GraphEmulator, cid: str, **kw: float) -> httpx.Response:
    return api.post(f"/{emu.user_id}/media_publish", data={"creation_id": cid}, **kw)


def error_of(resp: httpx.Response) -> tuple[int, int | None]:
    err = resp.json()["error"]
    return err["code"], err.get("error_subcode")


# ---------------------------------------------------------------- images


def test_image_is_fetched_checked_and_published_once(emu, media, api, tmp_path):
    jpeg(tmp_path / "ok.jpg")
    r = create(api, emu, image_url=media.url_for("ok.jpg"), caption="hello #one")
    assert r.status_code == 200
    cid = r.json()["id"]
    assert wait(api, cid)["status_code"] == "FINISHED"
    r = publish(api, emu, cid)
    assert r.status_code == 200
    media_id = r.json()["id"]
    assert emu.published == [
        {
            "media_id": media_id,
            "container_id": cid,
            "user_id": emu.user_id,
            "media_type": "IMAGE",
            "caption": "hello #one",
            "children": [],
            "params": {"image_url": media.url_for("ok.jpg"), "caption": "hello #one"},
            "time": emu.published[0]["time"],
        }
    ]
    assert wait(api, cid)["status_code"] == "PUBLISHED"
    again = publish(api, emu, cid)
    assert again.status_code == 400 and error_of(again) == (24, 2207008)
    assert len(emu.published) == 1
    limit = api.get(
        f"/{emu.user_id}/content_publishing_limit", params={"fields": "quota_usage,config"}
    )
    assert limit.json() == {
        "data": [{"quota_usage": 1, "config": {"quota_total": 50, "quota_duration": 86400}}]
    }
    got = api.get(f"/{media_id}", params={"fields": "id,media_type,caption"}).json()
    assert got == {"id": media_id, "media_type": "IMAGE", "caption": "hello #one"}
    typo = api.get(f"/{cid}", params={"fields": "status_code,satus"})
    assert typo.status_code == 400 and "(satus)" in typo.json()["error"]["message"]
    assert typo.headers["x-fb-trace-id"] == typo.json()["error"]["fbtrace_id"]


def _big_jpeg(path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (108, 108)).save(buf, "JPEG")
    path.write_bytes(buf.getvalue() + b"\0" * 8_000_000)


@pytest.mark.parametrize(
    ("name", "make", "media_type", "status", "subcode"),
    [
        ("png.jpg", lambda p: jpeg(p, fmt="PNG"), "", "ERROR", 2207052),
        ("real.png", lambda p: jpeg(p, fmt="PNG"), "", "FINISHED", None),
        ("pic.webp", lambda p: jpeg(p, fmt="WEBP"), "", "ERROR", 2207005),
        ("tall.jpg", lambda p: jpeg(p, (100, 130)), "", "ERROR", 2207009),
        ("wide.jpg", lambda p: jpeg(p, (192, 100)), "", "ERROR", 2207009),
        ("edge45.jpg", lambda p: jpeg(p, (80, 100)), "", "FINISHED", None),
        ("edge191.jpg", lambda p: jpeg(p, (191, 100)), "", "FINISHED", None),
        ("story.jpg", lambda p: jpeg(p, (90, 160)), "STORIES", "FINISHED", None),
        ("big.jpg", _big_jpeg, "", "ERROR", 2207004),
    ],
)
def test_image_checks_give_instagrams_subcodes(
    emu, media, api, tmp_path, name, make, media_type, status, subcode
):
    make(tmp_path / name)
    params = {"image_url": media.url_for(name)}
    if media_type:
        params["media_type"] = media_type
    cid = create(api, emu, **params).json()["id"]
    body = wait(api, cid)
    assert body["status_code"] == status
    if subcode:
        assert body["status"].startswith("Error: ")
        assert body["status"].endswith(str(subcode))
        assert emu.container(cid)["subcode"] == subcode
        r = publish(api, emu, cid)
        assert r.status_code == 400 and error_of(r)[1] == subcode


def test_unreachable_and_slow_urls(emu, api, tmp_path):
    jpeg(tmp_path / "ok.jpg")
    with MediaServer(tmp_path, delay=1.0) as slow, MediaServer(tmp_path) as fast:
        emu.fetch_timeout = 0.3
        missing = create(api, emu, image_url=fast.url_for("missing.jpg")).json()["id"]
        late = create(api, emu, image_url=slow.url_for("ok.jpg")).json()["id"]
        assert wait(api, missing)["status"].endswith("2207052")
        assert wait(api, late)["status"].endswith("2207003")


def test_sync_images_reject_at_creation(media, plain, tmp_path):
    jpeg(tmp_path / "tall.jpg", (100, 130))
    with GraphEmulator(sync_images=True) as emu:
        r = plain.post(
            f"{emu.url}/v25.0/{emu.user_id}/media",
            params={"image_url": media.url_for("tall.jpg"), "access_token": emu.token},
        )
        assert r.status_code == 400
        assert error_of(r) == (36003, 2207009)
        assert emu.containers == []


# ---------------------------------------------------------------- creation parameters


@pytest.mark.parametrize(
    ("params", "code", "subcode"),
    [
        ({"media_type": "PHOTO", "image_url": "http://x/a.jpg"}, 100, 2207023),
        ({"media_type": "VIDEO", "video_url": "http://x/a.mp4"}, 100, 2207023),
        (
            {"media_type": "REELS", "is_carousel_item": "true", "video_url": "http://x/a.mp4"},
            100,
            2207023,
        ),
        ({"media_type": "CAROUSEL", "children": "1"}, 100, 2207028),
        ({"media_type": "CAROUSEL", "children": ",".join(str(i) for i in range(11))}, 100, 2207028),
        ({"media_type": "CAROUSEL", "children": "123,456"}, 100, 33),
        ({"media_type": "REELS"}, 100, None),
        ({"image_url": "http://x/a.jpg", "caption": "x" * 2201}, 36004, 2207010),
        (
            {"image_url": "http://x/a.jpg", "caption": " ".join(f"#t{i}" for i in range(31))},
            36004,
            2207010,
        ),
        (
            {"image_url": "http://x/a.jpg", "caption": " ".join(f"@u{i}" for i in range(21))},
            100,
            2207040,
        ),
        ({"media_type": "REELS", "video_url": "http://x/a.mp4", "thumb_offset": "-1"}, 1, 2207057),
        (
            {
                "image_url": "http://x/a.jpg",
                "user_tags": json.dumps([{"username": "a", "x": 1.5, "y": 0.1}]),
            },
            100,
            2207037,
        ),
        (
            {
                "media_type": "REELS",
                "video_url": "http://x/a.mp4",
                "product_tags": json.dumps([{"product_id": "1", "x": 0.5, "y": 0.5}]),
            },
            100,
            2207035,
        ),
        (
            {"image_url": "http://x/a.jpg", "product_tags": json.dumps([{"product_id": "1"}])},
            100,
            2207036,
        ),
        (
            {"image_url": "http://x/a.jpg", "collaborators": json.dumps(["a", "b", "c", "d"])},
            100,
            None,
        ),
    ],
)
def test_creation_is_validated_like_graph(emu, api, params, code, subcode):
    r = create(api, emu, **params)
    assert r.status_code == 400
    assert error_of(r) == (code, subcode)
    assert r.json()["error"]["type"] == "OAuthException"


def test_json_body_parameters_are_read(emu, media, api, tmp_path):
    jpeg(tmp_path / "ok.jpg")
    r = api.post(
        f"/{emu.user_id}/media", json={"image_url": media.url_for("ok.jpg"), "caption": "j"}
    )
    assert r.status_code == 200
    assert emu.container(r.json()["id"])["params"]["caption"] == "j"


# ---------------------------------------------------------------- carousels


def _children(api, emu, media, tmp_path, n: int) -> list[str]:
    ids = []
    for i in range(n):
        jpeg(tmp_path / f"c{i}.jpg")
        r = create(api, emu, image_url=media.url_for(f"c{i}.jpg"), is_carousel_item="true")
        ids.append(r.json()["id"])
    return ids


def test_carousel_of_three(emu, media, api, tmp_path):
    kids = _children(api, emu, media, tmp_path, 3)
    early = create(api, emu, media_type="CAROUSEL", children=",".join(kids))
    assert error_of(early) == (9007, 2207027)
    assert [wait(api, k)["status_code"] for k in kids] == ["FINISHED"] * 3
    lone = create(api, emu, media_type="CAROUSEL", children=",".join(kids[:1] + ["1"]))
    assert lone.status_code == 400
    parent = create(api, emu, media_type="CAROUSEL", children=",".join(kids), caption="album")
    pid = parent.json()["id"]
    assert wait(api, pid)["status_code"] == "FINISHED"
    child_publish = publish(api, emu, kids[0])
    assert child_publish.status_code == 400 and error_of(child_publish)[0] == 100
    r = publish(api, emu, pid)
    assert r.status_code == 200
    [post] = emu.published
    assert post["media_type"] == "CAROUSEL" and post["children"] == kids
    assert post["caption"] == "album"
    assert {wait(api, k)["status_code"] for k in kids} == {"PUBLISHED"}
    assert emu.quota_usage() == 1
    reuse = create(api, emu, media_type="CAROUSEL", children=",".join(kids))
    assert reuse.status_code == 400 and error_of(reuse) == (24, 2207008)


def test_non_item_child_is_refused(emu, media, api, tmp_path):
    jpeg(tmp_path / "a.jpg")
    kids = _children(api, emu, media, tmp_path, 1)
    plain = create(api, emu, image_url=media.url_for("a.jpg")).json()["id"]
    wait(api, plain)
    wait(api, kids[0])
    r = create(api, emu, media_type="CAROUSEL", children=f"{kids[0]},{plain}")
    assert r.status_code == 400 and error_of(r)[0] == 100


def test_failed_second_child_then_recreated(emu, media, api, tmp_path):
    emu.fail_container(nth=2, subcode=2207053)
    kids = _children(api, emu, media, tmp_path, 3)
    states = [wait(api, k) for k in kids]
    assert [s["status_code"] for s in states] == ["FINISHED", "ERROR", "FINISHED"]
    assert "2207053" in states[1]["status"]
    r = create(api, emu, media_type="CAROUSEL", children=",".join(kids))
    assert error_of(r) == (-1, 2207053)
    again = create(api, emu, image_url=media.url_for("c1.jpg"), is_carousel_item="true")
    new = again.json()["id"]
    assert wait(api, new)["status_code"] == "FINISHED"
    parent = create(api, emu, media_type="CAROUSEL", children=f"{kids[0]},{new},{kids[2]}")
    assert wait(api, parent.json()["id"])["status_code"] == "FINISHED"


def test_unfinished_children_may_be_allowed(media, tmp_path):
    jpeg(tmp_path / "c.jpg")
    with (
        GraphEmulator(allow_unfinished_children=True, container_delay=0.3) as emu,
        client(base_url=f"{emu.url}/v25.0", params={"access_token": emu.token}) as api,
    ):
        kids = [
            create(api, emu, image_url=media.url_for("c.jpg"), is_carousel_item="true").json()["id"]
            for _ in range(2)
        ]
        pid = create(api, emu, media_type="CAROUSEL", children=",".join(kids)).json()["id"]
        assert (
            api.get(f"/{pid}", params={"fields": "status_code"}).json()["status_code"]
            == "IN_PROGRESS"
        )
        assert wait(api, pid)["status_code"] == "FINISHED"


# ---------------------------------------------------------------- videos


def _upload(api, emu, mp4: Path, chunks: int = 1, **params: str) -> str:
    r = create(api, emu, upload_type="resumable", **params)
    assert r.status_code == 200, r.text
    cid, uri = r.json()["id"], r.json()["uri"]
    assert uri == f"{emu.url}/ig-api-upload/v25.0/{cid}"
    data = mp4.read_bytes() if isinstance(mp4, Path) else mp4
    step = -(-len(data) // chunks)
    for offset in range(0, len(data), step):
        up = api.post(
            uri,
            content=data[offset : offset + step],
            headers={
                "Authorization": f"OAuth {TOKEN}",
                "offset": str(offset),
                "file_size": str(len(data)),
            },
        )
        assert up.status_code == 200 and up.json()["success"] is True, up.text
    return cid


def test_resumable_reel_upload(emu, api, mp4):
    cid = _upload(api, emu, mp4, chunks=2, media_type="REELS", caption="reel", thumb_offset="1000")
    assert wait(api, cid)["status_code"] == "FINISHED"
    assert publish(api, emu, cid).status_code == 200
    assert emu.published[0]["media_type"] == "REELS"
    uploads = emu.calls("POST", f"/{cid}")
    assert [u["headers"]["offset"] for u in uploads] == ["0", str(-(-mp4.stat().st_size // 2))]
    assert all("authorization" not in u["headers"] for u in uploads)


def test_resumable_upload_rejections(emu, api, plain, mp4, tmp_path):
    late_thumb = _upload(api, emu, mp4, media_type="REELS", thumb_offset="9000")
    not_video = _upload(api, emu, jpeg(tmp_path / "a.jpg"), media_type="STORIES")
    assert wait(api, late_thumb)["status"].endswith("2207057")
    assert wait(api, not_video)["status"].endswith("2207026")
    r = create(api, emu, media_type="REELS", upload_type="resumable")
    uri = r.json()["uri"]
    bad = api.post(
        uri,
        content=b"abc",
        headers={"Authorization": f"OAuth {TOKEN}", "offset": "5", "file_size": "3"},
    )
    assert bad.status_code == 400
    anon = plain.post(uri, content=b"abc", headers={"offset": "0", "file_size": "3"})
    assert error_of(anon)[0] == 190


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small videos that break one rule each, made by one ffmpeg run (one start-up)."""
    from igpreflight.ffmpeg_bin import ffmpeg_exe

    d = tmp_path_factory.mktemp("variants")
    h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    outputs = {
        "ok.mov": [*h264, "-c:a", "aac"],
        "short.mp4": [*h264, "-c:a", "aac", "-t", "2"],
        "mpeg4.mp4": ["-c:v", "mpeg4", "-c:a", "aac"],
        "mp3.mp4": [*h264, "-c:a", "libmp3lame"],
        "vp8.webm": ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"],
        "slow.mp4": [*h264, "-r", "15", "-c:a", "aac"],
    }
    cmd = [
        ffmpeg_exe(), "-v", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=160x284:rate=30:duration=3.5",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3.5",
    ]  # fmt: skip
    for name, args in outputs.items():
        cmd += ["-map", "0:v", "-map", "1:a", *args, str(d / name)]
    subprocess.run(cmd, check=True, timeout=120)
    return d


@pytest.mark.parametrize(
    ("name", "media_type", "thumb", "subcode"),
    [
        ("ok.mov", "REELS", None, None),
        ("ok.mov", "STORIES", 3000, None),
        ("ok.mov", "VIDEO", None, 2207026),  # 9:16 is outside 4:5..1.91 for carousel videos
        ("ok.mov", "REELS", 3600, 2207057),
        ("short.mp4", "REELS", None, 2207026),
        ("mpeg4.mp4", "REELS", None, 2207026),
        ("mp3.mp4", "REELS", None, 2207026),
        ("vp8.webm", "REELS", None, 2207026),
        ("slow.mp4", "STORIES", None, 2207026),
    ],
)
def test_video_checks(variants, name, media_type, thumb, subcode):
    got = check_video(variants / name, media_type=media_type, thumb_offset_ms=thumb)
    assert (got.subcode if got else None) == subcode, got


def test_video_url_roles(emu, media, api, mp4, tmp_path):
    (tmp_path / "clip.mp4").write_bytes(mp4.read_bytes())
    url = media.url_for("clip.mp4")
    story = create(api, emu, media_type="STORIES", video_url=url).json()["id"]
    # 320x568 is 0.56:1, outside the carousel video range of 4:5..1.91:1.
    item = create(api, emu, media_type="VIDEO", is_carousel_item="true", video_url=url).json()["id"]
    assert wait(api, story)["status_code"] == "FINISHED"
    assert wait(api, item)["status"].endswith("2207026")


# ---------------------------------------------------------------- faults

EXPECTED = {
    "http_500": (500, 1, None, True),
    "transient": (500, 2, None, True),
    "unknown": (500, 1, None, False),
    "rate_limit_app": (400, 4, None, True),
    "rate_limit_user": (400, 17, None, True),
    "rate_limit_613": (400, 613, None, True),
    "rate_limit_buc": (400, 80002, None, True),
    "not_ready": (400, 9007, 2207027, False),
    "builder_expired": (400, 24, 2207008, False),
    "media_not_found": (400, 24, 2207006, False),
    "server_error": (400, -1, 2207001, False),
    "fetch_timeout": (400, -2, 2207003, False),
    "expired": (400, -2, 2207020, False),
    "create_failed": (400, -1, 2207032, False),
    "upload_error": (400, -1, 2207053, False),
    "fetch_failed": (400, 9004, 2207052, False),
    "token_expired": (400, 190, 463, False),
    "token_invalid": (400, 190, None, False),
    "permission": (400, 10, None, False),
    "quota": (400, 9, 2207042, False),
    "spam": (400, 4, 2207051, False),
    "restricted": (400, 25, 2207050, False),
    "policy": (400, 368, None, False),
    "token_echo": (400, 190, None, False),
}


def test_every_error_kind_is_tested():
    transport = {"lost_response", "lost_502", "slow", "drop", "no_id", "error"}
    # The odd replies (html_200, empty_200, edge_html, redirect, body) are tested through
    # the Graph client in tests/test_publish_graph_faults.py.
    odd = {"html_200", "empty_200", "edge_html", "redirect", "body"}
    # The second publishing trial's (an answer cut mid-body, a kept-alive connection
    # hung up, a container published by someone else) in tests/test_publish_trial2.py.
    trial2 = {"cut_body", "hangup", "published_elsewhere"}
    assert set(EXPECTED) | transport | odd | trial2 == set(FAULT_KINDS)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_injected_error_has_the_real_shape(emu, api, kind):
    status, code, subcode, transient = EXPECTED[kind]
    emu.inject("limit", kind, regain_minutes=7)
    path = f"/{emu.user_id}/content_publishing_limit"
    r = api.get(path)
    assert r.status_code == status
    err = r.json()["error"]
    assert set(err) >= {"message", "type", "code", "is_transient", "fbtrace_id"}
    assert (err["code"], err.get("error_subcode"), err["is_transient"]) == (
        code,
        subcode,
        transient,
    )
    if kind.startswith("rate_limit"):
        buc = json.loads(r.headers["x-business-use-case-usage"])
        assert buc[emu.user_id][0]["estimated_time_to_regain_access"] == 7
        assert json.loads(r.headers["x-app-usage"])["call_count"] == 100
    assert api.get(path).status_code == 200  # consumed
    assert emu.calls("GET", "/content_publishing_limit")[0]["fault"] == kind


def test_custom_error_and_order(emu, api):
    emu.inject("any", "error", code=32, subcode=None, http_status=403)
    emu.inject("limit", "transient", times=2)
    path = f"/{emu.user_id}/content_publishing_limit"
    assert [api.get(path).status_code for _ in range(4)] == [500, 500, 403, 200]
    assert emu.pending_faults() == {}
    with pytest.raises(ValueError):
        emu.inject("media", "no-such-kind")


def test_early_publish_is_9007(media, tmp_path):
    jpeg(tmp_path / "ok.jpg")
    with (
        GraphEmulator(container_delay=60) as emu,
        client(
            base_url=f"{emu.url}/v25.0", headers={"Authorization": f"Bearer {emu.token}"}
        ) as api,
    ):
        cid = create(api, emu, image_url=media.url_for("ok.jpg")).json()["id"]
        r = publish(api, emu, cid)
        assert error_of(r) == (9007, 2207027)
        while not emu.container(cid)["processed"]:  # the fetch is real, the delay virtual
            time.sleep(0.01)
        emu.advance(61)
        assert wait(api, cid)["status_code"] == "FINISHED"
        assert publish(api, emu, cid).status_code == 200


def _finished(api, emu, media, tmp_path) -> str:
    jpeg(tmp_path / "ok.jpg")
    cid = create(api, emu, image_url=media.url_for("ok.jpg")).json()["id"]
    assert wait(api, cid)["status_code"] == "FINISHED"
    return cid


def test_lost_response_after_publish(emu, media, api, tmp_path):
    cid = _finished(api, emu, media, tmp_path)
    emu.inject("media_publish", "lost_response")
    with pytest.raises(httpx.RemoteProtocolError):
        publish(api, emu, cid)
    assert len(emu.published) == 1
    assert wait(api, cid)["status_code"] == "PUBLISHED"
    assert emu.calls("POST", "/media_publish")[0]["status"] is None
    assert error_of(publish(api, emu, cid)) == (24, 2207008)
    assert len(emu.published) == 1


def test_502_and_slow_and_drop(emu, media, api, tmp_path):
    cid = _finished(api, emu, media, tmp_path)
    emu.inject("media_publish", "lost_502")
    r = publish(api, emu, cid)
    assert r.status_code == 502 and "Bad Gateway" in r.text
    assert len(emu.published) == 1
    emu.inject("media", "slow", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        api.post(
            f"/{emu.user_id}/media", data={"image_url": "http://127.0.0.1:9/a.jpg"}, timeout=0.2
        )
    assert len(emu.containers) == 2  # carried out all the same
    emu.inject("media", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        create(api, emu, image_url="http://127.0.0.1:9/a.jpg")
    assert len(emu.containers) == 2  # not carried out


def test_a_publish_takes_time_and_a_second_one_meanwhile_is_2207006(emu, media, api, tmp_path):
    """publish_delay: Instagram carries out a media_publish over a while, whether or not
    its caller waits; meanwhile the container reads FINISHED and another media_publish
    for it answers 24/2207006; afterwards PUBLISHED, and 24/2207008."""
    cid = _finished(api, emu, media, tmp_path)
    emu.publish_delay = 1.0
    emu.publish_gate.clear()  # in flight until let go, not for 1 s, however slow we are
    try:
        with pytest.raises(httpx.ReadTimeout):  # the caller gives up; Instagram goes on
            publish(api, emu, cid, timeout=0.2)
        status = api.get(f"/{cid}", params={"fields": "status_code"}).json()["status_code"]
        assert status == "FINISHED"
        assert error_of(publish(api, emu, cid)) == (24, 2207006)
        assert emu.published == []
    finally:
        emu.publish_gate.set()
    deadline = time.time() + 10
    while not emu.published and time.time() < deadline:
        time.sleep(0.05)
    assert len(emu.published) == 1
    assert wait(api, cid)["status_code"] == "PUBLISHED"
    assert error_of(publish(api, emu, cid)) == (24, 2207008)
    assert len(emu.published) == 1


def test_no_id_and_token_echo(emu, media, api, tmp_path):
    cid = _finished(api, emu, media, tmp_path)
    emu.inject("media_publish", "no_id")  # 200 without an id, not carried out
    r = publish(api, emu, cid)
    assert r.status_code == 200 and r.json() == {} and emu.published == []
    emu.inject("media_publish", "no_id", carry_out=True)  # carried out, id withheld
    r = publish(api, emu, cid)
    assert r.status_code == 200 and r.json() == {} and len(emu.published) == 1
    emu.inject("limit", "token_echo")
    r = api.get(f"/{emu.user_id}/content_publishing_limit")
    assert error_of(r) == (190, None) and TOKEN in r.json()["error"]["message"]
    assert TOKEN not in json.dumps(emu.requests)  # the emulator's own log stays clean


# ---------------------------------------------------------------- tokens and the log


def test_tokens(emu, api, plain):
    path = f"{emu.url}/v25.0/{emu.user_id}/content_publishing_limit"
    assert error_of(plain.get(path)) == (190, None)
    assert error_of(plain.get(path, params={"access_token": "nope"})) == (190, None)
    assert plain.get(path, headers={"Authorization": f"OAuth {TOKEN}"}).status_code == 200
    emu.revoke_token(after_calls=2)
    assert [api.get(path).status_code for _ in range(3)] == [200, 200, 400]
    for call in (api.get(path), create(api, emu, image_url="http://x/a.jpg"), api.get("/123")):
        assert error_of(call) == (190, 463)
    emu.restore_token()
    assert api.get(path).status_code == 200


def test_request_log_never_holds_the_token(emu, media, api, plain, tmp_path):
    cid = _finished(api, emu, media, tmp_path)
    plain.post(
        f"{emu.url}/v25.0/{emu.user_id}/media_publish",
        params={"creation_id": cid, "access_token": TOKEN},
    )
    plain.post(
        f"{emu.url}/v25.0/{emu.user_id}/media", data={"caption": TOKEN, "access_token": TOKEN}
    )
    dumped = json.dumps(emu.requests)
    assert TOKEN not in dumped
    assert "[REDACTED]" in dumped
    [pub] = emu.calls("POST", "/media_publish")
    assert pub["params"] == {"creation_id": cid, "access_token": "[REDACTED]"}
    assert pub["status"] == 200 and pub["response"] == {"id": emu.published[0]["media_id"]}
    assert len(emu.calls("POST", "/media")) == 2
    assert {r["endpoint"] for r in emu.requests} == {"media", "status", "media_publish"}


def test_virtual_clock_expires_containers_and_quota(emu, media, api, tmp_path):
    cid = _finished(api, emu, media, tmp_path)
    emu.advance(86399)
    assert wait(api, cid)["status_code"] == "FINISHED"
    emu.advance(1)
    assert wait(api, cid)["status_code"] == "EXPIRED"
    assert error_of(publish(api, emu, cid)) == (-2, 2207020)
    other = _finished(api, emu, media, tmp_path)
    emu.expire_all()
    assert wait(api, other)["status_code"] == "EXPIRED"
    fresh = _finished(api, emu, media, tmp_path)
    emu.set_quota(50, 50)
    assert error_of(publish(api, emu, fresh)) == (9, 2207042)
    emu.advance(3600)
    emu.set_quota(3)
    emu.advance(86400)
    assert emu.quota_usage() == 0
    emu.reset()
    assert emu.requests == [] and emu.containers == [] and emu.published == []


def test_runs_as_a_module(plain):
    proc = subprocess.Popen(
        [sys.executable, "-m", "fixtures.graph_emulator", "--port", "0", "--token", "t"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        url = proc.stdout.readline().strip().split("=", 1)[1]
        r = plain.get(f"{url}/v25.0/1/content_publishing_limit", params={"access_token": "t"})
        assert r.json()["data"][0]["quota_usage"] == 0
        ctl = f"{url}/_emulator"
        assert plain.post(f"{ctl}/inject", data={"endpoint": "limit", "kind": "quota"}).is_success
        assert plain.get(f"{ctl}/faults").json() == {"limit": ["quota"]}
        r = plain.get(f"{url}/v25.0/1/content_publishing_limit", params={"access_token": "t"})
        assert error_of(r) == (9, 2207042)
        assert plain.post(f"{ctl}/set_quota", data={"used": "7"}).is_success
        assert plain.get(f"{ctl}/quota").json() == {"used": 7, "total": 50}
        assert plain.post(f"{ctl}/advance", data={"seconds": "86400"}).is_success
        assert plain.get(f"{ctl}/quota").json()["used"] == 0
        assert [r["fault"] for r in plain.get(f"{ctl}/requests").json()] == [None, "quota"]
        assert (
            plain.post(f"{ctl}/inject", data={"endpoint": "nope", "kind": "x"}).status_code == 400
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_usage_headers_on_every_response(emu, api):
    path = f"/{emu.user_id}/content_publishing_limit"
    buc = json.loads(api.get(path).headers["x-business-use-case-usage"])
    assert buc[emu.user_id][0]["call_count"] == 1
    emu.set_usage(85, regain_minutes=3)
    r = api.get(path)
    assert r.status_code == 200
    assert json.loads(r.headers["x-app-usage"])["call_count"] == 85
    buc = json.loads(r.headers["x-business-use-case-usage"])[emu.user_id][0]
    assert (buc["call_count"], buc["estimated_time_to_regain_access"]) == (85, 3)


def test_a_lost_response_is_lost_even_when_the_call_fails(emu, api):
    emu.inject("media_publish", "lost_response")
    with pytest.raises(httpx.RemoteProtocolError):
        publish(api, emu, "999")
    [call] = emu.calls("POST", "/media_publish")
    assert call["status"] is None and call["response"]["error"]["error_subcode"] == 2207006
