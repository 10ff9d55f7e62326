"""What `igpreflight serve` was started with, in one frozen value.

uvicorn starts each worker process by importing the app factory, so the settings
travel to the workers as JSON in an environment variable (`SETTINGS_ENV`). They
hold names and paths only: secrets stay in the environment variables the keys
and accounts files name, and are read where they are used.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SETTINGS_ENV = "IGPREFLIGHT_SERVE_SETTINGS"
KEYS_ENV = "IGPREFLIGHT_KEYS"
DEFAULT_DATA_DIR = ".igpreflight/serve"
MIB = 1024 * 1024


@dataclass(frozen=True)
class ServeSettings:
    """The service's configuration; every field has the CLI option of the same name."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    data_dir: str = DEFAULT_DATA_DIR  # uploads, fix outputs, job records (shared by workers)
    db: str | None = None  # the publishing database (checked by /readyz)
    accounts_file: str | None = None
    keys_file: str | None = None  # None: no keys, allowed on a loopback host only
    allow_private: bool = False  # URL checks may reach plain http and private hosts
    max_upload: int = 1024 * MIB  # bytes of one /v1/media upload
    max_json: int = 1 * MIB  # bytes of one JSON body
    body_timeout: float = 30.0  # seconds a request body may go without sending a byte
    rate: float = 50.0  # requests per second per key (per worker); 0 turns limits off
    burst: int = 100  # requests a key may send at once before the rate applies
    media_ttl: float = 24 * 3600.0  # seconds an upload or fixed file is kept
    grace: float = 30.0  # seconds a shutdown waits for requests and jobs in flight
    webhooks_file: str | None = None  # None: $IGPREFLIGHT_WEBHOOKS, else no webhooks
    # Object storage for fixed media (publish's bucket options).
    bucket: str | None = None
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    public_base_url: str | None = None
    presign: int | None = None
    acl: str | None = None
    # Run a publishing worker in each serve process (--no-publish: `igpreflight worker`).
    publish_worker: bool = True
    # The project configuration (publish's --select/--ignore/--config/--isolated).
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    config_file: str | None = None
    isolated: bool = False
    # The rest of `publish`'s options, kept for the publishing endpoints (phase 2).
    publish: dict[str, Any] = field(default_factory=dict)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).resolve()

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("select", "ignore"):
            values[key] = tuple(values.get(key, ()))
        return cls(**values)

    @classmethod
    def from_env(cls) -> ServeSettings:
        """The settings the `serve` command put in the environment (defaults if none)."""
        text = os.environ.get(SETTINGS_ENV)
        return cls.from_json(text) if text else cls()
