"""Third new-user video trial: files made the way users' tools make them, which
check misjudged. Each test builds its media with ffmpeg."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from fixtures.generate import make_video
from igpreflight import check, fix
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.model import Unreadable, VideoFacts
from igpreflight.preflight.probe import probe
from igpreflight.transcode.types import FixStatus


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trial3")
    return make_video(folder / "clip.mp4", width=160, height=288, duration=3.5, faststart=False)


def _remux(src: Path, dst: Path, *args: str) -> Path:
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-c", "copy", *args, str(dst)]
    subprocess.run(cmd, check=True)
    return dst


def unreadable(bad: Path, data: bytearray, reason: str) -> Path:
    """Write the damaged `data` to `bad`: the probe calls it unreadable for `reason`,
    and check says FILE001 alone."""
    bad.write_bytes(bytes(data))
    facts = probe(bad)
    assert isinstance(facts, Unreadable), facts
    assert reason in facts.reason
    assert [f.rule for f in check([bad]).errors] == ["FILE001"]
    return bad


def test_a_track_without_its_chunk_offset_table_is_file001(clip: Path, tmp_path: Path):
    """A flipped bit in a box header ('stco' read as 'suco'): the samples cannot be
    found, ffmpeg says "missing mandatory atoms" and a copy has no video. Check
    passed it with a faststart warning and fix's remux then failed as VID002."""
    data = bytearray(clip.read_bytes())
    at = data.index(b"stco")
    data[at + 1] ^= 0x01
    bad = unreadable(tmp_path / "flipped.mp4", data, "no chunk offset table (stco/co64)")
    (only,) = fix([bad], tmp_path / "out").files
    assert only.status is FixStatus.UNFIXABLE and "FILE001" in (only.reason or "")


def test_fragmented_tracks_without_sample_tables_are_not_damage(clip: Path, tmp_path: Path):
    """A fragmented MP4 (MediaRecorder, OBS) keeps its samples in moof boxes: its
    moov tracks have empty tables, which is not the damage above."""
    frag = _remux(
        clip, tmp_path / "frag.mp4", "-movflags", "+frag_keyframe+empty_moov+default_base_moof"
    )
    assert isinstance(probe(frag), VideoFacts)


def test_cmaf_is_an_mp4_container(clip: Path, tmp_path: Path):
    """`ffmpeg -movflags +cmaf` writes the major brand iso6 (compatible: cmfc, mp41);
    MediaInfo names the format after the brand it does not know ("iso6") and check
    said VID001 "container iso6 is not accepted" of an MP4."""
    cmaf = _remux(clip, tmp_path / "cmaf.mp4", "-movflags", "+cmaf+frag_keyframe")
    assert cmaf.read_bytes()[8:12] == b"iso6"
    facts = probe(cmaf)
    assert isinstance(facts, VideoFacts) and facts.container == "MPEG-4"
    assert "VID001" not in [f.rule for f in check([cmaf]).errors]


def test_a_remux_of_zeroed_media_data_is_file001_not_a_failed_fix(clip: Path, tmp_path: Path):
    """Headers intact, media data zeroed (a copy that wrote its headers only):
    check cannot see it without decoding (its headers are right; `check --deep`
    says FILE001), and fix's remux then failed its re-check as "VID002 no video
    stream", which hides the cause; the proof beside the remux knows it."""
    from tests.crafted import find_box

    data = bytearray(clip.read_bytes())
    mdat = find_box(bytes(data), b"mdat")
    data[mdat.payload : mdat.end] = bytes(mdat.end - mdat.payload)
    bad = tmp_path / "zeroed.mp4"
    bad.write_bytes(bytes(data))
    (only,) = fix([bad], tmp_path / "out").files
    assert only.status is FixStatus.UNFIXABLE, only.reason
    assert (only.reason or "").startswith("FILE001 does not decode: ")
    assert not (tmp_path / "out" / "zeroed.mp4").exists()


