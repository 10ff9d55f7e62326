"""`fix --manifest`: each media fixed in the role its post gives it; covers like images."""

from __future__ import annotations

import json

from click.testing import CliRunner
from PIL import Image

from fixtures.generate import make_image, make_video
from igpreflight.cli import cli
from igpreflight.model import ImageFacts, Role, Severity, VideoFacts
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe


def errors(path, role):
    return [f.rule for f in check_facts(probe(path), role) if f.severity is Severity.ERROR]


def test_manifest_media_are_fixed_per_role(tmp_path, monkeypatch):
    monkeypatch.setenv("IGPREFLIGHT_X264_PRESET", "ultrafast")
    src = tmp_path / "content"
    # A 9:16 video is fine as a Reel but too tall for a carousel item (4:5..1.91).
    make_video(src / "tall.mp4", width=180, height=320, fps=30, duration=3.5)
    make_image(src / "photo.png", size=(1080, 1080))
    Image.new("RGBA", (720, 1280), (255, 0, 0, 128)).save(src / "cover.png")
    (src / "posts.json").write_text(
        json.dumps(
            {
                "post": [
                    {"id": "c", "media": ["tall.mp4", "photo.png"]},
                    {"id": "r", "media": ["tall.mp4"], "cover": "cover.png"},
                ]
            }
        )
    )
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(
        cli, ["fix", "--manifest", "content/posts.json", "--out", str(out), "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    files = {(f["path"], f["output"].split("/out/")[1]) for f in json.loads(r.output)["files"]}
    outs = {o for _, o in files}
    # Sources are named as the user would type them from here, not as absolute paths.
    assert {p for p, _ in files} == {"content/tall.mp4", "content/photo.png", "content/cover.png"}
    assert outs == {
        "carousel-item/tall.mp4",
        "carousel-item/photo.jpg",
        "reels/tall.mp4",
        "cover/cover.jpg",
    }
    carousel_video = probe(out / "carousel-item" / "tall.mp4")
    assert isinstance(carousel_video, VideoFacts) and 0.8 <= carousel_video.aspect <= 1.91
    assert errors(out / "carousel-item" / "tall.mp4", Role.CAROUSEL_VIDEO) == []
    reel = probe(out / "reels" / "tall.mp4")
    assert reel.bytes == (src / "tall.mp4").stat().st_size  # compliant Reel: copied
    cover = probe(out / "cover" / "cover.jpg")
    assert isinstance(cover, ImageFacts) and cover.format == "JPEG" and not cover.has_alpha
    assert errors(out / "cover" / "cover.jpg", Role.COVER) == []


def test_manifest_needs_an_output_folder(tmp_path):
    m = tmp_path / "posts.json"
    m.write_text(json.dumps({"post": [{"media": ["a.jpg"]}]}))
    r = CliRunner().invoke(cli, ["fix", "--manifest", str(m), "--in-place"])
    assert r.exit_code == 2 and "--out" in r.output
