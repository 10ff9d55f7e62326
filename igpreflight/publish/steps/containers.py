"""Steps: make a post's containers, and wait until Instagram has processed them.

`create` makes every container of a phase (a carousel's children, then the parent;
or a single post's one container), uploading or URL-checking each media first;
`wait_ready` polls them until all read FINISHED; `look` reads a container an earlier
attempt made (a held post's) to use it again.
"""

from __future__ import annotations

import logging
import os

from igpreflight.model import MediaItem
from igpreflight.publish.graph.errors import GraphError, container_status_error
from igpreflight.publish.graph.table import ErrorClass
from igpreflight.publish.params import (
    Slot,
    container_params,
    goes_resumable,
    slots_for,
    wants_cover,
)
from igpreflight.publish.settings import PublishSettings
from igpreflight.publish.steps import verdicts as V
from igpreflight.publish.steps.gate import note_published, read_quota_once
from igpreflight.publish.steps.guard import one_line
from igpreflight.publish.steps.publishing import find_media
from igpreflight.publish.steps.results import (
    Created,
    Duplicate,
    Failed,
    Held,
    PostError,
    Published,
    Ready,
    Recreate,
)
from igpreflight.publish.steps.runtime import Runtime
from igpreflight.publish.steps.spec import PostSpec
from igpreflight.states import MediaIdSource

log = logging.getLogger("igpreflight.publish")

CHILDREN, TOP = "children", "top"
# What a post's own container reads, before the post sent media_publish, when someone
# else published it: the post is published (see `published_elsewhere`).
SENT_BY_OTHERS = frozenset({"PUBLISHED"})
# Reads of a post's other containers that say nothing of them and fail the post (the
# next run reads them again): the token stops, or 5xx and lost answers through every
# retry. Taken for "not published", the post sent its new container: posted twice.
UNREAD_FAILS = frozenset({ErrorClass.RECONNECT_AUTH, ErrorClass.RETRY_SAME})


def phase_slots(spec: PostSpec, phase: str, only: tuple[int, ...] | None = None) -> list[Slot]:
    slots = slots_for(spec.post, spec.media_type, list(spec.kinds))
    mine = [s for s in slots if s.publishable == (phase == TOP)]
    return mine if only is None else [mine[i] for i in only]


def create(
    rt: Runtime,
    spec: PostSpec,
    phase: str,
    children: tuple[str, ...] | None = None,
    only: tuple[int, ...] | None = None,
) -> Created | Failed | Recreate | Held:
    """POST /{ig-user-id}/media for each slot of the phase (`only` those children).
    Every URL the post needs is had (uploaded, URL-checked) before its first container."""
    acc, settings = spec.account, spec.settings
    if settings.check_quota:
        # The account's first call of the run is the quota read: a token that no
        # longer works stops the account before any container is made.
        read_quota_once(rt, spec)
    stopped = rt.stopped(acc)
    if stopped is not None:
        return Failed(stopped)
    slots = phase_slots(spec, phase, only)
    urls: list[tuple[str | None, str | None]] = []
    for s in slots:
        try:
            url = None
            if s.item is not None and not goes_resumable(s, settings.resumable):
                url = _url(rt, s.item)
            cover = None
            if spec.post.cover is not None and wants_cover(spec.media_type, s):
                cover = _url(rt, spec.post.cover)
        except Exception as exc:  # an upload or a URL verdict: the post fails, no container
            return Failed(V.upload_failure(exc))
        urls.append((url, cover))
    ids: list[str] = []
    for s, (url, cover) in zip(slots, urls, strict=True):
        resumable = goes_resumable(s, settings.resumable)
        params = container_params(
            spec.post,
            spec.media_type,
            s,
            media_url=url,
            cover_url=cover,
            children=list(children) if children else None,
            resumable=resumable,
        )
        try:
            data = rt.retrying(
                acc, settings, lambda c, p=params: c.create_container(acc.ig_user_id, p)
            )
        except GraphError as err:
            return _container_failed(rt, spec, err, s, at_create=True)
        cid = str(data["id"])
        if resumable:
            assert s.item is not None
            uri, path = str(data.get("uri") or ""), s.item.resolved
            try:
                rt.retrying(
                    acc, settings, lambda c, u=uri, f=path, i=cid: c.upload_video(u, f, context=i)
                )
            except GraphError as err:
                return Failed(V.failed(rt, acc, err, s, host=V.origin(uri)))
        ids.append(cid)
    return Created(tuple(ids), rt.now())


