"""POST /v1/check gives exactly the findings of `igpreflight check --manifest` on the same post.

Each case uploads its media through POST /v1/media (or serves them on a loopback
HTTP server as URLs), asks the service, then writes the same post as a manifest
beside the stored files and runs the CLI on it: the findings must be equal, each
attributed to the same media item.
"""

from __future__ import annotations

import json
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from loopback import serving
from serve_support import api_findings, cli_check, cli_findings, running, same_findings

from igpreflight.serve.settings import ServeSettings


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def www(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    with serving(partial(QuietHandler, directory=str(root))) as url:
        yield root, url


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("data") / "d"  # its own publish.sqlite beside it
    settings = ServeSettings(data_dir=str(data), isolated=True, allow_private=True, rate=0)
    with running(settings) as svc:
        yield svc


@pytest.fixture(scope="module")
def uploaded(service, tmp_path_factory):
    """Media made with Pillow and ffmpeg, uploaded once: name -> media id."""
    from fixtures.generate import make_image, make_video
    from tests.crafted import corrupt_jpeg_scan

    folder = tmp_path_factory.mktemp("media")
    files = {
        "ok.jpg": make_image(folder / "ok.jpg", size=(1080, 1350)),
        "wide.png": make_image(folder / "wide.png", size=(1200, 400), mode="RGBA"),
        "square.jpg": make_image(folder / "square.jpg", size=(640, 640)),
        "clip.mp4": make_video(folder / "clip.mp4", width=360, height=640, duration=1.0),
        "cover.jpg": make_image(folder / "cover.jpg", size=(1080, 1920)),
    }
    square = make_image(folder / "square-src.jpg", size=(1080, 1080))
    files["broken.jpg"] = corrupt_jpeg_scan(square, folder / "broken.jpg")
    ids = {}
    with service.client() as http:
        for name, path in files.items():
            answer = http.post("/v1/media", files={"file": (name, path.read_bytes())})
            assert answer.status_code == 201, answer.text
            ids[name] = answer.json()["id"]
    return ids


def stored_path(service, media_id: str) -> str:
    """The stored file of a media, relative to the store (as the service's manifest has it)."""
    folder = Path(service.settings.data_dir) / "media" / media_id
    return f"{media_id}/{next(p.name for p in folder.iterdir() if p.name != 'meta.json')}"


def as_manifest_media(service, ref):
    """A request's media reference as the CLI's manifest writes it."""
    if isinstance(ref, dict):
        ref = dict(ref)
        if "media_id" in ref:
            ref["path"] = stored_path(service, ref.pop("media_id"))
        return ref
    return ref if "://" in ref else {"path": stored_path(service, ref)}


def label(service, ref) -> str:
    ref = ref.get("media_id") or ref.get("url") if isinstance(ref, dict) else ref
    return ref if "://" in ref else stored_path(service, ref)


def compare(service, post: dict, **options) -> dict:
    """Ask the service, run the CLI on the same post, assert the same findings."""
    with service.client() as http:
        answer = http.post("/v1/check", json={"post": post, **options})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    entry = {**post, "media": [as_manifest_media(service, m) for m in post["media"]]}
    if "cover" in post:
        entry["cover"] = as_manifest_media(service, post["cover"])
    manifest = Path(service.settings.data_dir) / "media" / "posts.json"
    manifest.write_text(json.dumps({"post": [entry]}), encoding="utf-8")
    args = ["--allow-private"]
    args += [f"--select={c}" for c in options.get("select", [])]
    args += [f"--ignore={c}" for c in options.get("ignore", [])]
    args += ["--strict"] if options.get("strict") else []
    args += ["--deep"] if options.get("deep") else []
    report = cli_check(manifest, *args)
    labels = [label(service, m) for m in post["media"]]
    cover = label(service, post["cover"]) if "cover" in post else None
    expected = cli_findings(report, labels, cover)
    assert same_findings(expected, api_findings(body)), (expected, api_findings(body))
    cli_errors = report["summary"]["errors"]
    cli_warnings = report["summary"]["warnings"]
    strict = options.get("strict", False)
    assert body["valid"] == (not cli_errors and not (strict and cli_warnings))
    return body


def test_a_compliant_image_post_is_valid(service, uploaded):
    post = {
        "caption": "Launch day #new #launch",
        "media": [uploaded["ok.jpg"]],
        "user_tags": [{"username": "ana", "x": 0.5, "y": 0.4}],
    }
    body = compare(service, post)
    assert body["valid"] and body["media_type"] == "IMAGE"


def test_file_findings_carry_their_item_and_hint(service, uploaded):
    body = compare(service, {"media": [uploaded["wide.png"]]})
    assert not body["valid"]
    rules = {f["rule"] for f in body["errors"]}
    assert "IMG003" in rules  # 3:1 is outside 4:5..1.91:1
    one = body["errors"][0]
    assert one["item"] == 0 and one["media"] == uploaded["wide.png"] and one["hint"]


def test_a_carousel_of_ids_and_urls_with_post_errors(service, uploaded, www):
    root, base = www
    from fixtures.generate import make_image

    make_image(root / "remote.jpg", size=(1080, 1080))
    post = {
        "media_type": "CAROUSEL",
        "caption": "x" * 2300 + " " + " ".join(f"#t{i}" for i in range(35)),
        "media": [
            uploaded["ok.jpg"],
            {"url": f"{base}/remote.jpg", "user_tags": [{"username": "bo", "x": 2, "y": 0.1}]},
            {"media_id": uploaded["square.jpg"]},
            f"{base}/missing.jpg",
        ],
    }
    body = compare(service, post)
    assert not body["valid"]
    assert {f["item"] for f in body["errors"]} >= {None, 3}  # the post's own, the 404


def test_reels_with_a_cover_and_options(service, uploaded):
    post = {
        "media_type": "REELS",
        "media": [uploaded["clip.mp4"]],
        "cover": uploaded["cover.jpg"],
        "thumb_offset": 500,
        "share_to_feed": True,
    }
    compare(service, post)
    compare(service, post, strict=True)
    compare(service, post, select=["VID", "POST"], ignore=["VID008"])


def test_deep_finds_what_headers_hide(service, uploaded):
    shallow = compare(service, {"media": [uploaded["broken.jpg"]]})
    deep = compare(service, {"media": [uploaded["broken.jpg"]]}, deep=True)
    assert "FILE001" in {f["rule"] for f in deep["errors"]}
    assert "FILE001" not in {f["rule"] for f in shallow["errors"]}


def test_private_urls_are_refused_unless_allowed(tmp_path, www):
    """The SSRF guard stays: without --allow-private a loopback URL is an error."""
    root, base = www
    from fixtures.generate import make_image

    make_image(root / "inside.jpg", size=(1080, 1080))
    settings = ServeSettings(data_dir=str(tmp_path / "d"), isolated=True, rate=0)
    with running(settings) as svc, svc.client() as http:
        answer = http.post("/v1/check", json={"post": {"media": [f"{base}/inside.jpg"]}})
    assert answer.status_code == 200
    body = answer.json()
    assert not body["valid"]
    assert "URL006" in {f["rule"] for f in body["errors"]}


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"post": {"media": ["/etc/passwd"]}}, 422, "bad-media-reference"),
        ({"post": {"media": [{"path": "a.jpg"}]}}, 422, "invalid"),
        ({"post": {"media": ["m_" + "x" * 22]}}, 404, "no-such-media"),
        ({"post": {"media": []}}, 422, "invalid"),
        (
            {"post": {"media": ["https://a.example/x.jpg"], "publish_at": "soon"}},
            422,
            "invalid-post",
        ),
        ({"post": {"media": [{"media_id": "m_1", "url": "https://a.example/b.jpg"}]}}, 422, None),
        ({"post": {"media": ["s3://other-bucket/a.jpg"]}}, 422, "bad-media-reference"),
        ({"post": {"media": ["https://a.example/x.jpg"]}, "select": ["NOPE999"]}, 422, None),
    ],
)
def test_bad_posts_are_problems_not_crashes(service, body, status, slug):
    with service.client() as http:
        answer = http.post("/v1/check", json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and problem["detail"]
    if slug:
        assert problem["type"] == f"urn:igpreflight:problem:{slug}"


def test_malformed_and_mistyped_bodies(service):
    with service.client() as http:
        bad_json = http.post(
            "/v1/check", content=b'{"post": ', headers={"content-type": "application/json"}
        )
        not_json = http.post("/v1/check", content=b"post=1", headers={"content-type": "text/plain"})
    assert bad_json.status_code == 400
    assert bad_json.json()["type"].endswith("malformed-json")
    assert not_json.status_code == 415
