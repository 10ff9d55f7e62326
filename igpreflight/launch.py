"""The `igpreflight` command's entry point: what can start before click loads.

A remux's critical path is the decode that proves its source (`api.fix_ahead`),
and importing click and the command group first delayed it by about 0.03 s on
a 2-CPU machine, with one CPU idle meanwhile. So the console script and
`python -m igpreflight` come here, start that proof when the arguments name
one video to fix, and only then load the click group (`igpreflight.cli`).

On the way out it freezes the garbage collector: Python's finalization collects
every object the imports made (the modules, classes and rule tables), which was
10-20 ms of `check FILE`'s 0.12 s on a 2-CPU VM, to reclaim memory the process is
about to give back anyway. Atexit handlers, threads and open files are finalized
as before; only cyclic garbage left at exit goes uncollected.

Nor does the collector run while the command's modules load: what imports make
(modules, classes, functions) lives until exit, yet its allocations set off 30-50
young-generation collections, 6 ms of `check FILE`'s CPU and 8 ms of a 300-file
check's. It is off from here until click has chosen and imported the command
(`command_chosen`), which freezes what was loaded (later collections never walk
it again) and turns the collector back on for the command's own work.
"""

from __future__ import annotations

import gc
import sys

_held = False  # main turned the collector off for the start-up


def main() -> None:
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True
    if sys.argv[1:2] == ["fix"]:  # a remux's proof starts while the fixer loads
        from igpreflight.api.fix_ahead import decoders_ahead, prove_ahead

        prove_ahead(sys.argv[2:]) or decoders_ahead(sys.argv[2:])
    from igpreflight.cli import cli

    try:
        cli(prog_name="igpreflight")
    finally:
        gc.freeze()


def command_chosen() -> None:
    """Click has imported the command that runs: the collector resumes (if `main`
    held it), with what start-up loaded frozen. A no-op for any other caller."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
