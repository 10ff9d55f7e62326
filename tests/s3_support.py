"""A moto S3 server on loopback with fake credentials, shared by the s3:// tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.s3server import fake_aws_env, running_moto


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
