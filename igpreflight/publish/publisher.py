"""The container state machine: create, poll, publish, with SPEC section 6's error classes.

Posts are published one after another in manifest order (so stories keep their
order). Each post walks: containers created (carousel: children, then the
parent) -> all FINISHED -> media_publish -> published. Every step is written
to the journal before the network call that depends on it, so a killed run
resumes where it stopped, and a media_publish whose outcome was not seen is
settled by the container's `status_code` (PUBLISHED means done) before any
retry: a post is never published twice.

What each error class does:
- retry-same: wait (capped backoff with jitter) and repeat the same call, a
  bounded number of times; 24/2207008 once or twice within 2 minutes, then a
  new container.
- recreate-container: a new container for that slot only (carousel children
  that are FINISHED are kept; the parent is rebuilt with the new child ids).
- wait-quota: rate limits wait as long as the usage headers say (bounded);
  9/2207042 and a too-long wait stop the batch and leave the rest queued.
- fix-media: the post fails, naming the preflight rule; 9004/2207052 re-runs
  the URL check and retries up to twice, a minute apart, when it passes.
- reconnect-auth: stop every remaining post of the account, one message.
- permanent: the post fails with the Graph message.

Sleeps go through `Clock` so tests run on a virtual clock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from igpreflight.catalog import ErrorClass, lookup_graph_error
from igpreflight.limits import POST_LIMITS
from igpreflight.model import Kind, MediaItem, Post
from igpreflight.preflight.rules.quota import QuotaFacts, check_quota
from igpreflight.publish import journal as J
from igpreflight.publish.backoff import Backoff
from igpreflight.publish.graph import GraphClient, GraphError, container_status_error
from igpreflight.publish.params import (
    PARENT,
    Slot,
    container_params,
    effective_media_type,
    goes_resumable,
    is_video_item,
    slots_for,
    wants_cover,
)
from igpreflight.publish.settings import (
    QUOTA_WINDOW,
    UPLOAD_FAILED,
    Clock,
    MediaUrl,
    Outcome,
    PublishSettings,
    SystemClock,
    UrlChecker,
)
from igpreflight.states import ContainerStatus as CS
from igpreflight.states import MediaIdSource, MediaType, PostStatus

log = logging.getLogger("igpreflight.publish")

# ---- internal signals ------------------------------------------------------------------


class _Stop(Exception):
    def __init__(self, info: J.ErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


class _PostFailed(_Stop):
    """The post stops with this error; the batch goes on."""


class _StopAccount(_Stop):
    """reconnect-auth: nothing more can be done for this account."""


class _StopBatch(_Stop):
    """Quota: the rest of the batch stays queued for a later run."""


class _Recreate(Exception):
    """The publishable container must be replaced; the journal already says why."""


def _info(
    err: GraphError, message: str | None = None, cls: ErrorClass | None = None
) -> J.ErrorInfo:
    c = cls or err.error_class
    return J.ErrorInfo(c.value, err.code, err.subcode, message or err.message, err.rule)


def _quota_stop(q: QuotaFacts, err: GraphError | None = None) -> _StopBatch | None:
    """The batch's stop when the quota rule (QUOTA001) finds the quota used up; the
    Graph error that said so, if any, keeps its own codes."""
    found = check_quota(q)
    if not found:
        return None
    f = found[0]
    code, subcode = (err.code, err.subcode) if err is not None else (f.code, f.subcode)
    message = f"{f.rule}: {f.message}"
    return _StopBatch(J.ErrorInfo(ErrorClass.WAIT_QUOTA.value, code, subcode, message, f.rule))


def fingerprint(post: Post) -> str:
    """A hash of what the post sends; a changed post restarts from fresh containers."""
    data = asdict(post)
    data.pop("source", None)  # where the manifest was read from changes nothing sent
    for item in [*data["media"], data.get("cover") or {}]:
        item.pop("resolved", None)
        item.pop("problem", None)
        item.pop("display", None)  # where the manifest was run from changes nothing sent
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class Publisher:
    """Publishes posts for one account through a GraphClient, journaling every step."""

    def __init__(
        self,
        client: GraphClient,
        journal: J.Journal,
        ig_user_id: str,
        *,
        settings: PublishSettings | None = None,
        clock: Clock | None = None,
        media_url: MediaUrl | None = None,
        url_checker: UrlChecker | None = None,
        rng: random.Random | None = None,
        refused: Mapping[str, J.ErrorInfo] | None = None,
        kinds: Mapping[str, Kind] | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.account = str(ig_user_id)
        self.settings = settings or PublishSettings()
        self.clock = clock or SystemClock()
        self.media_url = media_url or _url_of
        self.url_checker = url_checker
        self.rng = rng or random.Random()
        # Posts preflight refused (by id): they fail with no call made for them.
        self.refused: Mapping[str, J.ErrorInfo] = refused or {}
        # What preflight probed each media as (by MediaItem.key): facts, not names.
        self.kinds: Mapping[str, Kind] = kinds or {}
        # Hears what the publisher is doing now ("post a: Instagram is processing 2
        # containers"), so a terminal shows progress through the long waits.
        self.activity: Callable[[str], None] = lambda text: None
        self._remaining: int | None = None
        self._quota_total: int | None = None
        self._stop: J.ErrorInfo | None = None
        self._not_found: int = 0  # 24/2207006 seen in this run (repeats: reconnect-auth)

    # ---- batch ------------------------------------------------------------------------

    def run(
        self, posts: Sequence[Post], progress: Callable[[Outcome], None] | None = None
    ) -> list[Outcome]:
        """Publish `posts` in order; never raises for Graph errors (see each Outcome).
        `progress` hears of each post as it ends; if it has `start(total)` it hears the
        number of posts first, and if it has `status(text)` what the publisher waits for."""
        start = getattr(progress, "start", None)
        if start is not None:
            start(len(posts))
        status = getattr(progress, "status", None)
        if status is not None:
            self.activity = status
        outcomes: list[Outcome] = []
        for seq, post in enumerate(posts):
            outcomes.append(self._run_post(post, seq))
            if progress is not None:
                progress(outcomes[-1])
        return outcomes

    def _run_post(self, post: Post, seq: int) -> Outcome:
        kinds = self._kinds(post)
        media_type = effective_media_type(post, kinds)
        row = self.journal.ensure_post(
            self.account, post.id, media_type=media_type, fingerprint=fingerprint(post), seq=seq
        )
        if row.status == PostStatus.PUBLISHED:
            return Outcome(
                post.id,
                media_type,
                PostStatus.PUBLISHED,
                media_id=row.media_id,
                media_id_source=row.media_id_source,
                container_id=self._published_container(post.id),
                already=True,
            )
        refusal = self.refused.get(post.id)
        if refusal is not None and not self._unsettled(post.id):
            # Refused by preflight: no quota read, no upload, no container for it.
            self.journal.set_post_status(self.account, post.id, PostStatus.FAILED, refusal)
            log.warning(
                "post %s refused: %s", post.id, refusal.message, extra=_extra(refusal, post.id)
            )
            return Outcome(
                post.id,
                media_type,
                PostStatus.FAILED,
                error_class=refusal.error_class,
                message=refusal.message,
                rule=refusal.rule,
            )
        # A post whose media_publish may have gone through is settled before any quota
        # decision: it may be the very post that used the last slot.
        if self._stop is None and self.settings.check_quota and not self._unsettled(post.id):
            try:
                self._quota_gate()
            except _StopAccount as stop:
                self._stop = stop.info
            except _StopBatch as stop:
                self._stop = stop.info
        if self._stop is not None:
            self.journal.set_post_status(self.account, post.id, PostStatus.QUEUED, self._stop)
            return self._outcome(post.id, media_type, PostStatus.QUEUED, self._stop)
        self.journal.set_post_status(self.account, post.id, PostStatus.ACTIVE, count_attempt=True)
        try:
            slots = slots_for(post, media_type, kinds)
            if not self._unsettled(post.id):
                self._stage(post, media_type, slots)
            media_id, source, crow = self._drive(post, media_type, slots)
        except _PostFailed as f:
            self.journal.set_post_status(self.account, post.id, PostStatus.FAILED, f.info)
            log.warning(
                "post %s failed: %s", post.id, f.info.message, extra=_extra(f.info, post.id)
            )
            return self._outcome(post.id, media_type, PostStatus.FAILED, f.info)
        except (_StopAccount, _StopBatch) as stop:
            self._stop = stop.info
            self.journal.set_post_status(self.account, post.id, PostStatus.QUEUED, stop.info)
            log.warning(
                "publishing stopped: %s", stop.info.message, extra=_extra(stop.info, post.id)
            )
            return self._outcome(post.id, media_type, PostStatus.QUEUED, stop.info)
        self.journal.mark_published(self.account, post.id, media_id, source, crow.row_id)
        if self._remaining is not None and source == MediaIdSource.MEDIA_PUBLISH:
            self._remaining -= 1
        log.info(
            "post %s published: %s", post.id, media_id or f"(via container {crow.container_id})"
        )
        return Outcome(
            post.id,
            media_type,
            PostStatus.PUBLISHED,
            media_id=media_id,
            media_id_source=source,
            container_id=crow.container_id,
        )

    def _outcome(
        self, post_id: str, media_type: str, status: PostStatus, info: J.ErrorInfo
    ) -> Outcome:
        cid = None
        rows = self.journal.containers(self.account, post_id)
        if rows:
            cid = rows[-1].container_id
        return Outcome(
            post_id,
            media_type,
            status,
            container_id=cid,
            error_class=info.error_class,
            code=info.code,
            subcode=info.subcode,
            message=info.message,
            rule=info.rule,
        )

    def _unsettled(self, post_id: str) -> bool:
        """True when a media_publish was sent for the post and its outcome is unknown."""
        return any(
            r.publish_attempts > 0 and not r.status.dead
            for r in self.journal.containers(self.account, post_id)
        )

    def _published_container(self, post_id: str) -> str | None:
        for row in self.journal.containers(self.account, post_id):
            if row.status == CS.PUBLISHED:
                return row.container_id
        return None

    def _kinds(self, post: Post) -> list[bool]:
        hint = post.media_type or None
        if hint == MediaType.CAROUSEL:
            hint = None
        return [bool(is_video_item(item, hint, self.kinds.get(item.key))) for item in post.media]

    # ---- quota ------------------------------------------------------------------------

    def _quota_gate(self) -> None:
        """Stop before the publishing quota would be exceeded (QUOTA001)."""
        if self._remaining is None:
            self._read_quota()
        assert self._remaining is not None
        assert self._quota_total is not None
        stop = _quota_stop(QuotaFacts(self._quota_total, self._remaining))
        if stop is not None:
            raise stop

    def _read_quota(self) -> None:
        try:
            got = self._call(lambda: self.client.publishing_limit(self.account), "quota")
        except GraphError as err:
            log.info("content_publishing_limit unavailable (%s); counting from the journal", err)
            got = None
        if got is None:
            total = POST_LIMITS.default_quota_per_24h
            used = self.journal.published_since(self.account, self.clock.now() - QUOTA_WINDOW)
        else:
            used, total = got
        self._quota_total = total
        self._remaining = max(0, total - used)

    # ---- one post ---------------------------------------------------------------------

    def _drive(
        self, post: Post, media_type: str, slots: list[Slot]
    ) -> tuple[str | None, MediaIdSource, J.ContainerRow]:
        """Containers ready, then media_publish; loops when the container must be rebuilt."""
        children = [s for s in slots if not s.publishable]
        top = next(s for s in slots if s.publishable)
        for _round in range(self.settings.recreate_attempts + 2):
            try:
                pending = self._journal_row(post.id, top.slot)
                if (
                    pending is not None
                    and pending.publish_attempts > 0
                    and pending.container_id
                    and not pending.status.dead
                ):
                    # An earlier media_publish may have gone through: settle it first.
                    return self._publish(post, pending)
                child_rows = self._ready(post, media_type, children) if children else []
                ids = [r.container_id or "" for r in child_rows]
                top_row = self._ready(post, media_type, [top], children=ids, after=child_rows)[0]
                if top_row.status is CS.PUBLISHED:
                    # Published by an earlier run whose media_publish answer was lost.
                    return top_row.media_id, MediaIdSource.CONTAINER, top_row
                return self._publish(post, top_row)
            except _Recreate:
                continue
        raise _PostFailed(
            J.ErrorInfo(
                ErrorClass.RECREATE_CONTAINER.value,
                message=f"gave up after recreating the container {self.settings.recreate_attempts} times",
            )
        )

    def _journal_row(self, post_id: str, slot: int) -> J.ContainerRow | None:
        rows = [r for r in self.journal.containers(self.account, post_id) if r.slot == slot]
        return rows[-1] if rows else None

    # ---- containers -------------------------------------------------------------------

    def _ready(
        self,
        post: Post,
        media_type: str,
        slots: list[Slot],
        *,
        children: list[str] | None = None,
        after: list[J.ContainerRow] | None = None,
    ) -> list[J.ContainerRow]:
        """Make every slot's container FINISHED (or PUBLISHED, found so by a poll),
        creating or recreating as needed."""
        rows: dict[int, J.ContainerRow] = {}
        recreated: dict[int, int] = {}
        newest_child = max((r.row_id for r in after or []), default=0)
        for s in slots:
            row = self._journal_row(post.id, s.slot)
            if row is not None and not self._reusable(row, newest_child):
                row = None
            rows[s.slot] = row or self._create(post, media_type, s, children)
        self._poll(post, media_type, slots, rows, recreated, children)
        return [rows[s.slot] for s in slots]

    def _reusable(self, row: J.ContainerRow, newest_child: int) -> bool:
        if row.container_id is None or row.status in (CS.CREATING, CS.ERROR, CS.EXPIRED):
            return False
        if row.status == CS.UPLOADING:
            # An upload an earlier run did not see through: how many bytes arrived is
            # unknown, so a fresh container is simpler than resuming at an offset.
            self.journal.update_container(
                row.row_id, status=CS.ERROR, error_message="resumable upload not confirmed"
            )
            return False
        if (
            row.publish_attempts == 0
            and self.clock.now() - row.created_at >= self.settings.container_lifetime
        ):
            self.journal.update_container(
                row.row_id, status=CS.EXPIRED, error_message="older than 24 h"
            )
            return False
        # A parent built before its newest child refers to a container that is gone.
        return not (row.role == PARENT and row.row_id < newest_child)

    def _create(
        self, post: Post, media_type: str, s: Slot, children: list[str] | None
    ) -> J.ContainerRow:
        """POST /media for one slot (resumable: then the bytes), journaled before and after."""
        fetch_retries = 0
        for _attempt in range(self.settings.recreate_attempts + 1):
            row = self.journal.new_container(self.account, post.id, s.slot, s.role)
            resumable = self._resumable(s)
            try:
                params = self._params(post, media_type, s, children, resumable)
            except _Stop as stop:
                self.journal.update_container(
                    row.row_id, status=CS.ERROR, error_message=stop.info.message
                )
                raise
            try:
                data = self._call(
                    lambda p=params: self.client.create_container(self.account, p), "create", row
                )
            except GraphError as err:
                cls = err.error_class
                self.journal.container_error(row.row_id, CS.ERROR, _info(err))
                if cls is ErrorClass.RECREATE_CONTAINER and s.role == PARENT:
                    # A child expired or vanished under the parent: re-read every child.
                    self._count_not_found(err)
                    self._recheck_children(post.id)
                    raise _Recreate() from None
                if cls is ErrorClass.RECREATE_CONTAINER:
                    self._count_not_found(err)
                    continue
                if self._fetch_retry(err, s, fetch_retries):
                    fetch_retries += 1
                    continue
                raise self._fail(err, s) from None
            uri = data.get("uri")
            if resumable:
                row = self.journal.update_container(
                    row.row_id, container_id=str(data["id"]), upload_uri=uri, status=CS.UPLOADING
                )
                return self._upload(s, row)
            return self.journal.update_container(
                row.row_id, container_id=str(data["id"]), status=CS.IN_PROGRESS
            )
        raise _PostFailed(
            J.ErrorInfo(
                ErrorClass.RECREATE_CONTAINER.value,
                message=f"container creation failed {self.settings.recreate_attempts + 1} times",
            )
        )

    def _recheck_children(self, post_id: str) -> None:
        for row in self.journal.containers(self.account, post_id):
            if row.role != PARENT and row.status == CS.FINISHED:
                self.journal.update_container(row.row_id, status=CS.IN_PROGRESS)

    def _resumable(self, s: Slot) -> bool:
        return goes_resumable(s, self.settings.resumable)

    def _stage(self, post: Post, media_type: str, slots: list[Slot]) -> None:
        """Every public URL the post needs (uploads and their URL checks), before its
        first container: a file that cannot be staged fails the post with none created."""
        for s in slots:
            if s.item is not None and not self._resumable(s) and not s.item.url:
                self._url(s.item)
            if post.cover and not post.cover.url and wants_cover(media_type, s):
                self._url(post.cover)

    def _url(self, item: MediaItem) -> str:
        """The item's public URL from `media_url`; its failures as the post's outcome."""
        try:
            return self.media_url(item)
        except MediaNotUploaded as exc:
            raise _PostFailed(
                J.ErrorInfo(
                    ErrorClass.FIX_MEDIA.value,
                    message=f"{exc}: a local file needs a public URL (upload it with --bucket)"
                    " or, for a video, --resumable",
                )
            ) from None
        except MediaRefused as exc:
            raise _PostFailed(exc.info) from None
        except Exception as exc:  # the uploader's own errors (S3 config, network)
            info = J.ErrorInfo(UPLOAD_FAILED, message=f"upload failed: {exc}")
            if getattr(exc, "config", False):
                raise _StopBatch(info) from None  # every post would fail the same way
            raise _PostFailed(info) from None

    def _params(
        self, post: Post, media_type: str, s: Slot, children: list[str] | None, resumable: bool
    ) -> dict[str, Any]:
        url = None if (s.item is None or resumable) else self._url(s.item)
        cover = self._url(post.cover) if post.cover and wants_cover(media_type, s) else None
        return container_params(
            post,
            media_type,
            s,
            media_url=url,
            cover_url=cover,
            children=children,
            resumable=resumable,
        )

    def _upload(self, s: Slot, row: J.ContainerRow) -> J.ContainerRow:
        """Send a local video to the container's upload URI (again from offset 0 after a crash)."""
        assert s.item is not None and row.upload_uri and row.container_id
        uri, path, cid = row.upload_uri, s.item.resolved, row.container_id
        try:
            self._call(lambda: self.client.upload_video(uri, path, context=cid), "upload", row)
        except GraphError as err:
            self.journal.container_error(row.row_id, CS.ERROR, _info(err))
            raise self._fail(err, s, host=_origin(uri)) from None
        return self.journal.update_container(row.row_id, status=CS.IN_PROGRESS)

    def _poll(
        self,
        post: Post,
        media_type: str,
        slots: list[Slot],
        rows: dict[int, J.ContainerRow],
        recreated: dict[int, int],
        children: list[str] | None,
    ) -> None:
        """Wait until every slot is FINISHED: a first wait sized to the media, then capped
        exponential backoff with jitter, a give-up per slot; failed slots are recreated.
        Stops early when the publishable container turns out PUBLISHED already."""
        by_slot = {s.slot: s for s in slots}
        pending = {n for n, r in rows.items() if r.status != CS.FINISHED}
        started = {n: self.clock.now() for n in pending}
        fetch_retries: dict[int, int] = {}
        wait, nominal = self._first_wait([by_slot[n] for n in pending], [rows[n] for n in pending])
        policy = self.settings.poll_backoff(nominal)
        step = 0
        while pending:
            n_left = len(pending)
            self.activity(
                f"post {post.id}: Instagram is processing {n_left}"
                f" container{'s' if n_left > 1 else ''}"
            )
            self._sleep(wait)
            step += 1
            wait = policy.delay(step)
            for n in sorted(pending):
                s, row = by_slot[n], rows[n]
                code, status = self._status(row)
                if code == CS.FINISHED:
                    rows[n] = self.journal.update_container(row.row_id, status=CS.FINISHED)
                    pending.discard(n)
                elif code == CS.PUBLISHED:
                    rows[n] = self.journal.update_container(row.row_id, status=CS.PUBLISHED)
                    if s.publishable:
                        return  # the post is out: nothing else to wait for
                    pending.discard(n)
                elif code in (CS.ERROR, CS.EXPIRED):
                    err = container_status_error(row.container_id, code, status)
                    self.journal.container_error(row.row_id, code, _info(err))
                    again = err.error_class in (
                        ErrorClass.RECREATE_CONTAINER,
                        ErrorClass.RETRY_SAME,
                    )
                    if not again and self._fetch_retry(err, s, fetch_retries.get(n, 0)):
                        fetch_retries[n] = fetch_retries.get(n, 0) + 1
                        again = True
                    if not again:
                        raise self._fail(err, s)
                    recreated[n] = recreated.get(n, 0) + 1
                    if recreated[n] > self.settings.recreate_attempts:
                        raise self._fail(err, s, why="container failed again after recreating it")
                    log.info(
                        "recreating container %s (%s)",
                        row.container_id,
                        err,
                        extra=_extra(_info(err), post.id, row.container_id),
                    )
                    rows[n] = self._create(post, media_type, s, children)
                    started[n] = self.clock.now()
                else:
                    give_up = (
                        self.settings.give_up_video if s.is_video else self.settings.give_up_image
                    )
                    if self.clock.now() - started[n] >= give_up:
                        raise _PostFailed(
                            J.ErrorInfo(
                                ErrorClass.RETRY_SAME.value,
                                message=f"container {row.container_id} still {code or 'IN_PROGRESS'}"
                                f" after {give_up:.0f} s; run publish again to keep waiting",
                            )
                        )

    def _first_wait(self, slots: list[Slot], rows: list[J.ContainerRow]) -> tuple[float, float]:
        """(first wait, nominal first wait): images seconds, video by size; a container
        made by an earlier run has had part of its wait already."""
        st = self.settings
        wait = nominal = 0.0
        for s, row in zip(slots, rows, strict=True):
            if s.is_video:
                size = _size(s.item)
                w = min(st.first_wait_max, st.first_wait_video + st.first_wait_per_mb * size / 1e6)
            else:
                w = st.first_wait_image
            nominal = max(nominal, w)
            wait = max(wait, w - max(0.0, self.clock.now() - row.created_at))
        return wait, max(nominal, 1e-3)

    def _status(self, row: J.ContainerRow) -> tuple[CS | None, str]:
        """(status_code, status text) of the container; None for a code not yet given."""
        assert row.container_id
        cid = row.container_id
        try:
            code, status = self._call(lambda: self.client.container_status(cid), "status", row)
            return CS.from_graph(code), status
        except GraphError as err:
            if err.error_class is ErrorClass.RECREATE_CONTAINER:
                # 24/2207006: the container is gone; treat it as one that failed.
                self._count_not_found(err)
                return CS.ERROR, f"{err.message} ({err.subcode})"
            self.journal.container_error(row.row_id, row.status, _info(err))
            raise self._fail(err, None) from None

    # ---- publish ----------------------------------------------------------------------

    def _publish(
        self, post: Post, row: J.ContainerRow
    ) -> tuple[str | None, MediaIdSource, J.ContainerRow]:
        """media_publish, never twice: after any attempt, the container's status decides."""
        st = self.settings
        tries = builder = 0
        while True:
            row = self.journal.container(row.row_id)
            assert row.container_id
            if row.publish_attempts > 0:
                code, status = self._status(row)
                if code == CS.PUBLISHED:
                    row = self.journal.update_container(row.row_id, status=CS.PUBLISHED)
                    return row.media_id, MediaIdSource.CONTAINER, row
                if code in (CS.ERROR, CS.EXPIRED):
                    err = container_status_error(row.container_id, code, status)
                    self.journal.container_error(row.row_id, code, _info(err))
                    if err.error_class in (ErrorClass.RECREATE_CONTAINER, ErrorClass.RETRY_SAME):
                        raise _Recreate()
                    raise self._fail(err, None)
                if code != CS.FINISHED:
                    tries += 1
                    if tries >= st.retry_attempts:
                        raise _PostFailed(
                            J.ErrorInfo(
                                ErrorClass.RETRY_SAME.value,
                                message=f"container {row.container_id} is {code or 'not ready'}; run publish again",
                            )
                        )
                    self._wait(st.retry_backoff, tries - 1)
                    continue
            if st.check_quota:
                self._quota_gate()
            self.activity(f"post {post.id}: publishing")
            row = self.journal.begin_publish(row.row_id)
            self.journal.set_post_status(self.account, post.id, PostStatus.PUBLISHING)
            cid = row.container_id
            assert cid
            try:
                media_id = self._call(
                    lambda c=cid: self.client.publish(self.account, c), "publish", row, retry=False
                )
                return media_id, MediaIdSource.MEDIA_PUBLISH, row
            except GraphError as err:
                cls = err.error_class
                self.journal.container_error(row.row_id, row.status, _info(err))
                if (err.code, err.subcode) == (24, 2207008):
                    builder += 1
                    if builder > st.builder_retries:
                        self.journal.update_container(row.row_id, status=CS.ERROR)
                        raise _Recreate() from None
                    self._sleep(st.builder_window / (st.builder_retries + 1))
                    continue
                if cls is ErrorClass.RETRY_SAME:
                    tries += 1
                    if tries >= st.retry_attempts:
                        raise self._fail(
                            err, None, why=f"media_publish failed {tries} times"
                        ) from None
                    self._wait(st.retry_backoff, tries - 1)
                    continue
                if cls is ErrorClass.RECREATE_CONTAINER:
                    self._count_not_found(err)
                    self.journal.update_container(row.row_id, status=CS.ERROR)
                    raise _Recreate() from None
                raise self._fail(err, None) from None

    # ---- one call, with retry-same / wait-quota / reconnect-auth ------------------------

    def _call(
        self,
        fn: Callable[[], Any],
        what: str,
        row: J.ContainerRow | None = None,
        *,
        retry: bool = True,
    ) -> Any:
        st = self.settings
        tries = rate_waits = 0
        while True:
            self._pace()
            try:
                return fn()
            except GraphError as err:
                cls = err.error_class
                cid = row.container_id if row else None
                if cls is ErrorClass.RECONNECT_AUTH:
                    raise _StopAccount(self._auth_info(err)) from None
                if cls is ErrorClass.WAIT_QUOTA:
                    if err.code == 9 or err.subcode == 2207042:
                        refusal = f"{err.code_text}: {err.message}"
                        facts = QuotaFacts(self._quota_total or 0, 0, refusal)
                        raise _quota_stop(facts, err) or _StopBatch(_info(err)) from None
                    wait = err.usage.wait_seconds
                    wait = wait if wait is not None else st.rate_backoff.delay(rate_waits)
                    if wait > st.rate_wait_max or rate_waits >= st.rate_waits:
                        raise _StopBatch(
                            _info(
                                err,
                                f"rate limited ({err.code_text}: {err.message}); about {wait / 60:.0f} min"
                                " to regain access; the rest stays queued: run publish again later",
                            )
                        ) from None
                    rate_waits += 1
                    log.info(
                        "rate limited on %s; waiting %.0f s",
                        what,
                        wait,
                        extra={**err.log_fields(), "container_id": cid},
                    )
                    self.activity(f"rate limited on {what}: waiting")
                    self.clock.sleep(wait)
                    continue
                if cls is ErrorClass.RETRY_SAME and retry:
                    tries += 1
                    if tries < st.retry_attempts:
                        self._wait(st.retry_backoff, tries - 1)
                        continue
                raise

    def _pace(self) -> None:
        """Honour usage headers of the last answer: a business use case out of calls waits."""
        usage = self.client.last_usage
        if usage.exhausted and usage.wait_seconds:
            wait = min(usage.wait_seconds, self.settings.rate_wait_max)
            log.info("usage headers ask for a pause of %.0f s", wait)
            self.client.last_usage = type(usage)()
            self.clock.sleep(wait)

    def _wait(self, policy: Backoff, n: int) -> None:
        """Sleep the policy's `n`th wait, jittered."""
        seconds = policy.jittered(n, self.rng)
        if seconds > 0:
            self.clock.sleep(seconds)

    def _sleep(self, seconds: float) -> None:
        """Sleep a fixed wait, with the same jitter as every backoff."""
        self._wait(self.settings.fixed_wait(seconds), 0)

    # ---- error helpers ----------------------------------------------------------------

    def _auth_info(self, err: GraphError) -> J.ErrorInfo:
        info = lookup_graph_error(err.code, err.subcode)
        advice = info.advice if info else "reconnect the account"
        return _info(
            err,
            f"Graph error {err.code_text} ({err.message}): {advice}."
            f" Publishing stopped for account {self.account}; the rest stays queued.",
            ErrorClass.RECONNECT_AUTH,
        )

    def _count_not_found(self, err: GraphError) -> None:
        """24/2207006 twice in a run means the token cannot see the account's media."""
        if (err.code, err.subcode) != (24, 2207006):
            return
        self._not_found += 1
        if self._not_found > 1:
            raise _StopAccount(
                _info(
                    err,
                    f"Graph error {err.code_text} repeats ({err.message}):"
                    f" reconnect the account. Publishing stopped for account {self.account};"
                    " the rest stays queued.",
                    ErrorClass.RECONNECT_AUTH,
                )
            )

    def _fetch_retry(self, err: GraphError, s: Slot | None, done: int) -> bool:
        """9004/2207052: if the URL check passes now, wait a minute and try again (twice)."""
        if err.subcode != 2207052 or s is None or s.item is None or not s.item.url:
            return False
        if self.url_checker is None or done >= self.settings.fetch_retries:
            return False
        ok, summary = self.url_checker(s.item.url, s.item)
        if not ok:
            return False
        log.info(
            "URL check passes again for %s; retrying in %.0f s",
            s.item.url,
            self.settings.fetch_retry_wait,
        )
        self.clock.sleep(self.settings.fetch_retry_wait)
        return True

    def _fail(
        self, err: GraphError, s: Slot | None, why: str | None = None, host: str | None = None
    ) -> _Stop:
        """The post's failure for `err`. `host` is the server of a call that did not go to
        the Graph API (the resumable upload host)."""
        cls = err.error_class
        if cls is ErrorClass.RECONNECT_AUTH:
            return _StopAccount(self._auth_info(err))
        where = f" ({s.item.path})" if s and s.item else ""
        if err.network:
            # Nothing was heard from Instagram: the host that could not be reached is
            # the story, not the media it would have fetched.
            target = (
                f"upload host {host}" if host else f"Graph API at {_origin(self.client.base_url)}"
            )
            msg = f"{err.code_text}: {err.message} ({target})"
            if why:
                msg = f"{why}: {msg}"
            return _PostFailed(J.ErrorInfo(cls.value, err.code, err.subcode, msg, err.rule))
        if cls is ErrorClass.FIX_MEDIA:
            rule = err.rule
            hint = (
                f"; preflight rule {rule} catches this: run `igpreflight check` / `fix`"
                if rule
                else ""
            )
            msg = f"{err.code_text}: {err.message}{where}{hint}"
        else:
            msg = f"{err.code_text}: {err.message}{where}"
        if why:
            msg = f"{why}: {msg}"
        return _PostFailed(J.ErrorInfo(cls.value, err.code, err.subcode, msg, err.rule))


def _url_of(item: MediaItem) -> str:
    if item.url:
        return item.url
    raise MediaNotUploaded(item.path)


class MediaNotUploaded(ValueError):
    """A local file reached the publisher without a URL (and not by resumable upload)."""


class MediaRefused(Exception):
    """A `media_url` verdict: this file must not be handed to Instagram (it failed a
    preflight or URL rule after upload). The post fails with `info`; no container is made."""

    def __init__(self, info: J.ErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


def _origin(url: str) -> str:
    """`scheme://host[:port]` of a URL: where a call went, without path or query."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _size(item: MediaItem | None) -> int:
    if item is None or not item.resolved:
        return 0
    try:
        return os.path.getsize(item.resolved)
    except OSError:
        return 0


def _extra(info: J.ErrorInfo, post_id: str, container_id: str | None = None) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "error_class": info.error_class,
        "code": info.code,
        "subcode": info.subcode,
        "graph_message": info.message,
        "container_id": container_id,
    }


__all__ = [
    "Clock",
    "MediaNotUploaded",
    "MediaRefused",
    "MediaUrl",
    "Outcome",
    "PublishSettings",
    "Publisher",
    "SystemClock",
    "UrlChecker",
    "fingerprint",
]
