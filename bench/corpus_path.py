"""Where the benchmarks find the media corpus: as the tests do (tests/corpus.py).

`$IGPREFLIGHT_CORPUS` (the folder holding MANIFEST.md), else `../shared/corpus`
beside the repository. A missing corpus skips the cases that need it.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "IGPREFLIGHT_CORPUS"
REPO = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path:
    given = os.environ.get(ENV, "").strip()
    return Path(given).expanduser().resolve() if given else REPO.parent / "shared" / "corpus"


# The peak resident size of a process and the helpers it started (the strict JPEG
# decoder, MediaInfo): what a user sees in `top`, and what /usr/bin/time reports.
PEAK_SCRIPT_TAIL = (
    "import resource\n"
    "mine = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM:'))\n"
    "helpers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "peak = max(mine, helpers)\n"
)
