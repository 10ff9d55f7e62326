"""POST /v1/fix: images fixed in the request, videos as jobs, the result in the bucket
(moto's S3 server on loopback); what cannot be fixed says why."""

from __future__ import annotations

import re
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler

import pytest
from loopback import serving
from s3_support import s3server  # noqa: F401 - the fixture
from serve_support import running

from fixtures.generate import make_image, make_video
from igpreflight.serve.settings import ServeSettings


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def service(tmp_path_factory, s3server):  # noqa: F811
    bucket = s3server.bucket()
    settings = ServeSettings(
        data_dir=str(tmp_path_factory.mktemp("data") / "d"),  # publish.sqlite beside, its own
        isolated=True,
        rate=0,
        allow_private=True,
        bucket=bucket,
        prefix="fixed",
        endpoint_url=s3server.endpoint,
        presign=86400,
    )
    with running(settings) as svc:
        yield svc, s3server


def upload(http, path, **data):
    answer = http.post("/v1/media", files={"file": (path.name, path.read_bytes())}, data=data)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_an_image_is_fixed_at_once_into_the_bucket(service, tmp_path):
    svc, s3 = service
    wide = make_image(tmp_path / "wide.png", size=(1200, 400), mode="RGBA")
    with svc.client() as http:
        source = upload(http, wide)
        answer = http.post("/v1/fix", json={"media_id": source, "aspect": "pad"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "converted" and body["ok"] and body["source"] == source
        assert {s["step"] for s in body["steps"]} >= {"pad", "encode"}
        fixed = body["media"]
        assert fixed["valid"] and fixed["origin"] == "fix" and fixed["source"] == source
        assert fixed["name"].endswith(".jpg")
        assert body["upload"]["bucket"] == svc.settings.bucket
        assert body["upload"]["key"].startswith("fixed/")
        assert body["upload"]["content_type"] == "image/jpeg"
        assert body["url"] == body["upload"]["url"]
        assert body["upload"]["key"] in s3.keys(svc.settings.bucket)
        stored = http.get(f"/v1/media/{fixed['id']}/content").content
        again = http.post("/v1/check", json={"post": {"media": [fixed["id"]]}}).json()
    assert stored[:2] == b"\xff\xd8" and again["valid"]


def test_a_url_is_fetched_then_fixed(service, tmp_path):
    svc, _ = service
    root = tmp_path / "www"
    root.mkdir()
    make_image(root / "tall.jpg", size=(1080, 1600))
    with serving(partial(QuietHandler, directory=str(root))) as base, svc.client() as http:
        answer = http.post("/v1/fix", json={"url": f"{base}/tall.jpg"})
        missing = http.post("/v1/fix", json={"url": f"{base}/nothing.jpg"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "converted"
    assert {s["step"] for s in answer.json()["steps"]} >= {"crop"}
    assert missing.status_code == 422 and "not fetched" in missing.json()["detail"]


def test_a_video_is_a_job(service, tmp_path):
    svc, s3 = service
    clip = make_video(
        tmp_path / "clip.mov", width=320, height=568, duration=3.2, container="mov", faststart=False
    )
    with svc.client() as http:
        source = upload(http, clip)
        answer = http.post("/v1/fix", json={"media_id": source})
        assert answer.status_code == 202, answer.text
        job = answer.json()
        assert answer.headers["location"] == job["url"] == f"/v1/jobs/{job['id']}"
        assert job["state"] in ("queued", "running", "succeeded")
        created = job["created_at"]  # GET says the same (it said 06:14:31Z to a 31.1357893Z)
        deadline = time.monotonic() + 120
        while job["state"] not in ("succeeded", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = http.get(job["url"]).json()
    assert job["state"] == "succeeded", job
    result = job["result"]
    assert result["ok"] and result["status"] in ("remuxed", "transcoded")
    assert result["media"]["kind"] == "video" and result["media"]["valid"]
    assert result["upload"]["key"] in s3.keys(svc.settings.bucket)
    assert job["finished_at"] and job["started_at"] and job["created_at"] == created
    for key in ("created_at", "started_at", "finished_at"):  # to the ms, as the webhooks
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z", job[key]), job[key]


def test_what_cannot_be_fixed_says_why(service, tmp_path):
    svc, _ = service
    with svc.client() as http:
        junk = http.post("/v1/media", files={"file": ("junk.jpg", b"not media")}).json()["id"]
        answer = http.post("/v1/fix", json={"media_id": junk})
        bad_colour = http.post(
            "/v1/fix", json={"media_id": junk, "aspect": "pad", "pad_color": "not-a-colour"}
        )
        neither = http.post("/v1/fix", json={"aspect": "pad"})
        both = http.post("/v1/fix", json={"media_id": junk, "url": "https://a.example/a.jpg"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "unfixable" and not body["ok"] and body["reason"].startswith("FILE001")
    assert body["media"] is None and body["url"] is None
    assert bad_colour.status_code == 422
    assert neither.status_code == 422 and both.status_code == 422


def test_without_a_bucket_the_fixed_media_stays_in_the_store(tmp_path):
    settings = ServeSettings(data_dir=str(tmp_path / "d"), isolated=True, rate=0)
    wide = make_image(tmp_path / "wide.jpg", size=(1200, 400))
    with running(settings) as svc, svc.client() as http:
        answer = http.post("/v1/fix", json={"media_id": upload(http, wide)}).json()
    assert answer["ok"] and answer["url"] is None and answer["upload"] is None
    assert answer["media"]["valid"]
