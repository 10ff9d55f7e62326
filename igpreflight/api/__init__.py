"""The Python API: one function under every command, each returning a result object.

`check`, `fix`, `upload`, `check_url`, `publish`, `run`, `worker` and `status` do what
the commands of the same name do and return a Report, FixResult, UploadResult,
CheckUrlResult, PublishResult (PublishPlan for a dry run), RunResult or DurableResult,
whose `to_dict()` is that command's `--format json` document. Where uploads go is one
UploadTarget.
Nothing here prints or exits: misuse raises ValueError (or FileNotFoundError), a
batch `publish` refuses before any call raises PublishRefused, and bad media become
findings. The commands are thin shells over these functions.

Names resolve lazily, so `from igpreflight.api import check` does not pay for boto3
or the Graph client.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "check": "checking",
    "Report": "checking",
    "fix": "fixing",
    "FixResult": "fixing",
    "upload": "uploading",
    "UploadResult": "uploading",
    "UploadTarget": "uploading",
    "UploadError": "uploading",
    "check_url": "urlchecking",
    "CheckUrlResult": "urlchecking",
    "publish": "publishing",
    "PublishResult": "publishing",
    "PublishPlan": "publishing",
    "PublishRefused": "errors",
    "UsageError": "errors",
    "run": "running",
    "RunResult": "running",
    "worker": "durable",
    "status": "durable",
    "DurableResult": "durable",
    "DatabaseError": "errors",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"igpreflight.api.{module}"), name)


__all__ = list(_WHERE)
