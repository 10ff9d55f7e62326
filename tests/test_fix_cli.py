"""`igpreflight fix` end to end: layout, exit codes, reports, --in-place, --dry-run.

Runs the real command (click's runner, in process) on generated files and checks
the files it leaves behind with the real probe and rules.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.generate import make_image, make_video
from igpreflight.cli import cli
from igpreflight.model import Role, Severity
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.types import FixOptions
from tests.closed_stdout import NOT_WRITTEN, run_without_stdout


def run(*args: str):
    return CliRunner().invoke(cli, ["fix", *args], catch_exceptions=False)


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".igpreflight" not in p.parts  # not the resume ledger
    }


def errors_of(path: Path, role: Role | None = None) -> list[str]:
    return [f.rule for f in check_facts(probe(path), role) if f.severity is Severity.ERROR]


def corrupt_png(path: Path) -> Path:
    """A PNG whose header and chunk list are fine (it probes) but whose pixel data
    does not decode: the header-only check passes it, fix refuses it."""
    make_image(path, size=(400, 400), mode="RGBA")
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8 : start - 4], "big")
    for k in range(start + length // 3, start + length // 3 + 64):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    make_image(src / "a.png", size=(800, 1000), mode="RGBA")
    make_image(src / "sub" / "b.webp", size=(1600, 500))
    make_image(src / "sub" / "deeper" / "c.jpg", size=(1080, 1350))  # compliant
    make_image(src / ".hidden.png", size=(64, 64))
    make_image(src / ".cache" / "d.png", size=(64, 64))
    return src


def test_out_or_in_place_is_required(tree):
    assert run(str(tree)).exit_code == 2
    assert run(str(tree), "--out", str(tree.parent / "o"), "--in-place").exit_code == 2
    assert run(str(tree), "--out", str(tree.parent / "o"), "--pad-color", "nope").exit_code == 2


def test_folder_layout_is_mirrored_with_the_format_extension(tree):
    out = tree.parent / "out"
    before = digests(tree)
    result = run(str(tree), "--out", str(out))
    assert result.exit_code == 0, result.output
    made = sorted(
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.is_file() and ".igpreflight" not in p.parts  # the resume ledger
    )
    assert made == ["a.jpg", "sub/b.jpg", "sub/deeper/c.jpg"]  # hidden files skipped
    for name in made:
        assert errors_of(out / name) == []
    assert (out / "sub/deeper/c.jpg").read_bytes() == (tree / "sub/deeper/c.jpg").read_bytes()
    assert digests(tree) == before  # originals unchanged
    assert f"{tree / 'a.png'} -> {out / 'a.jpg'}: converted (" in result.output
    assert "copied" in result.output and "3 files:" in result.output


def test_output_folder_inside_the_input_is_skipped(tree):
    out = tree / "fixed"
    assert run(str(tree), "--out", str(out)).exit_code == 0
    first = digests(out)
    again = run(str(tree), "--out", str(out))
    assert again.exit_code == 0
    assert digests(out) == first  # same outputs, nothing from fixed/ fixed again
    assert not (out / "fixed").exists()


def test_dry_run_writes_nothing_and_shows_the_plan(tree):
    out = tree.parent / "out"
    result = run(str(tree), "--out", str(out), "--dry-run")
    assert result.exit_code == 0
    assert not out.exists()
    assert "(dry run)" in result.output and "crop centre" in result.output


def test_dry_run_alone_plans_without_an_output(tree):
    before = digests(tree.parent)
    result = run(str(tree), "--dry-run")
    assert result.exit_code == 0
    assert f"{tree / 'a.png'}: converted (dry run) (" in result.output
    assert digests(tree.parent) == before


def test_json_report(tree):
    out = tree.parent / "out"
    result = run(str(tree), "--out", str(out), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["version"] == 1 and doc["summary"]["files"] == 3
    assert doc["summary"]["converted"] == 2 and doc["summary"]["copied"] == 1
    by_name = {Path(f["path"]).name: f for f in doc["files"]}
    assert by_name["a.png"]["status"] == "converted"
    assert [s["step"] for s in by_name["a.png"]["steps"]][-1] == "encode"
    assert "IMG009" in {f["rule"] for f in by_name["a.png"]["before"]}
    assert by_name["a.png"]["after"] is not None
    assert all(f["severity"] != "error" for f in by_name["a.png"]["after"])


def test_a_bad_file_does_not_stop_the_batch(tmp_path):
    src = tmp_path / "in"
    make_image(src / "good.webp", size=(500, 500))
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    corrupt_png(src / "corrupt.png")
    out = tmp_path / "out"
    result = run(str(src), "--out", str(out))
    assert result.exit_code == 1
    assert (out / "good.jpg").is_file()
    assert f"{src / 'broken.jpg'}: unfixable: FILE001" in result.output
    broken = next(x for x in result.output.splitlines() if "broken.jpg: unfixable" in x)
    assert broken.endswith("; to do: replace the file"), broken  # as check says it
    # check --deep and fix agree: pixels that do not decode are FILE001.
    assert f"{src / 'corrupt.png'}: unfixable: FILE001 does not decode" in result.output
    made = sorted(p.name for p in out.iterdir() if p.name != ".igpreflight")
    assert made == ["good.jpg"]  # no debris (the resume ledger aside)


def test_in_place_replaces_only_after_success(tmp_path):
    src = tmp_path / "in"
    make_image(src / "a.png", size=(800, 1000), mode="RGBA")
    make_image(src / "wide.jpg", size=(3000, 1000))
    ok = make_image(src / "ok.jpg", size=(1080, 1350))
    ok_bytes = ok.read_bytes()
    result = run(str(src), "--in-place")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in src.iterdir()) == ["a.jpg", "ok.jpg", "wide.jpg"]
    for p in src.iterdir():
        assert errors_of(p) == []
    assert ok.read_bytes() == ok_bytes
    assert "ok.jpg: unchanged" in result.output
    fixed = digests(src)
    again = run(str(src), "--in-place")
    assert again.exit_code == 0 and again.output.count(": unchanged") == 3
    assert digests(src) == fixed


def test_in_place_failure_keeps_the_original_and_leaves_no_temp_files(tmp_path):
    src = tmp_path / "in"
    bad = corrupt_png(src / "bad.png")
    bad_bytes = bad.read_bytes()
    make_image(src / "fine.webp", size=(500, 500))
    result = run(str(src), "--in-place")
    assert result.exit_code == 1
    assert sorted(p.name for p in src.iterdir()) == ["bad.png", "fine.jpg"]
    assert bad.read_bytes() == bad_bytes


def test_two_inputs_never_share_an_output(tmp_path):
    src = tmp_path / "in"
    make_image(src / "a.png", size=(500, 500))
    make_image(src / "a.webp", size=(500, 500))
    make_image(src / "a.jpg", size=(500, 500))
    out = tmp_path / "out"
    results = fix_paths([src], out, FixOptions())
    outputs = sorted(Path(r.output).name for r in results)
    assert outputs == ["a.jpg", "a.png.jpg", "a.webp.jpg"]
    by_source = {Path(r.source).name: Path(r.output).name for r in results}
    assert by_source["a.jpg"] == "a.jpg"  # the file that keeps its name wins it


def test_out_next_to_a_named_file_never_overwrites_it(tmp_path):
    src = make_image(tmp_path / "big.jpg", size=(3000, 2000))
    original = src.read_bytes()
    (result,) = fix_paths([src], tmp_path, FixOptions())
    assert result.ok and Path(result.output).name == "big-2.jpg"
    assert src.read_bytes() == original


def test_jobs_keep_input_order_and_results(tree):
    one = fix_paths([tree], tree.parent / "o1", FixOptions(), jobs=1)
    two = fix_paths([tree], tree.parent / "o2", FixOptions(), jobs=2)
    assert [r.source for r in one] == [r.source for r in two]
    assert [r.status for r in one] == [r.status for r in two]
    assert digests(tree.parent / "o1") == digests(tree.parent / "o2")


def test_as_story_keeps_the_ratio(tmp_path):
    src = make_image(tmp_path / "tall.png", size=(1080, 1920))
    out = tmp_path / "out"
    assert run(str(src), "--out", str(out), "--as", "story").exit_code == 0
    with Image.open(out / "tall.jpg") as im:
        assert im.size == (1080, 1920)
    assert run(str(src), "--out", str(tmp_path / "feed")).exit_code == 0
    with Image.open(tmp_path / "feed" / "tall.jpg") as im:
        assert im.size == (1080, 1350)


def test_videos_go_to_the_video_fixer(tmp_path):
    clip = make_video(tmp_path / "in" / "clip.mov", width=64, height=64, duration=3.5)
    out = tmp_path / "out"
    (result,) = fix_paths([clip], out, FixOptions())
    assert result.ok, result.reason
    assert Path(result.output).suffix in (".mp4", ".mov")
    assert errors_of(Path(result.output)) == []


def test_outputs_have_normal_permissions_and_in_place_keeps_the_original_s(tmp_path):
    src = make_image(tmp_path / "in" / "a.webp", size=(500, 500))
    ok = make_image(tmp_path / "in" / "ok.jpg", size=(1080, 1350))
    umask = os.umask(0o022)
    os.umask(umask)
    results = fix_paths([src, ok], tmp_path / "out", FixOptions())
    for r in results:
        assert stat.S_IMODE(os.stat(r.output).st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    os.chmod(src, 0o640)
    (fixed,) = fix_paths([src], None, FixOptions(in_place=True))
    assert stat.S_IMODE(os.stat(fixed.output).st_mode) == 0o640


def test_report_option_writes_the_html_review_page(tmp_path):
    src = make_image(tmp_path / "in" / "wide.png", size=(900, 300))
    page = tmp_path / "review.html"
    result = run(str(src), "--out", str(tmp_path / "out"), "--report", str(page))
    assert result.exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "wide.png" in html and "crop" in html


@pytest.mark.parametrize(
    "options",
    [
        FixOptions(as_="sideways"),
        FixOptions(aspect="zoom"),
        FixOptions(background="blur"),
        FixOptions(pad_color="not-a-colour"),
    ],
)
def test_library_misuse_raises_before_touching_anything(tmp_path, options):
    src = make_image(tmp_path / "a.webp", size=(300, 300))
    with pytest.raises(ValueError):
        fix_paths([src], tmp_path / "out", options)
    with pytest.raises(ValueError):
        fix_paths([src], None, FixOptions())  # neither out nor in_place
    assert not (tmp_path / "out").exists()


def test_out_that_contains_the_input_folder_is_a_usage_error(tmp_path):
    src = tmp_path / "in"
    make_image(src / "a.png", size=(500, 500))
    for out in (src, tmp_path):
        result = CliRunner().invoke(cli, ["fix", str(src), "--out", str(out)])
        assert result.exit_code == 2 and "--in-place" in result.output
    inside = CliRunner().invoke(cli, ["fix", str(src), "--out", str(src / "fixed")])
    assert inside.exit_code == 0 and (src / "fixed" / "a.jpg").is_file()


def test_a_closed_stdout_is_never_exit_0(tmp_path):
    """`fix FILE --out DIR >&-` wrote the fixed file, dropped the report and exited 0.
    Now the file is still written and the command exits 1 with one line on stderr."""
    src = make_image(tmp_path / "wide.jpg", size=(3000, 1000))
    done = run_without_stdout("fix", str(src), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr == NOT_WRITTEN
    assert (tmp_path / "out" / "wide.jpg").is_file()
