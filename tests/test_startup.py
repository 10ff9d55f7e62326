"""Issue 20: `igpreflight check FILE` starts like a native tool (a pre-commit hook pays
its start-up on every commit). Each command's module loads only when it runs, and
checking a local file loads only what that needs: never the HTTP stack, S3, Dask,
DBOS or the publish layer, and MediaInfo's side only for a video it is needed for. Measured with
`python -X importtime`, which names every module a process imports.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.generate import make_image, make_video
from igpreflight.cli import COMMANDS

REPO = Path(__file__).resolve().parents[1]
# Never imported to check a local file.
NETWORK_AND_SERVICES = ("httpx", "boto3", "botocore", "dask", "distributed", "dbos")
PUBLISH_LAYER = ("igpreflight.publish", "igpreflight.api.publishing", "igpreflight.api.durable")


def imported(*args: str) -> set[str]:
    """Every module `python -X importtime ARGS` imports (it exits 0 or 1)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", proc.stderr, re.M)
    assert names, proc.stderr[-2000:]
    return set(names)


def offenders(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == b or m.startswith(b + ".") for b in banned))


def test_the_cli_imports_no_command_until_one_runs():
    modules = imported("-c", "import igpreflight.cli")
    assert offenders(modules, ("igpreflight.commands", "igpreflight.api")) == []
    # Every command is registered by name, so a new one (serve) stays lazy too.
    assert all(isinstance(target, str) and ":" in target for target in COMMANDS.values())


def test_checking_a_local_image_loads_no_network_s3_dask_dbos_or_publish(tmp_path: Path):
    photo = make_image(tmp_path / "photo.jpg", size=(1080, 1350))
    modules = imported("-m", "igpreflight", "check", str(photo))
    assert "igpreflight.preflight.engine" in modules  # it did check
    assert offenders(modules, NETWORK_AND_SERVICES + PUBLISH_LAYER) == []
    # No video in the batch: MediaInfo's server is never started, nor its module loaded.
    assert offenders(modules, ("pymediainfo", "igpreflight.preflight.mediainfo_child")) == []
    # Nor the fixer, the S3 layer, engines or every report format.
    assert offenders(modules, ("igpreflight.transcode", "igpreflight.storage.s3")) == []
    assert offenders(modules, ("igpreflight.scale.check", "igpreflight.report.sarif")) == []
    # One file: no engine (threads, signals), no overlap lanes, no s3:// parser, and
    # no colour management for a photo without an ICC profile.
    lazy = ("igpreflight.scale.engine", "igpreflight.preflight.overlap", "queue")
    assert offenders(modules, (*lazy, "igpreflight.storage.s3uri", "PIL.ImageCms")) == []


@pytest.mark.parametrize("orientation", [None, 6])
def test_checking_a_jpeg_imports_no_pillow_at_all(tmp_path: Path, orientation):
    """Issue 20: a JPEG's facts come from its header segments (`jpeg_facts.py`), so
    checking one, with or without EXIF, imports no module of Pillow (10-17 ms)."""
    photo = make_image(tmp_path / "photo.jpg", size=(1080, 1350), orientation=orientation)
    modules = imported("-m", "igpreflight", "check", str(photo))
    assert "igpreflight.preflight.jpeg_facts" in modules  # it did check the JPEG
    assert offenders(modules, ("PIL",)) == []


def test_checking_a_jpeg_with_a_profile_loads_lcms_alone(tmp_path: Path):
    """A profile is named through lcms's binding, without PIL.Image (15 ms)."""
    photo = make_image(tmp_path / "p3.jpg", size=(1080, 1350), icc="display-p3")
    modules = imported("-m", "igpreflight", "check", str(photo))
    assert "PIL._imagingcms" in modules
    assert offenders(modules, ("PIL.Image", "PIL.ImageCms", "PIL.JpegImagePlugin")) == []


def test_a_jpeg_the_header_walk_declines_is_checked_through_pillow(tmp_path: Path):
    """The guard above is no accident of a broken import: a 12-bit JPEG goes to Pillow
    (which refuses it, and says so in its own words)."""
    from tests.jpeg_bytes import patch_sof

    photo = make_image(tmp_path / "photo.jpg", size=(64, 48))
    deep = tmp_path / "deep.jpg"
    deep.write_bytes(patch_sof(photo.read_bytes(), 0, b"\x0c"))
    modules = imported("-m", "igpreflight", "check", str(deep))
    assert "PIL.Image" in modules


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_checking_a_local_video_loads_no_network_s3_dask_dbos_or_publish(tmp_path: Path, fmt):
    clip = make_video(tmp_path / "clip.mp4", width=64, height=64, duration=3.5)
    modules = imported("-m", "igpreflight", "check", "--format", fmt, str(clip))
    assert "igpreflight.preflight.probe_video" in modules
    assert offenders(modules, NETWORK_AND_SERVICES + PUBLISH_LAYER) == []
    # H.264 and AAC in MP4 are read natively: no MediaInfo server, nor ctypes to load it.
    mediainfo = ("igpreflight.preflight.mediainfo_child", "igpreflight.preflight.mediainfo_lib")
    assert offenders(modules, (*mediainfo, "ctypes", "pymediainfo")) == []


