"""A track's duration, frame count and frame rate, computed as MediaInfo computes them.

MediaInfo (v24, `File_Mpeg4.cpp`) derives these from tkhd, mdhd, stts and stsz
with a few rules of its own: the track duration is tkhd's unless the samples
disagree with it, a different first or last sample duration does not make a
stream VFR, its float32 arithmetic rounds as it rounds. The native reader must
give the very values MediaInfo gives (a test compares both on every MP4 of the
corpus), so this module follows that arithmetic step by step, float32 included.
`TimingError` means a table this port does not follow (MediaInfo decides).
"""

from __future__ import annotations

import array
import struct
import sys

from igpreflight.records import record

_U32 = 0xFFFFFFFF


class TimingError(ValueError):
    """Tables outside what this port follows exactly."""


def f32(x: float) -> float:
    """x rounded to single precision, as a C++ float holds it."""
    return struct.unpack("f", struct.pack("f", x))[0]


def fmt(value: float, decimals: int) -> str:
    """MediaInfo's Fill of a number with `decimals` decimals."""
    return f"{value:.{decimals}f}"


def _be_u32(data: bytes) -> array.array:
    table = array.array("I", data)
    if sys.byteorder == "little":
        table.byteswap()
    return table


@record(frozen=False)
class Stts:
    """What MediaInfo gathers from a time-to-sample table."""

    entries: list[tuple[int, int]]  # (sample count, sample duration)
    low: int = _U32  # stts_Min: the shortest sample, a different first or last one aside
    high: int = 0  # stts_Max
    frames: int = 0  # stts_FrameCount
    units: int = 0  # stts_Duration, in mdhd units

    @classmethod
    def read(cls, payload: bytes, timescale: int) -> Stts:
        """MediaInfo's stts walk (moov_trak_mdia_minf_stbl_stts_Common)."""
        (count,) = struct.unpack(">I", payload[4:8])
        table = _be_u32(payload[8 : 8 + 8 * count])
        entries = list(zip(table[0::2], table[1::2], strict=True))
        stts = cls(entries)
        n = len(entries)
        for pos, (samples, delta) in enumerate(entries):
            if delta >= 0x80000000 or samples * delta > _U32:
                raise TimingError("a negative or 32-bit-overflowing stts entry")
            if pos == 1 and 2 <= n <= 3 and stts.frames == 1 and delta != stts.high and timescale:
                stts.low = stts.high = delta  # a different first sample is set aside
            last = 2 <= n <= 3 and pos + 1 == n and samples == 1
            if not (last and stts.low == stts.high and delta != stts.high and timescale):
                stts.low, stts.high = min(stts.low, delta), max(stts.high, delta)
            stts.frames += samples
            stts.units += samples * delta
        return stts


@record(frozen=False)
class TrackTiming:
    """The MediaInfo fields of one track that come from its tables (strings, as read)."""

    duration: str | None = None  # ms
    frame_count: str | None = None  # video only
    frame_rate: str | None = None
    frame_rate_mode: str | None = None
    minimum_frame_rate: str | None = None
    maximum_frame_rate: str | None = None


def track_timing(
    video: bool, tkhd_duration: int, movie_ts: int, media_ts: int, media_duration: int, stts: Stts
) -> TrackTiming:
    """File_Mpeg4's Streams_Finish for one track."""
    if not (movie_ts and media_ts) or not 0 < tkhd_duration < _U32 or not stts.entries:
        raise TimingError("a track without timescales, duration or samples")
    timing = TrackTiming()
    # tkhd, then mdhd's coherency fix (a tkhd duration written in media units).
    close = (
        media_duration * 0.99 <= tkhd_duration * 1.01
        and tkhd_duration * 0.99 <= media_duration * 1.01
    )
    if close and movie_ts != media_ts:
        tkhd_duration = int(tkhd_duration / (media_ts / movie_ts) + 0.5)
    timing.duration = str(int(tkhd_duration * 1000 / movie_ts + 0.5))
    if video:
        timing.frame_count = str(stts.frames)
    high = f32(f32(tkhd_duration + 1) / f32(movie_ts))
    low = f32(f32(tkhd_duration - 1) / f32(movie_ts))
    from_stts = f32(f32(stts.units) / f32(media_ts))
    if from_stts and not low <= from_stts <= high:
        # The samples and the track disagree: the track's duration wins.
        timing.duration = fmt(f32(f32(f32(tkhd_duration) / f32(movie_ts)) * 1000), 0)
        if video and (len(stts.entries) != 1 or media_ts < 100 or stts.entries[0][1] != 1):
            timing.frame_count = str(_frames_within(tkhd_duration, movie_ts, media_ts, stts))
    if video:
        if stts.low and stts.high and stts.low != _U32:
            _frame_rate(timing, media_ts, stts)
        if timing.frame_rate is None:  # MediaInfo would take the stream's own rate
            raise TimingError("no frame rate from the time-to-sample table")
    return timing


