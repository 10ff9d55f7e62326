"""What every rule code and every Graph error means, for `rules` and `explain`: the
rule table (from the rule registry) and the Graph error table (which lives with the
Graph client, igpreflight/publish/graph/table.py)."""

from __future__ import annotations

from igpreflight.catalog import RULES
from igpreflight.preflight.rules import RuleInfo
from igpreflight.preflight.rules.image import aspect_ratio
from igpreflight.publish.graph.table import GRAPH_ERRORS, GraphErrorInfo, lookup_graph_error

EXAMPLE_RULE = aspect_ratio.code  # the rule code a hint shows (IMG003)

__all__ = [
    "EXAMPLE_RULE",
    "GRAPH_ERRORS",
    "RULES",
    "GraphErrorInfo",
    "RuleInfo",
    "lookup_graph_error",
]
