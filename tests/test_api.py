"""The Python API under every command: each function returns a result whose
`to_dict()` is the command's JSON document, and none of them prints or exits."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.s3server import fake_aws_env, running_moto
from igpreflight.cli import cli
from igpreflight.envelope import tool

pytest.register_assert_rewrite("publish_support")


pytest_plugins = ("publish_support",)

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
FAST = {"first_wait": 0.05, "max_wait": 0.2, "allow_private": True}


def quiet(capsys: pytest.CaptureFixture[str]) -> bool:
    return capsys.readouterr() == ("", "")


@pytest.fixture
def s3(tmp_path, monkeypatch):
    fake_aws_env(monkeypatch, tmp_path)
    with running_moto() as endpoint:
        name = f"igpf-api-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
        yield {"bucket": name, "endpoint_url": endpoint, "acl": "public-read"}


def test_the_five_functions_import_from_the_package_root():
    from igpreflight import check, fix, publish, run, upload

    assert all(callable(f) for f in (check, fix, upload, publish, run))


def test_fix_result_is_the_fix_json_document(tmp_path, capsys):
    from igpreflight import fix

    src = tmp_path / "in"
    src.mkdir()
    Image.new("RGBA", (500, 900), "teal").save(src / "a.png")
    shutil.copyfile(MEDIA / "feed-ok.jpg", src / "b.jpg")
    result = fix([src], dry_run=True)
    assert quiet(capsys)
    doc = result.to_dict()
    assert doc["tool"] == tool() and doc["dry_run"] is True
    assert doc["summary"]["files"] == 2 and doc["summary"]["converted"] == 1
    cli_doc = json.loads(
        CliRunner().invoke(cli, ["fix", str(src), "--dry-run", "--format", "json"]).output
    )
    assert cli_doc == doc


def test_fix_refuses_an_out_folder_around_its_input(tmp_path):
    from igpreflight import fix
    from igpreflight.api.errors import UsageError

    Image.new("RGB", (300, 300)).save(tmp_path / "a.png")
    with pytest.raises(UsageError, match="contains the input folder"):
        fix([tmp_path], tmp_path)


def test_upload_returns_each_file_with_its_checked_url(s3, tmp_path, capsys):
    from igpreflight import upload
    from igpreflight.api.errors import UsageError

    shutil.copyfile(MEDIA / "feed-ok.jpg", tmp_path / "feed.jpg")
    result = upload(tmp_path / "feed.jpg", allow_private=True, **s3)
    assert quiet(capsys)
    assert result.ok and result.files[0].upload.url.endswith("feed.jpg")
    doc = result.to_dict()
    assert doc["tool"] == tool()
    assert doc["summary"]["uploaded"] == 1 and doc["summary"]["urls_passing"] == 1
    with pytest.raises(UsageError, match="not both"):
        upload(tmp_path, presign=60, public_base_url="https://cdn.example.com", **s3)


def test_publish_returns_outcomes_and_resumes_from_its_journal(graph_env, media, tmp_path, capsys):
    from igpreflight import PublishRefused, publish

    manifest = tmp_path / "posts.json"
    post = {"id": "p1", "media_type": "IMAGE", "media": [media.url_for("feed.jpg")]}
    manifest.write_text(json.dumps({"post": [post]}))
    plan = publish(manifest, dry_run=True, **FAST)
    assert [p.post_id for p in plan.posts] == ["(batch)", "p1"] and not graph_env.published
    first = publish(manifest, **FAST)
    again = publish(manifest, **FAST)
    assert quiet(capsys)
    assert first.ok and first.outcomes[0].media_id == graph_env.published[0]["media_id"]
    assert again.outcomes[0].already and len(graph_env.published) == 1
    doc = again.to_dict()
    assert doc["tool"] == tool() and doc["summary"]["already_published"] == 1
    local = tmp_path / "local.json"
    shutil.copyfile(MEDIA / "feed-ok.jpg", tmp_path / "feed.jpg")
    local.write_text(json.dumps({"post": [{"id": "l", "media": ["feed.jpg"]}]}))
    with pytest.raises(PublishRefused) as refused:
        publish(local, **FAST)
    assert "--bucket" in refused.value.problems[0]


def test_run_composes_check_fix_upload_and_publish(graph_env, s3, tmp_path, capsys):
    from igpreflight import run

    Image.new("RGB", (1080, 1800), "orange").save(tmp_path / "tall.webp")
    (tmp_path / "posts.json").write_text(
        json.dumps(
            {
                "post": [
                    {"id": "ok", "media": ["tall.webp"]},
                    {"id": "spam", "caption": "#x " * 31, "media": ["tall.webp"]},
                ]
            }
        )
    )
    heard = []
    result = run(tmp_path / "posts.json", on_stop=lambda *stop: heard.append(stop), **s3, **FAST)
    assert quiet(capsys)
    assert result.stopped["spam"][0] == "check" and not result.ok
    assert heard == [("spam", *result.stopped["spam"])]
    assert result.publish.ok and len(graph_env.published) == 1
    doc = result.to_dict()
    assert doc["tool"] == tool() and doc["summary"] == {
        "posts": 2,
        "published": 1,
        "already_published": 0,
        "failed": 0,
        "queued": 0,
        "scheduled": 0,
        "stopped": 1,
    }
    assert {p["id"]: p["status"] for p in doc["posts"]} == {"ok": "published", "spam": "stopped"}


def test_fix_takes_parsed_posts_and_fixes_each_media_in_its_role(tmp_path):
    from igpreflight import fix
    from igpreflight.model import MediaItem, Post

    Image.new("RGB", (1080, 1080), "teal").save(tmp_path / "square.png")
    media = MediaItem("square.png", str(tmp_path / "square.png"))
    story = Post(id="s", media_type="STORIES", media=(media,))
    result = fix(manifest=[story], out=tmp_path / "out")
    (only,) = result.files
    assert result.ok and only.status.value == "converted"
    assert Path(only.output).parent == tmp_path / "out" / "story"
    assert result.media == {(str(tmp_path / "square.png"), "story"): only}  # what run reads


def test_fix_draws_nothing_even_on_a_terminal(tmp_path):
    """The CLI draws a long encode's percentage on a terminal; the API never does."""
    import os
    import pty
    import sys

    from fixtures.generate import make_video

    clip = make_video(
        tmp_path / "v.webm", width=64, height=64, fps=30, duration=3.5,
        vcodec="libvpx-vp9", acodec="libopus", container="webm",
    )  # fmt: skip
    code = (
        "from igpreflight import fix; import sys; "
        f"r = fix([{str(clip)!r}], {str(tmp_path / 'out')!r}); "
        "sys.exit(0 if r.files[0].status.value == 'transcoded' else 3)"
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout and stderr are the terminal
        os.execv(sys.executable, [sys.executable, "-c", code])
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert seen == b""


def test_publish_returns_with_held_posts_left_pending_and_refuses_duplicates(
    graph_env, media, tmp_path, capsys
):
    """The engine runs in the caller's process and stops without waiting for a held
    post: the call returns, the process goes on, the post stays PENDING (held) in the
    database for the next run, and a second call in the same process works."""
    from igpreflight import publish
    from igpreflight.api.durable import post_states

    graph_env.set_quota(50, total=50)  # the account's quota is used up
    manifest = tmp_path / "posts.json"
    post = {"id": "p1", "media": [media.url_for("feed.jpg")], "caption": "one"}
    manifest.write_text(json.dumps({"post": [post]}))
    first = publish(manifest, **FAST)
    [held] = first.outcomes
    assert held.status == "queued" and held.rule == "QUOTA001" and not first.ok
    db = str(tmp_path / ".igpreflight" / "publish.sqlite")
    [row] = post_states(db).posts
    assert row["state"] == "held" and row["post_id"] == "p1"
    assert graph_env.published == []
    # dedupe (issue 14) on this path too: a caption the account already shows
    graph_env.set_quota(0, total=50)
    theirs = graph_env.add_media(graph_env.user_id, "two", age=3600)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"post": [{**post, "id": "p2", "caption": "two"}]}))
    [dup] = publish(other, **FAST).outcomes
    assert dup.status == "failed" and dup.error_class == "duplicate"
    assert dup.message == f"already on Instagram ({theirs})" and dup.media_id == theirs
    [ok] = publish(other, allow_duplicate=True, **FAST).outcomes
    assert ok.status == "published" and len(graph_env.published) == 1
    assert quiet(capsys)


