"""H.264 parameter sets read as MediaInfo reads them (ISO 14496-10 7.3.2.1, Annex E).

The native MP4 reader (`mp4_native`) needs what a sequence parameter set says
about a stream: profile and level, chroma format, bit depth, frame size after
cropping, whether every picture is a frame (scan type), the sample aspect ratio
and the transfer characteristics. `SpsError` means "not read here": the caller
leaves the file to MediaInfo, never guesses.
"""

from __future__ import annotations

from igpreflight.records import record


class SpsError(ValueError):
    """The parameter set is malformed, or uses what this reader leaves to MediaInfo."""


# profile_idc -> MediaInfo's name (File_Avc.cpp); a profile not listed is left to MediaInfo.
PROFILES = {
    44: "CAVLC 4:4:4 Intra",
    66: "Baseline",
    77: "Main",
    88: "Extended",
    100: "High",
    110: "High 10",
    122: "High 4:2:2",
    244: "High 4:4:4 Predictive",
}
# What constraint_set3, set4 and set4+5 make of a profile (MediaInfo's names).
_INTRA = {110: "High 10 Intra", 122: "High 4:2:2 Intra", 244: "High 4:4:4 Intra"}
_PROGRESSIVE = {100: "Progressive High", 110: "Progressive High 10"}
_CONSTRAINED = {100: "Constrained High"}
# Profiles whose SPS carries chroma_format_idc, bit depths and scaling lists.
_HIGH = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
# aspect_ratio_idc 1..16 (Table E-1).
_SAR = (
    (1, 1), (12, 11), (10, 11), (16, 11), (40, 33), (24, 11), (20, 11), (32, 11),
    (80, 33), (18, 11), (15, 11), (64, 33), (160, 99), (4, 3), (3, 2), (2, 1),
)  # fmt: skip
_CHROMA = {1: "4:2:0", 2: "4:2:2", 3: "4:4:4"}
_SUB_WIDTH = (1, 2, 2, 1)  # by ChromaArrayType
_SUB_HEIGHT = (1, 2, 1, 1)


@record
class Sps:
    """What a sequence parameter set says that the facts and the proof's pieces need."""

    profile_idc: int
    constraints: int  # the constraint_set flags byte
    level_idc: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    width: int  # after cropping
    height: int
    frame_mbs_only: bool
    sar: tuple[int, int] | None  # (0, 0) in MediaInfo's terms is None here
    transfer: int | None  # transfer_characteristics when the VUI describes colour
    pic_struct_present: bool
    hrd: bool  # NAL or VCL HRD parameters present
    log2_max_frame_num: int = 4  # frame_num's width in a slice header
    ref_frames: int = 0  # max_num_ref_frames
    separate_planes: bool = False  # a colour_plane_id in every slice header
    # max_num_reorder_frames of the VUI's bitstream restriction: 0 when pictures come
    # in display order (what a copy out of AVI, which has no presentation times, needs);
    # None when the SPS does not say (or its HRD parameters are not read).
    reorder: int | None = None

    @property
    def profile(self) -> str:
        """MediaInfo's Format_Profile with its level, e.g. "High@L4" or "Main@L3.1"."""
        name, flags = PROFILES[self.profile_idc], self.constraints
        if flags & 0x40 and self.profile_idc == 66:  # constraint_set1
            name = "Constrained Baseline"
        if flags & 0x10:  # constraint_set3
            name = _INTRA.get(self.profile_idc, name)
        if flags & 0x08:  # constraint_set4 (and set5)
            name = (_CONSTRAINED if flags & 0x04 else _PROGRESSIVE).get(self.profile_idc, name)
        level = self.level_idc
        if not level:
            return name
        if level == 9 or (
            level == 11 and self.constraints & 0x10 and self.profile_idc in (66, 77, 88)
        ):
            return f"{name}@L1b"
        sub = f".{level % 10}" if level % 10 else ""
        return f"{name}@L{level // 10}{sub}"

    @property
    def chroma(self) -> str | None:
        return _CHROMA.get(self.chroma_format_idc)

    @property
    def bit_depth(self) -> int | None:
        """One depth for luma and chroma, else None (MediaInfo reports none)."""
        return self.bit_depth_luma if self.bit_depth_luma == self.bit_depth_chroma else None


