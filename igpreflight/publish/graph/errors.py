"""Graph errors as values: every failure of a call (an error body, an HTTP 5xx, a
lost connection) is one `GraphError` whose class comes from the error table, and the
usage headers of an answer say how long a rate limit lasts.

`uncertain` is the protocol's word: a call that may have taken effect although no
answer says so (docs/publishing.md). Messages are redacted here, the first of the
output boundaries a token meets.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from igpreflight.publish.graph.table import ErrorClass, classify, lookup_graph_error
from igpreflight.redaction import redact

if TYPE_CHECKING:
    import httpx


# --- usage headers -----------------------------------------------------------------------

# The longest wait a header is believed for: Meta's rate-limit windows are an hour (app)
# to a day (business use case, the publishing limit). A header asking for more (or for
# `inf`, or 1e12 minutes) is read as a day, so a held post's "tried again at" stays a
# real date and a worker looks again tomorrow instead of never.
MAX_HEADER_WAIT = 86400.0


@dataclass(frozen=True)
class Usage:
    """What the rate-limit headers of one response say (percentages and seconds)."""

    app_pct: float = 0.0  # X-App-Usage: the highest of call_count / total_time / total_cputime
    business_pct: float = 0.0  # X-Business-Use-Case-Usage, highest over all entries
    regain_seconds: float = 0.0  # estimated_time_to_regain_access (minutes in the header)
    retry_after: float | None = None  # Retry-After header, seconds

    @property
    def wait_seconds(self) -> float | None:
        """How long the headers ask us to wait, or None when they do not say."""
        if self.regain_seconds > 0:
            return self.regain_seconds
        if self.retry_after is not None and self.retry_after > 0:
            return self.retry_after
        return None

    @property
    def exhausted(self) -> bool:
        return max(self.app_pct, self.business_pct) >= 100 or self.regain_seconds > 0

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Usage:
        app = _json_header(headers, "x-app-usage")
        app_pct = _max_pct(app) if isinstance(app, dict) else 0.0
        buc = _json_header(headers, "x-business-use-case-usage")
        business_pct, regain = 0.0, 0.0
        if isinstance(buc, dict):
            for entries in buc.values():
                for entry in entries if isinstance(entries, list) else [entries]:
                    if not isinstance(entry, dict):
                        continue
                    business_pct = max(business_pct, _max_pct(entry))
                    regain = max(regain, 60.0 * _num(entry.get("estimated_time_to_regain_access")))
        retry_after = None
        raw = headers.get("retry-after")
        if raw is not None:
            try:
                retry_after = _wait(float(raw))
            except ValueError:  # an HTTP date, or no number: the default wait applies
                retry_after = None
        return cls(app_pct, business_pct, _wait(regain), retry_after)


def _wait(seconds: float) -> float:
    """A wait a header asked for, within [0, MAX_HEADER_WAIT] (NaN: no wait asked)."""
    return min(max(seconds, 0.0), MAX_HEADER_WAIT) if not math.isnan(seconds) else 0.0


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _num(value: Any) -> float:
    try:
        n = float(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return 0.0 if math.isnan(n) else n  # inf stays: _wait caps it


def _max_pct(entry: dict[str, Any]) -> float:
    return max(
        (
            _num(entry.get(k))
            for k in ("call_count", "total_time", "total_cputime", "acc_id_util_pct")
        ),
        default=0.0,
    )


# --- errors ------------------------------------------------------------------------------


@dataclass
class GraphError(Exception):
    """Any failed Graph call: an error body, an HTTP error or a network failure.

    `uncertain` is True when the request may have taken effect although no
    answer says so (a time-out after sending, a dropped connection, a 5xx):
    the publisher must look before it repeats a media_publish.
    """

    http_status: int | None
    code: int | None
    subcode: int | None
    is_transient: bool
    message: str
    fbtrace_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error_type: str | None = None
    user_message: str | None = None
    uncertain: bool = False
    network: bool = False

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def error_class(self) -> ErrorClass:
        if self.network:
            return ErrorClass.RETRY_SAME
        return classify(
            self.code, self.subcode, is_transient=self.is_transient, http_status=self.http_status
        )

    @property
    def usage(self) -> Usage:
        return Usage.from_headers(self.headers)

    @property
    def rule(self) -> str | None:
        info = lookup_graph_error(self.code, self.subcode)
        return info.rule if info else None

    @property
    def code_text(self) -> str:
        """`190/463`, `4`, or `HTTP 502` / `network` when Graph gave no code."""
        if self.code is None and self.subcode is None:
            return f"HTTP {self.http_status}" if self.http_status else "network"
        if self.subcode is None:
            return str(self.code)
        return f"{self.code if self.code is not None else '-'}/{self.subcode}"

    def log_fields(self) -> dict[str, Any]:
        return {
            "http_status": self.http_status,
            "code": self.code,
            "subcode": self.subcode,
            "is_transient": self.is_transient,
            "graph_message": self.message,
            "fbtrace_id": self.fbtrace_id,
            "error_class": self.error_class.value,
        }

    def __str__(self) -> str:
        return f"{self.code_text}: {self.message}"


def error_from_response(resp: httpx.Response) -> GraphError:
    headers = {k.lower(): v for k, v in resp.headers.items()}
    try:
        body = resp.json()
    except ValueError:
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return GraphError(
            http_status=resp.status_code,
            code=None,
            subcode=None,
            is_transient=resp.status_code >= 500,
            message=redact(not_graph(resp.text, headers, resp.reason_phrase)),
            headers=headers,
            uncertain=resp.status_code >= 500,
        )
    code = _int_or_none(err.get("code"))
    return GraphError(
        http_status=resp.status_code,
        code=code,
        subcode=_int_or_none(err.get("error_subcode")),
        is_transient=bool(err.get("is_transient", False)),
        message=redact(str(err.get("message", "")) or f"HTTP {resp.status_code}"),
        fbtrace_id=err.get("fbtrace_id"),
        headers=headers,
        error_type=err.get("type"),
        user_message=redact(str(err["error_user_msg"])) if err.get("error_user_msg") else None,
        # A 5xx whose body carries no known error may still have done its work.
        uncertain=resp.status_code >= 500 and lookup_graph_error(code, None) is None,
    )


_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def not_graph(text: str, headers: Mapping[str, str], reason: str = "") -> str:
    """One line for an answer that is not a Graph error body: what the edge or a proxy
    sent (an HTML page's title or text, an empty body), so the message says where it
    came from instead of quoting markup. `code_text` already gives the HTTP status."""
    kind = headers.get("content-type", "").split(";")[0].strip()
    raw = text.strip()
    if not raw:
        return f"an empty answer{f' ({reason})' if reason else ''}"
    if "html" in kind or raw.lower().startswith(("<!doctype", "<html")):
        m = _TITLE.search(raw)
        words = " ".join(_TAG.sub(" ", m.group(1) if m else raw).split())
        return f"an HTML page, not a Graph answer: {words[:120] or reason}"
    return f"not a Graph answer: {' '.join(raw.split())[:120]}"


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


_SUBCODE_IN_STATUS = re.compile(r"\b(2207\d{3})\b")


def subcode_from_status(status: str) -> int | None:
    """The subcode a container's `status` names on ERROR ("Error: ... 2207053")."""
    m = _SUBCODE_IN_STATUS.search(status or "")
    return int(m.group(1)) if m else None


def container_status_error(container_id: str, code: str, status: str) -> GraphError:
    """A container that ended EXPIRED or ERROR, as the Graph error it stands for, so
    its class (recreate, fix-media...) is decided like any other error's."""
    if code == "EXPIRED":
        return GraphError(None, -2, 2207020, False, f"container {container_id} EXPIRED")
    sub = subcode_from_status(status)
    info = lookup_graph_error(None, sub) if sub is not None else None
    return GraphError(
        None,
        info.code if info else None,
        sub,
        False,
        f"container {container_id} ERROR: {status or 'no detail'}",
    )
