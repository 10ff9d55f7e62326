"""`igpreflight serve`: the HTTP service (igpreflight.serve) on uvicorn.

The command gathers the options into ServeSettings, loads the keys, accounts and
project configuration once (a bad one is a usage error, exit 2, before any
socket is opened), then runs uvicorn: the app itself with one worker, or N
worker processes that rebuild it from the settings in the environment. SIGTERM
or Ctrl-C stops accepting, lets requests in flight finish (up to --grace s),
then stops the jobs. It takes every option of `publish` (bucket, CDN, Graph...).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from igpreflight.commands.common import terminal_options
from igpreflight.commands.publish import publish

LOOPBACK_NAMES = {"localhost"}
MB = 1024 * 1024


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve")
@terminal_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="0: any free port.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (they share --data-dir; give each core one).",
)
@click.option(
    "--keys",
    "keys_file",
    metavar="FILE",
    help="API keys (TOML [[key]] with name, secret_env, accounts; default $IGPREFLIGHT_KEYS)."
    " Without keys the service answers anyone, so it listens on loopback only.",
)
@click.option(
    "--webhooks",
    "webhooks_file",
    metavar="FILE",
    help="Webhooks (TOML [[webhook]] with url, secret_env, events, accounts; default"
    " $IGPREFLIGHT_WEBHOOKS): signed POSTs when a post is published, failed or held.",
)
@click.option(
    "--data-dir",
    default=".igpreflight/serve",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where uploads, fixed media and job records are kept.",
)
@click.option(
    "--max-upload",
    type=click.IntRange(min=1),
    default=1024,
    show_default=True,
    metavar="MB",
    help="Largest upload (and s3:// object) accepted.",
)
@click.option(
    "--rate-limit",
    "rate",
    type=click.FloatRange(min=0),
    default=50.0,
    show_default=True,
    help="Requests per second per key, per worker (0: no limit).",
)
@click.option(
    "--burst",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Requests a key may send at once.",
)
@click.option(
    "--media-ttl",
    type=click.FloatRange(min=0.01),
    default=24.0,
    show_default=True,
    metavar="HOURS",
    help="How long uploads and fixed media are kept.",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds a shutdown waits for requests and jobs in flight.",
)
@click.option(
    "--publish/--no-publish",
    "publish_worker",
    default=True,
    show_default=True,
    help="Publish enqueued posts in the service's own processes (--no-publish: leave"
    " them to `igpreflight worker` on the same --db).",
)
def serve(**options: Any) -> None:
    """Run the HTTP service: check, fix and explain over HTTP for tools in any language.

    OpenAPI at /openapi.json, interactive docs at /docs. Every `publish` option
    is accepted (--bucket, --public-base-url, --allow-private, --db, --accounts...):
    fixed media go to --bucket, /readyz checks --db and the bucket.
    """
    import uvicorn

    from igpreflight.serve.app import load_configuration
    from igpreflight.serve.metrics import MULTIPROC_ENV
    from igpreflight.serve.settings import KEYS_ENV, SETTINGS_ENV
    from igpreflight.serve.webhooks.config import webhooks_for
    from igpreflight.serve.webhooks.setup import enable_webhooks
    from igpreflight.serve.workers import reuse_port_supported
    from igpreflight.serve.workers import run as run_workers

    settings = to_settings(options)
    if not (settings.keys_file or os.environ.get(KEYS_ENV)) and not is_loopback(settings.host):
        raise click.UsageError(
            f"refusing to serve {settings.host} without API keys: give --keys FILE"
            " (or listen on 127.0.0.1)"
        )
    try:
        _, accounts, _ = load_configuration(settings)
        hooks = webhooks_for(settings, accounts)
        settings.data_path.mkdir(parents=True, exist_ok=True)
    except (ValueError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    if hooks:
        enable_webhooks(hooks, settings.db)
    os.environ[SETTINGS_ENV] = settings.to_json()
    if settings.workers > 1:
        metrics = settings.data_path / "metrics"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        os.environ[MULTIPROC_ENV] = str(metrics)
    options = {
        "timeout_graceful_shutdown": int(settings.grace) or None,
        "server_header": False,
        "log_level": "info",
        # h11, not httptools: httptools stops at an `Upgrade: h2c` offer and drops the
        # request's body (Kludex/uvicorn#2722), and Java's HttpClient offers it on
        # every request to an http:// URL; h11 serves the request as HTTP/1.1.
        "http": "h11",
    }
    if settings.workers > 1 and reuse_port_supported():
        sys.exit(
            run_workers(settings.host, settings.port, settings.workers, settings.grace, options)
        )
    uvicorn.run(
        "igpreflight.serve.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        **options,
    )


# Options of `publish` that a service has no use for.
NOT_FOR_SERVE = {"manifest", "dry_run", "fmt", "no_check", "journal_path", "enqueue_only"}
OWN = {"quiet", "verbose", "color"}  # terminal_options: serve's own


def to_settings(options: dict[str, Any]) -> Any:
    """The command's options as ServeSettings (publish-only ones kept for phase 2)."""
    from dataclasses import fields

    from igpreflight.serve.settings import ServeSettings

    known = {f.name for f in fields(ServeSettings)}
    values = {k: v for k, v in options.items() if k in known and k != "publish"}
    values["max_upload"] = options["max_upload"] * MB
    values["media_ttl"] = options["media_ttl"] * 3600.0
    values["select"] = tuple(options.get("select") or ())
    values["ignore"] = tuple(options.get("ignore") or ())
    rest = {k: v for k, v in options.items() if k not in known and k not in ("max_upload",)}
    values["publish"] = {k: str(v) if isinstance(v, Path) else v for k, v in rest.items()}
    return ServeSettings(**values)


for _param in publish.params:
    if _param.name not in NOT_FOR_SERVE | OWN and isinstance(_param, click.Option):
        serve.params.append(_param)