def unescape(nal: bytes) -> bytes:
    """The RBSP of a NAL unit: emulation-prevention bytes (00 00 03) removed."""
    if b"\x00\x00\x03" not in nal:
        return nal
    out = bytearray()
    zeros = 0
    for byte in nal:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class _Bits:
    """A big-endian bit reader over one RBSP (the whole of it as one integer)."""

    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.left = len(data) * 8  # bits not read yet

    def u(self, n: int) -> int:
        if n > self.left:
            raise SpsError("the parameter set ends early")
        self.left -= n
        return (self.value >> self.left) & ((1 << n) - 1)

    def flag(self) -> bool:
        return bool(self.u(1))

    def ue(self) -> int:
        rest = self.value & ((1 << self.left) - 1)
        zeros = self.left - rest.bit_length()
        if zeros > 31 or 2 * zeros + 1 > self.left:
            raise SpsError("a malformed Exp-Golomb code")
        self.left -= zeros
        return self.u(zeros + 1) - 1

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


def slice_start(nal: bytes, sps: Sps) -> tuple[int, int, int] | None:
    """(first_mb_in_slice, slice_type, frame_num) of a slice NAL unit (its header
    byte first) coded with `sps`, None when the bytes given end before them."""
    try:
        bits = _Bits(unescape(nal[1:]))
        first_mb, slice_type = bits.ue(), bits.ue()
        bits.ue()  # pic_parameter_set_id
        if sps.separate_planes:
            bits.u(2)  # colour_plane_id
        return first_mb, slice_type, bits.u(sps.log2_max_frame_num)
    except SpsError:
        return None


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.se() + 256) % 256
        last = following or last


def parse_sps(nal: bytes) -> Sps:
    """Read one SPS NAL unit (its header byte included)."""
    if not nal or nal[0] & 0x1F != 7:
        raise SpsError("not a sequence parameter set")
    bits = _Bits(unescape(nal[1:]))
    profile_idc, constraints, level_idc = bits.u(8), bits.u(8), bits.u(8)
    if profile_idc not in PROFILES:
        raise SpsError(f"profile_idc {profile_idc} is left to MediaInfo")
    bits.ue()  # seq_parameter_set_id
    chroma_format_idc, separate_planes, depth_luma, depth_chroma = 1, False, 8, 8
    if profile_idc in _HIGH:
        chroma_format_idc = bits.ue()
        if chroma_format_idc == 3:
            separate_planes = bits.flag()
        depth_luma, depth_chroma = bits.ue() + 8, bits.ue() + 8
        bits.flag()  # qpprime_y_zero_transform_bypass_flag
        if bits.flag():  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format_idc != 3 else 12):
                if bits.flag():
                    _skip_scaling_list(bits, 16 if i < 6 else 64)
    if chroma_format_idc > 3 or max(depth_luma, depth_chroma) > 14:
        raise SpsError("chroma_format_idc or bit depth out of range")
    log2_max_frame_num = bits.ue() + 4
    if log2_max_frame_num > 16:
        raise SpsError(f"log2_max_frame_num {log2_max_frame_num} is out of range")
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.flag()
        bits.se()
        bits.se()
        for _ in range(min(bits.ue(), 255)):
            bits.se()
    ref_frames = bits.ue()  # max_num_ref_frames
    bits.flag()  # gaps_in_frame_num_value_allowed_flag
    width_mbs, height_units = bits.ue() + 1, bits.ue() + 1
    frame_mbs_only = bits.flag()
    if not frame_mbs_only:
        bits.flag()  # mb_adaptive_frame_field_flag
    bits.flag()  # direct_8x8_inference_flag
    crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue()) if bits.flag() else (0, 0, 0, 0)
    chroma_type = 0 if separate_planes else chroma_format_idc
    unit_x = _SUB_WIDTH[chroma_type]
    unit_y = _SUB_HEIGHT[chroma_type] * (2 - frame_mbs_only)
    width = width_mbs * 16 - (crop[0] + crop[1]) * unit_x
    height = height_units * 16 * (2 - frame_mbs_only) - (crop[2] + crop[3]) * unit_y
    if width <= 0 or height <= 0:
        # The cropping leaves no picture: mp4_native divided by this width (found by fuzzing).
        raise SpsError(f"the cropped frame is {width}x{height}")
    sar, transfer, pic_struct, hrd, reorder = None, None, False, False, None
    if bits.flag():  # vui_parameters_present_flag
        sar, transfer, pic_struct, hrd = _vui(bits)
        reorder = None if hrd else _reorder(bits)
    return Sps(
        profile_idc, constraints, level_idc, chroma_format_idc, depth_luma, depth_chroma,
        width, height, frame_mbs_only, sar, transfer, pic_struct, hrd,
        log2_max_frame_num, ref_frames, separate_planes, reorder,
    )  # fmt: skip


