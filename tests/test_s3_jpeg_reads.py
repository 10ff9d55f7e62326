"""What `check s3://...` of a JPEG costs in requests and bytes (a store bills both).

The Pillow-free JPEG path walks the header twice (`image_structure.jpeg_header`, then
`jpeg_facts.read_jpeg`) and reads the end for the EOI marker; over S3 every read goes
through `storage/ranged.py`'s block cache, so the second walk must cost no GET. The
bound each object is held to comes from its structure, not from today's numbers:

- the first read fetches the head (FIRST_READ bytes, or more if the read asks for
  more) and, beside it, the last block: the truncation check reads the end next;
- a header running past FIRST_READ costs at most one GET per further block it covers
  (each segment's length says where the next one starts, so the walk meets them in
  order), and a second walk over the same blocks costs nothing;
- a motion photo's EOI sits before its video (`trailer_bytes`): the block or two
  around it are one more GET.

So the blocks a check may read are: the head (up to FIRST_READ or the end of the SOS
header), the last block, the EOI's blocks; GETs are at most 1 + the header's blocks
past FIRST_READ + 1 (end) + 1 (EOI), and bytes at most those blocks' bytes, each once.
A change that reads a block twice (a walk outside the cache, a cache too small for
the header) or reads scan data goes past the bound.
"""

from __future__ import annotations

import io
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageCms

from fixtures import generate
from fixtures.s3_quirks import quirk_proxy
from igpreflight.cli import cli
from igpreflight.storage import s3
from igpreflight.storage.ranged import BLOCK, FIRST_READ
from tests.jpeg_bytes import XMP, insert, seg, segments
from tests.s3_support import s3server  # noqa: F401 - a fixture

_GUID = b"0123456789ABCDEF0123456789ABCDEF"


def _camera(**save: object) -> bytes:
    """Incompressible pixels: a JPEG of about 2 MB, its scan far past the header."""
    out = io.BytesIO()
    pixels = Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3))
    pixels.save(out, "JPEG", quality=92, **save)
    return out.getvalue()


def _phone_exif() -> bytes:
    """A phone's EXIF block of about 60 KB: a MakerNote and a thumbnail beside it."""
    thumb = io.BytesIO()
    Image.frombytes("RGB", (160, 120), os.urandom(160 * 120 * 3)).save(thumb, "JPEG")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Google", "Pixel 8", 6
    exif.get_ifd(0x8769)[0x927C] = os.urandom(44_000) + thumb.getvalue()  # MakerNote
    return exif.tobytes()


