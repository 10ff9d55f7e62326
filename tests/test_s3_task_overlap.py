"""Inside one engine task, the ranged GETs of its objects overlap: one at a time, a
worker would sit idle for a round trip per request (tens of ms on a real S3), and a
plan or check task of hundreds of objects would take seconds of waiting."""

from __future__ import annotations

import threading

import pytest

from fixtures import generate
from igpreflight.preflight.engine import Target
from igpreflight.scale.check import check_task
from igpreflight.scale.fix import Source, plan_task
from igpreflight.storage import s3
from igpreflight.storage.objects import list_media
from igpreflight.transcode.types import FixOptions
from tests.s3_support import s3server  # noqa: F401 - a fixture

AT_ONCE = 3


@pytest.fixture()
def objects(s3server, tmp_path):  # noqa: F811
    bucket = s3server.bucket()
    for i in range(6):
        photo = generate.make_image(tmp_path / f"p{i}.jpg", size=(1200 + i, 900), seed=i)
        s3server.put(bucket, f"in/p{i}.jpg", photo)
    settings = s3.S3Settings(endpoint_url=s3server.endpoint)
    s3.configure(settings)
    _, found = list_media(f"s3://{bucket}/in/", settings=settings)
    return settings, found


@pytest.fixture()
def gate():
    """The first AT_ONCE GetObjects each wait until all of them are in flight: sent
    one at a time, the first waits alone and the barrier breaks (a failed task)."""
    barrier = threading.Barrier(AT_ONCE, timeout=10)
    held = []
    lock = threading.Lock()

    def hold(**_):
        with lock:
            first = len(held) < AT_ONCE
            held.append(1)
        if first:
            barrier.wait()

    client = s3.client()
    client.meta.events.register("before-send.s3.GetObject", hold)
    yield held
    client.meta.events.unregister("before-send.s3.GetObject", hold)


def test_a_plan_task_probes_its_objects_at_once(objects, gate):
    settings, found = objects
    sources = [Source(o.uri, o.key[3:], obj=o) for o in found]
    planned = plan_task(sources, FixOptions(), settings)
    assert len(gate) >= len(found)
    assert [p.job.display for p in planned] == [o.uri for o in found]  # input order
    assert all(p.result is None and p.facts.width >= 1200 for p in planned)


def test_a_check_task_probes_its_objects_at_once(objects, gate):
    settings, found = objects
    targets = [Target(o.uri, "", "auto", obj=o) for o in found]
    reports = check_task(targets, settings)
    assert [r.path for r in reports] == [o.uri for o in found]
    assert [r.facts.width for r in reports] == [1200 + i for i in range(6)]
