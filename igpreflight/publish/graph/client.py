"""A thin Graph API client: one place that knows URLs, auth, time-outs and error shapes.

The publisher decides what to do about an error; this module only turns every
failure into one `GraphError` (errors.py) and keeps the usage headers of the last
answer, so the caller paces the account.

The token travels in the `Authorization: Bearer` header, which both
graph.facebook.com and graph.instagram.com accept; never in the URL, so it
cannot leak into proxy logs, httpx's request log or an error message. Pass
`token_in_query=True` for a host that insists on the `access_token` parameter.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from igpreflight._version import __version__
from igpreflight.publish.graph import DEFAULT_API_VERSION, DEFAULT_GRAPH_URL
from igpreflight.publish.graph.errors import GraphError, Usage, error_from_response, not_graph
from igpreflight.redaction import REDACTED, redact, register_secret

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("igpreflight.graph")


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
        import httpx  # here, so that importing the publisher costs nothing until a call

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
        self._failures = httpx.HTTPError
        self._never_sent = (httpx.ConnectError, httpx.ConnectTimeout)

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
        except self._failures as exc:
            raise self._network_error(exc, method, path, context) from None
        if resp.status_code >= 400:
            err = error_from_response(resp)
            self._log_error(err, method, path, context)
            raise err  # its usage travels with it (err.usage); the caller waits once
        headers = {k.lower(): v for k, v in resp.headers.items()}
        if 300 <= resp.status_code < 400:
            # Never followed (the token would go to wherever it points): a wrong
            # --graph-url or API version, said as such.
            where = redact(headers.get("location", "") or "nowhere")
            err = GraphError(
                resp.status_code,
                None,
                None,
                True,
                f"redirected to {where} (not followed: check --graph-url and --api-version)",
                headers=headers,
                uncertain=True,
            )
            self._log_error(err, method, path, context)
            raise err
        # What a successful answer says about the budget left, for the caller's pacing.
        self.last_usage = Usage.from_headers(headers)
        try:
            data = resp.json()
        except ValueError:
            # A 200 that is not JSON (an edge's HTML page, an empty body): the call may
            # have been carried out; nothing says so.
            why = not_graph(resp.text, headers)
            err = GraphError(resp.status_code, None, None, True, redact(why), uncertain=True)
            self._log_error(err, method, path, context)
            raise err from None
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            err = error_from_response(resp)
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
        sent = not isinstance(exc, self._never_sent)
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
        """GET /{container-id}?fields=status_code,status -> (status_code, status).

        The code is read upper-case and trimmed: Graph documents FINISHED, PUBLISHED...,
        and a "finished" or "Published " must not be polled until --give-up (nor leave an
        uncertain post unsettled for ever)."""
        data = self.request(
            "GET", container_id, {"fields": "status_code,status"}, context=container_id
        )
        code = str(data.get("status_code") or "").strip().upper()
        return code, str(data.get("status") or "")

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
        total = _count(config.get("quota_total")) if isinstance(config, dict) else None
        used = _count(row.get("quota_usage") or 0)
        if total is None or used is None:  # not given, or not a number: unreadable
            return None
        return used, total

    def upload_video(self, uri: str, path: str, *, context: str = "") -> dict[str, Any]:
        """Send a local file to a resumable-upload `uri` (rupload), whole, from offset 0."""
        size = os.path.getsize(path)
        headers = {"Authorization": f"OAuth {self.token}", "offset": "0", "file_size": str(size)}
        try:
            with open(path, "rb") as fh:  # streamed, with its Content-Length (no chunking)
                resp = self._http.post(
                    uri, content=fh, headers=headers, timeout=self.upload_timeout
                )
        except self._failures as exc:
            raise self._network_error(exc, "POST", "(resumable upload)", context) from None
        if resp.status_code >= 400:
            err = error_from_response(resp)
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


def _count(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _param(value: Any) -> str:
    """Graph form values: booleans as true/false, lists/dicts as JSON, the rest as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
