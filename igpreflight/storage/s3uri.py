"""s3://bucket/key URIs: parsing and joining, with no I/O."""

from __future__ import annotations

from igpreflight.records import record
from igpreflight.storage.scheme import SCHEME, is_s3

__all__ = ["SCHEME", "S3Uri", "is_s3"]


@record
class S3Uri:
    """A bucket and a key (the key may be a prefix, or empty for the whole bucket)."""

    bucket: str
    key: str = ""

    @classmethod
    def parse(cls, text: str) -> S3Uri:
        """`s3://bucket/some/key` -> S3Uri("bucket", "some/key"); ValueError when malformed."""
        if not is_s3(text):
            raise ValueError(f"not an s3:// URI: {text!r}")
        bucket, _, key = text[len(SCHEME) :].partition("/")
        if not bucket or "?" in bucket or "#" in bucket:
            raise ValueError(f"no bucket in {text!r} (write s3://bucket/prefix/)")
        return cls(bucket, key)

    @property
    def is_prefix(self) -> bool:
        """A URI ending in / (or naming the bucket alone) is a prefix, never one object."""
        return self.key == "" or self.key.endswith("/")

    def child(self, rel: str) -> S3Uri:
        """The key `rel` under this prefix (a / is added between them when missing)."""
        base = self.key if self.key == "" or self.key.endswith("/") else self.key + "/"
        return S3Uri(self.bucket, base + rel.lstrip("/"))

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"
