"""One ffmpeg decode with errors fatal, and what it said: the decoder under
`decode` (images ffmpeg takes, every video) and under `video_proof` (a video's
pieces). Every run is a capped child (`childproc`: memory, time, death with us).

Videos decode with `-xerror` and `-err_detect explode` on one thread: with frame
threads the verdict on a damaged stream depends on timing (4 of 85 H.264
streams with flipped slice bytes passed, one of them now and then, that a
one-thread decode always fails). The pictures are not deblocked
(`-skip_loop_filter all`): the loop filter only smooths the block edges of what
the entropy decode rebuilt, finds no damage, and is a tenth of an H.264 decode
(tests/test_video_proof.py: every crafted corruption fails the same with and
without it).

What the null muxer says is not a complaint about the file: it writes nothing,
and only checks the timestamps it is handed. Two pictures shown at one time (a
zero-length sample, a duplicate presentation time: phones and screen recorders
with a variable frame rate write them) make it say "non monotonically increasing
dts to muxer" after every picture has decoded; the decode goes on to the end and
meets real damage past it (tests/test_video_timestamps.py).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from igpreflight.childproc import child_kwargs, time_limit
from igpreflight.ffmpeg_bin import ffmpeg_exe
from igpreflight.records import record

# ffmpeg's JPEG complaints that are about ffmpeg, not the file: codings it does
# not implement (arithmetic, lossless; Pillow then decides), and reading the few
# padding bytes many cameras leave after the scan (libjpeg accepts them).
_UNSUPPORTED = ("unsupported", "No JPEG data found", "not supported")
_HARMLESS = ("overread", "EXIF")  # a broken EXIF block is IMG013's, not the pixels'

UNSUPPORTED = "unsupported by ffmpeg"
TIMED_OUT = "the decode did not finish in time"
_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)+")
# A line of the null muxer's (the output's, never the input's: the module docstring).
_OUTPUT = re.compile(r"^\[null @ (0x)?[0-9a-fA-F]+\]")
# ffmpeg's own wrap-up lines after the decoder's first complaint.
_WRAP_UP = (
    "Task finished",
    "Terminating thread",
    "Could not open encoder",
    "Nothing was written",
    "Error submitting",
    "Error processing packet",
    "Error while decoding stream",
    "Conversion failed",
    "Last message repeated",
)
# One thread: a frame-threaded decode's verdict on damaged data depends on timing.
DETERMINISTIC = ("-threads", "1")
# Decoder work a proof skips: deblocking smooths rebuilt pictures and detects nothing.
SKIPPED_RECONSTRUCTION = ("-skip_loop_filter", "all")
PROGRESS = ("-progress", "pipe:1", "-stats_period", "0.1", "-f", "null", "-")
# A warm piece (video_pieces) logs at info with each line's level: error
# concealment ("concealing N DC, N AC, N MV errors") is said only at info, and in
# a warm piece the pictures before the next IDR are decoded but never output, so
# the "corrupt decoded frame" check the whole decode makes on them cannot run.
WARM_LOG = ("-loglevel", "level+info")
_LEVEL = re.compile(r"\[(panic|fatal|error|warning|info|verbose|debug|trace)\] ")
_WARM_SILENT = ("info", "verbose", "debug", "trace")
CONCEALED = "concealing"
# What ffmpeg warns of a warm piece with no IDR picture in it: it decodes every
# picture and outputs none (none is past a recovery point), which is no damage.
_NOTHING_OUTPUT = ("No filtered frames for output stream", "Output file is empty")


@record(frozen=False)
class Outcome:
    """What one decode said: its exit status, its complaints, how far it got."""

    returncode: int
    lines: list[str]
    seconds: float  # the output time it last reported
    opened: bool = True  # False: ffmpeg stopped before decoding (it could not open the input)

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or bool(self.lines)


def video_head(deblock: bool = False, warm: bool = False) -> list[str]:
    """ffmpeg's arguments before the input, for a video proof (`warm`: a piece that
    starts inside a GOP, WARM_LOG)."""
    head = [ffmpeg_exe(), "-hide_banner", "-nostdin", *(WARM_LOG if warm else ("-v", "error"))]
    head += ["-xerror", "-err_detect", "explode", *DETERMINISTIC]
    return head + ([] if deblock else list(SKIPPED_RECONSTRUCTION))


def run(
    cmd: list[str],
    limit: float,
    video: bool,
    started: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Outcome:
    """Run one decode; raises OSError when ffmpeg cannot start,
    subprocess.TimeoutExpired past `limit` seconds. `started` gets the process."""
    proc = spawn(cmd)
    if started is not None:
        started(proc)
    return collect(proc, limit, video)


def spawn(cmd: list[str]) -> subprocess.Popen[bytes]:
    """Start one decode (a capped child); raises OSError when ffmpeg cannot start.
    `collect` waits for it."""
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **child_kwargs(),
    )


def collect(
    proc: subprocess.Popen[bytes], limit: float, video: bool, warm: bool = False
) -> Outcome:
    """What the decode `proc` said, once it is over; raises subprocess.TimeoutExpired
    (and kills it) past `limit` seconds. `warm`: it logged at WARM_LOG."""
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    times = re.findall(rb"out_time_us=(\d+)", out)
    seconds = int(times[-1]) / 1e6 if times else 0.0
    text = err.decode("utf-8", "replace")
    lines = warm_complaints(text) if warm else complaints(text, video)
    return Outcome(proc.returncode, lines, seconds, opened=b"progress=" in out)


def complaints(stderr: str, video: bool) -> list[str]:
    """ffmpeg's complaint lines, without its prefixes, its own wrap-up and what the
    null muxer says of the timestamps it is handed."""
    raw = [line for line in stderr.splitlines() if not _OUTPUT.match(line)]
    lines = [_PREFIX.sub("", line).strip() for line in raw]
    lines = [line for line in lines if line and not line.startswith(_WRAP_UP)]
    if not video:
        lines = [line for line in lines if not any(word in line for word in _HARMLESS)]
    return lines


def warm_complaints(stderr: str) -> list[str]:
    """A warm piece's complaints: every line above info (or without a level), and
    error concealment, which the whole decode fails as a corrupt decoded frame."""
    kept = []
    for line in stderr.splitlines():
        level = _LEVEL.search(line)
        if level is not None and level[1] == "warning" and any(w in line for w in _NOTHING_OUTPUT):
            continue
        if line.strip() and (level is None or level[1] not in _WARM_SILENT or CONCEALED in line):
            kept.append(line)
    return complaints("\n".join(kept), True)


def said(lines: list[str], video: bool) -> str:
    """The first two distinct complaints, as one line (UNSUPPORTED for an image
    coding ffmpeg does not implement)."""
    complaint = "; ".join(list(dict.fromkeys(lines))[:2])[:200] or "the decoder failed"
    if not video and any(word in complaint for word in _UNSUPPORTED):
        return UNSUPPORTED
    return re.sub(r"error y=(\d+) x=(\d+)", r"damaged at block row \1, column \2", complaint)


def at(complaint: str, seconds: float) -> str:
    return f"{complaint} at {seconds:.2f} s"


def ffmpeg_error(
    path: Path,
    duration: float | None,
    video: bool,
    deblock: bool = False,
    started: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> str | None:
    """Decode every stream of `path` with ffmpeg, errors fatal; what broke and where.
    `deblock` runs the loop filter too (the reference the proof is tested against);
    `started` is given the ffmpeg process (to stop it)."""
    if video:
        head = video_head(deblock)
    else:
        head = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
    cmd = [*head, "-i", "file:" + str(path.resolve()), "-map", "0:v?", "-map", "0:a?", *PROGRESS]
    try:
        done = run(cmd, time_limit(duration), video, started)
    except subprocess.TimeoutExpired:
        return TIMED_OUT
    except OSError as exc:
        return f"cannot run ffmpeg ({exc.strerror or exc})"
    if not done.failed:
        return None
    complaint = said(done.lines, video)
    return at(complaint, done.seconds) if video else complaint
