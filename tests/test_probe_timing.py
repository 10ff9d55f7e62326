"""Frame rate cross-checked against the frame count: a slow-motion phone clip whose
header says 30 fps but holds 7 frames in 0.53 s is variable at about 13 fps."""

from __future__ import annotations

import pytest

from igpreflight.preflight.probe import probe


def test_nominal_rate_that_the_frames_contradict_is_vfr(corpus_dir):
    facts = probe(corpus_dir / "androidx-media" / "sample_android_slow_motion.mp4")
    assert facts.frame_rate_mode == "VFR"
    assert facts.fps == pytest.approx(7 / 0.526, rel=0.01)


def test_constant_rate_clips_keep_their_rate(media_factory, corpus_dir):
    clip = media_factory.video("cfr.mp4", width=160, height=288, fps=30, duration=3.5)
    facts = probe(clip)
    assert (facts.fps, facts.frame_rate_mode) == (30.0, "CFR")
    # 23.976 fps with 23 frames in 0.958 s: rounding, not a variable rate.
    ntsc = probe(corpus_dir / "pymediainfo" / "sample.mp4")
    assert ntsc.fps == pytest.approx(23.976) and ntsc.frame_rate_mode == "CFR"
