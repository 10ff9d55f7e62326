"""SARIF 2.1.0 for code scanning: one rule per catalog code, one result per finding.

GitHub code scanning (and any SARIF viewer) shows a result next to the file it
names, so every result carries the path as CI matches it (`locate.ci_path`:
relative to the repository's root in GitHub Actions and GitLab CI, else to the
working directory; percent-encoded as a URI reference, under `%SRCROOT%`), a
whole-file region, and a stable `primaryLocationLineHash`, the one fingerprint
code scanning reads, so that a re-run does not open duplicate alerts. (upload-sarif
still reads each file to hash its first line, but keeps the hash it finds.) An
object elsewhere (`s3://`, a URL) is a logical location: code scanning refuses an
upload with a location URI whose scheme is not the checkout's `file`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from igpreflight._version import SPEC_VERSION, __version__
from igpreflight.catalog import RULES, RuleInfo
from igpreflight.model import Finding, Report, Severity
from igpreflight.report.locate import ci_path, ci_root, post_path
from igpreflight.report.per_file import by_path, findings_with_roles
from igpreflight.textcheck import printable

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://pypi.org/project/igpreflight/"
FINGERPRINT_KEY = "igpreflightFinding/v1"
SRCROOT = "%SRCROOT%"

LEVEL: dict[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
}

_KIND_TAG = {"IMG": "image", "VID": "video", "POST": "post", "URL": "url", "QUOTA": "quota"}


def render(report: Report) -> str:
    return printable(json.dumps(build(report), indent=2, ensure_ascii=False)) + "\n"


# GitHub code scanning rejects a whole upload whose run has more results than this
# ("Analysis SARIF file rejected due to result limits"; it shows the 5,000 most severe).
MAX_RESULTS = 25_000
_RANK = {"error": 0, "warning": 1, "note": 2}


def build(report: Report, max_results: int = MAX_RESULTS) -> dict[str, Any]:
    """The SARIF log as a dict (a single run). Past `max_results`, the most severe
    results are kept (in report order within a level) and a tool notification says
    how many were left out: a content archive of 30,000 PNGs would otherwise have
    had its upload refused, and the Action's step failed, for warnings."""
    rules = list(RULES.values())
    index = {r.code: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for path, files in by_path(report.files).items():  # a finding of several roles once
        kind = files[0].kind.value
        for f, roles in findings_with_roles(files):  # `as` keeps two alerts of a rule apart
            results.append(_result(f, index, path, {"kind": kind, "as": roles}))
    for post in report.posts:
        where = post_path(post)
        for f in post.findings:
            results.append(
                _result(
                    f,
                    index,
                    where,
                    {"post": post.post.id, "media_type": post.post.media_type},
                    prefix=f"post {post.post.id}: ",
                    logical=post.post.id,
                )
            )
    run: dict[str, Any] = {}
    if len(results) > max_results:
        run["invocations"] = [_left_out(results, max_results)]
        results = sorted(results, key=lambda r: _RANK[r["level"]])[:max_results]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                **run,
                "tool": {
                    "driver": {
                        "name": "igpreflight",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(r, report.profiles) for r in rules],
                        "properties": {"spec": SPEC_VERSION},
                    }
                },
                "originalUriBaseIds": _original_uri_base_ids(),
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _left_out(results: list[dict[str, Any]], kept: int) -> dict[str, Any]:
    """The invocation that says how many results a capped run leaves out."""
    levels = [r["level"] for r in sorted(results, key=lambda r: _RANK[r["level"]])[kept:]]
    counts = ", ".join(f"{levels.count(lv)} {lv}" for lv in _RANK if lv in levels)
    text = (
        f"{len(results) - kept} of {len(results)} results left out ({counts}): GitHub code "
        f"scanning refuses a run of more than {MAX_RESULTS:,}; the JSON, JUnit and text "
        "reports list them all"
    )
    return {
        "executionSuccessful": True,
        "toolExecutionNotifications": [{"level": "warning", "message": {"text": text}}],
    }


def _rule(info: RuleInfo, profiles: tuple[Any, ...] = ()) -> dict[str, Any]:
    graph = _graph_text(info.graph_code, info.graph_subcode)
    full = info.summary[:1].upper() + info.summary[1:] + "."
    if graph:
        full += f" Instagram rejects a violation with Graph error {graph}."
    if info.fix_hint:
        action = "`igpreflight fix`" if info.fixable else "You"
        verb = ":" if info.fixable else " must:"
        help_text = f"{full}\n{'Fix' if info.fixable else 'To do'}: {info.fix_hint}."
        help_md = f"{full}\n\n{action}{verb} {info.fix_hint}."
    else:
        help_text = help_md = full
    tags = [_KIND_TAG.get(re.sub(r"\d+$", "", info.code), "file")]
    if info.fixable:
        tags.append("fixable")
    properties: dict[str, Any] = {
        "tags": tags,
        "graphCode": info.graph_code,
        "graphSubcode": info.graph_subcode,
        "fixable": info.fixable,
    }
    if profiles and info.limits:  # each profile's value of what the rule reads (SPEC 12)
        from igpreflight.preflight.profile_values import rule_values

        properties["profiles"] = {p.name: rule_values(info, p) for p in profiles}
    return {
        "id": info.code,
        "name": _slug(info.summary),
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": LEVEL[info.severity]},
        "properties": properties,
    }


