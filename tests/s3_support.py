"""A moto S3 server on loopback with fake credentials, shared by the s3:// tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.s3server import (
    FAKE_ACCESS_KEY_ID,
    FAKE_SECRET_ACCESS_KEY,
    fake_aws_env,
    running_moto,
)


@dataclass
class S3Server:
    endpoint: str
    client: Any

    def bucket(self) -> str:
        """A fresh, empty bucket."""
        name = f"igpf-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name

    def put(self, bucket: str, key: str, source: Path | bytes) -> None:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def kill_once_written(
        self, cmd: list[str], env: dict[str, str], bucket: str, prefix: str
    ) -> None:
        """Run `cmd` and kill -9 it as soon as an object appears under `prefix`: a
        batch interrupted mid-run, as the OOM killer or a preempted host leaves it."""
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline and not self.keys(bucket, prefix):
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for p in pages for o in p.get("Contents", ()))


@pytest.fixture(scope="module")
def s3server(tmp_path_factory) -> Iterator[S3Server]:
    """One moto server per test module, with fake keys in the environment."""
    import boto3

    with pytest.MonkeyPatch.context() as mp, running_moto() as endpoint:
        fake_aws_env(mp, tmp_path_factory.mktemp("aws"))
        mp.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        yield S3Server(endpoint, boto3.client("s3", endpoint_url=endpoint))


@contextmanager
def puts_held_after(bucket: str, prefix: str, n: int) -> Iterator[threading.Event]:
    """Every PUT of an object under `prefix` in `bucket` after the first `n` waits, in
    this process's moto server, until the yielded Event is set or the block ends: a
    batch cannot finish while a test thread a loaded machine starves looks away."""
    from moto.s3.models import S3Backend

    real = S3Backend.put_object
    gate, lock, seen = threading.Event(), threading.Lock(), [0]

    def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kw: Any) -> Any:
        if bucket_name == bucket and key_name.startswith(prefix):
            with lock:
                seen[0] += 1
                late = seen[0] > n
            if late:
                gate.wait(300)
        return real(self, bucket_name, key_name, *args, **kw)

    S3Backend.put_object = put_object  # type: ignore[method-assign]
    try:
        yield gate
    finally:
        gate.set()
        S3Backend.put_object = real  # type: ignore[method-assign]


@dataclass
class IamS3:
    """A moto server in a process of its own that enforces IAM policies (moto's auth
    counter is process-wide, so the module's shared server must not turn it on)."""

    endpoint: str
    keys: dict[str, tuple[str, str]]  # user -> (access key id, secret key)

    def env(self, user: str) -> dict[str, str]:
        key_id, secret = self.keys[user]
        return {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}


@contextmanager
def moto_enforcing_iam(
    objects: dict[str, bytes], users: dict[str, list[str] | list[dict[str, object]]]
) -> Iterator[IamS3]:
    """`objects` ("bucket/key" -> bytes) put, and `users` (name -> S3 actions allowed
    on every bucket, or the policy's statements) made, before the server starts
    checking every request's keys."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import boto3
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "INITIAL_NO_AUTH_ACTION_COUNT"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.1)
        admin = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": FAKE_ACCESS_KEY_ID,
            "aws_secret_access_key": FAKE_SECRET_ACCESS_KEY,
        }
        s3 = boto3.client("s3", **admin)
        iam = boto3.client("iam", **admin)
        for bucket in sorted({name.split("/", 1)[0] for name in objects}):
            s3.create_bucket(Bucket=bucket)
        for name, data in objects.items():
            bucket, key = name.split("/", 1)
            s3.put_object(Bucket=bucket, Key=key, Body=data)
        keys = {}
        for user, actions in users.items():
            iam.create_user(UserName=user)
            statements = [
                a if isinstance(a, dict) else {"Effect": "Allow", "Action": a, "Resource": "*"}
                for a in actions
            ]
            policy = {"Version": "2012-10-17", "Statement": statements}
            iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps(policy))
            made = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (made["AccessKeyId"], made["SecretAccessKey"])
        httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"0").raise_for_status()
        yield IamS3(endpoint, keys)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
