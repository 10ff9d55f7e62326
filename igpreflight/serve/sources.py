"""Bring media the service did not receive into its store: s3:// objects and URLs.

An s3:// key is read only from the service's own bucket (`--bucket`): its
credentials may reach other buckets, which a caller must not be able to probe.
A URL is fetched the way Instagram's fetcher does (`preflight.urlcheck`: public
hosts only unless --allow-private, each redirect vetted, DNS pinned, a deadline
and a byte cap), straight into the store's incoming folder.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from igpreflight.serve.problems import Problem
from igpreflight.serve.store import MediaStore, safe_name


def fetch_s3(
    store: MediaStore, uri: str, bucket: str | None, settings: object, cap: int
) -> tuple[str, str]:
    """Download s3://bucket/key into a new incoming folder: (incoming id, file name)."""
    from igpreflight.storage.s3 import ObjectInfo, StorageError, download, head_object, head_size
    from igpreflight.storage.s3uri import S3Uri

    try:
        parsed = S3Uri.parse(uri)
    except ValueError as exc:
        raise Problem(422, str(exc), "bad-media-reference") from None
    if bucket is None or parsed.bucket != bucket or parsed.is_prefix:
        raise Problem(
            422,
            "s3:// media must be objects in the service's bucket"
            + (f" ({bucket})" if bucket else "; this service has none (--bucket)"),
            "bad-media-reference",
        )
    try:
        head = head_object(parsed, settings)  # type: ignore[arg-type]
    except StorageError as exc:
        raise Problem(503, f"the bucket cannot be read: {exc}", "storage-unavailable") from None
    if head is None:
        raise Problem(404, f"no object {uri}", "no-such-media")
    size = head_size(parsed, head, settings)  # type: ignore[arg-type]
    if size > cap:
        raise Problem(413, f"{uri} is {size:,} bytes, over the {cap:,} bytes cap", "too-large")
    info = ObjectInfo(parsed.bucket, parsed.key, size, str(head.get("ETag", "")).strip('"'))
    media_id, folder = store.incoming()
    name = safe_name(parsed.key)
    try:
        download(info, folder / name, settings)  # type: ignore[arg-type]
    except StorageError as exc:
        store.discard(media_id)
        raise Problem(503, f"the bucket cannot be read: {exc}", "storage-unavailable") from None
    except BaseException:
        store.discard(media_id)
        raise
    return media_id, name


def fetch_url(store: MediaStore, url: str, allow_private: bool) -> tuple[str, str, list]:
    """Fetch `url` into a new incoming folder: (incoming id, file name, URL findings).

    A URL that does not give the media (refused host, error status, over the
    byte cap, too slow) is a 422 naming why, and leaves nothing behind.
    """
    from igpreflight.net.guard import redact_url
    from igpreflight.preflight.rules.url import fetched
    from igpreflight.preflight.urlcheck import check_url

    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise Problem(422, "url must be an https:// URL", "bad-media-reference")
    media_id, folder = store.incoming()
    name = safe_name(Path(urllib.parse.urlsplit(url).path).name, default="media")
    try:
        with open(folder / name, "wb") as sink:
            result = check_url(url, allow_private=allow_private, sink=sink, timeout_name=None)
        outcome = result.outcome(fetched.code)
        why = result.incomplete or (
            outcome.detail if outcome is not None and outcome.status == "fail" else None
        )
        if why:
            refusals = "; ".join(f.message for f in result.findings) or why
            raise Problem(422, f"{redact_url(url)} was not fetched: {refusals}", "url-not-fetched")
    except BaseException:
        store.discard(media_id)
        raise
    return media_id, name, list(result.findings)
