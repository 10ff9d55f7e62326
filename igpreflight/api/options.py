"""The options a front end parses before it calls `check`, `fix` or `upload`, as the
API takes them.

The commands (and any other caller) turn text into these values here, so a bad value
is refused while the options are read, with the same message the library would give:
a role (`AsOption`), an engine (`EngineSpec`), a shard ("3/10"), a memory budget
("512M"), a colour ("white", "#rrggbb"), an s3:// URI, the media extensions a folder
walk takes, and where the S3 storage is
(`--endpoint-url`, `--region`: for every s3:// path of the process). Each parser
loads its module only when it is called: `check FILE` pays for none of fix's, nor
for the S3 layer.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from igpreflight.model import AsOption

if TYPE_CHECKING:
    from igpreflight.scale.shard import Shard
    from igpreflight.scale.spec import EngineSpec

__all__ = [
    "S3_OPTIONS",
    "AsOption",
    "EngineSpec",
    "Shard",
    "check_s3_uri",
    "engine_spec",
    "is_s3",
    "media_extensions",
    "parse_colour",
    "parse_memory",
    "parse_shard",
    "set_s3_option",
]

S3_OPTIONS = ("endpoint_url", "region")
_S3 = "igpreflight.storage.s3"


def engine_spec(kind: str, workers: int | None = None, scheduler: str | None = None) -> EngineSpec:
    """`--engine`, `--workers` and `--scheduler` as one EngineSpec; ValueError when they
    do not go together (a scheduler without dask, an unknown engine)."""
    from igpreflight.scale.spec import EngineSpec

    return EngineSpec(kind, workers, scheduler)


def parse_shard(text: str) -> Shard:
    """A shard as `--shard` gives it, "I/N" (0-based): the Shard that owns one Nth of
    the files; ValueError otherwise."""
    from igpreflight.scale.shard import Shard

    return Shard.parse(text)


def parse_memory(text: str) -> int:
    """A memory budget ("1G", "512M", "1.5GB", a number of bytes) in bytes; ValueError
    otherwise."""
    from igpreflight.transcode.option_text import parse_memory

    return parse_memory(text)


def parse_colour(text: str) -> tuple[int, int, int]:
    """A colour name or #rrggbb as RGB; ValueError otherwise."""
    from igpreflight.transcode.option_text import parse_colour

    return parse_colour(text)


def is_s3(text: str) -> bool:
    """True for an s3:// URI (any case of the scheme): a path the S3 layer reads."""
    from igpreflight.storage.scheme import is_s3

    return is_s3(text)


def media_extensions() -> frozenset[str]:
    """Every extension a folder walk takes (lower case, no dot): what a front end
    that is handed file names (the pre-commit hook) keeps."""
    from igpreflight.formats import media_extensions

    return media_extensions()


def check_s3_uri(text: str) -> str:
    """`text` when it is a well-formed s3://bucket/key URI; ValueError saying what is
    wrong otherwise."""
    from igpreflight.storage.s3uri import S3Uri

    S3Uri.parse(text)
    return text


def set_s3_option(name: str, value: str | None) -> None:
    """Set this process's S3 `endpoint_url` or `region` to `value` (None or "" clears
    it). Clearing while the S3 layer is not loaded does nothing (there is no earlier
    value to clear), so a local run never loads it."""
    if name not in S3_OPTIONS:
        raise ValueError(f"an S3 option is one of {', '.join(S3_OPTIONS)}, not {name!r}")
    if not value and _S3 not in sys.modules:
        return
    from igpreflight.storage.s3 import S3Settings, configure, current_settings

    configure(S3Settings(**{**current_settings().__dict__, name: value or None}))


def __getattr__(name: str) -> Any:
    """EngineSpec and Shard, for a caller that builds them itself, loaded on first use."""
    if name == "EngineSpec":
        from igpreflight.scale.spec import EngineSpec

        return EngineSpec
    if name == "Shard":
        from igpreflight.scale.shard import Shard

        return Shard
    raise AttributeError(name)
