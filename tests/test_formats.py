"""The formats registry: one table of magic bytes, extensions, MIME types and kinds."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from fixtures.generate import make_image, make_video
from igpreflight import formats
from igpreflight.model import Kind, MediaItem
from igpreflight.preflight import probe as probe_mod
from igpreflight.preflight.engine import iter_media_files
from igpreflight.preflight.probe import probe
from igpreflight.preflight.rules.image import expected_extensions
from igpreflight.publish.params import is_video_item


def _heif(tmp_path: Path, brand: bytes) -> Path:
    """A real HEIF image whose ftyp major brand is rewritten to `brand`."""
    path = tmp_path / f"still-{brand.decode()}.heic"
    make_image(path, (96, 120), fmt="HEIF")
    data = bytearray(path.read_bytes())
    assert data[4:8] == b"ftyp"
    data[8:12] = brand
    path.write_bytes(bytes(data))
    return path


def test_a_mif2_image_is_an_image_to_the_probe_the_url_check_and_publish(tmp_path):
    """publish/mediatype.py knew 6 still brands and sniffed `mif2` as video/mp4."""
    path = _heif(tmp_path, b"mif2")
    head = path.read_bytes()[:64]
    assert formats.sniff(head) == "image/heif"  # the URL check's body sniffing
    assert probe_mod.sniff(head) == "heif"  # the probe sends it to the image reader
    named_nothing = MediaItem(path="still", resolved=str(path.rename(tmp_path / "still")))
    assert is_video_item(named_nothing) is False  # publish: an image, not a video


def test_heif_content_type_comes_from_the_registry(tmp_path):
    path = _heif(tmp_path, b"heic")
    facts = probe(path)
    assert facts.format == "HEIF", facts
    assert formats.content_type_for(facts) == formats.sniff(path.read_bytes()[:64])


@pytest.mark.parametrize("brand", sorted(formats.IMAGE_BRANDS))
def test_every_still_brand_sniffs_as_an_image_everywhere(brand):
    head = b"\x00\x00\x00\x18ftyp" + brand.encode().ljust(4) + b"\x00" * 12
    fmt = formats.identify(head)
    assert fmt is not None and fmt.kind is Kind.IMAGE
    assert probe_mod.sniff(head) == "heif"
    assert formats.sniff(head) in ("image/heif", "image/avif")


@pytest.mark.parametrize(
    ("head", "mime", "route"),
    [
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime", "iso"),
        (b"\x00\x00\x00\x08moov", "video/quicktime", "iso"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video/mp4", "iso"),
        (b"\xff\xd8\xff\xe0", "image/jpeg", "jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", "webp"),
        (b"8BPS\x00\x01", "image/vnd.adobe.photoshop", "media"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm", "media"),
        (b"plain text", None, "media"),
    ],
)
def test_magic_bytes(head, mime, route):
    assert formats.sniff(head) == mime
    assert probe_mod.sniff(head) == route


def test_one_table_for_extensions():
    assert expected_extensions("JPEG")[0] == "jpg"
    assert "jpg" in expected_extensions("MPO")
    assert expected_extensions("PCX") == ("pcx",)  # unknown to the registry: its own name
    assert formats.extension_for("video/quicktime") == "mov"
    assert formats.kind_for_extension(".MP4") is Kind.VIDEO
    assert formats.kind_for_extension("heic") is Kind.IMAGE
    assert formats.kind_for_extension("txt") is Kind.UNKNOWN


def test_a_registered_extension_is_walked(tmp_path):
    make_image(tmp_path / "a.jpg", (64, 80))
    shutil.copy(tmp_path / "a.jpg", tmp_path / "b.jpegxx")
    assert [Path(p).name for p, _ in iter_media_files([tmp_path])] == ["a.jpg"]
    before = formats.by_name("JPEG")
    try:
        formats.register_extensions("JPEG", "jpegxx")
        assert sorted(Path(p).name for p, _ in iter_media_files([tmp_path])) == [
            "a.jpg",
            "b.jpegxx",
        ]
    finally:
        formats.register(before)


def test_register_mime_changes_the_content_type_upload_sets():
    before = formats.by_name("PNG")
    try:
        formats.register_mime("PNG", "image/x-png")
        assert formats.extension_for("image/x-png") == "png"
    finally:
        formats.register(before)
    assert formats.extension_for("image/png") == "png"


def test_publish_decides_image_or_video_from_facts_not_the_name(tmp_path):
    clip = tmp_path / "clip.jpg"  # a video named like a photo
    make_video(tmp_path / "clip.mp4", duration=1.0)
    (tmp_path / "clip.mp4").rename(clip)
    item = MediaItem(path="clip.jpg", resolved=str(clip))
    assert is_video_item(item) is True  # the content, not ".jpg"
    assert is_video_item(item, kind=Kind.IMAGE) is False  # the probed facts decide first
    photo = MediaItem(path="p.mp4", resolved="", url="https://cdn.example/p.mp4")
    assert is_video_item(photo, kind=Kind.IMAGE) is False
    assert is_video_item(photo) is True  # nothing probed a URL: only its name is left


def test_a_jpeg_named_mov_is_an_image_to_publish(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (32, 40)).save(buf, "JPEG")
    path = tmp_path / "photo.mov"
    path.write_bytes(buf.getvalue())
    assert is_video_item(MediaItem(path="photo.mov", resolved=str(path))) is False


def test_the_publisher_receives_what_check_probed(tmp_path):
    """publish --check hands the probed kinds to the engine: a video named .jpg
    is a video there because its facts say so."""
    from igpreflight.model import Post
    from igpreflight.publish.accounts import Account
    from igpreflight.publish.durable.plan import build_specs
    from igpreflight.publish.service import preflight_refusals
    from igpreflight.publish.settings import PublishSettings

    make_video(tmp_path / "v.mp4", duration=1.0)
    clip = (tmp_path / "v.mp4").rename(tmp_path / "clip.jpg")
    photo = tmp_path / "photo.jpg"
    make_image(photo, (1080, 1350))
    media = (
        MediaItem(path="photo.jpg", resolved=str(photo)),
        MediaItem(path="clip.jpg", resolved=str(clip)),
    )
    post = Post(id="c", media_type="CAROUSEL", media=media, caption="x")
    kinds: dict[str, Kind] = {}
    preflight_refusals([post], kinds=kinds)
    assert kinds == {str(photo): Kind.IMAGE, str(clip): Kind.VIDEO}
    acc = Account("a", "1", "T")
    [spec] = build_specs([post], lambda p: acc, PublishSettings(), dedupe_window=None, probed=kinds)
    assert spec.kinds == (False, True)
