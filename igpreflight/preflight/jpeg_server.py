"""The strict JPEG decoder's server loop (`jpeg_child` runs it in a helper process).

One request a line, `{"path": ..., "min": [w, h]}`; each answer is one line, then
its bytes: `OK {"size", "mode", "rawmode", "bytes"}` and the pixels, or `CJ <n>`
(CorruptJpeg) / `NT <n>` (NotForTurbo) and the reason. Imports the decode and
the standard library only (and numpy, with simplejpeg, at the first JPEG).
"""

from __future__ import annotations

import json
import sys
from typing import IO

from igpreflight.preflight.jpeg_strict import CorruptJpeg, decode_here


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    while line := requests.readline():
        request = json.loads(line)
        try:
            decoded = decode_here(request["path"], tuple(request["min"]))
        except CorruptJpeg as exc:
            _refuse(answers, b"CJ", str(exc))
        except Exception as exc:  # noqa: BLE001 - NotForTurbo, or what a decode raised
            _refuse(answers, b"NT", " ".join(str(exc).split())[:200] or type(exc).__name__)
        else:
            size, mode, rawmode, pixels = decoded
            info = {"size": size, "mode": mode, "rawmode": rawmode, "bytes": len(pixels)}
            answers.write(b"OK " + json.dumps(info).encode() + b"\n")
            answers.write(pixels)
        answers.flush()


def _refuse(answers: IO[bytes], status: bytes, reason: str) -> None:
    data = reason.encode("utf-8", "replace")
    answers.write(status + b" %d\n" % len(data) + data)


def main() -> None:
    serve(sys.stdin.buffer, sys.stdout.buffer)
