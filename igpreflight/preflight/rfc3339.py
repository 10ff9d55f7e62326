"""RFC 3339 date-times (a post's `publish_at`) <-> epoch seconds, never early, exactly.

A post must never be published before the instant its `publish_at` names, so the
fraction of a second is kept to any number of digits and rounded up to the next
float, and the normalised text written back reads as the same float. Instants
outside the years 0001-9999 UTC (reached directly or through an offset) are
refused, as are offsets past 23:59: a ValueError naming the value.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

# The instants a publish_at may name: years 0001 to 9999, in UTC.
MIN_EPOCH = -62135596800  # 0001-01-01T00:00:00Z
END_EPOCH = 253402300800  # 10000-01-01T00:00:00Z (excluded)
_EPOCH = datetime(1970, 1, 1)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))"
)
EXAMPLE = "2026-12-01T09:00:00Z"


def parse_rfc3339(value: Any, where: str = "publish_at") -> float:
    """An RFC 3339 date-time (a TOML date-time or a string) with an offset -> epoch seconds.

    Fractional seconds are kept, to any number of digits: the result is the
    smallest float at or after the instant written (never before it, by at most
    one float step: under 0.5 us until 2106), so a post is never published early.
    ValueError, naming `where`, for text that is not RFC 3339, a value without an
    offset, an offset outside -23:59..+23:59, or an instant outside the years
    0001-9999 UTC.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{where} {value.isoformat()} has no UTC offset (add Z or +01:00)")
        local = value.replace(tzinfo=None, microsecond=0)
        offset = value.utcoffset()
        fraction = Decimal(value.microsecond) / 1_000_000
        shown = value.isoformat()
    elif isinstance(value, str):
        local, offset, fraction = _parse_text(value, where)
        shown = repr(value)
    else:
        raise ValueError(f"{where} must be an RFC 3339 date-time ({EXAMPLE})")
    whole = (local - _EPOCH) // timedelta(seconds=1) - (offset // timedelta(seconds=1))
    epoch = _float_at_or_after(whole, fraction) if MIN_EPOCH <= whole < END_EPOCH else None
    if epoch is None or epoch >= END_EPOCH:
        raise ValueError(f"{where} {shown} is out of range: years 0001 to 9999 in UTC")
    return epoch


def _parse_text(value: str, where: str) -> tuple[datetime, timedelta, Decimal]:
    """The local date-time (whole seconds), the offset and the fraction of RFC 3339 text."""
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        if _RFC3339.fullmatch(value.strip() + "Z"):
            raise ValueError(f"{where} {value!r} has no UTC offset (add Z or +01:00)")
        raise ValueError(f"{where} {value!r} is not an RFC 3339 date-time ({EXAMPLE})")
    year, month, day, hour, minute, second, frac, sign, off_h, off_m = match.groups()
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError as exc:  # year 0, month 13, second 60...
        raise ValueError(f"{where} {value!r} is not a valid date-time: {exc}") from None
    offset = timedelta()
    if sign:
        if int(off_h) > 23 or int(off_m) > 59:
            raise ValueError(
                f"{where} {value!r} has the offset {sign}{off_h}:{off_m};"
                " UTC offsets run from -23:59 to +23:59"
            )
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    return local, offset, Decimal(frac or 0)


def format_rfc3339(epoch: float) -> str:
    """Epoch seconds as RFC 3339 UTC, with the shortest fraction that reads back as
    the same float: parse_rfc3339(format_rfc3339(x)) == x for every instant."""
    x = float(epoch)
    if not math.isfinite(x):
        raise ValueError(f"{epoch!r} is not an instant")
    with localcontext() as ctx:
        ctx.prec = 1200  # a float's exact decimal expansion always fits
        text = _shortest_after(Decimal(math.nextafter(x, -math.inf)), Decimal(x))
        whole = int(text.to_integral_value(rounding=ROUND_FLOOR))
        fraction = text - whole
        tail = "" if fraction == 0 else format(fraction.normalize(), "f")[1:]  # ".923"
    if not MIN_EPOCH <= whole < END_EPOCH:
        raise ValueError(f"{epoch!r} is out of range: years 0001 to 9999 in UTC")
    t = _EPOCH + timedelta(seconds=whole)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}{tail}Z"
    )


def format_ms(epoch_ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC with at most 3 decimals, for when something
    happened (a job's start, an event): `ms / 1000` is a float whose shortest exact form
    is often 7 digits off (47.363 became 47.3629999)."""
    whole, ms = divmod(int(epoch_ms), 1000)
    text = format_rfc3339(float(whole))
    return text if not ms else f"{text[:-1]}.{ms:03d}".rstrip("0") + "Z"


def format_moment(epoch: float) -> str:
    """`time.time()` as RFC 3339 to the millisecond (`format_ms`): a job's created,
    started and finished times read 12:10:11.123Z, not 12:10:11.1234567Z."""
    return format_ms(round(float(epoch) * 1000))


def _shortest_after(low: Decimal, high: Decimal) -> Decimal:
    """The decimal with the fewest fractional digits in (low, high]: the float
    `high` is the smallest float at or after it (what parse_rfc3339 returns)."""
    digits = 0
    while True:
        scale = Decimal(10) ** digits
        candidate = (high * scale).to_integral_value(rounding=ROUND_FLOOR) / scale
        if candidate > low:
            return candidate
        digits += 1


def _float_at_or_after(whole: int, fraction: Decimal) -> float:
    """The smallest float that is not before the instant `whole` + `fraction` seconds."""
    with localcontext() as ctx:
        ctx.prec = 1200  # exact: the default 28 digits would round the sum
        instant = whole + fraction
        nearest = float(instant)
        return nearest if Decimal(nearest) >= instant else math.nextafter(nearest, math.inf)
