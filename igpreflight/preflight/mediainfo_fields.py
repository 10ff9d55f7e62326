"""The MediaInfo fields the video probe reads, and how it reads them (stdlib only).

Both sources of a video's facts answer in these terms: the MediaInfo server
(`mediainfo_lib`, libmediainfo through ctypes) and the native MP4 reader
(`mp4_native`). Kept apart from both so that reading an MP4 natively loads
neither ctypes nor the server's code.
"""

from __future__ import annotations

# pymediainfo's attribute name -> MediaInfo's parameter, for the first stream of
# each kind the probe reads (MediaInfo's stream kinds: 0 general, 1 video, 2 audio);
# the general stream also counts the others.
FIELDS: dict[str, tuple[int, dict[str, str]]] = {
    "general": (
        0,
        {
            "format": "Format",
            "format_profile": "Format_Profile",
            "duration": "Duration",
            "file_size": "FileSize",
            # How many streams of each kind; empty when none. Timecode (tmcd) and
            # metadata (mebx) tracks are MediaInfo's Other streams, never counted here.
            "count_of_video_streams": "VideoCount",
            "count_of_audio_streams": "AudioCount",
        },
    ),
    "video": (
        1,
        {
            "format": "Format",
            "format_profile": "Format_Profile",
            "format_level": "Format_Level",
            "width": "Width",
            "height": "Height",
            "rotation": "Rotation",
            "pixel_aspect_ratio": "PixelAspectRatio",
            "frame_rate": "FrameRate",
            "framerate_num": "FrameRate_Num",
            "framerate_den": "FrameRate_Den",
            "frame_count": "FrameCount",
            "duration": "Duration",
            "frame_rate_mode": "FrameRate_Mode",
            "minimum_frame_rate": "FrameRate_Minimum",
            "maximum_frame_rate": "FrameRate_Maximum",
            "scan_type": "ScanType",
            "chroma_subsampling": "ChromaSubsampling",
            "bit_depth": "BitDepth",
            "transfer_characteristics": "transfer_characteristics",
            "bit_rate": "BitRate",
            "stream_size": "StreamSize",
        },
    ),
    "audio": (
        2,
        {
            "format": "Format",
            "format_additionalfeatures": "Format_AdditionalFeatures",
            "format_profile": "Format_Profile",
            "sampling_rate": "SamplingRate",
            "channel_s": "Channel(s)",
            "bit_rate": "BitRate",
            "duration": "Duration",
        },
    ),
}
Fields = dict[str, "dict[str, str] | None"]


class Track:
    """One stream's fields as attributes; a field MediaInfo did not give is None
    (as a pymediainfo Track answers)."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> None:
        return None
