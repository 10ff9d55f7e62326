"""The rule registry: small pure functions from facts to findings, keyed by rule code.

A rule never opens a file. Adding a rule is one function here (decorated with
its code), its limit in `igpreflight.limits` and its line in `igpreflight.catalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from igpreflight.limits import POST_LIMITS, PostLimits
from igpreflight.model import Facts, Finding, ImageFacts, Post, Unreadable, VideoFacts

ImageRule = Callable[[ImageFacts, "ImageLimits"], Iterable[Finding]]  # noqa: F821
VideoRule = Callable[[VideoFacts, "VideoLimits"], Iterable[Finding]]  # noqa: F821


@dataclass(frozen=True)
class PostContext:
    """What a post rule may look at besides the post: the facts of its media
    (keyed by MediaItem.key: local path or URL) and the limits."""

    facts: Mapping[str, Facts]
    limits: PostLimits = POST_LIMITS


PostRule = Callable[[Post, PostContext], Iterable[Finding]]
FileRule = Callable[[Unreadable], Iterable[Finding]]  # FILE001: a file that cannot be probed
BatchRule = Callable[[list[Post]], Mapping[str, list[Finding]]]


@dataclass
class Registry:
    image: dict[str, ImageRule] = field(default_factory=dict)
    video: dict[str, VideoRule] = field(default_factory=dict)
    post: dict[str, PostRule] = field(default_factory=dict)
    batch: dict[str, BatchRule] = field(default_factory=dict)
    file: dict[str, FileRule] = field(default_factory=dict)

    def _add(self, table: dict, code: str):
        def register(fn):
            if code in table:
                raise ValueError(f"rule {code} registered twice")
            table[code] = fn
            return fn

        return register

    def image_rule(self, code: str):
        return self._add(self.image, code)

    def video_rule(self, code: str):
        return self._add(self.video, code)

    def post_rule(self, code: str):
        return self._add(self.post, code)

    def batch_rule(self, code: str):
        return self._add(self.batch, code)

    def file_rule(self, code: str):
        return self._add(self.file, code)

    def codes(self) -> set[str]:
        """Every registered rule code, whatever it reads."""
        return {*self.image, *self.video, *self.post, *self.batch, *self.file}


REGISTRY = Registry()
