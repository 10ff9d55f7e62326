"""Carry out a video FixPlan with ffmpeg, atomically, and prove the result passes.

ffmpeg (the command from `video_command`, run by `ffmpeg_run`) writes to a
temporary file next to the destination (`atomic.replacing`); it is probed and
checked, and only a passing file is moved into place with os.replace. On any
failure the partial output is removed and a VideoFixError carries ffmpeg's last
stderr lines.
"""

from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

from igpreflight.atomic import replacing
from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.model import Facts, Role, Severity, VideoFacts
from igpreflight.profiles import Profile
from igpreflight.transcode.ffmpeg_run import Progress, VideoFixError, run_ffmpeg
from igpreflight.transcode.types import FixOptions, FixPlan, FixStatus
from igpreflight.transcode.video_command import _steps, build_command, output_duration

AUDIO_FRAME_SLACK = 0.05  # seconds: an AAC frame (21-23 ms) plus rounding


def recheck(
    path: Path,
    role: Role,
    facts: Facts | None = None,
    rules: RuleSelection = DEFAULT_RULES,
    profile: Profile | None = None,
) -> list[str]:
    """The error findings of a written file, as one line each (empty: it passes),
    under `profile` (the plan's: the intersection of the file's profiles; None:
    instagram); rules the configuration turned off are not judged."""
    from igpreflight.preflight.checks import check_facts
    from igpreflight.preflight.probe import probe

    profiles = (profile,) if profile is not None else ()
    found = check_facts(facts if facts is not None else probe(str(path)), role, profiles)
    found, _ = rules.keep(found, path)
    return [f"{f.rule} {f.message}" for f in found if f.severity is Severity.ERROR]


def duration_error(source: VideoFacts, plan: FixPlan, written: Facts) -> str | None:
    """Why the written file's duration is not the one the plan makes (None: it is).

    ffmpeg trusting a crafted header once turned a 3.5 s clip into 512 s: an
    output longer or shorter than the source's real duration (or the trim or
    extend target) by more than two frames and an audio frame is not a fix.
    """
    want = output_duration(source, plan)
    if not want:
        return None
    got = getattr(written, "duration", None)
    if got is None:
        return "the output has no duration"
    rate = _steps(plan).get("encode-video", {}).get("rate") or source.fps or 30.0
    if abs(got - want) > 2.0 / float(Fraction(str(rate))) + AUDIO_FRAME_SLACK:
        return f"the output lasts {got:.3f} s, not {want:.3f} s"
    return None


def apply_video(
    src: Path,
    facts: VideoFacts,
    plan: FixPlan,
    dst: Path,
    options: FixOptions,
    progress: Progress | None = None,
    *,
    verify: bool = True,
) -> Facts | None:
    """Write the fixed file to `dst` (atomically), or raise VideoFixError; the facts
    of what ffmpeg wrote (None for a copy: the source's bytes).

    COPIED plans copy the bytes; REMUXED/TRANSCODED plans run ffmpeg. With
    `verify` (the default) the result is probed and checked in the plan's role
    before it replaces `dst`; a file with errors is removed, never left behind.
    An ffmpeg output must last what the source really lasts (or the trim or
    extend target), give or take two frames (`duration_error`).
    """
    src, dst = Path(src), Path(dst)
    if plan.status is FixStatus.UNFIXABLE:
        raise ValueError(f"{src}: unfixable plan: {plan.reason}")
    nothing_to_do = plan.status in (FixStatus.COPIED, FixStatus.UNCHANGED)
    if nothing_to_do and os.path.abspath(src) == os.path.abspath(dst):
        return None
    dst.parent.mkdir(parents=True, exist_ok=True)
    with replacing(dst) as tmp:
        if nothing_to_do:
            shutil.copyfile(src, tmp)
            return None
        if plan.status is FixStatus.TRANSCODED:  # no proof wanted: stop one started early
            from igpreflight.preflight.video_proof import forget

            forget(src)
        args = build_command(src, facts, plan, tmp, options)
        tail = run_ffmpeg(args, duration=output_duration(facts, plan), progress=progress)
        if tmp.stat().st_size == 0:
            raise VideoFixError("ffmpeg wrote an empty file", tail)
        from igpreflight.preflight.probe import probe

        written = probe(str(tmp))
        wrong = duration_error(facts, plan, written)
        if wrong:
            raise VideoFixError(wrong, tail)
        if verify and plan.role is not None:
            errors = recheck(tmp, plan.role, written, options.rules, plan.profile)
            if errors:
                raise VideoFixError("the fixed file still fails: " + "; ".join(errors), tail)
    return written