def _result(
    f: Finding,
    index: dict[str, int],
    path: str,
    props: dict[str, Any],
    *,
    prefix: str = "",
    logical: str | None = None,
) -> dict[str, Any]:
    path = ci_path(path)  # the URI and the fingerprint name the file as the repository does
    location = _location(path)
    if logical is not None:
        location.setdefault("logicalLocations", []).append({"name": logical, "kind": "post"})
    if f.profile is not None:  # one alert per profile whose limit failed
        props = {**props, "profile": f.profile}
    fingerprint = _fingerprint(f.rule, path, props)
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "level": LEVEL[f.severity],
        "message": {"text": prefix + f.tagged_message},
        "locations": [location],
        # Code scanning keys an alert on primaryLocationLineHash alone; left out, upload-sarif
        # hashed line 1 of the image or video, alike for every result in one file, so a
        # second finding of a rule (another profile, another role) merged into the first.
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprint,
            "primaryLocationLineHash": f"{fingerprint[:16]}:1",
        },
        "properties": {
            **props,
            "fixable": f.fixable,
            "graphCode": f.code,
            "graphSubcode": f.subcode,
        },
    }
    if f.rule in index:  # a rule missing from the catalog is still reported, without an index
        result["ruleIndex"] = index[f.rule]
    return result


def _location(path: str) -> dict[str, Any]:
    """Where a result is: a file of the repository, relative to `%SRCROOT%`, or an
    object elsewhere (`s3://`, `https://`) named as a logical location only, since
    code scanning refuses a whole upload with a location whose URI scheme is not the
    checkout's (`file`): one S3 finding failed the upload of every other."""
    uri = path_to_uri(path)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", uri) and not uri.startswith("file:"):
        return {"logicalLocations": [{"fullyQualifiedName": path, "kind": "resource"}]}
    artifact = {"uri": uri} if uri.startswith("file:") else {"uri": uri, "uriBaseId": SRCROOT}
    return {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": 1}}}


def _original_uri_base_ids() -> dict[str, Any]:
    """What `%SRCROOT%` stands for (SARIF wants it for relative URIs): the folder CI
    names files from, so a viewer opening the log elsewhere still finds them."""
    root = ci_root().as_uri()
    return {
        SRCROOT: {
            "uri": root if root.endswith("/") else root + "/",
            "description": {"text": "The repository's root."},
        }
    }


def path_to_uri(path: str) -> str:
    """A path as a URI reference: relative stays relative, absolute becomes file://.

    Backslashes of Windows paths become slashes; everything outside the URI
    unreserved set (spaces, '#', '%', '?', non-ASCII) is percent-encoded.
    """
    if path[:5].lower() == "s3://":  # an object key may hold spaces and unicode
        return "s3://" + quote(_name_bytes(path[5:]), safe="/")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path):  # already a URL (manifest media)
        return path
    pure: PurePath
    if os.sep == "\\" or re.match(r"^[a-zA-Z]:[\\/]", path):
        pure = PureWindowsPath(path)
    else:
        pure = PurePosixPath(path)
    if pure.is_absolute():
        return pure.as_uri()
    return quote(_name_bytes(pure.as_posix()), safe="/")


def _name_bytes(name: str) -> bytes:
    """A name's bytes, to percent-encode: a file name that is not UTF-8 reaches us
    with lone surrogates (os.fsdecode), which `quote` cannot encode, and the whole
    SARIF report was an internal error; its URI now has the name's own bytes
    (`bad%FF.webp`), as a file URI does. Other lone surrogates go as their escape."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return printable(name).encode("utf-8")


def _fingerprint(rule: str, path: str, props: dict[str, Any]) -> str:
    key = json.dumps([rule, path, sorted(props.items())], default=str)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _graph_text(code: int | None, subcode: int | None) -> str:
    parts = [str(c) for c in (code, subcode) if c is not None]
    return "/".join(parts)


def _slug(summary: str) -> str:
    """A rule name viewers can filter on: the summary's words and numbers in kebab case."""
    words = re.findall(r"[A-Za-z]+|\d+", re.sub(r"(?<=\d),(?=\d)", "", summary.lower()))
    name = ""
    for w in words:
        if len(name) + len(w) + 1 > 60:
            break
        name = f"{name}-{w}" if name else w
    return name or "rule"
