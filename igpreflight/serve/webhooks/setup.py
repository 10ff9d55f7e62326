"""What `serve` does with its webhooks once per start, before its workers run."""

from __future__ import annotations

import logging

from igpreflight.serve.webhooks.config import WebhookConfig

log = logging.getLogger("igpreflight.serve.webhooks")


def enable_webhooks(config: WebhookConfig, db: str | None) -> None:
    """Register the endpoints (their events count from now) and lift the disabling of
    those that answered 410 before: a new start of `serve` is the operator saying the
    receiver is back. A database that does not answer yet is left to the dispatcher."""

    from igpreflight.api.durable import db_for
    from igpreflight.serve.webhooks.outbox import Outbox

    try:
        outbox = Outbox(db_for(db, None))
    except Exception as exc:  # the dispatcher retries and says so
        log.warning("webhooks: %s", " ".join(str(exc).split())[:300])
        return
    try:
        keys = {e.key: e for e in config.endpoints}
        outbox.register(list(keys))
        for key in outbox.enable(list(keys)):
            log.info("webhook %s: enabled again (it had answered 410 Gone)", keys[key].shown)
    finally:
        outbox.close()
