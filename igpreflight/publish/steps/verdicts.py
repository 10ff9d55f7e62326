"""A Graph error (or an upload's) as what the post should do next: the one-line
`PostError` a report shows, and the decisions the steps share (hold, recreate,
fetch again, stop the account)."""

from __future__ import annotations

import logging
import urllib.parse

from igpreflight.preflight.rules.quota import QuotaFacts, check_quota
from igpreflight.publish.accounts import Account
from igpreflight.publish.graph.errors import GraphError
from igpreflight.publish.graph.table import ErrorClass
from igpreflight.publish.params import Slot
from igpreflight.publish.settings import UPLOAD_FAILED, PublishSettings
from igpreflight.publish.steps.results import Held, PostError
from igpreflight.publish.steps.runtime import Runtime, quota_error

log = logging.getLogger("igpreflight.publish")
LOOK_AGAIN = 3600.0  # a hold whose end nothing tells is looked at again after this


def error_of(err: GraphError, message: str | None = None) -> PostError:
    return PostError(
        err.error_class.value, message or str(err.message), err.code, err.subcode, err.rule
    )


def failed(rt: Runtime, acc: Account, err: GraphError, s: Slot | None, host: str | None = None):
    """The recorded failure for `err`; the account's stop message when it is stopped."""
    stopped = rt.stopped(acc)
    if stopped is not None:
        return stopped
    return error_of(err, where(err, s, graph=graph_of(rt, acc), host=host))


def graph_of(rt: Runtime, acc: Account) -> str:
    """The Graph host the account's calls go to (for a message about a lost call)."""
    return str(getattr(rt.account(acc).client, "base_url", "") or "")


def where(err: GraphError, s: Slot | None, *, graph: str | None = None, host: str | None = None):
    """The error's line: where it happened, and the rule that would have caught it."""
    if err.network:
        # Nothing was heard from Instagram: the host that could not be reached is the
        # story, not the media it would have fetched.
        target = f"upload host {host}" if host else f"Graph API at {origin(graph or '')}"
        return f"{err.code_text}: {err.message} ({target})"
    at = f" ({s.item.path})" if s is not None and s.item is not None else ""
    hint = ""
    if err.error_class is ErrorClass.FIX_MEDIA and err.rule:
        hint = f"; preflight rule {err.rule} catches this: run `igpreflight check` / `fix`"
    return f"{err.code_text}: {err.message}{at}{hint}"


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL: where a call went, without path or query."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def held(rt: Runtime, err: GraphError, settings: PublishSettings) -> Held:
    """A rate limit too long to wait out in a step, or the publishing limit: the post
    is held; the next run or worker decides again."""
    if quota_error(err):
        [f] = check_quota(QuotaFacts(0, 0, refusal=f"{err.code_text}: {err.message}"))
        return Held(
            rt.now() + LOOK_AGAIN,
            PostError(ErrorClass.WAIT_QUOTA.value, f"{f.rule}: {f.message}", rule=f.rule),
        )
    wait = err.usage.wait_seconds or settings.rate_wait_default
    return Held(
        rt.now() + wait,
        PostError(
            ErrorClass.WAIT_QUOTA.value,
            f"rate limited ({err.code_text}: {err.message}); about {wait / 60:.0f} min"
            " to regain access",
            err.code,
            err.subcode,
        ),
    )


def not_found(rt: Runtime, acc: Account, err: GraphError) -> None:
    """24/2207006 on fresh containers twice: the token cannot see the account's media."""
    st = rt.account(acc)
    st.not_found += 1
    if st.not_found > 1:
        rt.stop_account(acc, err)


def gone(err: GraphError) -> bool:
    """100/33 on a container read: "Unsupported get request. Object with ID ... does not
    exist" (deleted, or never there): a new container may do."""
    return (err.code, err.subcode) == (100, 33)


def recreatable(err: GraphError) -> bool:
    return err.error_class in (ErrorClass.RECREATE_CONTAINER, ErrorClass.RETRY_SAME) or gone(err)


def fetch_again(rt: Runtime, settings: PublishSettings, err: GraphError, s: Slot | None) -> bool:
    """9004/2207052 (media not fetched): when the URL check passes now, wait (a minute)
    and make a new container."""
    if err.subcode != 2207052 or s is None or s.item is None or not s.item.url:
        return False
    if rt.url_checker is None:
        return False
    ok, summary = rt.url_checker(s.item.url, s.item)
    if not ok:
        log.info("URL check of %s fails: %s", s.item.url, summary)
        return False
    wait = settings.fetch_retry_wait  # exactly: a CDN's propagation, not a crowd to spread
    log.info("URL check passes again for %s; retrying in %.0f s", s.item.url, wait)
    rt.clock.sleep(wait)
    return True


def upload_failure(exc: Exception) -> PostError:
    info = getattr(exc, "info", None)  # MediaRefused: the URL fails the URL rules
    if info is not None:
        return PostError(
            str(info.error_class), str(info.message or ""), info.code, info.subcode, info.rule
        )
    if isinstance(exc, ValueError):
        return PostError(ErrorClass.FIX_MEDIA.value, str(exc))
    return PostError(UPLOAD_FAILED, f"upload failed: {exc}")