def _frames_within(tkhd_duration: int, movie_ts: int, media_ts: int, stts: Stts) -> int:
    """How many samples the track's duration covers."""
    if stts.low and stts.low == stts.high:
        return int(tkhd_duration / movie_ts * media_ts / stts.low + 0.5)
    frames, ticks = 0, 0
    most = int(tkhd_duration / movie_ts * media_ts + 0.5)
    for samples, delta in stts.entries:
        if ticks + samples * delta >= most:
            return frames + (int((most - ticks) / delta + 0.5) if delta else 0)
        ticks += samples * delta
        frames += samples
    return frames


# MediaInfo snaps a frame rate within these bands to the well-known one
# (File__Analyze::Video_FrameRate_Rounded): (above, up to, snapped to), first match.
_WELL_KNOWN = tuple(
    (low * k, high * k, rate * k)
    for k, bands in (
        (1, ((9.990, 10.010, 10.0), (11.984, 11.994, 11.988), (11.994, 12.010, 12.0),
             (14.980, 14.990, 14.985), (14.990, 15.010, 15.0), (23.952, 23.988, 23.976),
             (23.988, 24.024, 24.0), (24.975, 25.025, 25.0), (29.940, 29.985, 29.970),
             (29.970, 30.030, 30.0))),
        (2, ((23.952, 23.988, 23.976), (23.988, 24.024, 24.0), (24.975, 25.025, 25.0),
             (29.940, 29.985, 29.970), (29.970, 30.030, 30.0))),
    )
    for low, high, rate in bands
)  # fmt: skip


def frame_rate_text(rate: float) -> str:
    """A frame rate as MediaInfo fills it: 3 decimals, then snapped to a well-known
    rate it is within a band of (59.97-60.06 is 60.000)."""
    text = fmt(rate, 3)
    value = float(text)
    for low, high, known in _WELL_KNOWN:
        if low < value <= high:
            return fmt(known, 3) if abs(known - value) >= 0.000999999 else text
    return text


def _frame_rate(timing: TrackTiming, media_ts: int, stts: Stts) -> None:
    fastest = f32(f32(media_ts) / f32(stts.low))
    slowest = f32(f32(media_ts) / f32(stts.high))
    if stts.low != stts.high and f32(fastest - slowest) >= 0.001:
        timing.minimum_frame_rate = fmt(slowest, 3)
        timing.maximum_frame_rate = fmt(fastest, 3)
        if stts.units:
            average = f32(f32(f32(stts.frames) / f32(stts.units)) * f32(media_ts))
            timing.frame_rate = frame_rate_text(average)
        timing.frame_rate_mode = "VFR"
    else:
        timing.frame_rate = frame_rate_text(slowest)
        timing.frame_rate_mode = "CFR"


def sample_sizes(stsz: bytes) -> list[int]:
    """stsz's sizes, one a sample; TimingError for a uniform size (left to MediaInfo)."""
    uniform, count = struct.unpack(">II", stsz[4:12])
    if uniform:
        raise TimingError("a uniform sample size")
    return _be_u32(stsz[12 : 12 + 4 * count]).tolist()
