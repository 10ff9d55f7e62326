"""Secrets out of everything igpreflight writes: messages, reports and log records.

Tokens and keys come only from the environment. Whoever reads one (the Graph
client its access token, the S3 commands the secret key and session token)
registers it here; from then on `redact` replaces it, and the filter installed on
our loggers and on the terminal's log handler scrubs every log record, whoever
emitted it (us, httpx, botocore). A leaf module: it imports nothing from igpreflight.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

REDACTED = "***"

# Logger filters are not inherited by child loggers: name every logger that may
# carry a URL, a header or a Graph message.
REDACTED_LOGGERS = (
    "igpreflight",
    "igpreflight.graph",
    "igpreflight.publish",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
)


class Redactor(logging.Filter):
    """Replaces every secret it knows in text, nested containers and log records; as a
    log filter it also leaves each record's message encodable as UTF-8 (`encodable`)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = {s for s in secrets if s}

    def add(self, secret: str | None) -> None:
        if secret:
            self.secrets.add(secret)

    def scrub(self, value: Any) -> Any:
        """`value` with every secret replaced by REDACTED (str, list, tuple, dict)."""
        if isinstance(value, str):
            # Longest first: a secret that contains another is replaced whole.
            for secret in sorted(self.secrets, key=len, reverse=True):
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, (list, tuple)):
            return type(value)(self.scrub(v) for v in value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            try:
                record.msg = record.getMessage()
                record.args = None
            except (TypeError, ValueError):
                record.args = self.scrub(record.args)
        text = record.msg if isinstance(record.msg, str) else str(record.msg)
        record.msg = encodable(self.scrub(text))
        if not self.secrets:
            return True
        for key, value in list(vars(record).items()):
            if isinstance(value, (str, list, tuple, dict)) and key not in ("msg", "args"):
                setattr(record, key, self.scrub(value))
        return True


def encodable(text: str) -> str:
    """`text` as UTF-8 can carry it: a lone surrogate (a post id or caption cut inside an
    emoji) becomes its escape `\\ud83d`, so that a handler writing UTF-8 (a log file, a
    journal) neither fails on the record nor drops it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


REDACTOR = Redactor()
"""The process's secrets: every one registered so far."""

for _name in REDACTED_LOGGERS:
    logging.getLogger(_name).addFilter(REDACTOR)


def register_secret(secret: str | None) -> None:
    """Make `redact` and every igpreflight/httpx log record hide this value."""
    REDACTOR.add(secret)


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with secrets replaced by REDACTED: the given ones, else every registered one."""
    redactor = REDACTOR if secrets is None else Redactor(secrets)
    return redactor.scrub(text)


__all__ = ["REDACTED", "REDACTOR", "Redactor", "encodable", "redact", "register_secret"]
