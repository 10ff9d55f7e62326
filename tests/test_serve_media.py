"""POST /v1/media: streamed to disk under a cap; refused, stalled or abandoned uploads
leave nothing behind; GET, content and DELETE of what was stored."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from serve_support import running

from fixtures.generate import make_image, make_video
from igpreflight.serve.settings import ServeSettings

CAP = 300_000


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("data") / "d"  # its own publish.sqlite beside it
    settings = ServeSettings(
        data_dir=str(data), isolated=True, rate=0, max_upload=CAP, body_timeout=1.0
    )
    with running(settings) as svc:
        yield svc


@pytest.fixture
def patient(tmp_path):
    """A service that waits for a stalled body as long as serve does by default: with
    `service`'s 1 s, a test thread starved for a second mid-upload has it cut (408, its
    part gone) before what the test is about happens."""
    settings = ServeSettings(data_dir=str(tmp_path / "d"), isolated=True, rate=0, max_upload=CAP)
    assert settings.body_timeout >= 30
    with running(settings) as svc:
        yield svc


def incoming(service) -> list[Path]:
    return list((Path(service.settings.data_dir) / "media" / ".incoming").iterdir())


def wait_incoming(service, seconds: float = 30.0) -> list[Path]:
    """The parts being received, once there is one (a fixed pause may end first)."""
    deadline = time.monotonic() + seconds
    while not incoming(service) and time.monotonic() < deadline:
        time.sleep(0.05)
    return incoming(service)


def wait_empty(service, seconds: float = 5.0) -> list[Path]:
    deadline = time.monotonic() + seconds
    while incoming(service) and time.monotonic() < deadline:
        time.sleep(0.05)
    return incoming(service)


def test_upload_returns_id_facts_and_findings(service, tmp_path):
    wide = make_image(tmp_path / "wide photo.png", size=(900, 300))
    with service.client() as http:
        answer = http.post("/v1/media", files={"file": (wide.name, wide.read_bytes())})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert answer.headers["location"] == f"/v1/media/{body['id']}"
        assert body["kind"] == "image" and body["as"] == "feed" and body["name"] == "wide-photo.png"
        assert body["facts"]["width"] == 900 and body["bytes"] == wide.stat().st_size
        assert not body["valid"] and "IMG003" in {f["rule"] for f in body["errors"]}
        assert all(f["media"] == body["id"] for f in body["errors"])
        again = http.get(f"/v1/media/{body['id']}")
        assert again.status_code == 200 and again.json()["facts"] == body["facts"]
        content = http.get(f"/v1/media/{body['id']}/content")
        assert content.content == wide.read_bytes()
        assert http.delete(f"/v1/media/{body['id']}").status_code == 204
        gone = http.get(f"/v1/media/{body['id']}")
        assert (
            gone.status_code == 404 and gone.headers["content-type"] == "application/problem+json"
        )
    assert not incoming(service)


def test_head_of_a_media_content_says_its_size_without_the_bytes(service, tmp_path):
    """HEAD answered 405: a client checking a download's size first (curl -I) was
    refused (found by the service trial)."""
    photo = make_image(tmp_path / "photo.jpg", size=(640, 480))
    with service.client() as http:
        media = http.post("/v1/media", files={"file": (photo.name, photo.read_bytes())}).json()
        head = http.head(f"/v1/media/{media['id']}/content")
        missing = http.head("/v1/media/nope/content")
        http.delete(f"/v1/media/{media['id']}")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == photo.stat().st_size
    assert head.headers["content-type"] == "application/octet-stream"
    assert missing.status_code == 404


def test_upload_in_a_role(service, tmp_path):
    clip = make_video(tmp_path / "clip.mp4", width=64, height=64, duration=1.0)
    with service.client() as http:
        answer = http.post(
            "/v1/media", files={"file": ("clip.mp4", clip.read_bytes())}, data={"as": "story"}
        )
        bad_role = http.post(
            "/v1/media", files={"file": ("clip.mp4", clip.read_bytes())}, data={"as": "poster"}
        )
    assert answer.status_code == 201 and answer.json()["as"] == "story"
    assert answer.json()["kind"] == "video"
    assert bad_role.status_code == 422
    assert not incoming(service)


def test_over_the_cap_by_content_length(service):
    with service.client() as http:
        answer = http.post("/v1/media", files={"file": ("big.jpg", b"\xff" * (CAP + 100_000))})
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert not incoming(service)


def test_the_cap_is_the_files_to_the_byte_and_named_as_set(service):
    """The body's cap leaves room for the form around the file; the file's own cap
    is --max-upload exactly (the trial's file 1 KB over it was taken), and a
    refusal names the cap as the operator set it, not the body's."""
    with service.client() as http:
        at_cap = http.post("/v1/media", files={"file": ("at.jpg", b"\xff" * CAP)})
        just_over = http.post("/v1/media", files={"file": ("over.jpg", b"\xff" * (CAP + 1000))})
        far_over = http.post("/v1/media", files={"file": ("far.jpg", b"\xff" * (2 * CAP))})
    assert at_cap.status_code == 201, at_cap.text
    for refused in (just_over, far_over):
        assert refused.status_code == 413, refused.text
        assert refused.json()["detail"] == (
            f"the file is larger than this service's {CAP:,} bytes (--max-upload)"
        )
    assert not incoming(service)


def test_file_names_from_older_and_other_clients(service):
    """RFC 5987's filename* alone (urllib3 before 1.25), filename* beside filename
    (.NET), and a Latin-1 filename: each keeps its name and extension."""
    picture = make_image(service.settings.data_path.parent / "p.jpg").read_bytes()

    def sent(disposition: bytes) -> str:
        body = (
            b'--bnd\r\nContent-Disposition: form-data; name="file"; '
            + disposition
            + b"\r\n\r\n"
            + picture
            + b"\r\n--bnd--\r\n"
        )
        kind = {"content-type": "multipart/form-data; boundary=bnd"}
        with service.client() as http:
            answer = http.post("/v1/media", content=body, headers=kind)
        assert answer.status_code == 201, answer.text
        return answer.json()["name"]

    assert sent(b"filename*=UTF-8''%C3%A7af%C3%A9%20photo.jpg") == "cafe-photo.jpg"
    assert sent(b"filename=\"x.jpg\"; filename*=utf-8''r%C3%A9sum%C3%A9.jpg") == "resume.jpg"
    assert sent('filename="café.jpg"'.encode("latin-1")) == "cafe.jpg"
    assert sent(b"filename*=klingon''%FF.jpg; filename=\"plain.jpg\"") == "plain.jpg"


def test_over_the_cap_while_streaming(patient):
    """A chunked body gives no length: it is cut when it passes the cap (by `patient`:
    a test thread starved for a second between chunks got `service`'s 408 instead)."""
    boundary = "b0undary"

    def body():
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        for _ in range(40):
            yield b"\x00" * 16_384

    with patient.client() as http:
        answer = http.post(
            "/v1/media",
            content=body(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
    assert answer.status_code == 413
    assert not wait_empty(patient)


def raw_upload(service, head_only: bool) -> socket.socket:
    """A raw socket that declares a 200 KB upload and sends part of it."""
    port = int(service.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    boundary = "zz"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n\r\n'
    ).encode()
    request = (
        "POST /v1/media HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {200_000}\r\n\r\n"
    ).encode()
    sock.sendall(request + head + (b"" if head_only else b"\x01" * 50_000))
    return sock


def test_a_client_that_leaves_mid_upload_leaves_nothing(patient):
    sock = raw_upload(patient, head_only=False)
    assert wait_incoming(patient)  # the part is being written, and not cut for 30 s
    sock.close()
    assert not wait_empty(patient)


def test_a_client_that_stalls_is_cut_off(service):
    sock = raw_upload(service, head_only=False)
    sock.settimeout(10)
    reply = sock.recv(4096)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 408")
    assert b"application/problem+json" in reply
    assert not wait_empty(service)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"just bytes", "headers": {"content-type": "image/jpeg"}}, 415),
        ({"content": b"x", "headers": {"content-type": "multipart/form-data"}}, 400),
        (
            {
                "content": b'--q\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
                "headers": {"content-type": "multipart/form-data; boundary=q"},
            },
            400,
        ),
        ({"files": {"other": ("a.jpg", b"abc")}}, 422),
        ({"files": [("file", ("a.jpg", b"a")), ("file", ("b.jpg", b"b"))]}, 422),
    ],
)
def test_malformed_uploads_are_problems(service, kwargs, status):
    with service.client() as http:
        answer = http.post("/v1/media", **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert not incoming(service)


def test_an_unreadable_file_is_a_finding_not_an_error(service):
    with service.client() as http:
        answer = http.post("/v1/media", files={"file": ("notes.jpg", b"this is not an image")})
    assert answer.status_code == 201
    assert [f["rule"] for f in answer.json()["errors"]] == ["FILE001"]


def test_expired_media_are_swept(tmp_path):
    data = tmp_path / "d"  # publish.sqlite beside it is this test's own
    settings = ServeSettings(data_dir=str(data), isolated=True, rate=0, media_ttl=0.5)
    jpeg = make_image(tmp_path / "a.jpg", size=(1080, 1080)).read_bytes()
    with running(settings) as svc, svc.client() as http:
        media_id = http.post("/v1/media", files={"file": ("a.jpg", jpeg)}).json()["id"]
        time.sleep(0.7)
        assert http.get(f"/v1/media/{media_id}").status_code == 404
    from igpreflight.serve.store import MediaStore

    assert MediaStore(data, 0.5).sweep() == 1
    assert not (data / "media" / media_id).exists()
