"""The request and response bodies of the API, as pydantic models (they make the OpenAPI).

Requests mirror the manifest's JSON shape (SPEC section 5), except that media
are never local paths: an https URL, an `s3://bucket/key` in the service's
bucket, or the id of a media uploaded with POST /v1/media. The manifest parser
still has the last word on a post's shape, so what it refuses is a 422 with
its own message.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_MEDIA = 50  # media of one post (Instagram takes 20 at most; the rules say so)
MAX_CODES = 100  # codes in select/ignore


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Tag(Strict):
    username: str | None = None
    product_id: str | None = None
    x: float | None = None
    y: float | None = None


class MediaRef(Strict):
    """One media of a post, with the per-item keys of the manifest."""

    media_id: str | None = Field(None, description="An id from POST /v1/media.")
    url: str | None = Field(None, description="An https:// URL, or s3://bucket/key.")
    media_type: str | None = None
    user_tags: list[Tag] = Field(default_factory=list, max_length=100)
    product_tags: list[Tag] = Field(default_factory=list, max_length=100)
    alt_text: str | None = None
    caption: str | None = None


# A bare string is a URL, an s3:// key or a media id.
MediaEntry = str | MediaRef


class PostIn(Strict):
    """A post in the manifest's shape."""

    id: str | None = None
    media_type: str | None = Field(None, description="IMAGE, REELS, STORIES or CAROUSEL.")
    caption: str | None = None
    media: list[MediaEntry] = Field(min_length=1, max_length=MAX_MEDIA)
    thumb_offset: int | None = None
    cover: MediaEntry | None = None
    share_to_feed: bool | None = None
    collaborators: list[str] = Field(default_factory=list, max_length=100)
    alt_text: str | None = None
    location_id: str | None = None
    user_tags: list[Tag] = Field(default_factory=list, max_length=100)
    product_tags: list[Tag] = Field(default_factory=list, max_length=100)
    audio_name: str | None = None
    account: str | None = Field(None, description="An account of the accounts file.")
    publish_at: str | None = Field(None, description="RFC 3339 date-time with an offset.")


class CheckRequest(Strict):
    post: PostIn
    strict: bool = Field(False, description="Warnings make the post invalid too.")
    deep: bool = Field(False, description="Also decode every frame and sample (slower).")
    select: list[str] = Field(default_factory=list, max_length=MAX_CODES)
    ignore: list[str] = Field(default_factory=list, max_length=MAX_CODES)


Severity = Literal["error", "warning", "info"]


class FindingOut(BaseModel):
    """One finding, exactly as `igpreflight check` reports it, plus where it is."""

    rule: str
    severity: Severity
    code: int | None
    subcode: int | None
    message: str
    hint: str
    fixable: bool
    item: int | None = Field(
        description="Index in the post's media; null for the post or its cover."
    )
    media: str | None = Field(description="The media as the request named it; null for the post.")


class Findings(BaseModel):
    valid: bool
    errors: list[FindingOut]
    warnings: list[FindingOut]
    info: list[FindingOut]


class CheckResponse(Findings):
    id: str
    media_type: str


class MediaOut(BaseModel):
    id: str
    name: str
    bytes: int
    kind: Literal["image", "video", "unknown"]
    as_: str | None = Field(alias="as", description="The role it was checked in.")
    facts: dict[str, Any]
    origin: Literal["upload", "url", "fix"]
    source: str | None = Field(description="For a fixed media, the media it was made from.")
    expires_at: str
    valid: bool
    errors: list[FindingOut]
    warnings: list[FindingOut]
    info: list[FindingOut]

    model_config = ConfigDict(populate_by_name=True)


class FixRequest(Strict):
    media_id: str | None = None
    url: str | None = Field(None, description="An https:// URL (fetched as Instagram would).")
    as_: Literal["auto", "feed", "reels", "story", "carousel-item"] = Field("auto", alias="as")
    aspect: Literal["crop", "pad"] = "crop"
    pad_color: str = Field("white", max_length=32, description="A colour name, #rrggbb, or blur.")
    trim: bool = False
    extend: bool = False

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StepOut(BaseModel):
    step: str
    detail: str
    rules: list[str]


class UploadOut(BaseModel):
    bucket: str
    key: str
    url: str
    content_type: str
    bytes: int


class FixOut(BaseModel):
    source: str = Field(description="The media id that was fixed.")
    status: Literal[
        "unchanged", "copied", "remuxed", "transcoded", "converted", "unfixable", "failed"
    ]
    ok: bool
    steps: list[StepOut]
    reason: str | None
    media: MediaOut | None = Field(description="The fixed media (an id usable in /v1/check).")
    upload: UploadOut | None = Field(description="Where it went in the service's bucket.")
    url: str | None = Field(description="The URL to hand Instagram (null without a bucket).")


class JobOut(BaseModel):
    id: str
    kind: Literal["fix"]
    state: Literal["queued", "running", "succeeded", "failed"]
    url: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: FixOut | None
    error: str | None


class RuleOut(BaseModel):
    code: str
    severity: Severity
    summary: str
    graph_code: int | None
    graph_subcode: int | None
    fixable: bool
    fix: str


class GraphErrorOut(BaseModel):
    code: int | None
    subcode: int | None
    class_: str = Field(alias="class")
    meaning: str
    advice: str
    rules: list[str]

    model_config = ConfigDict(populate_by_name=True)


class ExplainOut(BaseModel):
    code: str
    kind: Literal["rule", "graph"]
    rule: RuleOut | None
    graph: list[GraphErrorOut]


class Health(BaseModel):
    status: Literal["ok"]


class ReadyCheck(BaseModel):
    ok: bool
    detail: str


class Ready(BaseModel):
    ready: bool
    checks: dict[str, ReadyCheck]
