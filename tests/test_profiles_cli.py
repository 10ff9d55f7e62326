"""Profiles end to end (SPEC 12): `--profile` on check, fix and run, the reports naming
the profile, `igpreflight profiles`, `explain`, and fix aiming at the intersection so
one output passes every profile (or says, in one line, why none can)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.generate import make_image, make_video
from igpreflight import check, fix
from igpreflight.cli import cli
from igpreflight.model import Severity
from igpreflight.preflight.probe import probe
from igpreflight.profiles import BUILTIN as KNOWN
from igpreflight.profiles import FACEBOOK_REELS, INSTAGRAM, THREADS, from_toml, house_profile

OFFICIAL = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json").read_text())


@pytest.fixture(autouse=True)
def fast_x264(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGPREFLIGHT_X264_PRESET", "ultrafast")


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def wide(tmp: Path) -> Path:
    path = tmp / "wide.jpg"
    Image.new("RGB", (1200, 100), "red").save(path, quality=80)
    return path


def errors(path: Path | str, profile: str) -> list[str]:
    report = check(path, profile=profile)
    return [f"{f.rule} {f.tagged_message}" for f in report.errors]


# ---------------------------------------------------------------- check and its reports


def test_check_names_the_profile_in_text(tmp_path: Path) -> None:
    r = run("check", "--isolated", "--profile", "threads", wide(tmp_path))
    assert r.exit_code == 1
    assert "IMG003   [threads] aspect ratio 12.000 (1200x100) is above 10:1" in r.output
    r = run("check", "--isolated", wide(tmp_path))  # the default: today's words
    assert "IMG003   aspect ratio 12.000 (1200x100) is above 1.91:1" in r.output
    assert "[instagram]" not in r.output


def test_an_unknown_profile_is_a_usage_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["check", "--isolated", "--profile", "thread", str(wide(tmp_path))])
    assert r.exit_code == 2
    assert "unknown profile 'thread'" in r.output and 'did you mean "threads"' in r.output


def test_json_and_sarif_carry_the_profile(tmp_path: Path) -> None:
    path = wide(tmp_path)
    data = json.loads(
        run(
            "check", "--isolated", "--profile", "instagram,threads", "--format", "json", path
        ).output
    )
    assert data["version"] == 1
    found = {(f["rule"], f["profile"]) for f in data["files"][0]["findings"]}
    assert ("IMG003", "instagram") in found and ("IMG003", "threads") in found
    plain = json.loads(run("check", "--isolated", "--format", "json", path).output)
    assert all("profile" not in f for f in plain["files"][0]["findings"])  # optional field

    log = json.loads(
        run(
            "check", "--isolated", "--profile", "instagram,threads", "--format", "sarif", path
        ).output
    )
    jsonschema.Draft4Validator(OFFICIAL).validate(log)
    results = [r for r in log["runs"][0]["results"] if r["ruleId"] == "IMG003"]
    assert {r["properties"]["profile"] for r in results} == {"instagram", "threads"}
    prints = {r["partialFingerprints"]["igpreflightFinding/v1"] for r in results}
    assert len(prints) == 2  # one alert per profile, not one that hides the other
    (img003,) = [d for d in log["runs"][0]["tool"]["driver"]["rules"] if d["id"] == "IMG003"]
    assert img003["properties"]["profiles"] == {
        "instagram": "feed, carousel-item: aspect 4:5..1.91:1; story, cover: aspect any",
        "threads": "aspect 1:10..10:1",
    }


def test_junit_and_github_carry_the_profile(tmp_path: Path) -> None:
    path = wide(tmp_path)
    xml = run("check", "--isolated", "--profile", "threads", "--format", "junit", path).output
    failure = ET.fromstring(xml).find(".//failure")
    assert failure is not None and failure.get("message", "").startswith("IMG003: [threads] ")
    gh = run("check", "--isolated", "--profile", "threads", "--format", "github", path).output
    assert "::error file=" in gh and "title=IMG003::[threads] aspect ratio" in gh


def test_configuration_profiles_per_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "threads").mkdir()
    wide(tmp_path / "threads")
    wide(tmp_path)
    (tmp_path / "igpreflight.toml").write_text('[profiles]\n"threads/**" = "threads"\n')
    monkeypatch.chdir(tmp_path)
    out = run("check", ".").output
    assert "IMG003   [threads] aspect ratio" in out  # threads/wide.jpg
    assert "IMG003   aspect ratio 12.000 (1200x100) is above 1.91:1" in out  # wide.jpg


# ---------------------------------------------------------------- profiles and explain


def test_profiles_lists_and_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.igpreflight.profiles.brand]\nextends = "threads"\npost.max_caption = 280\n'
    )
    monkeypatch.chdir(tmp_path)
    listing = run("profiles").output.splitlines()
    assert [line.split()[0] for line in listing] == [
        "instagram",
        "threads",
        "facebook-reels",
        "brand",
    ]
    assert "(the default)" in listing[0] and "extends threads" in listing[3]
    rows = json.loads(run("profiles", "--format", "json").output)
    assert rows[3]["extends"] == "threads"
    text = run("profiles", "show", "threads").output
    assert from_toml(text) == THREADS
    assert 'url = "https://developers.facebook.com/docs/threads/posts"' in text
    brand = run("profiles", "show", "brand").output
    assert from_toml(brand).post.max_caption == 280
    r = CliRunner().invoke(cli, ["profiles", "show", "instagramm"])
    assert r.exit_code == 2 and 'did you mean "instagram"' in r.output


def test_explain_shows_each_profiles_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = run("explain", "VID008").output
    assert "per profile:" in out
    assert "threads:        duration 0 s..300 s (5:00)" in out
    assert (
        "facebook-reels: reels, carousel-item: duration 3 s..90 s (1:30); story: duration 3 s..60 s (1:00)"
        in out
    )


# ---------------------------------------------------------------- fix to every profile at once


def test_fix_makes_one_image_that_passes_every_profile(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    make_image(src / "wide.png", size=(2400, 600))
    out = tmp_path / "out"
    r = run("fix", "--isolated", "--profile", "instagram,threads", src, "--out", out)
    assert r.exit_code == 0, r.output
    (fixed,) = out.glob("*.jpg")
    assert errors(fixed, "instagram,threads") == []
    again = run(
        "fix", "--isolated", "--profile", "instagram,threads", out, "--out", tmp_path / "again"
    )
    assert "copied" in again.output and "converted" not in again.output


def test_an_empty_intersection_is_unfixable_with_a_one_line_reason(tmp_path: Path) -> None:
    path = make_image(tmp_path / "a.jpg", size=(1080, 1350))
    r = run(
        "fix", "--isolated", "--profile", "instagram,facebook-reels", path, "--out", tmp_path / "o"
    )
    assert r.exit_code == 1
    (line,) = [x for x in r.output.splitlines() if x.startswith(str(path))]
    assert line.endswith(
        "unfixable: no image passes both instagram and facebook-reels: image formats: "
        "instagram JPEG, PNG; facebook-reels none"
    )


def test_a_reel_for_instagram_facebook_and_house_rules(tmp_path: Path) -> None:
    """SPEC 12's example: one fixed 9:16 H.264 MP4 Reel under 60 s passes instagram,
    facebook-reels and a house profile that wants Reels under 60 s."""
    (tmp_path / "igpreflight.toml").write_text(
        "[profiles.house]\n"
        'extends = "instagram"\n'
        "video.reels.max_duration = 60\n"
        'video.reels.aspects = ["9:16"]\n'
        'post.required_hashtags = ["#brand"]\n'
    )
    src = make_video(
        tmp_path / "reel.mov",
        width=540,
        height=960,
        fps=24,
        duration=62,
        channels=1,
        audio_rate=44_100,
    )
    profile = "instagram,facebook-reels,house"
    conf = ["--config", tmp_path / "igpreflight.toml", "--profile", profile]
    before = run("check", *conf, src).output
    assert "[facebook-reels] container" in before and "[house] duration 62 s" in before
    r = run("fix", *conf, "--trim", src, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    (out,) = (tmp_path / "out").glob("*.mp4")
    facts = probe(out)
    assert (facts.container, facts.video_codec, facts.audio_channels) == ("MPEG-4", "AVC", 2)
    assert facts.audio_sample_rate == 48_000 and facts.duration < 60
    assert (facts.display_width, facts.display_height) == (540, 960)
    clean = run("check", *conf, out)
    assert clean.exit_code == 0, clean.output


def test_a_house_aspect_rule_crops_to_the_allowed_ratio(tmp_path: Path) -> None:
    square = house_profile(
        "feed45", {"extends": "instagram", "image": {"aspects": ["4:5"]}}, where="t", known=KNOWN
    )
    path = make_image(tmp_path / "sq.jpg", size=(1000, 1000))
    (found,) = check(path, profile=[square]).errors
    assert found.rule == "IMG003" and found.message.endswith("is not 4:5")
    result = fix(path, tmp_path / "out", profile=[square])
    (done,) = result.files
    assert done.ok and "crop" in [s.name for s in done.plan.steps]
    w, h = Image.open(done.output).size
    assert abs(w / h - 0.8) / 0.8 <= 0.01
    assert check(done.output, profile=[square]).errors == []


def test_profile_objects_through_the_python_api(tmp_path: Path) -> None:
    path = make_video(tmp_path / "c.mp4", width=64, height=64, duration=1.0)
    report = check(path, profile=[INSTAGRAM, FACEBOOK_REELS])
    by = {(f.rule, f.profile) for f in report.errors}
    # too small for facebook-reels alone; too short for both, in the same words: one finding
    assert ("VID021", "facebook-reels") in by and ("VID008", "instagram,facebook-reels") in by
    assert {f.severity for f in report.errors} == {Severity.ERROR}
    result = fix(path, tmp_path / "out", profile=[INSTAGRAM, FACEBOOK_REELS], extend=True)
    (done,) = result.files
    assert done.status.value == "unfixable" and "below the minimum 540x960" in (done.reason or "")


def test_profiles_travel_to_worker_processes(tmp_path: Path) -> None:
    """--jobs 2 checks in a process pool: built-in profiles travel by name, house ones
    by value, and each file is checked under its own."""
    (tmp_path / "igpreflight.toml").write_text(
        '[profiles]\n"b*" = "tight"\n[profiles.tight]\nextends = "threads"\nimage.max_width = 600\n'
    )
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        Image.new("RGB", (1200, 100), "red").save(tmp_path / name, quality=80)
    conf = ["--config", tmp_path / "igpreflight.toml", "--format", "json", "--jobs", "2"]
    data = json.loads(run("check", *conf, "--profile", "threads", tmp_path).output)
    assert {f["profile"] for file in data["files"] for f in file["findings"]} == {"threads"}
    data = json.loads(run("check", *conf, tmp_path).output)
    by_file = {Path(f["path"]).name: {x["rule"] for x in f["findings"]} for f in data["files"]}
    assert "IMG004" in by_file["b.jpg"] and "IMG004" not in by_file["a.jpg"]
