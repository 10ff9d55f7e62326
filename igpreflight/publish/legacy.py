"""Read-only: what a journal written by an earlier version says of each post.

Versions before the durable engine kept a hand-made SQLite journal
(`.igpreflight/journal.sqlite` beside the manifest): a `posts` table (account =
the Instagram user id, post id, status, media id) and a `containers` table (one
row per container, with how many times media_publish was sent for it). The
engine reads it once per run so that a post it recorded as published is never
published again, and a post whose media_publish was sent but never answered is
settled by asking its container. Nothing here writes: the file is opened
read-only and may be deleted once every post it lists has settled.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIRNAME = ".igpreflight"
DEFAULT_FILENAME = "journal.sqlite"


@dataclass(frozen=True)
class LegacyPost:
    """An earlier version's word on one post."""

    published: bool = False
    media_id: str | None = None
    sent_container: str | None = None  # media_publish sent, outcome never seen


NOTHING = LegacyPost()


def default_journal_path(manifest: str | os.PathLike[str]) -> Path:
    """Where an earlier version wrote its journal: beside the manifest."""
    base = Path(manifest).resolve().parent if str(manifest) != "-" else Path.cwd()
    return base / DEFAULT_DIRNAME / DEFAULT_FILENAME


def read_journal(path: str | os.PathLike[str]) -> dict[tuple[str, str], LegacyPost]:
    """(ig user id, post id) -> LegacyPost for every post the journal knows; empty
    when there is no journal (or it is not one)."""
    p = Path(path)
    if not p.is_file():
        return {}
    try:
        conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    except sqlite3.Error:
        return {}
    try:
        posts = conn.execute("SELECT account, post_id, status, media_id FROM posts").fetchall()
        sent = conn.execute(
            "SELECT account, post_id, container_id FROM containers"
            " WHERE publish_attempts > 0 AND container_id IS NOT NULL ORDER BY row_id"
        ).fetchall()
    except sqlite3.Error:  # not a journal of ours
        return {}
    finally:
        conn.close()
    out: dict[tuple[str, str], LegacyPost] = {}
    for account, post_id, container in sent:
        out[(str(account), str(post_id))] = LegacyPost(sent_container=str(container))
    for account, post_id, status, media_id in posts:
        if status == "published":
            out[(str(account), str(post_id))] = LegacyPost(True, media_id)
    return out


def published_ids(path: str | os.PathLike[str], account: str) -> set[str]:
    """Post ids the journal shows published for `account` (a dry run skips them)."""
    return {
        pid for (acc, pid), row in read_journal(path).items() if acc == account and row.published
    }


__all__ = ["LegacyPost", "default_journal_path", "published_ids", "read_journal"]
