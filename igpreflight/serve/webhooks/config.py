"""The webhooks file (`serve --webhooks FILE`, IGPREFLIGHT_WEBHOOKS)::

    timeout = 10                          # seconds a whole delivery may take
    retry_schedule = [0, 5, 300, 1800]    # seconds before each attempt (optional)

    [[webhook]]
    url = "https://hooks.example.com/instagram"
    secret_env = "IGPF_WEBHOOK_SECRET"    # holds the whsec_... signing secret
    events = ["post.published", "post.failed", "post.held"]   # the default: all
    accounts = ["brand-a"]                # the default: ["*"], every account

Secrets stay in the environment variables the file names; a bad file (a variable
not set, a secret that is not Standard Webhooks' `whsec_` + base64 of 24 to 64
bytes, a private or plain-http URL without `--allow-private`) stops `serve` with
one line before it listens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from igpreflight.net.guard import redact_url, vet

WEBHOOKS_ENV = "IGPREFLIGHT_WEBHOOKS"
EVENTS = ("post.published", "post.failed", "post.held")
ALL = "*"
# Standard Webhooks' recommended schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 10 h (about 28 h in all); every delay but the first gets +-10 % jitter.
DEFAULT_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MAX_DELAY = 36000.0  # seconds: a longer delay in a schedule is capped to this
MAX_ATTEMPTS = 20
DEFAULT_TIMEOUT = 10.0
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP = {"timeout", "retry_schedule", "webhook"}
_ENTRY = {"url", "secret_env", "events", "accounts"}


class WebhooksFileError(ValueError):
    """A webhooks file the service cannot start with (a usage error, exit 2)."""


@dataclass(frozen=True)
class Endpoint:
    """One receiver. `key` names it in the database (a digest of its URL)."""

    url: str
    secret: str = field(repr=False)  # whsec_...: never printed, logged or stored
    events: frozenset[str] = frozenset(EVENTS)
    accounts: frozenset[str] = frozenset({ALL})

    @property
    def key(self) -> str:
        return hashlib.sha256(self.url.encode("utf-8")).hexdigest()[:24]

    @property
    def shown(self) -> str:
        """The URL as logs and answers show it: no user:password, no query (a receiver's
        own token often rides there)."""
        import urllib.parse

        parts = urllib.parse.urlsplit(redact_url(self.url))
        return urllib.parse.urlunsplit(parts._replace(query="", fragment=""))

    def wants(self, event_type: str, account: str) -> bool:
        return event_type in self.events and (ALL in self.accounts or account in self.accounts)


@dataclass(frozen=True)
class WebhookConfig:
    endpoints: tuple[Endpoint, ...]
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    timeout: float = DEFAULT_TIMEOUT
    allow_private: bool = False


def check_secret(secret: str, where: str) -> None:
    """Standard Webhooks' form: `whsec_` then base64 of 24 to 64 random bytes."""
    if not secret.startswith("whsec_"):
        raise WebhooksFileError(f"{where}: the secret must be whsec_ followed by base64")
    try:
        raw = base64.b64decode(secret[len("whsec_") :], validate=True)
    except (binascii.Error, ValueError):
        raise WebhooksFileError(f"{where}: the secret after whsec_ is not base64") from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise WebhooksFileError(
            f"{where}: the secret is {len(raw)} bytes; Standard Webhooks asks for"
            f' {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} (python -c "import base64, os;'
            f" print('whsec_' + base64.b64encode(os.urandom(32)).decode())\")"
        )


def check_url(url: str, where: str, allow_private: bool) -> None:
    """https to a public host (any http(s) with --allow-private): the SSRF guard's rule."""
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise WebhooksFileError(f"{where}: url must be an https:// URL")
    vetted = vet(url, allow_private=allow_private, timeout=5.0)
    if vetted.problem:
        hint = "" if allow_private else " (--allow-private allows it for local tests)"
        raise WebhooksFileError(f"{where}: url refused: {vetted.problem}{hint}")


