"""The strict JPEG decode runs in a helper process (`jpeg_child`), so the process
that fixes a photo never loads numpy: the pixels and verdicts are the in-process
decode's, and a helper that dies or passes its memory cap leaves the photo to the
classic judge, never to a crash or a pass."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from fixtures.generate import make_image
from igpreflight import fix
from igpreflight.preflight import jpeg_child, jpeg_strict
from igpreflight.transcode.types import FixStatus
from tests.corpus import needs_corpus
from tests.crafted import corrupt_jpeg_scan

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("jpegs")
    colour = make_image(folder / "colour.jpg", size=(1080, 1080))
    grey = folder / "grey.jpg"
    Image.open(colour).convert("L").save(grey, quality=90)
    cmyk = folder / "cmyk.jpg"
    Image.open(colour).convert("CMYK").save(cmyk, quality=90)
    return {
        "colour": colour,
        "grey": grey,
        "cmyk": cmyk,
        "corrupt": corrupt_jpeg_scan(colour, folder / "corrupt.jpg"),
    }


@pytest.mark.parametrize("name", ["colour", "grey", "cmyk"])
@pytest.mark.parametrize("wanted", [(1, 1), (300, 300), (1080, 1080)])
def test_the_helper_decodes_what_this_process_decodes(photos, name, wanted):
    there = jpeg_child.decode_in_child(str(photos[name]), wanted)
    here = jpeg_strict.decode_here(photos[name], wanted)
    assert there == here
    image = jpeg_strict.decode(photos[name], wanted)
    assert image.size == here.size and image.mode == here.mode


def _verdict(decode, path: Path) -> tuple[str, str]:
    try:
        decode(str(path), (1, 1))
    except (jpeg_strict.CorruptJpeg, jpeg_strict.NotForTurbo) as exc:
        return type(exc).__name__, str(exc)
    return "decodes", ""


@needs_corpus
def test_the_helper_gives_the_same_verdicts(photos, tmp_path, corpus_dir: Path):
    cut = corpus_dir / "androidx-media" / "pixel-motion-photo-shortened.jpg"
    text = tmp_path / "not.jpg"
    text.write_bytes(b"\xff\xd8\xff\xe0 not a JPEG at all")
    verdicts = {}
    for path in (photos["corrupt"], cut, text):
        verdicts[path.name] = _verdict(jpeg_child.decode_in_child, path)
        assert verdicts[path.name] == _verdict(jpeg_strict.decode_here, path)
    assert verdicts[cut.name][0] == "CorruptJpeg"  # premature end of data segment
    assert verdicts[text.name][0] == "NotForTurbo"
    # The helper survives its refusals: the next photo decodes in the same one.
    assert jpeg_child.decode_in_child(str(photos["grey"]), (1, 1)).mode == "L"


def test_a_helper_that_cannot_run_leaves_the_photo_to_the_classic_judge(
    photos, tmp_path, monkeypatch
):
    """16 MB cannot hold Python and numpy: the helper dies at start-up. The photo is
    then proved and decoded the old way (ffmpeg, then Pillow): fixed all the same,
    and a corrupt one still refused. (Only the helper gets the small cap; ffmpeg
    keeps the usual one.)"""
    monkeypatch.setattr(jpeg_child, "memory_limit", lambda: 16 * 2**20)
    with pytest.raises(jpeg_strict.NotForTurbo, match="strict JPEG decoder stopped"):
        jpeg_child.decode_in_child(str(photos["colour"]), (1, 1))
    good, bad = fix([photos["colour"], photos["corrupt"]], tmp_path / "out").files
    assert good.status is FixStatus.CONVERTED or good.status is FixStatus.COPIED
    assert bad.status is FixStatus.UNFIXABLE and bad.reason.startswith("FILE001 does not decode")


def test_fixing_a_photo_loads_no_numpy_here(photos, tmp_path):
    """`python -X importtime` names every module the fixing process imports."""
    big = make_image(tmp_path / "big.jpg", size=(3000, 2000))
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "igpreflight", "fix", str(big), "--out",
         str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", proc.stderr, re.M))
    assert "igpreflight.preflight.jpeg_child" in modules  # it did decode a JPEG
    assert {m for m in modules if m.split(".")[0] in ("numpy", "simplejpeg")} == set()


@needs_corpus
def test_sharps_280_mp_photo_is_decoded_at_one_eighth(corpus_dir: Path):
    decoded = jpeg_child.decode_in_child(
        str(corpus_dir / "sharp" / "giant-image.jpg"), (1440, 1008)
    )
    assert decoded.size == (2500, 1750) and decoded.mode == "L"


def test_a_batch_decodes_the_next_photo_ahead_and_writes_what_it_writes_alone(tmp_path):
    """With one worker, fix has the next JPEG decoded while it encodes the current
    one (`transcode.jpeg_ahead`): the outputs are byte for byte those of each photo
    fixed alone, and no decode asked ahead outlives the batch."""
    photos = [make_image(tmp_path / f"{i}.jpg", size=(2400 + 160 * i, 1800)) for i in range(4)]
    taken = jpeg_child.taken_ahead
    batch = fix(photos, tmp_path / "batch", jobs=1).files
    assert jpeg_child.taken_ahead - taken == 3  # every photo after the first
    alone = [fix([p], tmp_path / f"alone{i}").files[0] for i, p in enumerate(photos)]
    for together, single in zip(batch, alone, strict=True):
        assert together.status is FixStatus.CONVERTED
        assert Path(together.output).read_bytes() == Path(single.output).read_bytes()
    assert jpeg_child._AHEAD == {}


def test_a_decode_asked_ahead_and_never_taken_is_dropped(photos):
    path = str(photos["colour"])
    jpeg_child.decode_ahead(path, (300, 300))
    assert list(jpeg_child._AHEAD) == [(path, (300, 300))]
    # Another size is decoded as usual, the one asked ahead stays for its taker...
    assert jpeg_child.decode_in_child(path, (1, 1)).size == (135, 135)
    jpeg_child.drop_ahead()  # ...until the batch ends without one
    assert jpeg_child._AHEAD == {}
    assert jpeg_child.decode_in_child(path, (300, 300)).size[0] >= 300
