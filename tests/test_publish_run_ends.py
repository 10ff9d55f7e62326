"""A run that exits once its posts have settled lets their workflows record their end
first (`Engine._let_settled_ends_record`). A workflow's end writes its final "state",
then "settled", then its output: a run that saw the final state could stop before
"settled" was written, exit, and leave the workflow PENDING, which the next run
recovered and reported as "published, media id ..." instead of "published earlier"
(seen at load 14 in tests/test_publish_durable.py)."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

pytest.register_assert_rewrite("publish_support")


pytest_plugins = ("publish_support",)

FAST = {"first_wait": 0.05, "max_wait": 0.2, "allow_private": True}


def test_a_run_waits_for_a_post_between_its_final_state_and_settled(
    graph_env, media, tmp_path, monkeypatch
):
    from igpreflight.api.durable import load_posts, publish_many
    from igpreflight.publish.durable import dbos_port

    def slow_settle(view):  # the moment between the two events, made long
        dbos_port.dbos().set_event("state", dbos_port.stored(view))
        time.sleep(1.0)
        dbos_port.dbos().set_event("settled", True)

    monkeypatch.setattr(dbos_port, "settle_view", slow_settle)
    manifest = tmp_path / "posts.json"
    post = {"id": "p1", "media": [media.url_for("feed.jpg")], "caption": "one"}
    manifest.write_text(json.dumps({"post": [post]}))
    db = str(tmp_path / "q.sqlite")
    result = publish_many(manifest, load_posts(manifest), db=db, **FAST)
    try:
        assert [r["state"] for r in result.posts] == ["published"]
        result.engine._let_settled_ends_record(timeout=10.0)  # what exit() does first
        with sqlite3.connect(db) as conn:
            ends = conn.execute(
                "SELECT status FROM workflow_status WHERE workflow_uuid LIKE 'igp:%'"
            ).fetchall()
        assert ends == [("SUCCESS",)]
    finally:
        result.engine.close()
    assert len(graph_env.published) == 1