def test_a_live_webm_without_a_duration_header_is_measured(tmp_path: Path):
    """A browser's MediaRecorder writes WebM live, with no Segment Duration, and
    MediaInfo gives no duration: check judged no duration rule (a 2 s recording
    passed VID008) and fix "failed" on its output's re-check instead of saying it
    is too short. The probe now measures the packets."""
    live = tmp_path / "recording.webm"
    cmd = [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x288:r=30:d=2"]
    cmd += ["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "200k", "-live", "1"]
    subprocess.run([*cmd, "-f", "webm", str(live)], check=True)
    facts = probe(live)
    assert isinstance(facts, VideoFacts) and facts.duration == pytest.approx(2.0, abs=0.05)
    assert "VID008" in [f.rule for f in check([live]).errors]
    (only,) = fix([live], tmp_path / "out").files
    assert only.status is FixStatus.UNFIXABLE and "--extend" in (only.reason or "")


def test_anamorphic_display_width_uses_the_exact_pixel_aspect(tmp_path: Path):
    """MediaInfo prints a pixel aspect of 4:3 as 1.333: 1920 such columns were
    reported as 2559 displayed px instead of 2560 (HDV and XDCAM store 1440 or
    1920 columns of non-square pixels). The fixer already read 1.333 as 4:3."""
    wide = tmp_path / "hdv.mp4"
    cmd = [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=1920x32:r=25:d=0.2"]
    cmd += ["-vf", "setsar=4/3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([*cmd, str(wide)], check=True)
    facts = probe(wide)
    assert isinstance(facts, VideoFacts)
    assert (facts.display_width, facts.display_height) == (2560, 32)
    vid006 = [f for f in check([wide]).errors if f.rule == "VID006"]
    assert vid006 and "2560 px" in vid006[0].message


def test_square_pixels_in_a_portrait_avi_stay_square(tmp_path: Path):
    """MediaInfo derives an AVI's pixel aspect from its display ratio rounded to 3
    digits: 360x640 (9:16 = 0.5625, printed 0.562) reads 0.999. As the simplest
    ratio for 0.999 (666:667) it made the picture 359 px wide, and fix planned a
    scale to "square pixels" for pixels that are square (MJPEG from a camera)."""
    clip = tmp_path / "camera.avi"
    cmd = [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=360x640:r=30:d=0.2"]
    subprocess.run([*cmd, "-c:v", "mjpeg", "-q:v", "8", str(clip)], check=True)
    facts = probe(clip)
    assert isinstance(facts, VideoFacts) and abs(facts.sar - 1) > 0  # MediaInfo's 0.999
    assert (facts.display_width, facts.display_height) == (360, 640)
    (only,) = fix([clip], tmp_path / "out", dry_run=True).files
    assert only.plan is not None and "scale" not in [s.name for s in only.plan.steps]


def test_a_trak_whose_size_runs_into_the_next_track_is_file001(clip: Path, tmp_path: Path):
    """A box size 8 bytes too large (a flipped bit): the video trak swallows the
    next trak's header. Check read it as a fine movie needing faststart; ffmpeg
    stops at "trak/mdat not at top-level" and fix found that only by its proof."""
    from tests.crafted import find_box

    data = bytearray(clip.read_bytes())
    trak = find_box(bytes(data), b"trak")
    struct.pack_into(">I", data, trak.offset, trak.size + 8)
    unreadable(tmp_path / "trak.mp4", data, "trak box runs into the trak box after it")


def test_a_movie_whose_first_box_is_unknown_still_has_its_boxes_read(clip: Path, tmp_path: Path):
    """A movie that starts with a box the sniffer does not know (a damaged ftyp, a
    leading uuid) went to MediaInfo alone: it read the streams, but the moov
    position was never judged, so a file with moov last passed without VID004
    and fix copied it as it was."""
    data = bytearray(clip.read_bytes())
    data[4:8] = b"uuid"  # ftyp's 24-byte payload stands for the uuid's usertype
    odd = tmp_path / "odd.mp4"
    odd.write_bytes(bytes(data))
    facts = probe(odd)
    assert isinstance(facts, VideoFacts) and facts.is_streamable is False
    assert "VID004" in [f.rule for f in check([odd]).warnings]
    (only,) = fix([odd], tmp_path / "out").files
    assert only.status is FixStatus.REMUXED, only.reason
    assert isinstance(probe(only.output), VideoFacts)


def test_an_audio_track_with_an_unreadable_sample_description_is_file001(
    clip: Path, tmp_path: Path
):
    """The audio track's stsd box renamed by a flipped bit: MediaInfo still lists
    an audio stream, with no format. Check said VID003 (fixable) and fix failed
    with "ffmpeg exited with status 234 ... Could not find codec parameters"; a
    video stream in that state was already FILE001."""
    from tests.crafted import find_box

    data = bytearray(clip.read_bytes())
    stsd = find_box(bytes(data), b"stsd", nth=1)  # the second track's: the audio
    data[stsd.offset + 4] ^= 0x20
    bad = tmp_path / "audio.mp4"
    bad.write_bytes(bytes(data))
    facts = probe(bad)
    assert isinstance(facts, Unreadable) and facts.reason == "the audio stream cannot be read"
    (only,) = fix([bad], tmp_path / "out").files
    assert only.status is FixStatus.UNFIXABLE and "FILE001" in (only.reason or "")
