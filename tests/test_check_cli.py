"""`igpreflight check` end to end: exit codes, JSON report shape, manifests, odd names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from igpreflight.cli import cli
from tests.closed_stdout import NOT_WRITTEN, run_without_stdout


def jpeg(path: Path, size=(1080, 1350), color=(200, 100, 50)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, "JPEG", quality=85)
    return path


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def test_compliant_image_exits_0(tmp_path):
    r = run("check", jpeg(tmp_path / "ok.jpg"))
    assert r.exit_code == 0, r.output
    assert "0 errors" in r.output


def test_error_exits_1_and_names_rule_and_subcode(tmp_path):
    r = run("check", jpeg(tmp_path / "tall.jpg", (1080, 1360)))
    assert r.exit_code == 1
    assert "IMG003" in r.output and "2207009" in r.output


def test_strict_fails_on_warnings_only(tmp_path):
    png = tmp_path / "a.png"
    Image.new("RGB", (1080, 1080), "white").save(png)
    assert run("check", png).exit_code == 0  # IMG012 is a warning
    assert run("check", "--strict", png).exit_code == 1


def test_usage_errors_exit_2(tmp_path):
    assert run("check").exit_code == 2
    assert run("check", tmp_path / "missing.jpg").exit_code == 2
    bad = tmp_path / "posts.toml"
    bad.write_text("[[post]\n")
    r = run("check", "--manifest", bad)
    assert r.exit_code == 2 and "posts.toml" in r.output
    assert run("check", "--as", "tiktok", tmp_path).exit_code == 2


def test_json_report_matches_spec_shape(tmp_path):
    webp = tmp_path / "assets" / "a.webp"
    webp.parent.mkdir()
    Image.new("RGB", (1080, 1350), "red").save(webp, "WEBP")
    jpeg(tmp_path / "assets" / "b.jpg")
    r = run("check", "--format", "json", tmp_path / "assets")
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert data["version"] == 1 and data["tool"]["name"] == "igpreflight"
    assert set(data["summary"]) == {"files", "posts", "errors", "warnings", "fixable", "ignored"}
    assert data["summary"]["files"] == 2
    first = data["files"][0]
    assert first["path"].endswith("a.webp") and first["kind"] == "image" and first["as"] == "feed"
    assert {"format", "width", "height", "bytes"} <= set(first["facts"])
    (img002,) = [f for f in first["findings"] if f["rule"] == "IMG002"]
    assert img002 == {
        "rule": "IMG002",
        "severity": "error",
        "code": 36001,
        "subcode": 2207005,
        "message": img002["message"],
        "fixable": True,
    }
    assert data["summary"]["errors"] == sum(
        f["severity"] == "error" for file in data["files"] for f in file["findings"]
    )


def test_relative_paths_stay_relative(tmp_path, monkeypatch):
    jpeg(tmp_path / "pics" / "a.jpg")
    monkeypatch.chdir(tmp_path)
    data = json.loads(run("check", "--format", "json", "pics").output)
    assert data["files"][0]["path"] == os.path.join("pics", "a.jpg")


def test_output_file_keeps_stdout_clean(tmp_path):
    out = tmp_path / "report.json"
    r = run("check", "--format", "json", "--output", out, jpeg(tmp_path / "a.jpg"))
    assert r.exit_code == 0 and r.output == ""
    assert json.loads(out.read_text())["summary"]["files"] == 1


def test_bad_files_are_file001_and_the_batch_goes_on(tmp_path):
    d = tmp_path / "batch"
    d.mkdir()
    (d / "empty.jpg").write_bytes(b"")
    (d / "notes.png").write_text("this is not an image")
    (d / "random.mp4").write_bytes(os.urandom(4096))
    jpeg(d / "good.jpg")
    r = run("check", "--format", "json", d)
    data = json.loads(r.output)
    by_name = {Path(f["path"]).name: f for f in data["files"]}
    for name in ("empty.jpg", "notes.png", "random.mp4"):
        rules = [f["rule"] for f in by_name[name]["findings"]]
        assert rules == ["FILE001"], (name, rules)
        assert "\n" not in by_name[name]["findings"][0]["message"]
    assert by_name["good.jpg"]["findings"] == []


@pytest.mark.parametrize("name", ["with space.jpg", "ünïcødé-😀.jpg", "-leading-dash.jpg"])
def test_awkward_names_work_from_a_real_shell(tmp_path, name):
    p = jpeg(tmp_path / name)
    proc = subprocess.run(
        [sys.executable, "-m", "igpreflight", "check", "--format", "json", "--", str(p)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"][0]["path"] == str(p)


def test_hidden_files_and_non_media_in_folders_are_skipped(tmp_path):
    jpeg(tmp_path / ".hidden.jpg", (10, 10))
    jpeg(tmp_path / ".cache" / "x.jpg", (10, 10))
    (tmp_path / "README.md").write_text("# hi")
    jpeg(tmp_path / "real.jpg")
    data = json.loads(run("check", "--format", "json", tmp_path).output)
    assert [Path(f["path"]).name for f in data["files"]] == ["real.jpg"]


def test_manifest_json_on_stdin(tmp_path, monkeypatch):
    jpeg(tmp_path / "a.jpg")
    jpeg(tmp_path / "b.jpg", (1080, 1080))
    monkeypatch.chdir(tmp_path)
    manifest = {"post": [{"id": "duo", "caption": "#a " * 31, "media": ["a.jpg", "b.jpg"]}]}
    r = run("check", "--manifest", "-", "--format", "json", input=json.dumps(manifest))
    data = json.loads(r.output)
    assert r.exit_code == 1
    (post,) = data["posts"]
    assert post["id"] == "duo" and post["media_type"] == "CAROUSEL"
    assert post["media"] == ["a.jpg", "b.jpg"]
    rules = {f["rule"] for f in post["findings"]}
    assert "POST002" in rules  # 31 hashtags
    assert "POST014" in rules  # 1080x1080 is cropped to the first item's 4:5
    assert {f["as"] for f in data["files"]} == {"carousel-item"}


def test_manifest_path_escape_is_file001_not_a_crash(tmp_path):
    (tmp_path / "m").mkdir()
    jpeg(tmp_path / "secret.jpg")
    manifest = tmp_path / "m" / "posts.json"
    manifest.write_text(json.dumps({"post": [{"media": ["../secret.jpg"]}]}))
    data = json.loads(run("check", "--manifest", manifest, "--format", "json").output)
    assert [f["rule"] for f in data["files"][0]["findings"]] == ["FILE001"]


def test_bundled_sample_manifest(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "posts.toml"
    r = run("check", "--manifest", sample, "--format", "json")
    assert r.exit_code == 1
    posts = {p["id"]: p for p in json.loads(r.output)["posts"]}
    assert [f["rule"] for f in posts["hashtag-soup"]["findings"]] == ["POST002"]
    assert posts["carousel-launch"]["findings"] == posts["reel-with-thumb"]["findings"] == []


def test_thumb_offset_outside_the_video_is_post007(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "media"
    manifest = tmp_path / "posts.json"
    (tmp_path / "reel.mp4").write_bytes((sample / "reel-ok.mp4").read_bytes())
    manifest.write_text(json.dumps({"post": [{"media": ["reel.mp4"], "thumb_offset": 3500}]}))
    data = json.loads(run("check", "--manifest", manifest, "--format", "json").output)
    (post,) = data["posts"]
    assert post["media_type"] == "REELS"  # inferred from the single video
    assert [f["rule"] for f in post["findings"]] == ["POST007"]


def test_python_api_has_no_side_effects(tmp_path, capsys):
    import igpreflight

    report = igpreflight.check([jpeg(tmp_path / "tall.jpg", (1080, 1400))])
    assert [f.rule for f in report.errors] == ["IMG003"]
    assert report.to_dict()["summary"]["errors"] == 1
    assert capsys.readouterr() == ("", "")
    with pytest.raises(FileNotFoundError):
        igpreflight.check([tmp_path / "missing.jpg"])
    with pytest.raises(ValueError):
        igpreflight.check([tmp_path], as_="tiktok")


def test_stdin_unused_without_dash(tmp_path):
    r = run("check", jpeg(tmp_path / "a.jpg"), input="ignored")
    assert r.exit_code == 0


def test_jobs_give_identical_reports_in_input_order():
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "media"
    one = run("check", "--format", "json", "--jobs", "1", sample)
    two = run("check", "--format", "json", "--jobs", "2", sample)
    assert one.exit_code == two.exit_code == 1
    assert one.output == two.output
    paths = [f["path"] for f in json.loads(one.output)["files"]]
    assert paths == sorted(paths)  # the walk's stable order, whatever finished first


def test_manifest_media_are_reported_from_where_igpreflight_runs(tmp_path, monkeypatch):
    jpeg(tmp_path / "site" / "media" / "tall.jpg", (1080, 1500))
    (tmp_path / "site" / "posts.json").write_text(
        json.dumps({"post": [{"media": ["media/tall.jpg"], "caption": "#a " * 31}]})
    )
    monkeypatch.chdir(tmp_path)
    r = run("check", "--manifest", os.path.join("site", "posts.json"), "--format", "github")
    shown = os.path.join("site", "media", "tall.jpg")
    assert f"::error file={shown},title=IMG003::" in r.output
    # A post's own findings (the caption) point at the manifest, where they are fixed.
    assert f"::error file={os.path.join('site', 'posts.json')},title=POST002::" in r.output
    data = json.loads(run("check", "--manifest", "site/posts.json", "--format", "json").output)
    assert data["files"][0]["path"] == shown and data["posts"][0]["media"] == [shown]


def test_output_errors_are_usage_errors_and_dash_is_stdout(tmp_path):
    ok = jpeg(tmp_path / "a.jpg")
    r = run("check", ok, "-o", tmp_path / "missing" / "r.json")
    assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output
    r = run("check", ok, "-o", "-", "--format", "json")
    assert json.loads(r.output)["summary"]["files"] == 1
    out = tmp_path / "r.json"
    run("check", ok, "-o", out)
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_video_cover_is_one_error_and_a_pipe_is_not_read(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "media"
    (tmp_path / "reel.mp4").write_bytes((sample / "reel-ok.mp4").read_bytes())
    manifest = tmp_path / "posts.json"
    manifest.write_text(json.dumps({"post": [{"media": ["reel.mp4"], "cover": "reel.mp4"}]}))
    data = json.loads(run("check", "--manifest", manifest, "--format", "json").output)
    cover = [f for f in data["files"] if f["as"] is None]
    assert [[x["rule"] for x in f["findings"]] for f in cover] == [["IMG002"]]
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    r = run("check", "--format", "json", fifo)  # must not block waiting for a writer
    (finding,) = json.loads(r.output)["files"][0]["findings"]
    assert finding["rule"] == "FILE001" and "not a regular file" in finding["message"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_closed_stdout_is_never_exit_0(tmp_path, fmt):
    """`check FILE >&-`: Python leaves sys.stdout None, click dropped the report and
    the command exited 0, so a caller took the file for passed. Now it exits 1 with
    one line saying the report was not written; a report written to -o still counts."""
    p = jpeg(tmp_path / "good.jpg")
    done = run_without_stdout("check", "--format", fmt, str(p), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr == NOT_WRITTEN
    report = tmp_path / "report.out"
    done = run_without_stdout("check", "--format", fmt, "-o", str(report), str(p), cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "" and "good.jpg" in report.read_text()
