"""The HTTP surface, one router per area. Phase 2 adds `posts` (and webhooks) here."""

from __future__ import annotations

from fastapi import APIRouter

from igpreflight.serve.routes import catalog, check, fix, media, ops, posts, webhooks

ROUTERS: tuple[APIRouter, ...] = (
    check.router,
    media.router,
    fix.router,
    catalog.router,
    ops.router,
    posts.router,
    webhooks.router,
)
