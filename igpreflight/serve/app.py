"""The ASGI app: routers, middleware, problem details and the lifespan, from settings.

`create_app(settings)` builds one app (tests call it directly); uvicorn's worker
processes call `app_from_env()`, which reads the settings `serve` put in the
environment. Building the app loads the keys and the project configuration, so a
bad keys file fails the start, not the first request.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from igpreflight._version import __version__
from igpreflight.config import Settings
from igpreflight.serve import diskspace, problems
from igpreflight.serve.checking import RuleLayers
from igpreflight.serve.durable_jobs import DurableJobs, queue_for
from igpreflight.serve.encoding import IdentityOnly
from igpreflight.serve.fixing import Fixer
from igpreflight.serve.keys import KeyRing, load_keys
from igpreflight.serve.limits import BodyLimit, RateLimiter
from igpreflight.serve.metrics import RequestMetrics
from igpreflight.serve.publishing import Publishing, default_db
from igpreflight.serve.queue_metrics import QueueStates
from igpreflight.serve.routes import ROUTERS
from igpreflight.serve.service import Service
from igpreflight.serve.settings import ServeSettings
from igpreflight.serve.store import MediaStore
from igpreflight.serve.uploads import upload_too_large
from igpreflight.serve.webhooks.config import webhooks_for
from igpreflight.serve.webhooks.dispatcher import Dispatcher

log = logging.getLogger("igpreflight.serve")

MULTIPART_SLACK = 64 * 1024  # bytes of boundaries and part headers around an upload
SWEEP_EVERY = 600.0  # seconds between removals of expired media and job records

DESCRIPTION = """\
Check, fix and explain media for the Instagram Graph API over HTTP: the same
rules and findings as `igpreflight check`, for schedulers in any language.
Send an API key as `Authorization: Bearer <key>`. Errors are RFC 9457 problem
details (`application/problem+json`).
"""


def load_accounts(settings: ServeSettings) -> frozenset[str] | None:
    """The accounts file's names (None without one); AccountError when it is bad."""
    from igpreflight.publish.accounts import load_accounts as load

    found = load(settings.accounts_file)
    return frozenset(found) if found else None


def load_ring(settings: ServeSettings, accounts: frozenset[str] | None) -> KeyRing | None:
    import os

    from igpreflight.serve.settings import KEYS_ENV

    path = settings.keys_file or os.environ.get(KEYS_ENV)
    return load_keys(path, accounts) if path else None


def load_configuration(
    settings: ServeSettings,
) -> tuple[Settings, frozenset[str] | None, KeyRing | None]:
    """The project configuration, the account names and the keys `settings` name.
    Raises ValueError (ConfigError, AccountError, KeysFileError) for one the
    service cannot start with; `serve` calls it before starting any worker."""
    from igpreflight.config import load_settings

    config = load_settings(
        config=settings.config_file,
        isolated=settings.isolated,
        select=settings.select,
        ignore=settings.ignore,
    )
    accounts = load_accounts(settings)
    return config, accounts, load_ring(settings, accounts)


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """The service for `settings` (raises as `load_configuration` does)."""
    settings = settings or ServeSettings.from_env()
    config, accounts, keys = load_configuration(settings)
    store = MediaStore(settings.data_path, settings.media_ttl)
    layers = RuleLayers(config)
    fixer = Fixer(store, settings, layers)
    publishing = Publishing(settings)
    publisher = settings.publish_worker and bool(accounts)  # nothing to publish without
    jobs = DurableJobs(publishing, {"fix": fixer}, queue_for(settings.data_path))
    hooks = webhooks_for(settings, accounts)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from igpreflight.preflight import remote

        remote.keep_results(False)  # each request fetches its URLs afresh; nothing piles up
        # The app, its models and the rule tables live as long as the process: keep
        # them out of the collector's full passes, which otherwise stall requests.
        gc.collect()
        gc.freeze()
        sweeper = asyncio.create_task(_sweep_forever(store, jobs, fixer))
        loop = asyncio.get_running_loop()
        if publisher:
            jobs.listen_with_publisher()  # its engine runs this process's jobs too
            publishing.start_worker()
        elif publishing.exists():
            jobs.resume()  # the jobs a stopped service left
        # the webhooks watch the very database the posts and jobs are on
        dispatcher = Dispatcher(hooks, default_db(settings)) if hooks else None
        if dispatcher:
            dispatcher.start()
        app.state.webhooks = dispatcher
        try:
            yield
        finally:
            if dispatcher:
                await loop.run_in_executor(None, dispatcher.stop)
            remote.keep_results(True)  # the process's default again (tests run others after)
            sweeper.cancel()
            await loop.run_in_executor(None, jobs.close, settings.grace)
            await loop.run_in_executor(None, publishing.close)

    app = FastAPI(
        title="igpreflight",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.service = Service(
        settings,
        config,
        layers,
        store,
        fixer,
        jobs,
        accounts,
        publishing,
        (QueueStates(publishing),),
    )
    app.state.keys = keys
    app.state.limiter = RateLimiter(settings.rate, settings.burst)
    problems.install(app)
    diskspace.install(app)  # a full or read-only disk is a 507/503, not a 500
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        BodyLimit,
        default=settings.max_json,
        per_path={"/v1/media": settings.max_upload + MULTIPART_SLACK},
        idle=settings.body_timeout,
        refusals={"/v1/media": upload_too_large(settings.max_upload)},
    )
    app.add_middleware(IdentityOnly)  # before the body limit: a coded body is not read
    app.add_middleware(RequestMetrics)  # outermost: counts the refusals above too
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def app_from_env() -> FastAPI:
    """uvicorn's factory in each worker process."""
    return create_app(ServeSettings.from_env())


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the problem details schema the error responses name."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["ProblemDetails"] = problems.ProblemDetails.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        problems.problems_in_document(doc)
        app.openapi_schema = doc
    return app.openapi_schema


async def _sweep_forever(store: MediaStore, jobs: Any, fixer: Fixer) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, store.sweep)
            await loop.run_in_executor(None, jobs.sweep)
            await loop.run_in_executor(None, fixer.sweep_work)  # what a killed fix left
        except OSError as exc:  # another worker removed the same folder first
            log.debug("sweep: %s", exc)
        await asyncio.sleep(SWEEP_EVERY)
