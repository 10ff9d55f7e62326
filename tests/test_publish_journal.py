"""The SQLite journal on its own: states, replacement of containers, durability."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from igpreflight.publish import journal as J
from igpreflight.publish.journal import ErrorInfo, Journal, default_journal_path
from igpreflight.states import ContainerStatus, PostStatus


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_default_path_is_beside_the_manifest(tmp_path):
    m = tmp_path / "sub" / "posts.toml"
    assert (
        default_journal_path(m) == (tmp_path / "sub" / ".igpreflight" / "journal.sqlite").resolve()
    )


def test_wal_mode_and_schema(tmp_path):
    with Journal(tmp_path / "j.sqlite") as j:
        mode = j._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_post_lifecycle(tmp_path):
    clock = Clock()
    with Journal(tmp_path / "j.sqlite", now=clock) as j:
        row = j.ensure_post("acct", "p1", media_type="IMAGE", fingerprint="f1", seq=0)
        assert row.status == PostStatus.QUEUED and row.attempts == 0
        j.set_post_status("acct", "p1", PostStatus.ACTIVE, count_attempt=True)
        err = ErrorInfo("fix-media", 36003, 2207009, "aspect", "IMG003")
        j.set_post_status("acct", "p1", PostStatus.FAILED, err)
        row = j.post("acct", "p1")
        assert (row.status, row.attempts, row.error_class, row.error_rule) == (
            PostStatus.FAILED,
            1,
            "fix-media",
            "IMG003",
        )
        c = j.new_container("acct", "p1", J.PARENT_SLOT, "single")
        j.update_container(c.row_id, container_id="179", status=ContainerStatus.FINISHED)
        clock.t += 10
        j.mark_published("acct", "p1", "180", "media_publish", c.row_id)
        row = j.post("acct", "p1")
        assert (
            row.status == PostStatus.PUBLISHED and row.media_id == "180" and row.error_class is None
        )
        assert j.container(c.row_id).status == ContainerStatus.PUBLISHED
        # a published post is never moved back
        j.set_post_status("acct", "p1", PostStatus.QUEUED)
        assert j.post("acct", "p1").status == PostStatus.PUBLISHED
        assert j.published_since("acct", clock.t - 5) == 1
        assert j.published_since("acct", clock.t + 1) == 0
        assert j.published_since("other", 0) == 0


def test_new_container_replaces_the_slot_only(tmp_path):
    with Journal(tmp_path / "j.sqlite") as j:
        j.ensure_post("a", "car", media_type="CAROUSEL", fingerprint="f", seq=0)
        c0 = j.new_container("a", "car", 0, "child")
        c1 = j.new_container("a", "car", 1, "child")
        c1b = j.new_container("a", "car", 1, "child")
        assert c1b.attempts == 2 and c0.attempts == 1
        current = j.containers("a", "car")
        assert [c.row_id for c in current] == [c0.row_id, c1b.row_id]
        assert j.container(c1.row_id).status == ContainerStatus.REPLACED
        assert len(j.containers("a", "car", current_only=False)) == 3


def test_changed_fingerprint_restarts_unpublished_posts(tmp_path):
    with Journal(tmp_path / "j.sqlite") as j:
        j.ensure_post("a", "p", media_type="IMAGE", fingerprint="old", seq=0)
        j.new_container("a", "p", J.PARENT_SLOT, "single")
        row = j.ensure_post("a", "p", media_type="IMAGE", fingerprint="new", seq=3)
        assert row.fingerprint == "new" and row.seq == 3
        assert j.containers("a", "p") == []
        # but a published post keeps its record whatever the manifest says now
        c = j.new_container("a", "p", J.PARENT_SLOT, "single")
        j.mark_published("a", "p", "m1", "media_publish", c.row_id)
        row = j.ensure_post("a", "p", media_type="IMAGE", fingerprint="newer", seq=3)
        assert row.status == PostStatus.PUBLISHED and row.fingerprint == "new"


def test_every_change_is_visible_to_another_connection_at_once(tmp_path):
    """What a kill -9 leaves behind: each method committed before it returned."""
    path = tmp_path / "j.sqlite"
    j = Journal(path)
    j.ensure_post("a", "p", media_type="IMAGE", fingerprint="f", seq=0)
    c = j.new_container("a", "p", J.PARENT_SLOT, "single")
    j.update_container(c.row_id, container_id="179", status=ContainerStatus.FINISHED)
    j.begin_publish(c.row_id)
    other = sqlite3.connect(str(path))
    row = other.execute(
        "SELECT container_id, status, publish_attempts FROM containers WHERE row_id = ?",
        (c.row_id,),
    ).fetchone()
    assert row == ("179", ContainerStatus.FINISHED, 1)
    other.close()
    j.close()


def test_unknown_column_is_refused(tmp_path):
    with Journal(tmp_path / "j.sqlite") as j:
        j.ensure_post("a", "p", media_type="IMAGE", fingerprint="f", seq=0)
        c = j.new_container("a", "p", J.PARENT_SLOT, "single")
        try:
            j.update_container(c.row_id, token="x")
        except ValueError as exc:
            assert "token" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("accepted an unknown column")


def test_open_readonly_does_not_create(tmp_path: Path):
    assert Journal.open_readonly(tmp_path / "none.sqlite") is None
    assert not (tmp_path / "none.sqlite").exists()
