"""What publishing is configured with and what it reports: settings, clock, outcome.

Kept apart from the state machine so callers (`publish`, `run`, the Python API,
tests) can build settings and read outcomes without importing the machinery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from igpreflight.limits import POST_LIMITS
from igpreflight.model import MediaItem
from igpreflight.publish.backoff import Backoff
from igpreflight.states import MediaIdSource, PostState

UPLOAD_FAILED = "upload"  # not a Graph error class: the media never reached a URL
QUOTA_WINDOW = POST_LIMITS.quota_window_seconds
CONTAINER_LIFETIME = POST_LIMITS.container_lifetime_seconds
EXPIRY_MARGIN = 300  # recreate a little before, not a little after


class Clock(Protocol):
    """Time source and sleeper; tests pass one driven by the emulator's virtual clock."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True)
class PublishSettings:
    """Every wait and bound of the publisher (seconds unless named otherwise)."""

    first_wait_image: float = 3.0
    first_wait_video: float = 10.0
    first_wait_per_mb: float = 0.5  # video: extra first wait per MB of file
    first_wait_max: float = 60.0
    backoff: float = 2.0  # factor between two waits of every backoff
    max_wait: float = 60.0  # cap of the wait between two polls
    jitter: float = 0.2  # +-20 % on every wait
    give_up_image: float = 300.0
    give_up_video: float = 1200.0
    retry_attempts: int = 4  # tries of one call for retry-same (first one included)
    retry_wait: float = 5.0  # first wait before a retry-same; doubles, capped by max_wait
    builder_retries: int = 2  # 24/2207008: retries within builder_window, then recreate
    builder_window: float = 120.0
    recreate_attempts: int = 3  # new containers per slot in one run
    fetch_retries: int = 2  # 9004/2207052 when the URL check passes
    fetch_retry_wait: float = 60.0
    rate_wait_default: float = 60.0  # when a rate limit's headers do not say how long
    rate_wait_max: float = 900.0  # a longer wait stops the batch (the rest stays queued)
    rate_waits: int = 5  # rate-limit waits per call before the batch stops
    container_lifetime: float = CONTAINER_LIFETIME - EXPIRY_MARGIN
    check_quota: bool = True
    # When content_publishing_limit cannot be read: this limit, against this database's
    # own publishes of the account in the last 24 h (as the old journal counted).
    fallback_quota: int = POST_LIMITS.default_quota_per_24h
    resumable: bool = False  # local videos go by resumable upload instead of a URL
    # Settling an uncertain post (docs/publishing.md): read its container until it is
    # PUBLISHED, or until it has read FINISHED (or dead) for longer than Instagram takes
    # to carry out a media_publish; reads back off from settle_poll.
    settle_window: float = 180.0
    settle_poll: float = 10.0
    settle_reads: int = 8  # failed reads in a row before the post stays uncertain
    resends: int = 3  # media_publish again for a container settled unpublished

    def poll_backoff(self, first: float) -> Backoff:
        """Waits between two status polls, after a first wait sized to the media."""
        return Backoff(first, self.backoff, self.max_wait, self.jitter)

    @property
    def retry_backoff(self) -> Backoff:
        """Waits before repeating a call that failed with retry-same."""
        return Backoff(self.retry_wait, self.backoff, self.max_wait, self.jitter)

    @property
    def rate_backoff(self) -> Backoff:
        """Waits on a rate limit whose headers do not say how long (uncapped: a wait
        longer than `rate_wait_max` stops the batch instead)."""
        return Backoff(self.rate_wait_default, self.backoff)

    @property
    def settle_backoff(self) -> Backoff:
        """Waits between two reads of an uncertain post's container."""
        return Backoff(self.settle_poll, self.backoff, self.max_wait, self.jitter)

    def fixed_wait(self, seconds: float) -> Backoff:
        """A single wait of `seconds`, spread by the same jitter."""
        return Backoff(max(0.0, seconds), jitter=self.jitter)


@dataclass(frozen=True)
class ErrorInfo:
    """A post's failure before any call (class, codes, one-line message, rule)."""

    error_class: str | None
    code: int | None = None
    subcode: int | None = None
    message: str | None = None
    rule: str | None = None


class MediaRefused(Exception):
    """A `media_url` verdict: this file must not be handed to Instagram (it failed a
    preflight or URL rule after upload). The post fails with `info`; no container is made."""

    def __init__(self, info: ErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


@dataclass
class Outcome:
    """How one post ended in this run; what the command prints."""

    post_id: str
    media_type: str  # a MediaType value
    status: PostState  # published, failed, queued (held), scheduled or uncertain
    media_id: str | None = None
    media_id_source: MediaIdSource | None = None
    container_id: str | None = None
    already: bool = False  # published by an earlier run
    error_class: str | None = None
    code: int | None = None
    subcode: int | None = None
    message: str | None = None
    rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        error = None
        if self.error_class or self.message:
            error = {
                "class": self.error_class,
                "code": self.code,
                "subcode": self.subcode,
                "message": self.message,
                "rule": self.rule,
            }
        return {
            "id": self.post_id,
            "media_type": self.media_type,
            "status": self.status,
            "media_id": self.media_id,
            "media_id_source": self.media_id_source,
            "container_id": self.container_id,
            "already": self.already,
            "error": error,
        }


MediaUrl = Callable[[MediaItem], str]  # local media -> a public URL (an upload)
UrlChecker = Callable[[str, MediaItem], tuple[bool, str]]  # URL rules again: (ok, summary)
