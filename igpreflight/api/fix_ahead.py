"""Start the proof of the one video `fix` was given while Python still loads the fixer.

A remux of a 1080p clip is a 0.03 s stream copy beside a proof of its source:
its structure (one run that reads every packet and decodes the audio) or, with
`--deep`, a full decode of its pictures, which is then the remux's critical path. Before this, it started after the command had imported
its modules, probed the file and planned the fix (0.12 s). `fix` now hands its
arguments here first: when they name exactly one local MP4/MOV file (and an
output, and no dry run), its proof starts at once (`video_proof.start`: the
pieces' decoders are running when it returns, about 0.03 s later; started from a
thread instead, they waited for the interpreter lock until the fixer's imports
were nearly done), and the fixer's own proof adopts it if the plan copies or
remuxes that same, unchanged file. A plan that re-encodes it stops it
(`video_proof.forget`), and an unused one dies with the process.

Photos the same way: when the arguments name a JPEG, or a folder with one at its
top, the strict JPEG decoders (`jpeg_child`, 70 ms of Python and numpy each) start
here, and the batch's own `jpeg_ahead.prestart` finds them idle. A one-photo fix's
first decode waited for its decoder to start (0.46 s -> 0.39 s on a 2-CPU VM).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v")
# Options after which the proof is not worth starting: nothing will be decoded.
NOTHING_DECODED = ("--dry-run", "--help", "-h")
OUTPUTS = ("--out", "--in-place")


def prove_ahead(args: Sequence[str]) -> bool:
    """Start the proof of the video in `fix`'s arguments `args` (after the word
    `fix`) when there is exactly one; whether one was started."""
    if any(a in NOTHING_DECODED for a in args):
        return False
    if not any(a in OUTPUTS or a.startswith("--out=") for a in args):
        return False
    videos = [
        a
        for a in args
        if not a.startswith("-") and a.lower().endswith(VIDEO_SUFFIXES) and os.path.isfile(a)
    ]
    if len(videos) != 1:
        return False
    from igpreflight.preflight.video_proof import start

    start(os.path.abspath(videos[0]), frames="--deep" in args)
    return True


JPEG_SUFFIXES = (".jpg", ".jpeg", ".mpo")
_PEEK = 256  # a folder's first entries looked at for a JPEG


def decoders_ahead(args: Sequence[str]) -> int:
    """Start the strict JPEG decoders (`jpeg_child`, 70 ms of Python and numpy each)
    while the fixer loads, when `fix`'s arguments `args` name a JPEG or a folder that
    holds one at its top; how many were started. The batch's own `jpeg_ahead.prestart`
    then finds them idle instead of waiting for them."""
    if os.name != "posix" or any(a in NOTHING_DECODED for a in args):
        return 0
    if not any(a in OUTPUTS or a.startswith("--out=") for a in args):
        return 0
    jpegs = 0
    for arg in args:
        if arg.startswith("-") or jpegs >= 2:
            continue
        if arg.lower().endswith(JPEG_SUFFIXES) and os.path.isfile(arg):
            jpegs += 1
        elif os.path.isdir(arg) and _holds_a_jpeg(arg):
            jpegs = 2
    if jpegs:
        from igpreflight.preflight import jpeg_child

        jpeg_child.prestart(min(jpegs, 2))
    return min(jpegs, 2)


def _holds_a_jpeg(folder: str) -> bool:
    try:
        with os.scandir(folder) as entries:
            for n, entry in enumerate(entries):
                if n >= _PEEK:
                    return False
                if entry.name.lower().endswith(JPEG_SUFFIXES):
                    return True
    except OSError:
        return False
    return False
