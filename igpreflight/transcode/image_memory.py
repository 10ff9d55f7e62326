"""The memory budget of one image decode (`fix --max-memory`): how small a JPEG must
be decoded to fit, and why an image that cannot fit is refused before any work."""

from __future__ import annotations

from igpreflight.limits import IMAGE_FIX
from igpreflight.model import ImageFacts
from igpreflight.preflight.decode import decode_cost
from igpreflight.transcode.option_text import parse_memory
from igpreflight.transcode.plan_image import Geometry, draft_factor, plan_geometry
from igpreflight.transcode.types import FixOptions, FixPlan, FixStatus


def budget(options: FixOptions) -> int:
    """Bytes one image decode may use: --max-memory, else ImageFixTargets.max_memory."""
    return options.max_memory or IMAGE_FIX.max_memory


def memory_factor(facts: ImageFacts, geo: Geometry, limit: int) -> int | None:
    """The draft factor that keeps the decode within `limit` bytes (None: none does).

    The plan's own factor first (no upsampling later); a JPEG over budget is
    decoded smaller still (down to 1/8), the output then coming from fewer pixels.
    """
    factor = draft_factor(facts, geo)
    while decode_cost(facts, factor) > limit:
        if facts.format.upper() not in ("JPEG", "MPO") or factor >= 8:
            return None
        factor *= 2
    return factor


def memory_reason(facts: ImageFacts, plan: FixPlan, options: FixOptions) -> str | None:
    """Why converting this image does not fit the memory budget (None: it fits)."""
    if plan.status is not FixStatus.CONVERTED or plan.role is None:
        return None
    limit = budget(options)
    geo = plan_geometry(facts, plan.role, options, plan.profile)
    if memory_factor(facts, geo, limit) is not None:
        return None
    need = decode_cost(facts, draft_factor(facts, geo))
    return (
        f"decoding this {facts.width}x{facts.height} {facts.format} needs about "
        f"{_size(need)}, over the memory budget of {_size(limit)}; "
        f"give --max-memory {_size(need, up=True)} or downscale it first"
    )


def _size(n: int, up: bool = False) -> str:
    gb = n / (1 << 30)
    if gb >= 1:
        return f"{(int(gb * 10) + 1) / 10 if up else gb:.1f}G"
    mb = n / (1 << 20)
    return f"{int(mb) + 1 if up else mb:.0f}M"


__all__ = ["budget", "memory_factor", "memory_reason", "parse_memory"]
