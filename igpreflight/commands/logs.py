"""Logging for the commands that talk to S3 and the Graph API: SDK loggers held quiet,
`--verbose` lines on stderr, and every line scrubbed of known secrets."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# Loggers that may see requests, signatures or credentials at DEBUG level.
SDK_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3", "httpx", "httpcore")
REDACTED = "[REDACTED]"


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class Scrub(logging.Filter):
    """Replaces any known secret in a log record's final text."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = scrub(text, self.secrets)
        if cleaned != text:
            record.msg, record.args = cleaned, ()
        return True


@contextmanager
def quiet_sdk_logs() -> Iterator[None]:
    """Hold SDK loggers at WARNING while a command runs: their DEBUG output carries
    request signatures and credential-chain details, never wanted in our output."""
    saved = {name: logging.getLogger(name).level for name in SDK_LOGGERS}
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def verbose_log(verbose: bool, secrets: list[str]) -> Iterator[None]:
    """With --verbose, our own DEBUG lines go to stderr through the scrubber."""
    if not verbose:
        yield
        return
    ours = logging.getLogger("igpreflight")
    old_level = ours.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("igpreflight: %(message)s"))
    handler.addFilter(Scrub(secrets))
    ours.addHandler(handler)
    ours.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        ours.removeHandler(handler)
        ours.setLevel(old_level)


class KeyValueFormatter(logging.Formatter):
    """`publish --verbose` log lines: the message, then the structured fields as key=value."""

    FIELDS = (
        "http_status",
        "code",
        "subcode",
        "is_transient",
        "fbtrace_id",
        "container_id",
        "post_id",
        "error_class",
    )

    def format(self, record: logging.LogRecord) -> str:
        from igpreflight.publish.graph import redact

        base = f"{record.levelname.lower()}: {record.getMessage()}"
        extra = [
            f"{k}={getattr(record, k)}" for k in self.FIELDS if getattr(record, k, None) is not None
        ]
        return redact(" ".join([base, *extra]))


def setup_publish_logging(verbose: bool) -> None:
    """`publish -v`: Graph errors with their fields on stderr, the token redacted."""
    logger = logging.getLogger("igpreflight")
    if verbose and not any(getattr(h, "_igp", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(KeyValueFormatter())
        handler._igp = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    elif not logger.handlers:
        logger.addHandler(logging.NullHandler())  # the report says it; no stray warnings
