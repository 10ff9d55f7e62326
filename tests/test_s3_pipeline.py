"""Issue 20: a worker fixing objects overlaps the network with its fixes. The next
objects are fetched while one is fixed, and outputs upload behind it; one at a
time, every GET and PUT would leave the core idle for a round trip. The latency
proxy in front of the loopback S3 server makes those round trips real for the
benchmark (bench/bench_s3_latency.py); here it must pass every byte untouched."""

from __future__ import annotations

import threading

import pytest

from fixtures import generate
from fixtures.latency_proxy import running_latency_proxy
from igpreflight.scale.engine import EngineSpec
from igpreflight.scale.fix import fix_scaled
from igpreflight.storage import s3
from igpreflight.transcode.types import FixOptions, FixStatus
from tests.s3_support import s3server  # noqa: F401 - a fixture


class Meet:
    """The `first` and `second` requests seen by a hook each wait until both are in
    flight (10 s at most): done one after the other, the barrier breaks and the
    request fails."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=10)
        self.met = 0

    def wait(self) -> None:
        self.barrier.wait()
        self.met += 1


@pytest.fixture()
def camera_roll(s3server, tmp_path):  # noqa: F811
    """Eight photos to fix (too wide for a feed post), in a fresh bucket."""
    bucket = s3server.bucket()
    for i in range(8):
        photo = generate.make_image(tmp_path / f"p{i}.jpg", size=(2000, 900), seed=i)
        s3server.put(bucket, f"in/p{i}.jpg", photo)
    s3.configure(s3.S3Settings(endpoint_url=s3server.endpoint))
    return bucket


def test_a_worker_fetches_ahead_and_uploads_behind(s3server, camera_roll):  # noqa: F811
    fetched_together, upload_beside_fetch = Meet(), Meet()
    gets: list[str] = []
    puts: list[str] = []
    lock = threading.Lock()

    def on_get(request, **_):  # noqa: ANN001 - botocore's hook signature
        if "Range" in request.headers:
            return  # the plan's ranged probes
        with lock:
            gets.append(request.url)
            n = len(gets)
        if n in (1, 2):  # the first two sources are downloaded at once
            fetched_together.wait()
        if n == 4:  # ... and the fourth while the first output uploads
            upload_beside_fetch.wait()

    def on_put(request, **_):  # noqa: ANN001
        with lock:
            puts.append(request.url)
            n = len(puts)
        if n == 1:
            upload_beside_fetch.wait()

    client = s3.client()
    client.meta.events.register("before-send.s3.GetObject", on_get)
    client.meta.events.register("before-send.s3.PutObject", on_put)
    try:
        one_worker = EngineSpec("local", workers=1)
        results = fix_scaled(
            [f"s3://{camera_roll}/in/"], f"s3://{camera_roll}/out/", FixOptions(), one_worker
        )
    finally:
        client.meta.events.unregister("before-send.s3.GetObject", on_get)
        client.meta.events.unregister("before-send.s3.PutObject", on_put)
    assert [r.status for r in results] == [FixStatus.CONVERTED] * 8, [r.reason for r in results]
    assert fetched_together.met == 2 and upload_beside_fetch.met == 2
    assert len(s3server.keys(camera_roll, "out/")) == 8


def test_the_latency_proxy_delays_each_request_and_passes_every_byte(s3server, tmp_path):  # noqa: F811
    import boto3

    bucket = s3server.bucket()
    body = bytes(range(256)) * 4096  # 1 MB
    with running_latency_proxy(s3server.endpoint, delay=0.01) as proxy:
        host, port = proxy.address
        slow = boto3.client("s3", endpoint_url=f"http://{host}:{port}")
        slow.put_object(Bucket=bucket, Key="k", Body=body)
        assert slow.get_object(Bucket=bucket, Key="k")["Body"].read() == body
        listed = slow.list_objects_v2(Bucket=bucket)["Contents"]
        assert [o["Key"] for o in listed] == ["k"]
        assert proxy.requests >= 3  # one delay per request at least
    assert s3server.client.get_object(Bucket=bucket, Key="k")["Body"].read() == body