# What only images need: Pillow (any part of it), numpy and the strict JPEG decoder,
# the image transcoder, its plans and memory budget, and the JPEG helpers.
IMAGE_PIPELINE = (
    "PIL",
    "numpy",
    "simplejpeg",
    "pillow_heif",
    "igpreflight.transcode.image",
    "igpreflight.transcode.image_encode",
    "igpreflight.transcode.plan_image",
    "igpreflight.transcode.image_memory",
    "igpreflight.preflight.probe_image",
    "igpreflight.preflight.image_open",
    "igpreflight.preflight.image_structure",
    "igpreflight.preflight.image_colour",
    "igpreflight.preflight.jpeg_strict",
    "igpreflight.preflight.jpeg_child",
)


def test_fixing_one_video_loads_only_what_a_video_fix_needs(tmp_path: Path):
    """Issue 20: a remux's time is its proof plus Python's start-up, and the start-up
    was mostly the image pipeline. Fixing an MP4 whose moov is at the end (a remux)
    loads none of it, nor the manifest reader, a report it does not write, the thread
    pool, the network or the publish layer."""
    clip = make_video(tmp_path / "clip.mp4", width=720, height=1280, duration=3.5, faststart=False)
    out = tmp_path / "out"
    modules = imported("-m", "igpreflight", "fix", str(clip), "--out", str(out))
    assert (out / "clip.mp4").is_file()
    assert "igpreflight.transcode.video" in modules  # it did remux
    assert "igpreflight.preflight.video_proof" in modules  # and prove
    assert offenders(modules, IMAGE_PIPELINE) == []
    assert offenders(modules, NETWORK_AND_SERVICES + PUBLISH_LAYER) == []
    unused = ("igpreflight.preflight.manifest", "igpreflight.report.html", "concurrent.futures")
    assert offenders(modules, (*unused, "igpreflight.storage.s3", "igpreflight.scale.fix")) == []
    # A copy needs no filter graph (ffmpeg-python and its `future`), the bundled ffmpeg
    # is found without imageio-ffmpeg's module, and no profile key is misspelt (difflib).
    assert offenders(modules, REMUX_NEEDS_NONE) == []


REMUX_NEEDS_NONE = ("ffmpeg", "future", "past", "imageio_ffmpeg", "difflib")


def test_a_video_transcode_still_loads_ffmpeg_python(tmp_path: Path):
    """The guard above is no accident of a broken import: an encode builds its graph."""
    clip = make_video(tmp_path / "turned.mp4", duration=3.5, rotation=90)
    out = tmp_path / "out"
    modules = imported("-m", "igpreflight", "fix", str(clip), "--out", str(out))
    assert (out / "turned.mp4").is_file()
    assert "ffmpeg" in modules


def test_checking_a_local_video_loads_no_pillow(tmp_path: Path):
    clip = make_video(tmp_path / "clip.mp4", width=64, height=64, duration=3.5)
    modules = imported("-m", "igpreflight", "check", str(clip))
    assert "igpreflight.preflight.probe_video" in modules
    assert offenders(modules, IMAGE_PIPELINE) == []


def test_fixing_a_photo_still_loads_the_image_pipeline(tmp_path: Path):
    """The guard above is no accident of a broken import: an image fix loads it."""
    photo = make_image(tmp_path / "photo.png", size=(1080, 1350))
    out = tmp_path / "out"
    modules = imported("-m", "igpreflight", "fix", str(photo), "--out", str(out))
    assert (out / "photo.jpg").is_file()
    assert "igpreflight.transcode.image" in modules and "PIL.Image" in modules


# A probe run after the command: which of igpreflight's classes were made by
# dataclass's code generation (one compile per method) rather than as records, and
# whether the garbage collector was frozen for the exit.
AFTER_THE_COMMAND = """
import atexit, dataclasses, gc, sys
def report():
    plain = sorted(
        f"{m.__name__}.{c.__qualname__}"
        for m in list(sys.modules.values()) if (m.__name__ or "").startswith("igpreflight")
        for c in list(vars(m).values())
        if isinstance(c, type) and c.__module__ == m.__name__
        and dataclasses.is_dataclass(c) and not hasattr(c, "__record_plan__")
    )
    print("PLAIN", plain, "FROZEN", gc.get_freeze_count() > 0)
atexit.register(report)
sys.argv = ["igpreflight", *sys.argv[1:]]
from igpreflight.launch import main
main()
"""