def test_a_post_held_by_one_call_is_published_once_by_the_next(graph_env, media, tmp_path, capsys):
    """A rate limit longer than max_rate_wait holds the post: the call returns at once
    (its wait ends unrecorded), and the next call, once the time has come, resumes
    that very workflow and publishes the post exactly once."""
    from igpreflight import publish

    graph_env.inject("media", "rate_limit_buc", regain_minutes=0.05)  # 3 s
    manifest = tmp_path / "posts.json"
    post = {"id": "p1", "media": [media.url_for("feed.jpg")], "caption": "one"}
    manifest.write_text(json.dumps({"post": [post]}))
    [held] = publish(manifest, max_rate_wait=1, **FAST).outcomes
    assert held.status == "queued" and held.error_class == "wait-quota"
    assert graph_env.published == []
    time.sleep(3.2)
    [done] = publish(manifest, max_rate_wait=1, **FAST).outcomes
    assert done.status == "published" and not done.already
    assert len(graph_env.published) == 1 and len(graph_env.calls("POST", "/media_publish")) == 1
    assert quiet(capsys)


def test_publish_and_worker_work_from_inside_a_running_event_loop(
    graph_env, media, tmp_path, capsys
):
    """A notebook or an async web handler calls the API with an event loop running in
    its thread. DBOS refuses its blocking calls there: publish raised "retrieve_queue()
    was called while an event loop is running", warned on stderr, and left DBOS
    launched, so every later publish or worker of the process failed as well."""
    import asyncio

    from igpreflight import publish
    from igpreflight.api.durable import worker

    manifest = tmp_path / "posts.json"
    post = {"id": "p1", "media": [media.url_for("feed.jpg")], "caption": "async"}
    manifest.write_text(json.dumps({"post": [post]}))
    db = str(tmp_path / ".igpreflight" / "publish.sqlite")

    async def host() -> tuple[Any, Any]:
        published = publish(manifest, **FAST)
        idle = worker(db, allow_private=True)
        idle.engine.close()
        return published, idle

    published, idle = asyncio.run(host())
    assert [o.status for o in published.outcomes] == ["published"]
    assert len(graph_env.published) == 1 and not idle.interrupted
    assert publish(manifest, **FAST).outcomes[0].already  # the process goes on as before
    assert quiet(capsys)


