"""What a `fix --out DIR` run has already done, so a re-run resumes instead of redoing.

The ledger lives in `DIR/.igpreflight/fix-ledger.sqlite` (hidden, so `check` and
`fix` never walk it): one row per output with the source's SHA-256, a hash of the
options and tool version that shaped it, and the output's own size and SHA-256.
A row is written only after its output has been renamed into place, so after a
crash or a kill -9 an output either has a matching row (skipped next time) or is
redone and replaced under the same name: nothing is lost, nothing duplicated.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path

from igpreflight._version import __version__
from igpreflight.hashing import sha256_file
from igpreflight.limits import LIMITS_VERSION
from igpreflight.transcode.types import FixOptions

LEDGER_DIR = ".igpreflight"
LEDGER_NAME = "fix-ledger.sqlite"
# Options that change nothing in an output (where it goes, whether it is written).
_NEUTRAL = {"in_place", "dry_run"}
# Names of `atomic.temp_sibling` files: ".{stem}.{8 random}.tmp[.ext]".
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[^.]+)?$")


def options_key(options: FixOptions) -> str:
    """A hash of everything that shapes an output: the options, the tool and the limits."""
    shaping = {k: v for k, v in asdict(options).items() if k not in _NEUTRAL | {"rules"}}
    if not options.rules.is_default:  # which rules apply shapes the plan
        shaping["rules"] = asdict(options.rules)
    blob = json.dumps([shaping, __version__, LIMITS_VERSION], sort_keys=True, default=sorted)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def is_temp_name(name: str) -> bool:
    """True for the name of an `atomic.temp_sibling` file."""
    return bool(_TEMP_NAME.match(name))


def remove_stale_temps(out: Path) -> int:
    """Delete temporary files a killed run left under `out`; returns how many."""
    removed = 0
    if not out.is_dir():
        return 0
    for path in out.rglob(".*.tmp*"):
        if path.is_file() and is_temp_name(path.name):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


class Ledger:
    """The record of finished outputs under one --out folder (thread-safe)."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out).resolve()
        folder = self.out / LEDGER_DIR
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(folder / LEDGER_NAME, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outputs ("
            " output TEXT PRIMARY KEY, source TEXT NOT NULL, source_sha256 TEXT NOT NULL,"
            " options TEXT NOT NULL, status TEXT NOT NULL, bytes INTEGER NOT NULL,"
            " output_sha256 TEXT NOT NULL, recorded_at REAL NOT NULL)"
        )
        self._db.commit()

    def _rel(self, output: Path) -> str:
        return Path(output).resolve().relative_to(self.out).as_posix()

    def done(self, source_sha: str, options: str, output: Path) -> str | None:
        """The recorded status when `output` is already the fix of these source bytes
        with these options (and still holds what was written), else None."""
        with self._lock:
            row = self._db.execute(
                "SELECT source_sha256, options, status, bytes, output_sha256"
                " FROM outputs WHERE output = ?",
                (self._rel(output),),
            ).fetchone()
        if row is None or row[0] != source_sha or row[1] != options:
            return None
        try:
            if output.stat().st_size != row[3] or sha256_file(output) != row[4]:
                return None
        except OSError:
            return None
        return row[2]

    def record(
        self, source: Path, source_sha: str, options: str, status: str, output: Path
    ) -> None:
        """Remember a finished output (call after it is renamed into place)."""
        size, digest = output.stat().st_size, sha256_file(output)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self._rel(output),
                    str(source),
                    source_sha,
                    options,
                    status,
                    size,
                    digest,
                    time.time(),
                ),
            )
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
