"""A thin Graph API client: one place that knows URLs, auth, time-outs and error shapes.

The publisher decides what to do about an error; this module only turns every
failure (an error body, an HTTP 5xx, a lost connection) into one `GraphError`
whose class comes from `catalog.classify`, and parses the usage headers that
say how long a rate limit lasts.

The token travels in the `Authorization: Bearer` header, which both
graph.facebook.com and graph.instagram.com accept; never in the URL, so it
cannot leak into proxy logs, httpx's request log or an error message. Pass
`token_in_query=True` for a host that insists on the `access_token` parameter.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from igpreflight._version import __version__
from igpreflight.catalog import ErrorClass, classify, lookup_graph_error
from igpreflight.redaction import REDACTED, redact, register_secret

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v25.0"

log = logging.getLogger("igpreflight.graph")


# --- usage headers -----------------------------------------------------------------------


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
                retry_after = float(raw)
            except ValueError:
                retry_after = None
        return cls(app_pct, business_pct, regain, retry_after)


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
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


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


def _error_from_response(resp: httpx.Response) -> GraphError:
    headers = {k.lower(): v for k, v in resp.headers.items()}
    try:
        body = resp.json()
    except ValueError:
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        text = resp.text.strip().splitlines()[0][:200] if resp.text.strip() else resp.reason_phrase
        return GraphError(
            http_status=resp.status_code,
            code=None,
            subcode=None,
            is_transient=resp.status_code >= 500,
            message=redact(f"HTTP {resp.status_code}: {text}"),
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


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --- the client --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedCall:
    """A call as `--dry-run` prints it: method, full URL and parameters, no token."""

    method: str
    url: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)

    def render(self) -> str:
        parts = [f"{self.method} {self.url}"]
        parts += [f"{k}={_quote(v)}" for k, v in self.params.items()]
        parts += [f"[{k}: {v}]" for k, v in self.headers.items()]
        return " ".join(parts)


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if (" " in value or not value) else value


def graph_url_from_env(option: str | None = None) -> str:
    """`--graph-url`, else IGPREFLIGHT_GRAPH_URL, else graph.facebook.com."""
    return (option or os.environ.get("IGPREFLIGHT_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/")


class GraphClient:
    """Calls the Graph API; returns parsed JSON or raises GraphError. Knows no flow."""

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str = DEFAULT_GRAPH_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        upload_timeout: float = 600.0,
        token_in_query: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.token = token or ""
        register_secret(self.token)
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version.strip("/")
        self.token_in_query = token_in_query
        self.upload_timeout = upload_timeout
        self.last_usage = Usage()
        headers = {"User-Agent": f"igpreflight/{__version__}"}
        if self.token and not token_in_query:
            headers["Authorization"] = f"Bearer {self.token}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            transport=transport,
        )

    # -- plumbing --

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    def plan(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> PlannedCall:
        """What `request` would send, with the token shown as ***."""
        auth = {"access_token": REDACTED} if self.token_in_query else {}
        shown = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        header = {} if self.token_in_query else {"Authorization": f"Bearer {REDACTED}"}
        return PlannedCall(method, self.url(path), {**shown, **auth}, header)

    def request(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, *, context: str = ""
    ) -> dict[str, Any]:
        """One Graph call. GET sends params in the query, POST as a form body."""
        fields = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        if self.token_in_query and self.token:
            fields["access_token"] = self.token
        url = self.url(path)
        try:
            if method == "GET":
                resp = self._http.get(url, params=fields)
            else:
                resp = self._http.request(method, url, data=fields)
        except httpx.HTTPError as exc:
            raise self._network_error(exc, method, path, context) from None
        if resp.status_code >= 400:
            err = _error_from_response(resp)
            self._log_error(err, method, path, context)
            raise err  # its usage travels with it (err.usage); the caller waits once
        # What a successful answer says about the budget left, for the caller's pacing.
        self.last_usage = Usage.from_headers({k.lower(): v for k, v in resp.headers.items()})
        try:
            data = resp.json()
        except ValueError:
            err = GraphError(
                resp.status_code, None, None, True, "answer was not JSON", uncertain=True
            )
            self._log_error(err, method, path, context)
            raise err from None
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            err = _error_from_response(resp)
            self._log_error(err, method, path, context)
            raise err
        log.debug(
            "%s %s -> %s",
            method,
            path,
            resp.status_code,
            extra={"http_status": resp.status_code, "container_id": context or None},
        )
        return data if isinstance(data, dict) else {"data": data}

    def _network_error(
        self, exc: httpx.HTTPError, method: str, path: str, context: str
    ) -> GraphError:
        # A refused connection never reached the server; anything later might have.
        sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        err = GraphError(
            http_status=None,
            code=None,
            subcode=None,
            is_transient=True,
            message=redact(f"{type(exc).__name__}: {exc}".strip(": ")),
            uncertain=sent,
            network=True,
        )
        self._log_error(err, method, path, context)
        return err

    def _log_error(self, err: GraphError, method: str, path: str, context: str) -> None:
        log.warning(
            "Graph error on %s %s: %s (%s)",
            method,
            path,
            err.message,
            err.error_class.value,
            extra={**err.log_fields(), "container_id": context or None},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the calls the publisher makes --

    def create_container(self, ig_user_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """POST /{ig-user-id}/media -> {"id": ..., "uri": ... (resumable only)}."""
        data = self.request("POST", f"{ig_user_id}/media", params)
        if not data.get("id"):
            raise GraphError(200, None, None, True, "container creation answered without an id")
        return data

    def container_status(self, container_id: str) -> tuple[str, str]:
        """GET /{container-id}?fields=status_code,status -> (status_code, status)."""
        data = self.request(
            "GET", container_id, {"fields": "status_code,status"}, context=container_id
        )
        return str(data.get("status_code") or ""), str(data.get("status") or "")

    def publish(self, ig_user_id: str, creation_id: str) -> str | None:
        """POST /{ig-user-id}/media_publish -> the published media id."""
        data = self.request(
            "POST", f"{ig_user_id}/media_publish", {"creation_id": creation_id}, context=creation_id
        )
        return str(data["id"]) if data.get("id") else None

    def publishing_limit(self, ig_user_id: str) -> tuple[int, int] | None:
        """(quota_usage, quota_total) from content_publishing_limit, None if not given."""
        data = self.request(
            "GET", f"{ig_user_id}/content_publishing_limit", {"fields": "quota_usage,config"}
        )
        rows = data.get("data")
        row = rows[0] if isinstance(rows, list) and rows else data
        if not isinstance(row, dict) or "quota_usage" not in row:
            return None
        config = row.get("config") or {}
        total = config.get("quota_total") if isinstance(config, dict) else None
        if total is None:
            return None
        return int(row.get("quota_usage") or 0), int(total)

    def upload_video(self, uri: str, path: str, *, context: str = "") -> dict[str, Any]:
        """Send a local file to a resumable-upload `uri` (rupload), whole, from offset 0."""
        size = os.path.getsize(path)
        headers = {"Authorization": f"OAuth {self.token}", "offset": "0", "file_size": str(size)}
        try:
            with open(path, "rb") as fh:  # streamed, with its Content-Length (no chunking)
                resp = self._http.post(
                    uri, content=fh, headers=headers, timeout=self.upload_timeout
                )
        except httpx.HTTPError as exc:
            raise self._network_error(exc, "POST", "(resumable upload)", context) from None
        if resp.status_code >= 400:
            err = _error_from_response(resp)
            self._log_error(err, "POST", "(resumable upload)", context)
            raise err
        try:
            data = resp.json()
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    def plan_upload(self, uri: str, path: str) -> PlannedCall:
        size = os.path.getsize(path) if os.path.exists(path) else 0
        return PlannedCall(
            "POST",
            uri,
            {"@file": path},
            {"Authorization": f"OAuth {REDACTED}", "offset": "0", "file_size": str(size)},
        )


def _param(value: Any) -> str:
    """Graph form values: booleans as true/false, lists/dicts as JSON, the rest as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


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
