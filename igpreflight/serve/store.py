"""Media the service holds: uploads, URLs it fetched, and files it fixed.

One folder per media under `<data>/media/<id>/`: the file under its (sanitised)
name, so checks see the extension the client gave, and `meta.json`. A media
being received lives in `<data>/media/.incoming/<id>/` and becomes visible with
one rename, after its meta is written: a reader never sees half of one, and a
worker process that did not receive it finds it all the same. Media expire after
the TTL; `sweep` removes them, and what crashed or stalled uploads left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from igpreflight.atomic import write_text
from igpreflight.serve.keys import Principal

MEDIA_ID = re.compile(r"^m_[A-Za-z0-9_-]{22}$")
META = "meta.json"
STALE_INCOMING = 15 * 60.0  # seconds an unfinished upload may go untouched
MAX_NAME = 80


def new_media_id() -> str:
    return "m_" + secrets.token_urlsafe(16)


def safe_name(name: str | None, default: str = "upload") -> str:
    """A file name safe on any disk: the last component, ASCII letters, digits, `._-`."""
    base = re.split(r"[\\/]", name or "")[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip(".-")
    if not cleaned:
        return default
    stem, dot, ext = cleaned.rpartition(".")
    if dot and len(ext) <= 8:
        return stem[: MAX_NAME - len(ext) - 1] + "." + ext if stem else default + "." + ext
    return cleaned[:MAX_NAME]


@dataclass(frozen=True)
class StoredMedia:
    """One media the service holds, and what its check said when it was stored."""

    id: str
    name: str
    bytes: int
    scope: tuple[str, ...]  # the accounts of the key that stored it
    created: float
    expires: float
    origin: str  # upload | url | fix
    source: str | None = None  # the media a fixed file was made from
    report: dict[str, Any] = field(default_factory=dict)  # kind, as, facts, findings
    folder: Path = Path()

    @property
    def path(self) -> Path:
        return self.folder / self.name

    @property
    def kind(self) -> str:
        return str(self.report.get("kind", "unknown"))

    def meta(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("folder")
        data["scope"] = list(self.scope)
        return data


class MediaStore:
    """The media folder of a data dir; safe to share between processes."""

    def __init__(self, root: Path, ttl: float) -> None:
        self.root = Path(root) / "media"
        self.incoming_root = self.root / ".incoming"
        self.ttl = ttl
        self.incoming_root.mkdir(parents=True, exist_ok=True)

    def incoming(self) -> tuple[str, Path]:
        """A new id and its private folder to receive a file in."""
        media_id = new_media_id()
        folder = self.incoming_root / media_id
        folder.mkdir()
        return media_id, folder

    def commit(
        self,
        media_id: str,
        name: str,
        scope: list[str],
        origin: str,
        report: dict[str, Any],
        source: str | None = None,
    ) -> StoredMedia:
        """Make the received file `incoming/<id>/<name>` visible as media `media_id`."""
        folder = self.incoming_root / media_id
        now = time.time()
        media = StoredMedia(
            id=media_id,
            name=name,
            bytes=(folder / name).stat().st_size,
            scope=tuple(scope),
            created=now,
            expires=now + self.ttl,
            origin=origin,
            source=source,
            report=report,
            folder=self.root / media_id,
        )
        write_text(folder / META, json.dumps(media.meta()))
        os.replace(folder, media.folder)
        return media

    def discard(self, media_id: str) -> None:
        """Forget a media being received (a refused or interrupted upload)."""
        shutil.rmtree(self.incoming_root / media_id, ignore_errors=True)

    def get(self, media_id: str, principal: Principal) -> StoredMedia | None:
        """The media, if it exists, has not expired, and `principal` may see it."""
        if not MEDIA_ID.match(media_id):
            return None
        folder = self.root / media_id
        try:
            data = json.loads((folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        media = StoredMedia(**{**data, "scope": tuple(data["scope"]), "folder": folder})
        if media.expires <= time.time() or not principal.covers(media.scope):
            return None
        return media

    def remove(self, media_id: str) -> None:
        """Forget a media now; raises OSError when the disk refuses (read-only), so a
        DELETE never answers 204 for a media that is still there."""
        if MEDIA_ID.match(media_id):
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile: the sweep
                shutil.rmtree(self.root / media_id)

    def sweep(self, now: float | None = None) -> int:
        """Remove expired media and abandoned incoming folders; how many went."""
        now = time.time() if now is None else now
        removed = 0
        for folder in self.root.iterdir():
            if folder.name.startswith("."):
                continue
            try:
                expires = json.loads((folder / META).read_text(encoding="utf-8"))["expires"]
            except (OSError, ValueError, KeyError):
                expires = folder.stat().st_mtime + STALE_INCOMING  # a half-made folder
            if expires <= now:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        for folder in self.incoming_root.iterdir():
            if _last_touched(folder) + STALE_INCOMING <= now:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


def _last_touched(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    for child in folder.iterdir():
        with contextlib.suppress(OSError):  # removed meanwhile
            times.append(child.stat().st_mtime)
    return max(times)
