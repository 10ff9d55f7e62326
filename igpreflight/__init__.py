"""igpreflight: make media safe to publish through the Instagram Graph API.

from igpreflight import check, fix
report = check(["assets/"])          # Report: .files, .posts, .errors, .warnings, .to_dict()
result = fix(["assets/"], "fixed/")  # FixResult: .files, .ok, .to_dict()
"""

__version__ = "0.1.0"
SPEC_VERSION = "2026-11"


def __getattr__(name: str):
    # Imported lazily so that `import igpreflight` stays cheap for the CLI and workers.
    if name in ("check", "fix", "FixResult"):
        from igpreflight import api

        return getattr(api, name)
    if name == "Report":
        from igpreflight.model import Report

        return Report
    raise AttributeError(name)


__all__ = ["check", "fix", "FixResult", "Report", "__version__"]
