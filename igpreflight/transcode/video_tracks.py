"""The plan step that says which tracks a rewrite drops.

Every ffmpeg command `fix` runs maps the first video and the first audio stream
only (`video_command`): a second audio track (a commentary, a dub, a second mic)
is gone from the output. That changes content, so whenever a plan rewrites a file
that has more, it carries this step, and `fix --dry-run` and the report say so.
A file whose only finding is VID022 is copied as it is, never rewritten for it.
"""

from __future__ import annotations

from collections.abc import Set

from igpreflight.model import VideoFacts
from igpreflight.preflight.rules.video import tracks as tracks_rule
from igpreflight.transcode.types import Step

STEP = "drop-tracks"


def _dropped(count: int | None, kind: str) -> str | None:
    """'audio track 2 of 2', 'audio tracks 2-3 of 3', or None when one is all there is."""
    if not count or count < 2:
        return None
    which = "track 2" if count == 2 else f"tracks 2-{count}"
    return f"{kind} {which} of {count}"


def dropped_tracks(facts: VideoFacts, found: Set[str]) -> tuple[Step, ...]:
    """The step naming the tracks a rewrite of `facts` drops, or none when it drops none.

    Said from the facts whether or not VID022 was reported (a configuration may turn
    the rule off; the tracks go all the same); it names the rule when it was."""
    parts = [_dropped(facts.video_tracks, "video"), _dropped(facts.audio_tracks, "audio")]
    dropped = " and ".join(p for p in parts if p)
    if not dropped:
        return ()
    kept = "video and audio track" if facts.has_audio else "video track"
    rules = (tracks_rule.code,) if tracks_rule.code in found else ()
    detail = f"drops {dropped}; keeps the first {kept}"
    return (Step(STEP, detail, rules),)
