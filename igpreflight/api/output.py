"""Writing what a front end produces (a report, a review page) to a file.

Atomically, like every write of the library: a temporary file in the same folder,
then a rename, so a reader (or a CI step) never sees half a report and an
interrupted run leaves the old file whole.
"""

from __future__ import annotations

from igpreflight.atomic import write_text

__all__ = ["write_text"]
