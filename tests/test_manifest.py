"""The manifest loader: TOML and JSON shapes, path confinement, usage errors."""

from __future__ import annotations

import io
import json

import pytest

from igpreflight.preflight.manifest import ManifestError, load_manifest, parse_manifest


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_toml_manifest_mirrors_graph_parameters(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "b.mp4").write_bytes(b"x")
    m = write(
        tmp_path,
        "posts.toml",
        """
[[post]]
id = "launch"
media_type = "carousel"
caption = "Launch day #new"
media = [
  { path = "a.jpg", user_tags = [{ username = "ana", x = 0.5, y = 0.4 }], product_tags = [{ product_id = "123", x = 0.2, y = 0.8 }] },
  { path = "b.mp4" },
]

[[post]]
media = ["b.mp4"]
thumb_offset = 1500
share_to_feed = true
collaborators = ["friend"]
""",
    )
    first, second = load_manifest(m)
    assert first.id == "launch" and first.media_type == "CAROUSEL"
    assert [i.path for i in first.media] == ["a.jpg", "b.mp4"]
    assert first.media[0].resolved == str((tmp_path / "a.jpg").resolve())
    assert first.media[0].user_tags[0].username == "ana" and first.media[0].user_tags[0].x == 0.5
    assert first.media[0].product_tags[0].product_id == "123"
    # media_type left out: inferred later from the media; the id is a stable hash.
    assert second.media_type == "" and not second.media_type_given
    assert second.id.startswith("post-") and second.thumb_offset == 1500
    assert second.id == load_manifest(m)[1].id


def test_json_on_stdin_resolves_against_cwd(tmp_path, monkeypatch):
    (tmp_path / "a.jpg").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"post": [{"media": ["a.jpg"]}]})))
    (post,) = load_manifest("-")
    assert post.media[0].resolved == str((tmp_path / "a.jpg").resolve())
    assert post.media[0].problem is None


@pytest.mark.parametrize("bad", ["../outside.jpg", "/etc/passwd", "sub/../../x.jpg"])
def test_paths_may_not_leave_the_manifest_folder(tmp_path, bad):
    (post,) = parse_manifest({"post": [{"media": [bad]}]}, base=tmp_path)
    assert post.media[0].problem and post.media[0].resolved == ""


def test_missing_file_is_a_per_item_problem(tmp_path):
    (post,) = parse_manifest({"post": [{"media": ["nope.jpg"]}]}, base=tmp_path)
    assert "no such file" in post.media[0].problem


def test_urls_are_kept_as_urls(tmp_path):
    (post,) = parse_manifest({"post": [{"media": ["https://cdn.example.com/a.jpg"]}]}, tmp_path)
    assert post.media[0].url == "https://cdn.example.com/a.jpg"


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, 'no "post"'),
        ({"post": []}, "non-empty"),
        ({"post": [{"caption": "x"}]}, "media"),
        ({"post": [{"media": ["a.jpg"], "captoin": "x"}]}, "unknown key"),
        ({"post": [{"media": ["a.jpg"], "thumb_offset": "soon"}]}, "thumb_offset"),
        ({"post": [{"id": "x", "media": ["a.jpg"]}, {"id": "x", "media": ["a.jpg"]}]}, "twice"),
        ({"post": [{"media": [{"path": "a.jpg", "url": "https://x/a.jpg"}]}]}, "exactly one"),
    ],
)
def test_malformed_manifests_are_usage_errors(tmp_path, data, message):
    with pytest.raises(ManifestError, match=message):
        parse_manifest(data, base=tmp_path)


def test_invalid_toml_names_the_file(tmp_path):
    m = write(tmp_path, "posts.toml", "[[post]\nmedia=")
    with pytest.raises(ManifestError, match="posts.toml"):
        load_manifest(m)
