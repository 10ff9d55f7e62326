"""A service whose disk refuses writes answers a problem a client can act on.

The disk filling up is made real per process: `serve` runs under RLIMIT_FSIZE,
so a write past the cap fails with EFBIG exactly where a full disk fails with
ENOSPC (the upload's own write into the data folder), on any machine and user.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
from pathlib import Path

import httpx
from PIL import Image
from serve_support import running, serve_process

from igpreflight.serve.settings import ServeSettings

FILE_CAP = 4 * 1024 * 1024  # bytes any one file of the service may grow to


def _cap_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_CAP, FILE_CAP))


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1080, 1080), "teal").save(out, "JPEG", quality=85)
    return out.getvalue()


def test_an_upload_the_disk_cannot_hold_is_507_and_the_service_goes_on(tmp_path: Path) -> None:
    served = serve_process(tmp_path, preexec_fn=_cap_file_size)
    with served as (url, _), httpx.Client(base_url=url, timeout=60) as http:
        too_big = os.urandom(FILE_CAP + 1024 * 1024)
        refused = http.post("/v1/media", files={"file": ("big.mov", too_big)})
        fits = http.post("/v1/media", files={"file": ("fits.jpg", small_jpeg())})
    assert refused.status_code == 507, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == "urn:igpreflight:problem:insufficient-storage"
    assert "disk is full" in problem["detail"] and "\n" not in problem["detail"]
    assert refused.headers["retry-after"] == "60"
    assert fits.status_code == 201, fits.text
    incoming = tmp_path / ".igpreflight" / "serve" / "media" / ".incoming"
    assert list(incoming.iterdir()) == []  # the refused upload left nothing behind
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log and "disk is full" in log  # one line for the operator


def test_readyz_says_when_the_data_folder_takes_no_writes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running(ServeSettings(data_dir=str(data), isolated=True)) as svc, svc.client() as http:
        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["data"]["ok"]
        shutil.rmtree(data)
        data.write_text("the volume went away; a file stands in its place")
        gone = http.get("/readyz")
    assert gone.status_code == 503, gone.text
    check = gone.json()["checks"]["data"]
    assert not check["ok"] and check["detail"] == "data folder: Not a directory"