def run_snippet(code: str, *args: str) -> str:
    """The stdout of `code` run by a fresh interpreter with `args` (a check: exit 0 or 1)."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return proc.stdout


def after_the_command(*args: str) -> str:
    return run_snippet(AFTER_THE_COMMAND, *args).rsplit("PLAIN", 1)[1]


# Made per sample of a video: a dataclass's compiled __init__ is the faster there.
PLAIN_BY_CHOICE = "'igpreflight.preflight.video_track.Sample'"


def test_checking_a_file_builds_its_values_as_records_and_exits_with_gc_frozen(tmp_path: Path):
    """Issue 20: Python 3.11 compiles each method of each dataclass at import (about
    1 ms a class, 20 ms of `check FILE`); the values on check's path are records
    (`igpreflight/records.py`). At exit the collector is frozen, so finalization does
    not walk every object the imports made (10-20 ms)."""
    photo = make_image(tmp_path / "photo.jpg", size=(1080, 1350))
    clip = make_video(tmp_path / "clip.mp4", width=64, height=64, duration=3.5)
    for target in (photo, clip):
        assert after_the_command("check", str(target)).strip() == "[] FROZEN True"


def test_fixing_builds_its_values_as_records(tmp_path: Path):
    photo = make_image(tmp_path / "photo.png", size=(1080, 1350))
    clip = make_video(tmp_path / "clip.mp4", width=720, height=1280, duration=3.5, faststart=False)
    for target in (photo, clip):
        out = tmp_path / f"out-{target.suffix[1:]}"
        shown = after_the_command("fix", str(target), "--out", str(out)).strip()
        fixed = "photo.jpg" if target is photo else "clip.mp4"
        assert (out / fixed).is_file()
        assert shown in ("[] FROZEN True", f"[{PLAIN_BY_CHOICE}] FROZEN True"), shown


# A probe run after the command: which rule modules it imported (by importlib, which
# `-X importtime` does not list) and whether the catalog (every rule module) loaded.
RULE_MODULES_AFTER = """
import atexit, sys
def report():
    loaded = sorted(m for m in sys.modules if m.startswith("igpreflight.preflight.rules."))
    print("RULES", ",".join(m.rpartition(".")[2] for m in loaded), "igpreflight.catalog" in sys.modules)
atexit.register(report)
sys.argv = ["igpreflight", *sys.argv[1:]]
from igpreflight.launch import main
main()
"""


def rule_modules_after(*args: str) -> tuple[str, str]:
    """The command's stdout, and the rule modules it loaded and whether the catalog did."""
    report, _, loaded = run_snippet(RULE_MODULES_AFTER, *args).rpartition("RULES ")
    return report, loaded.strip()


def test_checking_a_photo_loads_the_image_rules_alone(tmp_path: Path):
    """Importing every rule module (video, post, URL, quota, file) cost `check FILE`
    6-7 ms; a photo's check loads the image rules, and its text report still gives
    each finding the fix hint of its rule's registration."""
    from igpreflight.catalog import RULES

    photo = make_image(tmp_path / "wide.jpg", size=(2400, 1600))  # IMG004: too wide
    report, loaded = rule_modules_after("check", "--color", "never", str(photo))
    assert loaded == "fmt,image False"
    assert "IMG004" in report and f"fix: {RULES['IMG004'].fix_hint}" in report


def test_checking_a_video_loads_the_image_and_video_rules_alone(tmp_path: Path):
    clip = make_video(tmp_path / "clip.mp4", width=64, height=64, duration=3.5)
    report, loaded = rule_modules_after("check", "--format", "github", str(clip))
    assert loaded == "fmt,image,video,video_dimensions,video_encoding False"
    assert "VID" in report  # a 64x64 clip breaks the video rules: they did run


# A probe run with the command: at each collection, whether the CLI and the command's
# module had loaded, and whether the collector was on at exit.
COLLECTIONS = """
import atexit, gc, sys
seen = set()
def loaded(phase, info):
    if phase == "start":
        seen.add(("igpreflight.cli" in sys.modules, "igpreflight.api.checking" in sys.modules))
gc.callbacks.append(loaded)
atexit.register(lambda: print("GC", sorted(seen), gc.isenabled()))  # after the collect
atexit.register(gc.collect)  # at least one collection, whatever the work allocated
sys.argv = ["igpreflight", *sys.argv[1:]]
from igpreflight.launch import main
main()
"""


def test_the_collector_waits_for_the_command_to_load_then_runs(tmp_path: Path):
    """Collections while click and the command's modules load found nothing to free
    (what imports make lives until exit) and cost `check FILE` 6 ms of CPU; the work
    itself (a batch of thousands of files) still runs with the collector on."""
    photos = [make_image(tmp_path / f"p{i}.jpg", size=(1080, 1350)) for i in range(3)]
    proc = subprocess.run(
        [sys.executable, "-c", COLLECTIONS, "check", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{len(photos)} files" in proc.stdout
    seen, enabled = proc.stdout.rpartition("GC ")[2].rsplit(" ", 1)
    assert "(True, False)" not in seen  # none while the CLI and the command loaded
    assert "(True, True)" in seen and enabled.strip() == "True"


def test_a_command_run_in_process_leaves_the_collector_alone():
    """Only the console script holds the collector: a caller's own process is not frozen."""
    import gc

    from click.testing import CliRunner

    from igpreflight.cli import cli

    before = gc.get_freeze_count()
    result = CliRunner().invoke(cli, ["rules", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == before