def _big_icc() -> bytes:
    """An sRGB profile padded to 500 KB (its size field says so): nine APP2 chunks."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    icc += bytes(500_000 - len(icc))
    icc[0:4] = struct.pack(">I", len(icc))
    return bytes(icc)


def _extended_xmp(data: bytes) -> bytes:
    """A standard XMP packet naming extended XMP, and 250 KB of it in four APP1s."""
    note = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF><rdf:Description xmlns:xmpNote="
    note += b"'http://ns.adobe.com/xmp/note/' xmpNote:HasExtendedXMP='" + _GUID + b"'/>"
    extended = b"<x:xmpmeta>" + os.urandom(125_000).hex().encode() + b"</x:xmpmeta>"
    parts = [seg(0xE1, XMP + note + b"</rdf:RDF></x:xmpmeta>")]
    for at in range(0, len(extended), 65_000):
        head = b"http://ns.adobe.com/xmp/extension/\x00" + _GUID
        head += struct.pack(">II", len(extended), at)
        parts.append(seg(0xE1, head + extended[at : at + 65_000]))
    return insert(data, *parts)


def _motion_photo(data: bytes, tmp: Path) -> tuple[bytes, int]:
    """A JPEG whose XMP says a video follows it, and that MP4 (ffmpeg) appended."""
    video = generate.make_video(tmp / "motion.mp4", duration=4.0, bitrate="400k").read_bytes()
    xmp = f'<rdf:Description GCamera:MicroVideo="1" GCamera:MicroVideoOffset="{len(video)}"/>'
    packet = XMP + b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>" + xmp.encode()
    return insert(data, seg(0xE1, packet + b"</rdf:RDF></x:xmpmeta>")) + video, len(video)


@pytest.fixture(scope="module")
def jpegs(s3server, tmp_path_factory) -> tuple[str, dict[str, tuple[bytes, int]]]:  # noqa: F811
    """The objects (bytes, trailer length) in a bucket under jpegs/."""
    tmp = tmp_path_factory.mktemp("jpeg-reads")
    plain = generate.make_image(tmp / "plain.jpg", size=(640, 480)).read_bytes()
    motion, video = _motion_photo(_camera(), tmp)
    objects = {
        "plain.jpg": (plain, 0),
        "phone.jpg": (_camera(exif=_phone_exif()), 0),
        "icc.jpg": (_camera(icc_profile=_big_icc()), 0),
        "xmp.jpg": (_extended_xmp(_camera()), 0),
        "motion.jpg": (motion, video),
    }
    bucket = s3server.bucket()
    for name, (data, _) in objects.items():
        s3server.put(bucket, f"jpegs/{name}", data)
    return bucket, objects


@pytest.fixture
def keep_settings() -> Iterator[None]:
    """`--endpoint-url` becomes the process's setting: put the test server's back."""
    saved = s3.current_settings()
    yield
    s3.configure(saved)


def _bound(data: bytes, trailer: int) -> tuple[int, int]:
    """(GETs, bytes) a check of this JPEG may cost, from its structure (module doc)."""
    size = len(data)
    header_end = segments(data)[-1][2]  # the SOS segment's end
    head = set(range((max(FIRST_READ, header_end) - 1) // BLOCK + 1))
    eoi = {(size - trailer - 2) // BLOCK, (size - trailer - 1) // BLOCK}
    blocks = {b for b in head | {(size - 1) // BLOCK} | eoi if b * BLOCK < size}
    past_first = len([b for b in head if b * BLOCK >= FIRST_READ])
    gets = 1 + past_first + 1 + 1
    return gets, sum(min(BLOCK, size - b * BLOCK) for b in blocks)


def test_an_s3_jpeg_check_reads_each_header_block_once(s3server, jpegs, keep_settings):  # noqa: F811
    """Every kind of JPEG a camera or an editor writes is checked within its bound:
    a header under FIRST_READ in at most two GETs (head and end), a 500 KB ICC
    profile or 250 KB of extended XMP one GET per further header block, a motion
    photo one more for the EOI before its video; and the facts are right."""
    bucket, objects = jpegs
    _, video = objects["motion.jpg"]
    assert video > BLOCK  # the EOI is in a block of its own, neither head nor end
    assert segments(objects["icc.jpg"][0])[-1][2] > FIRST_READ + 3 * BLOCK
    with quirk_proxy(s3server.endpoint, "none") as proxy:
        uri = f"s3://{bucket}/jpegs/"
        r = CliRunner().invoke(cli, ["check", uri, "--endpoint-url", proxy.url, "--format", "json"])
        log = {name: proxy.gets(f"/jpegs/{name}") for name in objects}
    report = json.loads(r.output)
    widths = {Path(f["path"]).name: f["facts"]["width"] for f in report["files"]}
    shown = {"plain.jpg": 640, "phone.jpg": 1200}  # the phone's EXIF turns it (6)
    assert widths == {n: shown.get(n, 1600) for n in objects}, r.output
    costs, bounds = {}, {}
    for name, (data, trailer) in objects.items():
        gets = log[name]
        assert gets and all(status == 206 for _, _, status, _ in gets), gets
        costs[name] = len(gets), sum(n for *_, n in gets)
        bounds[name] = _bound(data, trailer)
    over = {n: (costs[n], bounds[n]) for n in objects if not _within(costs[n], bounds[n])}
    assert not over, f"(GETs, bytes) over their (GETs, bytes) bound: {over}"
    assert costs["plain.jpg"][0] == 1 and costs["phone.jpg"][0] == 2  # head (+ end)


def _within(cost: tuple[int, int], bound: tuple[int, int]) -> bool:
    return cost[0] <= bound[0] and cost[1] <= bound[1]
