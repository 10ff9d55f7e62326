"""The helper processes a burst of requests starts are stopped once the service is quiet.

A long-lived host used to keep every helper (strict JPEG decoder, MediaInfo
parser) a burst had started, for as long as it ran: 20 processes, about 530 MB,
after 32 concurrent uploads. Here the idle limit is half a second, so the test
only waits for the service to go back to none.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from serve_support import running

from fixtures.generate import make_video
from igpreflight.serve.settings import ServeSettings

HELPERS = ("igpreflight.preflight.jpeg_server", "igpreflight.preflight.mediainfo_lib")


def helpers_of_this_process() -> list[int]:
    """The pids of this process's helper children (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and any(h in command for h in HELPERS):
            found.append(int(entry.name))
    return found


def test_helpers_a_burst_started_are_stopped_when_the_service_is_idle(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("IGPREFLIGHT_HELPER_IDLE", "0.5")
    # Matroska: MediaInfo parses it (in a helper), where MP4 is read natively
    clip = make_video(tmp_path / "clip.mkv", width=160, height=284, duration=0.5).read_bytes()
    settings = ServeSettings(data_dir=str(tmp_path / "data"), isolated=True, rate=0.0)
    with running(settings) as svc, svc.client() as http:

        def upload(i: int) -> int:
            files = {"file": (f"clip-{i}.mkv", clip)}
            return http.post("/v1/media", files=files).status_code

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(upload, range(16)))
        assert answers == [201] * 16
        busy = helpers_of_this_process()
        assert busy, "the uploads' MediaInfo parses ran in no helper process"
        deadline = time.monotonic() + 60
        while helpers_of_this_process():
            assert time.monotonic() < deadline, f"helpers left running: {busy}"
            time.sleep(0.1)
        assert upload(99) == 201  # and the next request starts one again
