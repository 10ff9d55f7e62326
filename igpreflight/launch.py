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

Nor does the collector run while the command's modules load (`collector.py`).
"""

from __future__ import annotations

import gc
import sys

from igpreflight.collector import hold


def main() -> None:
    hold()
    if sys.argv[1:2] == ["fix"]:  # a remux's proof starts while the fixer loads
        from igpreflight.api.fix_ahead import decoders_ahead, prove_ahead

        prove_ahead(sys.argv[2:]) or decoders_ahead(sys.argv[2:])
    from igpreflight.cli import cli

    try:
        cli(prog_name="igpreflight")
    finally:
        gc.freeze()
