"""Issue 14: leftovers after kill -9, two runs on one folder, hostile manifests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from fixtures.generate import make_image, make_video
from igpreflight.cli import cli
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.folderlock import out_lock
from igpreflight.transcode.types import FixOptions, FixStatus


def fix(*args: str):
    return CliRunner().invoke(cli, ["fix", *args], catch_exceptions=False)


def test_in_place_removes_what_a_killed_run_left(tmp_path: Path):
    folder = tmp_path / "photos"
    make_image(folder / "a.png", size=(300, 300), mode="RGBA")
    stale = folder / ".a.k3j9x0qz.tmp.jpg"  # what a kill -9 during --in-place leaves
    stale.write_bytes(b"half a jpeg")
    mine = folder / ".notes.txt"  # hidden, but not ours
    mine.write_text("keep me")
    results = fix_paths([folder], None, FixOptions(in_place=True))
    assert [r.status for r in results] == [FixStatus.CONVERTED]
    assert not stale.exists()
    assert mine.read_text() == "keep me"
    assert sorted(p.name for p in folder.iterdir()) == [".notes.txt", "a.jpg"]


def test_a_second_run_on_one_out_exits_2_naming_the_first(tmp_path: Path):
    make_image(tmp_path / "in" / "a.png", size=(300, 300))
    out = tmp_path / "out"
    with out_lock(out):  # the first run, still working (this process)
        r = subprocess.run(
            [sys.executable, "-m", "igpreflight", "fix", str(tmp_path / "in"), "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 2
        assert f"is being written by pid {os.getpid()} (" in r.stderr and "started" in r.stderr
        assert not (out / "a.jpg").exists()
    r = fix(str(tmp_path / "in"), "--out", str(out))  # the first one is done
    assert r.exit_code == 0, r.output
    assert (out / "a.jpg").is_file()


def test_two_threads_of_one_program_on_one_out_are_told_so(tmp_path: Path):
    """A program calling the API from two threads: the second was told the folder
    was written by "pid N (igpreflight <the program's own arguments>)", a run that
    did not exist; its own process, from another thread, is what holds it."""
    import threading

    from igpreflight import fix as fix_api
    from igpreflight.api.errors import FolderBusy

    make_image(tmp_path / "in" / "a.png", size=(300, 300))
    out = tmp_path / "out"
    refused: list[BaseException] = []

    def second() -> None:
        try:
            fix_api([tmp_path / "in"], out)
        except FolderBusy as exc:
            refused.append(exc)

    with out_lock(out):  # the first call, still working
        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
    [exc] = refused
    assert "another fix of this process" in str(exc) and "igpreflight" not in str(exc)
    assert [r.status for r in fix_api([tmp_path / "in"], out).files] == [FixStatus.CONVERTED]


def test_manifest_media_missing_or_outside_is_file001(tmp_path: Path):
    content = tmp_path / "content"
    make_image(content / "ok.jpg", size=(1080, 1080))
    make_image(tmp_path / "outside.jpg", size=(1080, 1080))
    (content / "posts.json").write_text(
        json.dumps(
            {
                "post": [
                    {"media": ["ok.jpg"]},
                    {"media": ["gone.jpg"]},
                    {"media": ["../outside.jpg"]},
                ]
            }
        )
    )
    r = fix("--manifest", str(content / "posts.json"), "--out", str(tmp_path / "out"))
    assert r.exit_code == 1, r.output
    lines = r.stdout.splitlines()
    assert any("gone.jpg: unfixable: FILE001 no such file" in line for line in lines)
    assert any("outside.jpg: unfixable: FILE001 path" in line for line in lines)
    assert any(line.startswith(str(content / "ok.jpg")) for line in lines), lines
    assert "3 files: 1 copied, 2 unfixable" in r.stdout


def test_a_name_near_the_file_system_limit_is_fixed(tmp_path: Path):
    """A 250-byte name is legal (NAME_MAX is 255), so its hidden temporary file
    (`.{stem}.{8 random}.tmp.jpg`) must fit too: it failed with ENAMETOOLONG."""
    folder = tmp_path / "in"
    image = make_image(folder / ("é" * 120 + "x" * 6 + ".webp"), size=(400, 400))  # 250 bytes
    video = make_video(folder / ("v" * 246 + ".mov"), duration=3.5, faststart=False)
    out = tmp_path / "out"
    results = fix_paths([folder], out, FixOptions())
    statuses = {Path(r.source).suffix: (r.status, r.reason) for r in results}
    assert statuses == {".webp": (FixStatus.CONVERTED, None), ".mov": (FixStatus.REMUXED, None)}
    names = sorted(p.name for p in out.iterdir() if p.is_file())
    assert names == sorted([image.stem + ".jpg", video.stem + ".mp4"])
    assert not [p for p in out.iterdir() if ".tmp" in p.name]  # nothing left behind
