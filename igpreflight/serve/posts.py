"""POST /v1/posts: one post checked, its media made fetchable, then enqueued once.

The order matters for "never a second post": the Idempotency-Key is claimed first
(a row under a unique constraint, idempotency.py), then the post is checked as
/v1/check checks it (errors: 422, and the key is released so the fixed post may
be sent again with it), its media turned into URLs Instagram can fetch (a media
id is uploaded to the service's bucket; an s3:// key is its bucket URL), and it
is enqueued with a post id derived from the API key and the Idempotency-Key, so
two requests racing on one key enqueue the same workflow (DBOS keeps one).
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from igpreflight.model import Kind, Post
from igpreflight.serve.checked import checked_post
from igpreflight.serve.checking import Resolver, parse_post, verdict
from igpreflight.serve.idempotency import Record, body_digest
from igpreflight.serve.keys import Principal
from igpreflight.serve.problems import Problem
from igpreflight.serve.service import Service
from igpreflight.serve.store import MEDIA_ID

S3 = "s3://"
# Longer than any request may take (a large media uploaded to the bucket first), so a
# claim older than this with no post is a request that stopped, not one still at work.
ABANDONED_AFTER = 3600.0


def post_id_for(key_name: str, idem_key: str) -> str:
    """The post's id: the same API key and Idempotency-Key always give the same one."""
    raw = hashlib.sha256(f"{key_name}\0{idem_key}".encode("utf-8", "surrogatepass")).digest()
    return "p_" + base64.urlsafe_b64encode(raw[:16]).decode().rstrip("=")


def submit(
    svc: Service, principal: Principal, idem_key: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """(201, the new post) or (200, the post this key made before); Problem otherwise."""
    pub = svc.publishing
    queue, book = pub.queue, pub.idempotency
    account = body["account"]
    record = Record(body_digest(body), account, post_id_for(principal.name, idem_key))
    found = book.claim(principal.name, idem_key, record)
    before = time.time() - ABANDONED_AFTER
    if (
        found is not None
        and found.body != record.body
        and abandoned(pub, found)
        and book.take_over(principal.name, idem_key, found, record, before)
    ):
        found = None  # ours now, as a new claim (released again if refused)
    if found is not None and found.body != record.body:
        raise Problem(
            409,
            "this Idempotency-Key was used with another body; use a new key for a new post",
            "idempotency-conflict",
            post_id=found.post_id,
        )
    if found is not None:
        row = queue.find(found.account, found.post_id)
        if row is not None:
            return 200, row
        # Claimed by a request still at work (or one that stopped before enqueueing):
        # do the same work; the same post id makes it one post either way.
    try:
        post, kinds = publishable(svc, principal, {**body, "id": record.post_id})
        queue.enqueue(post, pub.account(account), pub.settings, pub.dedupe_window, kinds)
    except BaseException:
        if found is None:
            book.release(principal.name, idem_key)
        raise
    row = queue.find(account, record.post_id)
    assert row is not None, "just enqueued"
    return (201 if found is None else 200), row


def abandoned(pub: Any, found: Record) -> bool:
    """A claim no post came of, old enough that its request has stopped (a process
    killed between claiming the key and enqueueing): a refused post releases its key,
    a killed one cannot."""
    stale = found.created < time.time() - ABANDONED_AFTER
    return stale and pub.queue.find(found.account, found.post_id) is None


def publishable(
    svc: Service, principal: Principal, body: dict[str, Any]
) -> tuple[Post, dict[str, Kind]]:
    """The post as the queue takes it (media as URLs), after the checks of /v1/check.
    422 with the findings when a check finds an error."""
    refs = [*body["media"], *([body["cover"]] if body.get("cover") is not None else [])]
    if not svc.settings.bucket and any(_is_media_id(r) for r in refs):
        raise Problem(
            422,
            "a media id needs the service's bucket (--bucket): Instagram fetches media by"
            " URL, so stored media are uploaded there first; give an https URL instead",
            "no-bucket",
        )
    with checked_post(svc, principal, body, svc.layers.base, deep=False) as found:
        answer = verdict(found.findings, strict=False)
        if not answer["valid"]:
            raise Problem(
                422,
                f"the post has {len(answer['errors'])} error(s); nothing was enqueued",
                "preflight-refused",
                **answer,
            )
        kinds = item_kinds(found.post, found.report, svc.settings.allow_private)
        entry = dict(body)
        entry["media"] = [_public(svc, r, found.resolver) for r in body["media"]]
        if body.get("cover") is not None:
            entry["cover"] = _public(svc, body["cover"], found.resolver)
    post = parse_post(entry, svc.store.root)
    probed = {m.key: k for m, k in zip(post.media, kinds, strict=True) if k is not None}
    return post, probed


def item_kinds(post: Post, report: Any, allow_private: bool) -> list[Kind | None]:
    """What `check` probed each media item as (image or video), in post order."""
    from igpreflight.preflight.engine import targets_for_posts

    per_item = targets_for_posts([post], allow_private)
    by_target = dict(zip(dict.fromkeys(per_item), report.files, strict=True))
    kinds = [by_target[t].kind for t in per_item[: len(post.media)]]
    return [k if k in (Kind.IMAGE, Kind.VIDEO) else None for k in kinds]


def _ref_of(raw: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(raw, dict):
        extra = {k: v for k, v in raw.items() if v is not None and k not in ("media_id", "url")}
        return str(raw.get("media_id") or raw.get("url") or ""), extra
    return str(raw), {}


def _is_media_id(raw: Any) -> bool:
    ref, _ = _ref_of(raw)
    return (isinstance(raw, dict) and raw.get("media_id") is not None) or bool(MEDIA_ID.match(ref))


def _public(svc: Service, raw: Any, resolver: Resolver) -> dict[str, Any]:
    """A media entry whose URL Instagram can fetch."""
    ref, extra = _ref_of(raw)
    if ref.startswith(S3):
        from igpreflight.storage.s3uri import S3Uri
        from igpreflight.storage.upload import public_url

        return {"url": public_url(svc.publishing.target, S3Uri.parse(ref).key), **extra}
    if _is_media_id(raw):
        upload = svc.fixer._upload(resolver.stored(ref))
        return {"url": upload["url"], **extra}
    return {"url": ref, **extra}


def post_answer(row: dict[str, Any]) -> dict[str, Any]:
    """A post as the API shows it."""
    error = row.get("error") or {}
    post_id = row["post_id"]
    return {
        "id": post_id,
        "account": row["account"],
        "state": str(row["state"]),
        "attempts": int(row.get("attempt") or 1),
        "media_type": row.get("media_type"),
        "media_id": row.get("media_id"),
        "container_id": row.get("container_id"),
        "error_class": error.get("error_class"),
        "error": error.get("message"),
        "until": row.get("until"),
        "publish_at": row.get("publish_at"),
        "step": row.get("step"),
        "url": f"/v1/posts/{post_id}",
    }
