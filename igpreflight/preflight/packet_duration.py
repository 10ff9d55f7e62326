"""A video's duration from its packets' timestamps, when its header gives none.

A WebM written live (a browser's MediaRecorder, OBS to Matroska, `ffmpeg -live 1`)
has no Segment Duration: the recorder did not know the end when it wrote the
header, and MediaInfo reports no duration. Without one, check judged no duration
rule: a 2 s recording passed VID008 and `fix` then "failed" on the re-check of
its output instead of calling it too short (`--extend`). So for a local file with
no declared duration the probe demuxes every packet (`-c copy -f framecrc`:
nothing decoded, a capped child) and takes the span from the earliest
presentation time to the end of the last packet of any audio or video stream.
"""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction

SECONDS = 60.0  # a demux of a 15-minute recording's packets takes about a second
_TIME_BASE = re.compile(r"^#tb (\d+): (\d+)/(\d+)", re.MULTILINE)
_PACKET = re.compile(r"^(\d+),\s*(?:-?\d+|NOPTS),\s*(-?\d+),\s*(\d+),", re.MULTILINE)


def span_of(framecrc: str) -> float | None:
    """Seconds from the first presentation time to the end of the last packet, over
    every stream of ffmpeg's framecrc listing; None when it has no timed packets."""
    bases = {int(i): Fraction(int(n), int(d)) for i, n, d in _TIME_BASE.findall(framecrc)}
    start: Fraction | None = None
    end: Fraction | None = None
    for stream, pts, duration in _PACKET.findall(framecrc):
        tick = bases.get(int(stream))
        if tick is None or int(pts) == -(2**63):
            continue
        at = int(pts) * tick
        start = at if start is None else min(start, at)
        last = at + int(duration) * tick
        end = last if end is None else max(end, last)
    if start is None or end is None or end <= start:
        return None
    return round(float(end - start), 3)


def packet_duration(path: str) -> float | None:
    """The duration of the local file at `path` from its audio and video packets
    (see the module); None when ffmpeg cannot demux it."""
    from igpreflight.childproc import child_kwargs
    from igpreflight.ffmpeg_bin import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", "file:" + path]
    cmd += ["-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "framecrc", "-"]
    try:
        done = subprocess.run(
            cmd, capture_output=True, timeout=SECONDS, stdin=subprocess.DEVNULL, **child_kwargs()
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return span_of(done.stdout.decode("ascii", "replace"))
