"""`rules` and `explain`: the catalog as values, for `igpreflight rules/explain` and the service.

The rule table comes from the rule catalog, the Graph error table from the Graph
client's (igpreflight/publish/graph/table.py), where the publisher's retry decisions
read it too.

`explain(code)` reads what a person or a tool would paste: a rule code (IMG003,
any case), a Graph subcode (2207026), a code (190) or a code/subcode pair
(352/2207026). A bare code that only has subcode entries (-2, 9, 24, 100...)
explains as its family. Unknown codes give None, not an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from igpreflight.catalog import RULES
from igpreflight.preflight.rules import RuleInfo
from igpreflight.preflight.rules.image import aspect_ratio
from igpreflight.publish.graph.table import GRAPH_ERRORS, GraphErrorInfo, lookup_graph_error

EXAMPLE_RULE = aspect_ratio.code  # the rule code a hint shows (IMG003)

# Graph codes and subcodes are at most 10 digits: a longer number is no code (and
# int() of thousands of digits raises)
_GRAPH = re.compile(r"(-?\d{1,10})(?:\s*/\s*(-?\d{1,10}))?")
BARE_SUBCODE = 2_000_000  # a bare number this large is a subcode (2207026), not a code


@dataclass(frozen=True)
class Explanation:
    """What a code means: a rule (with the Graph error it prevents, if any) or Graph errors."""

    code: str  # as normalised: IMG003, 2207026, 352/2207026
    rule: RuleInfo | None = None
    graph: tuple[GraphErrorInfo, ...] = ()  # one error, or a code's family of subcodes
    family: bool = False  # `graph` is every subcode of a bare code

    @property
    def kind(self) -> str:
        return "rule" if self.rule is not None else "graph"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "rule": rule_dict(self.rule) if self.rule is not None else None,
            "graph": [graph_dict(g) for g in self.graph],
        }


def rule_dict(info: RuleInfo) -> dict[str, Any]:
    """A rule as `igpreflight rules --format json` lists it."""
    return {
        "code": info.code,
        "severity": info.severity.value,
        "summary": info.summary,
        "graph_code": info.graph_code,
        "graph_subcode": info.graph_subcode,
        "fixable": info.fixable,
        "fix": info.fix_hint,
    }


def graph_dict(info: GraphErrorInfo) -> dict[str, Any]:
    return {
        "code": info.code,
        "subcode": info.subcode,
        "class": info.error_class.value,
        "meaning": info.meaning,
        "advice": info.advice,
        "rules": [r.code for r in info.rules],
    }


def rules() -> list[RuleInfo]:
    """Every rule, in listing order."""
    return list(RULES.values())


def explain(code: str) -> Explanation | None:
    """What `code` means, or None when it is neither a rule nor a known Graph error."""
    text = code.strip().upper()
    if text in RULES:
        rule = RULES[text]
        prevents = ()
        if rule.graph_subcode or rule.graph_code:
            found = lookup_graph_error(rule.graph_code, rule.graph_subcode)
            prevents = (found,) if found is not None else ()
        return Explanation(text, rule=rule, graph=prevents)
    match = _GRAPH.fullmatch(text)
    if not match:
        return None
    first, second = int(match[1]), match[2] and int(match[2])
    shown = f"{first}/{second}" if second is not None else str(first)
    if second is not None:
        info = lookup_graph_error(first, second)
    elif abs(first) >= BARE_SUBCODE:
        info = lookup_graph_error(None, first)
    else:
        info = lookup_graph_error(first, None)
    if info is not None and (info.code is not None or info.subcode is not None):
        return Explanation(shown, graph=(info,))
    family = tuple(g for g in GRAPH_ERRORS if second is None and g.code == first)
    if family:
        return Explanation(shown, graph=family, family=True)
    return None


__all__ = ["Explanation", "explain", "graph_dict", "rule_dict", "rules"]
