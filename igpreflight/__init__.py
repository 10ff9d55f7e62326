"""igpreflight: make media safe to publish through the Instagram Graph API.

from igpreflight import check, check_url, fix, upload, publish, run
report = check(["assets/"])          # Report: .files, .posts, .errors, .warnings, .to_dict()
result = fix(["assets/"], "fixed/")  # FixResult: .files, .ok, .to_dict()

Every function returns a result object with `to_dict()` (the command's JSON report)
and never prints or exits; see igpreflight.api.
"""

import logging
import sys
import types

from igpreflight._version import SPEC_VERSION, __version__

# A library's records are its caller's to show: without a handler of its own, Python's
# last-resort handler printed a failed post's warning on a Python caller's stderr.
logging.getLogger(__name__).addHandler(logging.NullHandler())

API_NAMES = (
    "check",
    "fix",
    "upload",
    "check_url",
    "publish",
    "run",
    "FixResult",
    "UploadResult",
    "UploadTarget",
    "UploadError",
    "CheckUrlResult",
    "PublishResult",
    "PublishPlan",
    "RunResult",
    "PublishRefused",
    "Report",
)


class _Package(types.ModuleType):
    """`igpreflight.publish` is the API function, though igpreflight/publish/ is the
    package that does the work: importing that package does not rebind the name here.
    The package is reached by `from igpreflight.publish.durable import engine` or
    importlib (never `import igpreflight.publish.durable.engine as E`, which looks the
    name up here)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in API_NAMES and isinstance(value, types.ModuleType):
            return  # the import system announcing a subpackage: it stays in sys.modules
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    # Imported lazily so that `import igpreflight` stays cheap for the CLI and workers.
    if name in API_NAMES:
        from igpreflight import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = [*API_NAMES, "SPEC_VERSION", "__version__"]
