"""The values shared by the image and video fixers and the batch driver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from enum import Enum
from typing import Any

from igpreflight.config import DEFAULT_RULES, RuleSelection
from igpreflight.limits import IMAGE_FIX
from igpreflight.model import Finding, Kind, Role
from igpreflight.profiles import Profile
from igpreflight.records import record


class FixStatus(str, Enum):
    """What happened to one input (SPEC section 3, `fix`)."""

    UNCHANGED = "unchanged"  # already compliant and written in place / nothing to do
    COPIED = "copied"  # compliant; copied byte for byte to --out
    REMUXED = "remuxed"  # streams copied into a new container (no re-encode)
    TRANSCODED = "transcoded"  # at least one video/audio stream re-encoded
    CONVERTED = "converted"  # image decoded and re-encoded
    UNFIXABLE = "unfixable"  # a finding no fix step resolves (reason says which)
    FAILED = "failed"  # a fix was attempted but the output still fails, or the tool failed
    SKIPPED = "skipped"  # not attempted: the input has no place under --out (reason says why)


@record
class FixOptions:
    """How the user asked files to be fixed (the CLI's and API's fix options)."""

    as_: str = "auto"
    aspect: str = "crop"  # crop | pad
    pad_color: str = "white"  # a colour name, #rrggbb, or "blur"
    background: str = "white"  # what alpha is flattened onto
    trim: bool = False
    extend: bool = False
    keep_png: bool = False
    keep_hevc: bool = False
    keep_metadata: bool = False
    in_place: bool = False
    dry_run: bool = False
    # Videos: decode every picture of a copied or remuxed video, not only its
    # structure (--deep; images are always decoded whole).
    deep: bool = False
    max_memory: int = IMAGE_FIX.max_memory  # bytes one image decode may use (--max-memory)
    # The project configuration: rules turned off (per file too) and roles by glob.
    rules: RuleSelection = DEFAULT_RULES


@record
class Step:
    """One fix step: its name (orient, to-srgb, flatten, first-frame, resize, crop, pad,
    encode, remux, copy-video, encode-video, ...), a detail, and the rules it resolves."""

    name: str
    detail: str = ""
    rules: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name, "detail": self.detail, "rules": list(self.rules)}

    def __str__(self) -> str:
        return f"{self.name} {self.detail}".strip()


@record
class VideoStep(Step):
    """A Step with the exact parameters the executor needs (sizes, rates, bitrates),
    so that `apply_video` runs exactly what the plan shows."""

    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


@record
class FixPlan:
    """The ordered steps for one file, decided from its facts and findings alone."""

    kind: Kind
    role: Role | None
    status: FixStatus  # the status the plan leads to
    steps: tuple[Step, ...] = ()
    extension: str = ""  # the output's extension (jpg, png, mp4)
    reason: str | None = None  # why the file is unfixable, when it is
    # The limits the plan aims at (SPEC 12): the intersection of the file's profiles;
    # None is instagram, as before profiles existed.
    profile: Profile | None = None


@record(frozen=False)
class FileFixResult:
    """What fixing one file did: where it went, why, the findings before and after."""

    source: str  # as the user gave it
    output: str | None
    status: FixStatus
    plan: FixPlan | None = None
    before: list[Finding] = field(default_factory=list)
    after: list[Finding] = field(default_factory=list)
    reason: str | None = None
    bytes_before: int = 0
    bytes_after: int | None = None
    resumed: bool = False  # done by an earlier run of the same batch (fix ledger)
    # The storage refused --out in a way every file would meet (credentials, bucket,
    # permissions): the batch stops there rather than fix every file to fail its write.
    stops_batch: bool = False
    # An object stood at the S3 output key without igpreflight's metadata and was
    # written over: foreign, or a store that drops user metadata (then no re-run skips).
    unmarked_output: bool = False

    @property
    def ok(self) -> bool:
        return self.status not in (FixStatus.UNFIXABLE, FixStatus.FAILED, FixStatus.SKIPPED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.source,
            "output": self.output,
            "status": self.status.value,
            "steps": [s.to_dict() for s in self.plan.steps] if self.plan else [],
            "reason": self.reason,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "resumed": self.resumed,
            "before": [f.to_dict() for f in self.before],
            "after": [f.to_dict() for f in self.after],
        }
