"""What one file is fixed to: the intersection of its profiles (SPEC 12).

`check` reports each profile's findings; `fix` plans one output against the
intersection of the file's profiles (`profiles.intersect`), so it passes every one
of them, and calls a file whose profiles leave nothing in common unfixable, with
the reason. Under instagram alone nothing changes: the plan is today's.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction

from igpreflight.limits import ImageLimits, VideoLimits
from igpreflight.model import Facts, Finding, Role
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.rules.fmt import allowed_aspect, exact
from igpreflight.profiles import INSTAGRAM, Profile, intersect, is_default
from igpreflight.transcode.types import FixOptions, FixPlan


def aim_for(
    facts: Facts, role: Role | None, options: FixOptions, path: str | os.PathLike[str]
) -> tuple[list[Finding], list[Finding], Profile | None, str | None]:
    """(what check reports, the findings to plan from, the profile to plan against
    (None: instagram), why no output can pass every profile (None: one can))."""
    profiles = options.rules.profiles_for(path)
    before, _ = options.rules.keep(check_facts(facts, role, profiles), path)
    if role is None or is_default(profiles):
        return before, before, None, None
    target = intersect(profiles)
    conflict = target.conflict(role)
    if len(profiles) == 1:
        return before, before, target.profile, conflict
    planning, _ = options.rules.keep(check_facts(facts, role, (target.profile,)), path)
    return before, planning, target.profile, conflict


def recheck_findings(
    facts: Facts, role: Role | None, options: FixOptions, path: str | os.PathLike[str]
) -> list[Finding]:
    """A written output's findings under every profile of its source, as check says."""
    found = check_facts(facts, role, options.rules.profiles_for(path))
    return options.rules.keep(found, path)[0]


def plan_profile(plan: FixPlan | None) -> Profile:
    """The profile a plan was made against (instagram unless it says otherwise)."""
    profile = getattr(plan, "profile", None) if plan is not None else None
    return profile if profile is not None else INSTAGRAM


def plan_image_limits(plan: FixPlan) -> ImageLimits:
    """The image limits an executor applies to `plan` (its role, its profile)."""
    assert plan.role is not None
    return plan_profile(plan).image(plan.role)


def aspect_bounds(
    limits: ImageLimits | VideoLimits, ratio: Fraction | None = None, band: bool = True
) -> tuple[Fraction | None, Fraction | None]:
    """The aspect range to crop or pad into: the limits' range, or, when a house
    profile allows only some ratios and `ratio` is none of them, the allowed ratio
    nearest to `ratio`: exactly (images: any whole size) or, with `band`, within half
    the tolerance each way (videos: even sizes rarely hit a ratio exactly)."""
    lo = exact(limits.min_aspect) if limits.min_aspect is not None else None
    hi = exact(limits.max_aspect) if limits.max_aspect is not None else None
    aspects = [a for a in limits.aspects if a > 0]
    if not aspects or ratio is None:
        return lo, hi
    if allowed_aspect(float(ratio), limits.aspects, limits.aspect_tolerance):
        return lo, hi  # already one of them: no aspect change
    target = min(aspects, key=lambda a: abs(math.log(a / float(ratio))))
    half = limits.aspect_tolerance / 2 if band else 0.0
    band_lo, band_hi = exact(target * (1 - half)), exact(target * (1 + half))
    return (band_lo if lo is None else max(lo, band_lo)), (
        band_hi if hi is None else min(hi, band_hi)
    )