def _reorder(bits: _Bits) -> int | None:
    """max_num_reorder_frames, read after pic_struct_present_flag (None: not given, or
    the VUI ends early, which older readers never looked at)."""
    try:
        if not bits.flag():  # bitstream_restriction_flag
            return None
        bits.flag()  # motion_vectors_over_pic_boundaries_flag
        for _ in range(4):  # max_bytes_per_pic_denom .. log2_max_mv_length_vertical
            bits.ue()
        return bits.ue()
    except SpsError:
        return None


def _vui(bits: _Bits) -> tuple[tuple[int, int] | None, int | None, bool, bool]:
    """(sample aspect ratio, transfer characteristics, pic_struct_present, HRD present)."""
    sar = None
    if bits.flag():  # aspect_ratio_info_present_flag
        idc = bits.u(8)
        if idc == 255:
            sar = (bits.u(16), bits.u(16))
        elif 1 <= idc <= len(_SAR):
            sar = _SAR[idc - 1]
    if bits.flag():  # overscan_info_present_flag
        bits.flag()
    transfer = None
    if bits.flag():  # video_signal_type_present_flag
        bits.u(4)  # video_format, video_full_range_flag
        if bits.flag():  # colour_description_present_flag
            bits.u(8)
            transfer = bits.u(8)
            bits.u(8)
    if bits.flag():  # chroma_loc_info_present_flag
        bits.ue()
        bits.ue()
    if bits.flag():  # timing_info_present_flag
        bits.u(32)
        bits.u(32)
        bits.flag()
    nal_hrd = bits.flag()
    sar = sar if sar and sar[0] and sar[1] else None
    if nal_hrd or bits.flag():  # NAL or VCL HRD parameters: left to MediaInfo, not read
        return sar, transfer, False, True
    return sar, transfer, bits.flag(), False


def nal_units(sample: bytes, length_size: int) -> list[bytes]:
    """The NAL units of one length-prefixed sample (ISO 14496-15), as far as it is whole."""
    units, pos = [], 0
    while pos + length_size <= len(sample):
        size = int.from_bytes(sample[pos : pos + length_size], "big")
        pos += length_size
        if size == 0 or pos + size > len(sample):
            break
        units.append(sample[pos : pos + size])
        pos += size
    return units


def sei_payload_types(nal: bytes) -> list[int]:
    """The payload types of one SEI NAL unit (7.3.2.3)."""
    data, pos, types = unescape(nal[1:]), 0, []
    while pos < len(data) and data[pos] != 0x80:  # rbsp_trailing_bits
        kind, pos = _sei_number(data, pos)
        size, pos = _sei_number(data, pos)
        if pos > len(data):
            break
        types.append(kind)
        pos += size
    return types


def _sei_number(data: bytes, pos: int) -> tuple[int, int]:
    """A payload type or size: 0xFF bytes adding 255 each, then the last byte."""
    value = 0
    while pos < len(data) and data[pos] == 0xFF:
        value, pos = value + 255, pos + 1
    if pos >= len(data):
        return value, len(data) + 1
    return value + data[pos], pos + 1
