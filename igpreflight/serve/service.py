"""The objects every route shares, built once per process by `app.create_app`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from igpreflight.config import Settings
from igpreflight.serve.checking import RuleLayers
from igpreflight.serve.fixing import Fixer
from igpreflight.serve.jobs import JobRunner
from igpreflight.serve.settings import ServeSettings
from igpreflight.serve.store import MediaStore


@dataclass
class Service:
    settings: ServeSettings
    config: Settings  # the project configuration (rules)
    layers: RuleLayers
    store: MediaStore
    fixer: Fixer
    jobs: JobRunner
    accounts: frozenset[str] | None  # the accounts file's names, when there is one
    publishing: Any = None  # serve.publishing.Publishing: the posts endpoints' database
    gauges: tuple[Any, ...] = ()  # /metrics' collectors read from the database

    def s3_settings(self) -> object:
        from igpreflight.storage.s3 import S3Settings

        return S3Settings(self.settings.endpoint_url, self.settings.region)


async def service(request: Request) -> Service:
    """The route dependency that hands the shared objects over."""
    return request.app.state.service


Svc = Annotated[Service, Depends(service)]
