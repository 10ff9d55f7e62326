"""What a movie's box headers say (MovieLayout, TrackLayout, Edit), and what it means.

The walker (`isobmff.movie_layout`) fills these from moov without decoding a
sample; the probe then asks two questions of them: whether the tables can describe
the file at all (`implausible`), and whether an edit list really changes the
timeline (`edits_change_timeline`). Both are pure: no file is read here.
"""

from __future__ import annotations

from dataclasses import field

from igpreflight.records import record


@record
class Edit:
    """One edit list entry: which span of the media the movie shows, at what rate."""

    segment_duration: float  # seconds (movie timescale)
    media_time: float | None  # seconds (media timescale); None for an empty edit
    rate: float


@record(frozen=False)
class TrackLayout:
    """One track as its boxes lay it out, read without decoding a sample."""

    handler: str = ""  # vide, soun, ...
    media_duration: float | None = None  # seconds
    edits: list[Edit] = field(default_factory=list)
    has_elst: bool = False
    data_end: int | None = None  # where the last chunk of samples ends (bytes)
    channels: int | None = None  # audio sample entry channel count (soun tracks)
    timescale: int | None = None  # mdhd units per second (None: no mdhd)
    declared_duration: float | None = None  # mdhd duration in seconds, even "unknown"
    sample_count: int | None = None  # stsz's count
    sample_bytes: int | None = None  # what stsz's sizes add up to
    sample_units: int | None = None  # stts: what the samples really last (mdhd units)
    problem: str | None = None  # a table that cannot be true (see `implausible`)
    # Raw payloads kept for the native fact reader (`mp4_native`): tkhd, mdhd and
    # the stbl tables (stsd, stts, stsz, stss...), by box type.
    boxes: dict[bytes, bytes] = field(default_factory=dict)

    @property
    def sample_duration(self) -> float | None:
        """What the samples really last (seconds), from stts: the real duration."""
        if self.sample_units is None or not self.timescale:
            return None
        return self.sample_units / self.timescale


@record(frozen=False)
class MovieLayout:
    """What the box headers of a movie say: streamability, edit lists, truncation."""

    moov_offset: int | None = None
    first_mdat_offset: int | None = None
    fragmented: bool = False
    tracks: list[TrackLayout] = field(default_factory=list)
    past_eof: str | None = None  # the type of a top-level box that runs past EOF
    ftyp: bytes = b""  # the ftyp box's payload, when it is the first box
    mvhd: bytes = b""  # the movie header's payload (for the native fact reader)
    moov_children: tuple[bytes, ...] = ()  # the types of moov's boxes, in order

    @property
    def streamable(self) -> bool | None:
        if self.moov_offset is None:
            return None
        if self.first_mdat_offset is None:
            return True
        return self.moov_offset < self.first_mdat_offset


def implausible(layout: MovieLayout, size: int, slack: float, share: float) -> str | None:
    """Why a movie's tables cannot describe this file (None: they can).

    A track with a timescale of 0, a table that declares more entries than its
    box holds, samples that add up to more bytes than the file, or a declared
    (mdhd) duration that differs from what its samples last by more than
    `slack` seconds or `share` of it: readers trusting such a table loop for
    minutes or encode hours of frames from a clip of seconds.
    """
    for t in layout.tracks:
        name = t.handler or "a"
        if t.problem:
            return f"the {name} track's {t.problem}"
        if t.timescale == 0:
            return f"the {name} track has a timescale of 0"
        if t.sample_bytes is not None and t.sample_bytes > size:
            return (
                f"the {name} track's {t.sample_count:,} samples add up to {t.sample_bytes:,} "
                f"bytes, more than the file's {size:,}"
            )
        real, declared = t.sample_duration, t.declared_duration
        off = abs(declared - real) if real and declared is not None else 0.0
        if real and off > max(slack, share * real):
            return f"the {name} track declares {declared:,.3f} s; its samples last {real:,.3f} s"
    return None


def edits_change_timeline(track: TrackLayout, tolerance: float) -> bool:
    """True when a track's edit list really cuts, shifts or re-times its media.

    Harmless (False): no edit list; an optional leading empty edit of at most
    `tolerance` seconds (a small audio/video start offset), then ONE edit at
    rate 1 that skips at most `tolerance` seconds of media at the start (AAC
    priming, B-frame reordering delay: what ffmpeg writes on nearly every MP4)
    and plays the media to within `tolerance` of its end.
    Timeline-changing (True): a longer empty edit (a gap), several media
    edits, a rate other than 1, or a single edit that skips or cuts more than
    `tolerance` seconds.
    """
    edits = list(track.edits)
    if not edits:
        return False
    if edits[0].media_time is None and edits[0].segment_duration <= tolerance:
        edits = edits[1:]
    if len(edits) != 1:
        return len(edits) > 1
    (edit,) = edits
    if edit.media_time is None or abs(edit.rate - 1.0) > 1e-6:
        return True
    if edit.media_time > tolerance:
        return True
    if track.media_duration and edit.segment_duration > 0:
        played_to = edit.media_time + edit.segment_duration
        if played_to < track.media_duration - tolerance:
            return True
    return False