def _strings(value: Any, what: str, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise WebhooksFileError(f"{where}: {what} must be a non-empty list of strings")
    return value


def _entry(i: int, entry: Any, path: str, allow_private: bool) -> Endpoint:
    where = f"{path}: webhook {i + 1}"
    if not isinstance(entry, dict):
        raise WebhooksFileError(f"{where} is not a table")
    unknown = sorted(set(entry) - _ENTRY)
    if unknown:
        raise WebhooksFileError(f"{where}: unknown key {unknown[0]!r}")
    url, env = entry.get("url"), entry.get("secret_env")
    if not isinstance(url, str) or not url:
        raise WebhooksFileError(f"{where}: url is missing")
    if not isinstance(env, str) or not _ENV_NAME.match(env):
        raise WebhooksFileError(f"{where}: secret_env must name an environment variable")
    secret = os.environ.get(env, "")
    if not secret:
        raise WebhooksFileError(f"{where}: the environment variable {env} is not set")
    check_secret(secret, f"{where} ({env})")
    events = _strings(entry.get("events", list(EVENTS)), "events", where)
    for name in events:
        if name not in EVENTS:
            raise WebhooksFileError(f"{where}: unknown event {name!r} (one of {', '.join(EVENTS)})")
    accounts = _strings(entry.get("accounts", [ALL]), "accounts", where)
    check_url(url, where, allow_private)
    return Endpoint(url, secret, frozenset(events), frozenset(accounts))


def _schedule(value: Any, path: str) -> tuple[float, ...]:
    if value is None:
        return DEFAULT_SCHEDULE
    ok = isinstance(value, list) and 0 < len(value) <= MAX_ATTEMPTS
    if not ok or not all(isinstance(v, (int, float)) and v >= 0 for v in value):
        raise WebhooksFileError(
            f"{path}: retry_schedule must be 1 to {MAX_ATTEMPTS} delays in seconds (>= 0)"
        )
    return tuple(min(float(v), MAX_DELAY) for v in value)


def load_webhooks(
    path: str | os.PathLike[str], accounts: frozenset[str] | None, *, allow_private: bool
) -> WebhookConfig:
    """The file's endpoints; WebhooksFileError (one line) for anything wrong with it.
    `accounts`: the accounts file's names (None: no accounts file, any name goes)."""
    from igpreflight.tomlread import toml

    tomllib = toml()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise WebhooksFileError(f"{path}: cannot read the webhooks file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WebhooksFileError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise WebhooksFileError(f"{path}: unknown key {unknown[0]!r}")
    entries = data.get("webhook")
    if not isinstance(entries, list) or not entries:
        raise WebhooksFileError(f"{path}: no [[webhook]] table")
    endpoints = [_entry(i, e, str(path), allow_private) for i, e in enumerate(entries)]
    if len({e.url for e in endpoints}) != len(endpoints):
        raise WebhooksFileError(f"{path}: the same url is given twice")
    for i, e in enumerate(endpoints):
        extra = sorted(e.accounts - {ALL} - (accounts or e.accounts))
        if extra:
            raise WebhooksFileError(f"{path}: webhook {i + 1}: unknown account {extra[0]!r}")
    timeout = data.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 60:
        raise WebhooksFileError(f"{path}: timeout must be a number of seconds, 0 to 60")
    return WebhookConfig(
        tuple(endpoints),
        _schedule(data.get("retry_schedule"), str(path)),
        float(timeout),
        allow_private,
    )


def webhooks_for(settings: Any, accounts: frozenset[str] | None) -> WebhookConfig | None:
    """The webhooks `serve` was given (--webhooks, else $IGPREFLIGHT_WEBHOOKS), or None."""
    path = settings.webhooks_file or os.environ.get(WEBHOOKS_ENV)
    if not path:
        return None
    return load_webhooks(path, accounts, allow_private=settings.allow_private)
