"""`--shard I/N`: a deterministic 1/N of the inputs, for array jobs.

The shard of an input is a hash of its name without the extension, so it is
the same on every machine and every run, the N shards are disjoint and cover
everything. `fix` hashes the input's place under --out (its path relative to the
folder or prefix given), so inputs that could be fixed onto one output name
(a.png and a.jpg both become a.jpg, and so do in/a.png and more/a.png given as
two prefixes) always land in the same shard, which then names them apart as a
single run does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int  # 0-based, as AWS_BATCH_JOB_ARRAY_INDEX and JOB_COMPLETION_INDEX are
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """ "3/10" -> Shard(3, 10); ValueError unless 0 <= I < N."""
        m = _SPEC.match(text)
        if not m:
            raise ValueError(f"--shard takes I/N (for example 0/4), not {text!r}")
        index, count = int(m.group(1)), int(m.group(2))
        if count < 1 or not 0 <= index < count:
            raise ValueError(f"--shard {text}: I must be 0..N-1 and N at least 1")
        return cls(index, count)

    def owns(self, name: str) -> bool:
        """Whether this shard processes the input called `name` (a path or s3:// URI)."""
        return shard_of(name, self.count) == self.index


def shard_of(name: str, count: int) -> int:
    stem = str(PurePosixPath(name).with_suffix("")) if PurePosixPath(name).suffix else name
    digest = hashlib.sha256(stem.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count