def _url(rt: Runtime, item: MediaItem) -> str:
    """The item's public URL: as given, or from the uploader (which checks it)."""
    if item.url:
        return item.url
    if rt.media_url is None:
        raise ValueError(
            f"{item.path}: a local file needs a public URL (upload it with --bucket)"
            " or, for a video, --resumable"
        )
    return rt.media_url(item)


def _container_failed(
    rt: Runtime, spec: PostSpec, err: GraphError, s: Slot | None, *, at_create: bool = False
) -> Failed | Recreate | Held:
    """A container that failed (at creation or while processing): Recreate when a new
    one may succeed (recreate-container; a processing failure that may pass; a media
    not fetched whose URL check passes again now), Held when a rate limit asks for a
    long wait, else Failed."""
    if err.error_class is ErrorClass.WAIT_QUOTA:
        return V.held(rt, err, spec.settings)
    again = err.error_class is ErrorClass.RECREATE_CONTAINER if at_create else V.recreatable(err)
    if not again and V.fetch_again(rt, spec.settings, err, s):
        again = True
    if (err.code, err.subcode) == (24, 2207006):
        V.not_found(rt, spec.account, err)
    error = V.failed(rt, spec.account, err, s)
    return Recreate(error) if again and rt.stopped(spec.account) is None else Failed(error)


def first_wait(settings: PublishSettings, slots: list[Slot]) -> float:
    """Images a few seconds, videos by size."""
    wait = 0.0
    for s in slots:
        if s.is_video:
            size = _size(s.item.resolved) if s.item is not None else 0
            w = min(
                settings.first_wait_max,
                settings.first_wait_video + settings.first_wait_per_mb * size / 1e6,
            )
        else:
            w = settings.first_wait_image
        wait = max(wait, w)
    return wait


def _size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def published_elsewhere(rt: Runtime, spec: PostSpec, created: float) -> Published:
    """A container that reads PUBLISHED before its post sent media_publish: someone else
    published it (the phone app, another tool or database given its id). It is on
    Instagram: never sent again. Taken for FINISHED, the send got 2207008 and the
    builder's retries made a new container: posted twice."""
    try:
        media_id = find_media(rt, spec, created)
    except Exception as exc:  # the id is a nicety; that it is published is not
        # (the lookup raising failed the post, whose next attempt posted it again)
        log.warning("media id of %s not learnt: %s", spec.post.id, one_line(exc))
        media_id = None
    note_published(rt, spec, media_id)
    return Published(media_id, MediaIdSource.CONTAINER, rt.now())


