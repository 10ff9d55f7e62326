"""Post manifests (SPEC section 5): TOML or JSON -> Post objects.

A manifest describes posts the way the Graph API will receive them. Media paths
are relative to the manifest and may not leave its folder; a path that tries is
kept as an item with a `problem`, which the engine reports as FILE001 for that
media while the rest of the batch is still checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

from igpreflight.boundedread import MB, InputError, read_bounded
from igpreflight.model import MediaItem, Post, Tag
from igpreflight.preflight.manifest_text import manifest_text, read_stdin
from igpreflight.preflight.rfc3339 import format_rfc3339, parse_rfc3339
from igpreflight.textcheck import describe, invalid_chars

POST_KEYS = {
    "id",
    "media_type",
    "caption",
    "media",
    "thumb_offset",
    "cover",
    "share_to_feed",
    "collaborators",
    "alt_text",
    "location_id",
    "user_tags",
    "product_tags",
    "audio_name",
    "account",
    "publish_at",
}
# Tens of thousands of posts; a bound, so /dev/zero or an endless pipe is an error.
MAX_MANIFEST_MB = 16
MAX_MANIFEST_BYTES = MAX_MANIFEST_MB * MB
# Both parsers recurse once a nesting level: 100,000 "[" were an internal error
# (RecursionError) until said as the manifest's fault (found by fuzzing).
TOO_DEEP = "arrays or tables nested too deeply (a manifest nests four levels)"
MEDIA_KEYS = {"path", "url", "media_type", "user_tags", "product_tags", "alt_text", "caption"}


class ManifestError(ValueError):
    """The manifest as a whole cannot be used (syntax, shape); a usage error, exit 2."""


def load_manifest(source: str | os.PathLike[str]) -> list[Post]:
    """Read a manifest file, or JSON from stdin when `source` is "-" (at most 16 MB:
    a device or an endless pipe is a ManifestError, never an endless read)."""
    if str(source) == "-":
        try:
            text = read_stdin(MAX_MANIFEST_BYTES)
        except InputError as exc:
            raise ManifestError(str(exc)) from None
        return parse_manifest(_parse_json(text, "stdin"), base=Path.cwd())
    path = Path(source)
    try:
        text = manifest_text(read_bounded(path, MAX_MANIFEST_BYTES, "manifest"), str(path))
    except InputError as exc:
        raise ManifestError(str(exc)) from None
    if path.suffix.lower() == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ManifestError(f"{path}: invalid TOML: {exc}") from exc
        except RecursionError:
            raise ManifestError(f"{path}: invalid TOML: {TOO_DEEP}") from None
    else:
        data = _parse_json(text, str(path))
    posts = parse_manifest(
        data, base=path.resolve().parent, shown_base=os.path.dirname(str(source))
    )
    return [replace(p, source=str(source)) for p in posts]


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ManifestError(f"{where}: invalid JSON: {TOO_DEEP}") from None
    except json.JSONDecodeError as exc:
        # A writer that stopped (or was stopped) early: the text ends in the middle of
        # a value or a string, which the parser words as if a character were wrong.
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise ManifestError(
                f"{where}: the JSON ends before it is complete (after {len(text)} "
                "characters); was it cut short?"
            ) from exc
        raise ManifestError(f"{where}: invalid JSON: {exc}") from exc


def parse_manifest(data: Any, base: Path, shown_base: str = "") -> list[Post]:
    """Turn parsed TOML/JSON into posts. Accepts {"post": [...]}, {"posts": [...]} or [...]."""
    if isinstance(data, Mapping):
        entries = data.get("post", data.get("posts"))
        if entries is None:
            raise ManifestError('manifest has no "post" list')
    else:
        entries = data
    if not isinstance(entries, list) or not entries:
        raise ManifestError('manifest "post" must be a non-empty list of posts')
    posts = [_parse_post(entry, i, base, shown_base) for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for post in posts:
        if post.id in seen:
            raise ManifestError(f"post id {post.id!r} is used twice; ids are journal keys")
        seen.add(post.id)
    return posts


def _parse_post(entry: Any, index: int, base: Path, shown_base: str = "") -> Post:
    where = f"post #{index + 1}"
    if not isinstance(entry, Mapping):
        raise ManifestError(f"{where}: must be a table/object")
    unknown = set(entry) - POST_KEYS
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    media_raw = entry.get("media")
    if isinstance(media_raw, (str, Mapping)):
        media_raw = [media_raw]
    if not isinstance(media_raw, list) or not media_raw:
        raise ManifestError(f"{where}: 'media' must list at least one file or URL")
    media = tuple(
        _parse_media(m, f"{where} media #{i + 1}", base, shown_base)
        for i, m in enumerate(media_raw)
    )
    media_type = entry.get("media_type")
    if media_type is not None and not isinstance(media_type, str):
        raise ManifestError(f"{where}: media_type must be a string")
    cover = entry.get("cover")
    post_id = entry.get("id")
    if post_id is None:
        post_id = (
            "post-"
            + hashlib.sha256(json.dumps(entry, sort_keys=True, default=str).encode()).hexdigest()[
                :12
            ]
        )
    return Post(
        id=str(post_id),
        media_type=(media_type or "").upper(),
        media=media,
        caption=_opt_str(entry, "caption", where),
        thumb_offset=_opt_int(entry, "thumb_offset", where),
        cover=_parse_media(cover, f"{where} cover", base, shown_base)
        if cover is not None
        else None,
        share_to_feed=_opt_bool(entry, "share_to_feed", where),
        collaborators=tuple(_str_list(entry.get("collaborators", []), f"{where} collaborators")),
        alt_text=_opt_str(entry, "alt_text", where),
        location_id=None if entry.get("location_id") is None else str(entry["location_id"]),
        user_tags=_parse_tags(entry.get("user_tags", []), f"{where} user_tags"),
        product_tags=_parse_tags(entry.get("product_tags", []), f"{where} product_tags"),
        media_type_given=bool(media_type),
        extra={
            **{k: entry[k] for k in ("audio_name",) if k in entry},
            **_scheduling(entry, where),
        },
    )


def _scheduling(entry: Mapping[str, Any], where: str) -> dict[str, str]:
    """`account` (a name from the accounts file) and `publish_at` (RFC 3339, kept as
    normalized UTC text so a written manifest reads back the same)."""
    out: dict[str, str] = {}
    if entry.get("account") is not None:
        if not isinstance(entry["account"], str) or not entry["account"].strip():
            raise ManifestError(f"{where}: account must be an account name")
        out["account"] = entry["account"].strip()
    if entry.get("publish_at") is not None:
        try:
            epoch = parse_rfc3339(entry["publish_at"], f"{where}: publish_at")
        except ValueError as exc:
            raise ManifestError(str(exc)) from None
        out["publish_at"] = format_rfc3339(epoch)
    return out


def _parse_media(raw: Any, where: str, base: Path, shown_base: str = "") -> MediaItem:
    if isinstance(raw, str):
        raw = {"url": raw} if _is_url(raw) else {"path": raw}
    if not isinstance(raw, Mapping):
        raise ManifestError(f"{where}: must be a path, a URL or a table")
    unknown = set(raw) - MEDIA_KEYS
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    url = raw.get("url")
    path = raw.get("path")
    if isinstance(path, str) and _is_url(path):
        url, path = path, None
    if (url is None) == (path is None):
        raise ManifestError(f"{where}: give exactly one of 'path' or 'url'")
    common = {
        "media_type": (raw.get("media_type") or None) and str(raw["media_type"]).upper(),
        "user_tags": _parse_tags(raw.get("user_tags", []), f"{where} user_tags"),
        "product_tags": _parse_tags(raw.get("product_tags", []), f"{where} product_tags"),
        "alt_text": _opt_str(raw, "alt_text", where),
        "caption": _opt_str(raw, "caption", where),
    }
    if url is not None:
        url = str(url)
        return MediaItem(path=url, resolved="", url=url, problem=_unusable(url, "URL"), **common)
    if not isinstance(path, str) or not path:
        raise ManifestError(f"{where}: 'path' must be a non-empty string")
    resolved, problem = (
        ("", _unusable(path, "path")) if invalid_chars(path) else confine(path, base)
    )
    display = os.path.normpath(os.path.join(shown_base, path)) if shown_base else ""
    return MediaItem(path=path, resolved=resolved, problem=problem, display=display, **common)


def _unusable(reference: str, what: str) -> str | None:
    """Why a path or URL holding a lone surrogate or NUL names nothing (FILE001 for
    that media, while the rest of the batch goes on); None when it has neither."""
    bad = invalid_chars(reference)
    if not bad:
        return None
    position, char = bad[0]
    return f"the {what} holds {describe(char)} at character {position + 1}; it names no file"


def confine(path: str, base: Path) -> tuple[str, str | None]:
    """Resolve a manifest path inside `base`; refuse absolute paths and `..` escapes."""
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute():
        return "", f"absolute path {path!r} refused: media paths are relative to the manifest"
    candidate = (base / path).resolve()
    try:
        candidate.relative_to(base.resolve())
    except ValueError:
        return "", f"path {path!r} leaves the manifest's folder"
    if not candidate.is_file():
        return str(candidate), f"no such file: {path}"
    return str(candidate), None


def _is_url(text: str) -> bool:
    """Any `scheme://...` is a URL (ftp:// too: reported as such, not as a missing file)."""
    scheme, sep, _ = text.partition("://")
    return (
        bool(sep and scheme.isascii())
        and scheme[:1].isalpha()
        and all(ch.isalnum() or ch in "+.-" for ch in scheme)
    )


def _parse_tags(raw: Any, where: str) -> tuple[Tag, ...]:
    if not isinstance(raw, list):
        raise ManifestError(f"{where}: must be a list")
    tags = []
    for i, tag in enumerate(raw):
        if not isinstance(tag, Mapping):
            raise ManifestError(f"{where} #{i + 1}: must be a table/object")
        try:
            tags.append(
                Tag(
                    username=None if tag.get("username") is None else str(tag["username"]),
                    product_id=None if tag.get("product_id") is None else str(tag["product_id"]),
                    x=None if tag.get("x") is None else float(tag["x"]),
                    y=None if tag.get("y") is None else float(tag["y"]),
                )
            )
        except (TypeError, ValueError) as exc:
            raise ManifestError(f"{where} #{i + 1}: x and y must be numbers") from exc
    return tuple(tags)


def _opt_str(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise ManifestError(f"{where}: {key} must be a string")
    return value


def _opt_int(entry: Mapping[str, Any], key: str, where: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ManifestError(f"{where}: {key} must be a number (milliseconds)")
    return int(value)


def _opt_bool(entry: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, bool):
        raise ManifestError(f"{where}: {key} must be true or false")
    return value


def _str_list(raw: Any, where: str) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ManifestError(f"{where}: must be a list of strings")
    return list(raw)


def dump_posts(posts: list[Post], base: Path) -> dict[str, Any]:
    """Posts -> the manifest shape (JSON), media paths relative to `base`.

    `run` writes the posts of fixed media this way and hands them to `publish`,
    so the two commands share one manifest format and one journal key (post id).
    """

    def tags(items: tuple[Tag, ...]) -> list[dict[str, Any]]:
        keys = ("username", "product_id", "x", "y")
        return [{k: getattr(t, k) for k in keys if getattr(t, k) is not None} for t in items]

    def media(item: MediaItem) -> dict[str, Any]:
        out: dict[str, Any] = (
            {"url": item.url}
            if item.url
            else {"path": os.path.relpath(item.resolved, base).replace(os.sep, "/")}
        )
        for key in ("media_type", "alt_text", "caption"):
            if getattr(item, key):
                out[key] = getattr(item, key)
        for key in ("user_tags", "product_tags"):
            if getattr(item, key):
                out[key] = tags(getattr(item, key))
        return out

    entries = []
    for post in posts:
        entry: dict[str, Any] = {"id": post.id, "media": [media(m) for m in post.media]}
        if post.media_type:
            entry["media_type"] = post.media_type
        for key in ("caption", "thumb_offset", "share_to_feed", "alt_text", "location_id"):
            if getattr(post, key) is not None:
                entry[key] = getattr(post, key)
        if post.cover is not None:
            entry["cover"] = media(post.cover)
        if post.collaborators:
            entry["collaborators"] = list(post.collaborators)
        for key in ("user_tags", "product_tags"):
            if getattr(post, key):
                entry[key] = tags(getattr(post, key))
        entry.update(post.extra)
        entries.append(entry)
    return {"post": entries}