def test_the_api_errors_come_back_whole_from_another_process():
    """A process pool (or Dask) hands an error back pickled. PublishRefused came back
    with its message split into characters ("p; o; s; t; ...") and BatchInterrupted
    could not be loaded at all (its __init__ wants the results and the total)."""
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    from igpreflight.api.errors import BatchInterrupted, PublishRefused
    from igpreflight.transcode.types import FileFixResult, FixStatus

    done = [FileFixResult("a.jpg", "out/a.jpg", FixStatus.COPIED)]
    interrupted = pickle.loads(pickle.dumps(BatchInterrupted(done, 3)))
    assert interrupted.results == done and interrupted.total == 3
    assert str(interrupted) == "interrupted after 1 of 3 files"
    with ProcessPoolExecutor(1) as pool:
        refused = pool.submit(_refuse, ["post a: no bucket", "post b: no account"]).exception()
    assert isinstance(refused, PublishRefused)
    assert refused.problems == ["post a: no bucket", "post b: no account"]
    assert str(refused) == "post a: no bucket; post b: no account"


def _refuse(problems: list[str]) -> None:
    from igpreflight.api.errors import PublishRefused

    raise PublishRefused(problems)


def test_check_with_the_configuration_is_the_commands_json_in_a_configured_folder(
    tmp_path, monkeypatch
):
    """docs/api.md: the functions read no configuration file; `rules=` from
    load_settings() (found from the current folder up) makes `check` the command."""
    from igpreflight import check
    from igpreflight.config import load_settings

    Image.new("RGB", (1200, 400), (9, 9, 9)).save(tmp_path / "wide.png")  # IMG003, IMG012
    (tmp_path / "igpreflight.toml").write_text('ignore = ["IMG003"]\n')
    monkeypatch.chdir(tmp_path)
    command = json.loads(CliRunner().invoke(cli, ["check", "wide.png", "--format", "json"]).output)
    assert command["summary"]["ignored"] == 1
    assert check(["wide.png"]).to_dict() != command
    assert check(["wide.png"], rules=load_settings().rules).to_dict() == command
    select = load_settings(select=["IMG012"]).rules
    assert [f.rule for f in check(["wide.png"], rules=select).warnings] == ["IMG012"]


