"""H.264 in AVI: its frame rate from the chunks, its pixel shape from the SPS.

MediaInfo calls H.264 in AVI variable-rate (VFR) however evenly its pictures
come, and derives its pixel aspect from the display ratio rounded to three
digits (720x1280: 0.562, so "0.999" pixels), so `fix` re-encoded and scaled
(SAR 666:667) a stream that a remux to MP4 would have kept. AVI has no
presentation times: a video chunk is one tick of the stream's rate and an
empty chunk a repeated frame, which ffmpeg's demuxer gives as the decode time
(the chunk's number) and a gap. So where MediaInfo says VFR the chunks' steps
say CFR (all one tick) or VFR (a gap: copied into MP4, that picture would last
longer). One first step unlike the rest is set aside, as MediaInfo does for an
MP4's `stts`: ffmpeg's AVI muxer leaves an empty chunk after the first picture
(a camera's or an older ffmpeg's AVI alike), and the remux is then CFR. A stream copy then writes each presentation time equal to its decode
time, right only for a stream that shows its pictures in decode order: the
SPS's max_num_reorder_frames is 0. A stream with B-frames (or that does not
say) keeps MediaInfo's reading and is re-encoded, since copied into MP4 its
pictures would show in decode order. The SPS's sample aspect ratio (none: square)
is the pixels' shape, read for every H.264 AVI.

MPEG-4 Part 2 and other codecs in AVI are re-encoded anyway (VID002); their
MediaInfo readings stand.
"""

from __future__ import annotations

from typing import Any

from igpreflight.preflight import h264, ts_timing


def avi_h264_facts(path: str, fields: dict[str, Any]) -> dict[str, Any]:
    """sar, and fps and frame_rate_mode where the chunks settle them, of the local
    AVI at `path` whose MediaInfo facts are `fields`; nothing for another codec."""
    if fields.get("video_codec") != "AVC":
        return {}
    sps = first_sps(path)
    if sps is None:
        return {}
    found: dict[str, Any] = {"sar": sps.sar[0] / sps.sar[1] if sps.sar else 1.0}
    progressive = (fields.get("scan_type") or "Progressive") == "Progressive"
    if fields.get("frame_rate_mode") == "VFR" and progressive and sps.reorder == 0:
        timing = ts_timing.packet_timing(path, first_aside=True, by_dts=True)
        if timing is not None:
            found.update(fps=timing[0], frame_rate_mode=timing[1])
    return found


def first_sps(path: str) -> h264.Sps | None:
    """The SPS before the first picture of the file's first video stream (ffmpeg
    copies the first packet out as Annex B), or None when there is none to read."""
    stream = ts_timing.copied_out(path, 1, "h264")
    if stream is None:
        return None
    for nal in stream.split(b"\x00\x00\x01"):
        nal = nal.rstrip(b"\x00")
        if nal and nal[0] & 0x1F == 7:
            try:
                return h264.parse_sps(nal)
            except h264.SpsError:
                return None
    return None
