"""The one configuration error, below every module that raises it.

`config.py` (reading and validating the file), `rule_selection.py` (`--profile`)
and the CLI all raise `ConfigError`; it has its own module so that the rule
selection need not import `config.py`, which imports it (no import loops). Import
it from `igpreflight.config`, which re-exports it.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """The configuration cannot be used; commands report it as a usage error (exit 2)."""
