"""`publish --dry-run`: the calls a run would make, in the order it would make them.

Built from the same parameter builder as the publisher (params.py), so what is
printed is what would be sent. Container ids that do not exist yet are shown as
placeholders (`{post:1}` for a carousel child, `{post:parent}`, `{post:container}`).
No call is made, no file is uploaded, nothing is written, and no account,
token or bucket is needed: local media show as "would upload PATH (N bytes)" and
a missing user id as `{ig-user-id}`. The same preflight refusals as `publish`
apply: a refused post lists no calls, only why (and the exit code says so).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from igpreflight.model import Post
from igpreflight.publish.accounts import Account, load_accounts
from igpreflight.publish.graph.client import GraphClient, PlannedCall
from igpreflight.publish.params import (
    PARENT,
    container_params,
    effective_media_type,
    goes_resumable,
    is_video_item,
    slots_for,
    wants_cover,
)
from igpreflight.publish.settings import ErrorInfo
from igpreflight.states import MediaType

ACCOUNT_PLACEHOLDER = "{ig-user-id}"


@dataclass(frozen=True)
class PlannedPost:
    post_id: str
    media_type: str
    calls: list[PlannedCall]
    note: str | None = None
    uploads: list[str] = field(default_factory=list)  # "would upload PATH (N bytes)"
    refused: ErrorInfo | None = None  # the preflight refusal `publish` would give


def upload_line(path: str, resolved: str) -> str:
    try:
        size = f"{os.path.getsize(resolved):,} bytes"
    except OSError:
        size = "missing"
    return f"would upload {path} ({size})"


def plan_calls(
    client: GraphClient,
    account: str,
    posts: Sequence[Post],
    *,
    done: set[str] | frozenset[str] = frozenset(),
    resumable: bool = False,
    check_quota: bool = True,
    refused: Mapping[str, ErrorInfo] | None = None,
    label: str = "(batch)",
) -> list[PlannedPost]:
    """One PlannedPost per post (plus the batch's quota read first). `refused` holds
    the preflight refusals (`service.preflight_refusals`) by post id."""
    account = account or ACCOUNT_PLACEHOLDER
    refused = refused or {}
    out: list[PlannedPost] = []
    if check_quota:
        quota = client.plan(
            "GET", f"{account}/content_publishing_limit", {"fields": "quota_usage,config"}
        )
        out.append(PlannedPost(label, "", [quota], "read the publishing quota first"))
    for post in posts:
        hint = None if post.media_type in ("", MediaType.CAROUSEL) else post.media_type
        kinds = [bool(is_video_item(item, hint)) for item in post.media]
        media_type = effective_media_type(post, kinds)
        if post.id in done:
            out.append(PlannedPost(post.id, media_type, [], "already published"))
            continue
        if post.id in refused:
            why = refused[post.id]
            note = f"[{why.error_class}] {why.message}"
            out.append(PlannedPost(post.id, media_type, [], note, refused=why))
            continue
        uploads: dict[str, str] = {}
        creates: list[PlannedCall] = []
        polls: list[PlannedCall] = []
        children: list[str] = []
        name = ""
        for s in slots_for(post, media_type, kinds):
            if s.role == PARENT:
                # every child is polled to FINISHED before the parent is created
                creates += polls
                polls = []
            name = f"{{{post.id}:{'parent' if s.role == PARENT else s.slot + 1 if s.slot >= 0 else 'container'}}}"
            by_upload = goes_resumable(s, resumable)
            url = None
            if s.item is not None and not by_upload:
                url = s.item.url or f"<upload of {s.item.path}>"
                if not s.item.url:
                    uploads[s.item.resolved] = upload_line(s.item.path, s.item.resolved)
            cover = None
            if post.cover is not None and wants_cover(media_type, s):
                cover = post.cover.url or f"<upload of {post.cover.path}>"
                if not post.cover.url:
                    uploads[post.cover.resolved] = upload_line(post.cover.path, post.cover.resolved)
            params = container_params(
                post,
                media_type,
                s,
                media_url=url,
                cover_url=cover,
                children=children if s.role == PARENT else None,
                resumable=by_upload,
            )
            creates.append(client.plan("POST", f"{account}/media", params))
            if by_upload and s.item is not None:
                creates.append(client.plan_upload(f"<uri returned for {name}>", s.item.resolved))
            polls.append(client.plan("GET", name, {"fields": "status_code,status"}))
            if not s.publishable:
                children.append(name)
        calls = [
            *creates,
            *polls,
            client.plan("POST", f"{account}/media_publish", {"creation_id": name}),
        ]
        note = "each GET repeats until FINISHED"
        out.append(PlannedPost(post.id, media_type, calls, note, list(uploads.values())))
    return out


def plan_accounts(
    client: GraphClient,
    account: str,
    posts: Sequence[Post],
    *,
    accounts_file: str | None = None,
    done: set[str] | frozenset[str] = frozenset(),
    resumable: bool = False,
    refused: Mapping[str, ErrorInfo] | None = None,
) -> list[PlannedPost]:
    """The plan of every account the posts go to: its id and quota read, then its
    posts' calls. Posts naming no `account` go to `account` (IG_USER_ID); the others
    to their account in the accounts file (its token is not needed: no call is made).
    ValueError (AccountError) for an account the file does not know."""
    named = [p.extra.get("account") for p in posts]
    if not any(named) and not accounts_file:
        return plan_calls(client, account, posts, done=done, resumable=resumable, refused=refused)
    accounts = load_accounts(accounts_file)
    groups: dict[str | None, list[Post]] = {}
    for post, name in zip(posts, named, strict=True):
        groups.setdefault(name, []).append(post)
    out: list[PlannedPost] = []
    for name, mine in groups.items():
        acc: Account | None = accounts.get(name) if name else None
        if name and acc is None:
            known = ", ".join(sorted(accounts)) or "none: pass --accounts FILE"
            raise ValueError(f"unknown account {name!r} (accounts: {known})")
        user = acc.ig_user_id if acc else account
        label = f"(account {name or 'default'}: {user or ACCOUNT_PLACEHOLDER})"
        out += plan_calls(
            client, user, mine, done=done, resumable=resumable, refused=refused, label=label
        )
    return out
