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
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from igpreflight._version import __version__
from igpreflight.config import RuleSelection
from igpreflight.hashing import sha256_file
from igpreflight.limits import LIMITS_VERSION
from igpreflight.model import ImageFacts, Kind, VideoFacts
from igpreflight.transcode.types import FixOptions

LEDGER_DIR = ".igpreflight"
LEDGER_NAME = "fix-ledger.sqlite"
# Options that change nothing in an output (where it goes, whether it is written).
_NEUTRAL = {"in_place", "dry_run"}
# The configuration's profiles: named and digested by rules_shape, not written out whole.
_PROFILE_FIELDS = ("profiles", "path_profiles", "house")
# Options that shape one kind of output only: a re-run with --extend must not redo
# the images, nor one with --keep-png the videos. Every other option (role, aspect,
# padding, metadata, rules) shapes both.
KIND_ONLY = {
    Kind.IMAGE: frozenset({"background", "keep_png", "max_memory"}),
    Kind.VIDEO: frozenset({"trim", "extend", "keep_hevc", "deep"}),
}
# Names of `atomic.temp_sibling` files: ".{stem}.{8 random}.tmp[.ext]".
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[^.]+)?$")


def kind_of(facts: object) -> Kind | None:
    """The kind of output a file's facts lead to (None: unreadable, no output)."""
    return getattr(facts, "kind", None) if isinstance(facts, (ImageFacts, VideoFacts)) else None


def rules_shape(rules: RuleSelection) -> dict[str, Any]:
    """What of the configuration shapes an output, small enough for object metadata:
    the profiles by name, and a digest of their values (a changed value redoes the
    work); as before profiles existed when none is chosen."""
    data = {k: v for k, v in asdict(rules).items() if k not in _PROFILE_FIELDS}
    chosen = [*rules.profiles, *(p for _, ps in rules.path_profiles for p in ps)]
    if chosen:
        values = json.dumps([asdict(p) for p in chosen], sort_keys=True, default=str)
        data["profiles"] = [p.name for p in rules.profiles]
        data["path_profiles"] = [[glob, [p.name for p in ps]] for glob, ps in rules.path_profiles]
        data["profile_values"] = hashlib.sha256(values.encode()).hexdigest()[:16]
    return data


def shaping_options(options: FixOptions, kind: Kind | None = None) -> dict[str, Any]:
    """The options that shape an output of `kind` (None: of any kind), by name."""
    other = set().union(*(v for k, v in KIND_ONLY.items() if k is not kind)) if kind else set()
    shaping = {
        f.name: getattr(options, f.name)
        for f in fields(options)
        if f.name not in _NEUTRAL | other | {"rules"}
    }
    return {**shaping, "rules": rules_shape(options.rules)}


def options_key(options: FixOptions, kind: Kind | None = None) -> str:
    """A hash of everything that shapes an output of `kind`: its options, the tool and
    the limits. Options of the other kind are left out, so they never redo its work."""
    shaping = shaping_options(options, kind)
    del shaping["rules"]
    if not options.rules.is_default:  # which rules (and profiles) apply shapes the plan
        shaping["rules"] = rules_shape(options.rules)
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

    def __init__(self, out: Path, *, read_only: bool = False) -> None:
        self.out = Path(out).resolve()
        folder = self.out / LEDGER_DIR
        self._lock = threading.Lock()
        if read_only:  # a dry run: read what is there, create and change nothing
            uri = (folder / LEDGER_NAME).as_uri() + "?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
            return
        folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(folder / LEDGER_NAME, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # No fsync per record (a remux's last step; WAL stays consistent): a record a
        # power cut loses only redoes its file, and `done` checks the output's own
        # hash anyway, whose bytes were never synced either.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outputs ("
            " output TEXT PRIMARY KEY, source TEXT NOT NULL, source_sha256 TEXT NOT NULL,"
            " options TEXT NOT NULL, status TEXT NOT NULL, bytes INTEGER NOT NULL,"
            " output_sha256 TEXT NOT NULL, recorded_at REAL NOT NULL)"
        )
        self._db.commit()

    @classmethod
    def existing(cls, out: Path) -> Ledger | None:
        """The ledger of `out` opened read-only (`fix --dry-run`), or None if it has none."""
        if not (Path(out) / LEDGER_DIR / LEDGER_NAME).is_file():
            return None
        try:
            return cls(out, read_only=True)
        except sqlite3.Error:
            return None

    def _rel(self, output: Path) -> str:
        return Path(output).resolve().relative_to(self.out).as_posix()

    def has(self, output: Path) -> bool:
        """Whether anything was recorded for `output` (else `done` is None whatever the
        source: no need to hash it first)."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM outputs WHERE output = ?", (self._rel(output),)
            ).fetchone()
        return row is not None

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
        # Size first (cheap), then the hash: an output edited to the same size is redone.
        try:
            if output.stat().st_size != row[3] or sha256_file(output) != row[4]:
                return None
        except OSError:
            return None
        return row[2]

    def record(
        self,
        source: Path,
        source_sha: str,
        options: str,
        status: str,
        output: Path,
        digest: str | None = None,
    ) -> None:
        """Remember a finished output (call after it is renamed into place); `digest`
        is its SHA-256 when the caller hashed those bytes already."""
        size, digest = output.stat().st_size, digest or sha256_file(output)
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
