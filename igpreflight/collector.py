"""The garbage collector while the command starts: off until the command has loaded.

What imports make (modules, classes, functions) lives until exit, yet its
allocations set off 30-50 young-generation collections that find nothing to free:
6 ms of `check FILE`'s CPU and 8 ms of a 300-file check's. The console script
(`launch.main`) holds the collector from its start until click has chosen and
imported the command (`cli.LazyGroup.resolve_command`), which freezes what was
loaded (later collections never walk it again) and turns the collector back on
for the command's own work, however many files it reads.
"""

from __future__ import annotations

import gc

_held = False  # `hold` turned the collector off for the start-up


def hold() -> None:
    """Turn the collector off for the start-up (if it is on)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def command_chosen() -> None:
    """Click has imported the command that runs: the collector resumes (if `hold`
    turned it off), with what start-up loaded frozen. A no-op for any other caller."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