@pytest.mark.parametrize("jobs", [0, -1, True, 2.5, 10**6])
def test_jobs_is_held_to_the_bounds_of_the_commands_jobs(tmp_path, jobs):
    """check(jobs=5000) on a big folder started a process every few dozen files (the
    memory blow-up --jobs is bounded against), and 0 or -1 quietly ran on one core."""
    from igpreflight import check, fix

    shutil.copyfile(MEDIA / "feed-ok.jpg", tmp_path / "a.jpg")
    with pytest.raises(ValueError, match="jobs"):
        check([tmp_path / "a.jpg"], jobs=jobs)
    with pytest.raises(ValueError, match="jobs"):
        fix([tmp_path / "a.jpg"], tmp_path / "out", jobs=jobs)
    assert not (tmp_path / "out").exists()
    assert (
        check([tmp_path / "a.jpg"], jobs=2).files and check([tmp_path / "a.jpg"], jobs=None).files
    )


def test_a_workers_result_pickles_without_its_engine(graph_env, media, tmp_path):
    """worker() hands back its running engine with the posts; pickling the result for
    another process failed on the engine ("Can't pickle local object")."""
    import pickle

    from igpreflight import publish
    from igpreflight.api.durable import worker

    manifest = tmp_path / "posts.json"
    manifest.write_text(json.dumps({"post": [{"id": "p1", "media": [media.url_for("feed.jpg")]}]}))
    published = publish(manifest, **FAST)
    done = worker(str(tmp_path / ".igpreflight" / "publish.sqlite"), allow_private=True)
    try:
        copy = pickle.loads(pickle.dumps(done))
    finally:
        done.engine.close()
    assert copy.to_dict() == done.to_dict() and copy.engine is None
    assert pickle.loads(pickle.dumps(published)).to_dict() == published.to_dict()


def test_publish_from_several_threads_at_once_publishes_each_callers_posts(
    graph_env, media, tmp_path, capsys
):
    """A web app's request threads each call publish. DBOS is one instance a process:
    the second engine set its runtime under the first one's running posts, then failed
    with "listen_queues called after DBOS is launched". Engines now take turns: every
    call returns its own posts, published once, on its own database or a shared one."""
    from concurrent.futures import ThreadPoolExecutor

    from igpreflight import publish

    def one(i: int) -> list[tuple[str, str]]:
        manifest = tmp_path / f"posts{i}.json"
        post = {"id": f"p{i}", "media": [media.url_for("feed.jpg")], "caption": f"thread {i}"}
        manifest.write_text(json.dumps({"post": [post]}))
        db = str(tmp_path / ("shared.sqlite" if i % 2 else f"own{i}.sqlite"))
        return [(o.post_id, o.status) for o in publish(manifest, db=db, **FAST).outcomes]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    assert results == [[(f"p{i}", "published")] for i in range(4)]
    assert sorted(p["caption"] for p in graph_env.published) == [f"thread {i}" for i in range(4)]
    assert quiet(capsys)


def test_publish_gives_the_dbos_logger_back_as_it_found_it(graph_env, media, tmp_path):
    """publish left DBOS's `dbos` logger rewired: the caller's handler gone, the level
    WARNING, propagation off and our handler, bound to the closed engine, taking the
    caller's own DBOS log lines. Now the logger is as it was before the call."""
    import logging

    from igpreflight import publish

    class Kept(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(record.getMessage())

    dbos_log = logging.getLogger("dbos")
    theirs, only_mine = Kept(), logging.Filter("dbos")
    saved = (dbos_log.handlers[:], dbos_log.filters[:], dbos_log.level, dbos_log.propagate)
    dbos_log.addHandler(theirs)
    dbos_log.addFilter(only_mine)
    dbos_log.setLevel(logging.DEBUG)
    try:
        manifest = tmp_path / "posts.json"
        post = {"id": "p1", "media": [media.url_for("feed.jpg")]}
        manifest.write_text(json.dumps({"post": [post]}))
        assert publish(manifest, **FAST).ok
        assert dbos_log.handlers == [*saved[0], theirs]
        assert dbos_log.filters == [*saved[1], only_mine]
        assert dbos_log.level == logging.DEBUG and dbos_log.propagate is saved[3]
        dbos_log.info("the caller's own DBOS line")
        assert theirs.lines[-1] == "the caller's own DBOS line"
    finally:
        dbos_log.handlers[:], dbos_log.filters[:] = saved[0], saved[1]
        dbos_log.setLevel(saved[2])
        dbos_log.propagate = saved[3]
