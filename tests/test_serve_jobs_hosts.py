"""Two services on one PostgreSQL, each with its own data folder (two hosts): a job
runs where its media is.

The trial found the other host took jobs off a queue shared by the whole
database, then failed them, "no media ... (it may have expired)": the media was in
the first host's folder. Here host A is busy with a first job (seconds of
transcoding) when a second is enqueued on it, so the idle host B, polling every
0.2 s, is the one free to take it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from durable_support import pg_db  # noqa: F401 - the fixture
from serve_support import serve_process

from fixtures.generate import make_video


def ended(http: httpx.Client, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, f"job never ended: {job}"
        time.sleep(0.2)


def test_a_job_runs_on_the_host_that_holds_its_media(
    tmp_path: Path,
    pg_db: str,  # noqa: F811
) -> None:
    slow = make_video(
        tmp_path / "slow.mp4", width=1280, height=720, fps=60, duration=6, pix_fmt="yuv444p"
    )
    quick = make_video(
        tmp_path / "quick.mp4", width=320, height=568, duration=3.5, pix_fmt="yuv444p"
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    host_a = serve_process(tmp_path / "a", "--db", pg_db)
    host_b = serve_process(tmp_path / "b", "--db", pg_db)
    with host_a as (url_a, _), host_b as (url_b, _):
        with httpx.Client(base_url=url_a, timeout=60) as a:
            ids = []
            for clip in (slow, quick):
                media = a.post("/v1/media", files={"file": (clip.name, clip.read_bytes())})
                job = a.post("/v1/fix", json={"media_id": media.json()["id"]})
                assert job.status_code == 202, job.text
                ids.append(job.json()["id"])
            jobs = [ended(a, job_id) for job_id in ids]
        with httpx.Client(base_url=url_b, timeout=60) as b:
            seen_from_b = b.get(f"/v1/jobs/{ids[1]}").json()
    for job in jobs:
        assert job["state"] == "succeeded", job
        assert job["result"]["ok"], job["result"]
        assert job["result"]["media"]["kind"] == "video"
    assert seen_from_b["state"] == "succeeded"  # every host answers for every job
    fixed = jobs[1]["result"]["media"]["id"]
    assert (tmp_path / "a" / ".igpreflight" / "serve" / "media" / fixed).is_dir()
