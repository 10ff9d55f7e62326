"""Every video file of the shared corpus ends fixed and passing, or unfixable with
a reason (audio-only files, a file with no streams).

Real third-party files: phone HEVC with Dolby Vision and rotation, 8K, 4K60, VFR
slow motion, an edit list, interlaced MPEG-2, MKV/WebM/AVI/FLV/TS, PCM/AC-3/
Opus/Vorbis 5.1 audio. They run with --trim and --extend (most corpus clips are
shorter than 3 s) and x264's ultrafast preset. Skipped only when the corpus is
absent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from igpreflight.model import Role, Severity, Unreadable, VideoFacts
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.transcode.plan_video import plan_video
from igpreflight.transcode.types import FixOptions, FixStatus
from igpreflight.transcode.video import apply_video
from igpreflight.transcode.video_encode import PRESET_ENV
from tests.corpus import SKIP_REASON, corpus_files

EXTENSIONS = {".mp4", ".mov", ".webm", ".mkv", ".ts", ".avi", ".flv", ".flac", ".m4a"}


def corpus_videos() -> list[Path]:
    return corpus_files(EXTENSIONS)


FILES = corpus_videos()
pytestmark = pytest.mark.skipif(not FILES, reason=SKIP_REASON)


@pytest.fixture(autouse=True)
def _fast_preset(monkeypatch):
    monkeypatch.setenv(PRESET_ENV, "ultrafast")


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_corpus_video_is_fixed_or_unfixable_with_a_reason(path: Path, tmp_path: Path):
    facts = probe(str(path))
    if not isinstance(facts, VideoFacts):
        # A file the probe cannot read is check's FILE001: it must say why, on one line.
        assert isinstance(facts, Unreadable) and facts.reason and "\n" not in facts.reason
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    role = Role.REELS
    options = FixOptions(trim=True, extend=True)
    plan = plan_video(facts, check_facts(facts, role), role, options)

    if plan.status is FixStatus.UNFIXABLE:
        assert not facts.has_video and "no video stream" in plan.reason
        return
    assert facts.has_video
    dst = tmp_path / (path.stem + "." + plan.extension)
    apply_video(path, facts, plan, dst, options)

    out = probe(str(dst))
    assert isinstance(out, VideoFacts)
    found = check_facts(out, role)
    assert [f.message for f in found if f.severity is Severity.ERROR] == []
    assert {f.rule for f in found} <= {"VID019", "VID020"}
    if plan.status is FixStatus.TRANSCODED:
        assert out.video_codec == "AVC" and out.rotation == 0 and out.frame_rate_mode == "CFR"
    again = plan_video(out, found, role, FixOptions())
    assert again.status is FixStatus.COPIED  # fixing a fixed file is a no-op
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_short_corpus_clips_need_extend():
    """Without --extend a clip under 3 s is unfixable, and the reason says why."""
    short = [
        f
        for f in (probe(str(p)) for p in FILES)
        if isinstance(f, VideoFacts) and f.has_video and f.duration and f.duration < 3
    ]
    assert short
    for facts in short:
        plan = plan_video(facts, check_facts(facts, Role.REELS), Role.REELS, FixOptions())
        assert plan.status is FixStatus.UNFIXABLE and "--extend" in plan.reason