def wait_ready(
    rt: Runtime, spec: PostSpec, phase: str, ids: tuple[str, ...], created: float
) -> Ready | Published | Failed | Recreate | Held:
    """Poll every container of the phase until all read FINISHED. The first poll comes
    once the wait sized to the media has passed since creation; the next ones back off
    (settings.poll_backoff); a child that fails comes back as Recreate(index)."""
    acc, settings = spec.account, spec.settings
    slots = phase_slots(spec, phase)
    pending = dict(zip(ids, slots, strict=True))
    delay = created + first_wait(settings, slots) - rt.now()
    if delay > 0:
        rt.clock.sleep(delay)
    polls = 0
    read: dict[str, str] = {}  # what each pending container last read (for the give-up)
    while pending:
        for cid in list(pending):
            stopped = rt.stopped(acc)
            if stopped is not None:
                return Failed(stopped)
            try:
                code, status = rt.retrying(acc, settings, lambda c, i=cid: c.container_status(i))
            except GraphError as err:
                if err.error_class is ErrorClass.WAIT_QUOTA:
                    return V.held(rt, err, settings)
                if (err.code, err.subcode) == (24, 2207006):
                    V.not_found(rt, acc, err)  # the container is gone: a new one may do
                error = V.failed(rt, acc, err, pending[cid])
                if V.recreatable(err) and rt.stopped(acc) is None:
                    return Recreate(error, ids.index(cid) if phase == CHILDREN else None)
                return Failed(error)
            read[cid] = code
            if code in SENT_BY_OTHERS and phase == TOP:
                return published_elsewhere(rt, spec, created)
            if code in ("FINISHED", "PUBLISHED"):
                del pending[cid]
            elif code in ("ERROR", "EXPIRED"):
                err = container_status_error(cid, code, status)
                got = _container_failed(rt, spec, err, pending[cid])
                if isinstance(got, Recreate) and phase == CHILDREN:
                    return Recreate(got.error, ids.index(cid))
                return got
        if not pending:
            break
        video = any(s.is_video for s in pending.values())
        give_up = settings.give_up_video if video else settings.give_up_image
        if rt.now() - created >= give_up:
            cid = next(iter(pending))
            # What it reads, said as it is: an undocumented status_code is not IN_PROGRESS.
            now = f"reads status_code {read[cid]!r}" if read.get(cid) else "reads no status_code"
            if read.get(cid) == "IN_PROGRESS":
                now = "IN_PROGRESS"
            return Failed(
                PostError(
                    ErrorClass.RETRY_SAME.value,
                    f"container {cid} still {now} after {give_up:.0f} s"
                    " (--give-up); run publish again to try with a new container",
                )
            )
        # Half the sized wait, then doubling (capped): a container ready a little late
        # costs one more poll, not a fixed long wait.
        nominal = first_wait(settings, list(pending.values()))
        rt.wait(settings.poll_backoff(max(0.05, nominal / 2)), polls)
        polls += 1
    return Ready()


def look(rt: Runtime, spec: PostSpec, cid: str) -> Ready | Published | Recreate | Failed | Held:
    """A container an earlier attempt made and never sent (a held post's): Ready when
    it still reads FINISHED, Recreate when it can no longer be published."""
    acc, settings = spec.account, spec.settings
    try:
        code, status = rt.retrying(acc, settings, lambda c: c.container_status(cid))
    except GraphError as err:
        if err.error_class is ErrorClass.WAIT_QUOTA:
            return V.held(rt, err, settings)
        if err.error_class is ErrorClass.RECONNECT_AUTH:
            return Failed(V.failed(rt, acc, err, None))
        return Recreate(V.failed(rt, acc, err, None))  # gone or unreadable: a new one
    if code == "FINISHED":
        return Ready()
    if code == "PUBLISHED":  # published after all (it was sent by someone): never again
        return Published(None, MediaIdSource.CONTAINER, rt.now())
    err = container_status_error(cid, code or "EXPIRED", status)
    return Recreate(V.error_of(err))


def whose(
    rt: Runtime, spec: PostSpec, ids: tuple[str, ...], media_id: str | None
) -> Published | Duplicate | Held | Failed:
    """The gate found `media_id` (the post's caption and type) on the account: the
    post's own when one of its containers `ids` reads PUBLISHED (the phone app
    published it, or an unseen media_publish of ours, and a crash lost the record),
    else a duplicate. With no `media_id` (the gate saw none: a caption-less post, a
    story), Duplicate(None) says none of them is published. A container gone
    (expired, deleted, an error `look` also takes for gone) is not counted; nothing
    is ever sent from here. A read the rate limit, the quota or the token stops says
    nothing of the container: the post is held or failed there, as `look` leaves it;
    so do 5xx and lost answers through every retry (UNREAD_FAILS).
    Taken for not published, the post went on to send a new container while the
    phone app's publish of its earlier one stood: posted twice."""
    acc, settings = spec.account, spec.settings
    for cid in reversed(ids):
        try:
            code, _ = rt.retrying(acc, settings, lambda c, i=cid: c.container_status(i))
        except GraphError as err:
            if err.error_class is ErrorClass.WAIT_QUOTA:
                return V.held(rt, err, settings)
            if err.error_class in UNREAD_FAILS:
                return Failed(V.failed(rt, acc, err, None))
            log.info("container %s of %s unreadable (%s)", cid, spec.post.id, err)
            continue
        if code == "PUBLISHED":
            return Published(media_id, MediaIdSource.CONTAINER, rt.now())
    return Duplicate(media_id)
