"""A post as a client sent it, checked: its media resolved for the caller (stored
media, s3:// keys fetched, URLs), the same checks as `igpreflight check --manifest`,
and the fetched copies released after. /v1/check answers with it; /v1/posts enqueues
only what it passes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from igpreflight.config import RuleSelection
from igpreflight.model import Post, Report
from igpreflight.serve.checking import Resolver, check_post, parse_post
from igpreflight.serve.keys import Principal
from igpreflight.serve.service import Service
from igpreflight.serve.sources import fetch_s3


@dataclass
class Checked:
    resolver: Resolver  # still holds the fetched copies inside the `with`
    post: Post
    report: Report
    findings: list[dict[str, Any]]  # each with its media item, as /v1/check answers


@contextmanager
def checked_post(
    svc: Service, principal: Principal, body: dict[str, Any], rules: RuleSelection, deep: bool
) -> Iterator[Checked]:
    """Resolve and check `body` for `principal`; the fetched media last the `with`."""
    cap = svc.settings.max_upload

    def s3(uri: str, bucket: str | None) -> tuple[str, str]:
        return fetch_s3(svc.store, uri, bucket, svc.s3_settings(), cap)

    resolver = Resolver(svc.store, principal, svc.settings.bucket, s3)
    resolved = resolver.post(body)
    try:
        post = parse_post(resolved.entry, svc.store.root)
        report, findings = check_post(
            post, resolved, rules=rules, deep=deep, allow_private=svc.settings.allow_private
        )
        yield Checked(resolver, post, report, findings)
    finally:
        resolver.release(resolved)
