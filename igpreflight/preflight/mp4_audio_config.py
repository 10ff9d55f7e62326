"""A sound track's channel count from its sample entry and codec configuration box.

The AudioSampleEntry's channelcount field is not to be trusted for every codec
(AC-3 writes 2 whatever the layout), so the codec's own box (dac3, dec3, dOps,
esds's AudioSpecificConfig) is read first. The esds descriptor reader also serves
the native fact reader (`mp4_native`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator


def _sample_entry_channels(stsd: bytes) -> int | None:
    """The channel count of the first sample entry of a sound track.

    The codec's own configuration box says it where the AudioSampleEntry's
    channelcount field does not: AC-3 and E-AC-3 write 2 there whatever the
    layout (ETSI TS 102 366 F.3), so a 5.1 track read from ranged GETs would pass
    as stereo. Opus, AAC and QuickTime `chan` boxes are read the same way; the
    channelcount field is the fallback.
    """
    if len(stsd) < 34:
        return None
    (channels,) = struct.unpack(">H", stsd[32:34])
    (version,) = struct.unpack(">H", stsd[24:26])
    first = 8 + 36 + {1: 16, 2: 36}.get(version, 0)  # QuickTime sound description v1/v2
    (size,) = struct.unpack(">I", stsd[8:12])
    entry_end = min(len(stsd), 8 + size) if size >= 36 else len(stsd)
    for kind, body in plain_boxes(stsd[first:entry_end]):
        got = _config_channels(kind, body)
        if got:
            return got
    return channels or None


def plain_boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, payload) of the plain boxes laid end to end in `data`."""
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size < 8 or pos + size > len(data):
            return
        yield kind, data[pos + 8 : pos + size]
        pos += size


# AC-3 audio coding mode (acmod) -> full-bandwidth channels (ETSI TS 102 366 table 4.3).
_AC3_ACMOD_CHANNELS = (2, 1, 2, 3, 3, 4, 4, 5)


def _config_channels(kind: bytes, body: bytes) -> int | None:
    """Channels from a codec configuration box, or None when it does not say."""
    if kind == b"dac3" and len(body) >= 3:
        bits = int.from_bytes(body[:3], "big")  # fscod 2, bsid 5, bsmod 3, acmod 3, lfeon 1
        return _AC3_ACMOD_CHANNELS[(bits >> 11) & 7] + ((bits >> 10) & 1)
    if kind == b"dec3" and len(body) >= 5:
        bits = int.from_bytes(body[2:5], "big")  # the first independent substream
        return _AC3_ACMOD_CHANNELS[(bits >> 9) & 7] + ((bits >> 8) & 1)
    if kind == b"dOps" and len(body) >= 2:
        return body[1] or None  # OutputChannelCount
    if kind == b"esds":
        return _aac_channels(body[4:])
    return None


def _aac_channels(descriptors: bytes) -> int | None:
    """channelConfiguration of the AudioSpecificConfig inside an esds (ISO 14496-1/-3)."""
    config = decoder_config(descriptors)
    info = config[1] if config else b""
    if len(info) < 2:
        return None
    bits = int.from_bytes(info[:2], "big")  # objectType 5, frequency index 4, channels 4
    if bits >> 11 == 31 or (bits >> 7) & 0xF == 0xF:
        return None  # escaped object type or explicit frequency: left to the fallback
    config_channels = (bits >> 3) & 0xF
    return 8 if config_channels == 7 else (config_channels if 1 <= config_channels <= 6 else None)


def decoder_config(descriptors: bytes) -> tuple[int, bytes] | None:
    """(objectTypeIndication, DecoderSpecificInfo) of an esds's ES_Descriptor (after
    the box's version and flags); None when it is not there."""
    es = _descriptor(descriptors, 0x03)
    if es is None or len(es) < 3:
        return None
    flags, pos = es[2], 3  # ES_ID (2), then flags and what they announce
    if flags & 0x80:
        pos += 2  # dependsOn_ES_ID
    if flags & 0x40:
        pos += 1 + (es[pos] if pos < len(es) else 0)  # URL
    if flags & 0x20:
        pos += 2  # OCR_ES_Id
    decoder = _descriptor(es[pos:], 0x04)
    if not decoder or len(decoder) < 13:
        return None
    return decoder[0], _descriptor(decoder[13:], 0x05) or b""


def _descriptor(data: bytes, tag: int) -> bytes | None:
    """The payload of a descriptor with `tag` at the start of `data` (expandable size)."""
    if not data or data[0] != tag:
        return None
    pos, length = 1, 0
    for _ in range(4):  # 7 bits of size per byte while the top bit is set
        if pos >= len(data):
            return None
        byte = data[pos]
        pos += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return data[pos : pos + length]
