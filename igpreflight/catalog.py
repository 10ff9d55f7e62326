"""One source of truth for what every rule code means.

`igpreflight rules` and `explain`, the report's help text and the SARIF rules all
read this module. The rule table is generated from the rule registry (each rule's
registration in `preflight/rules/`). The Graph error table (codes, subcodes, error
classes) lives with the Graph client, `igpreflight/publish/graph/table.py`; which
rules prevent a Graph error is answered here, from the registry.
"""

from __future__ import annotations

from igpreflight.model import Finding
from igpreflight.preflight.rules import RuleInfo, listing_order, load_rules

# The rule table, generated from the rule registry (preflight/rules/): every rule's
# code, severity, summary, Graph code/subcode, fix hint and whether fix resolves it.
RULES: dict[str, RuleInfo] = {
    r.code: r.info for r in sorted(load_rules().rules.values(), key=listing_order)
}


def finding(code: str, message: str, *, fixable: bool | None = None) -> Finding:
    """A finding of the rule registered as `code` (rule modules use `rule.finding`)."""
    return load_rules().rules[code].finding(message, fixable=fixable)


def rules_preventing(subcode: int | None) -> tuple[RuleInfo, ...]:
    """Every rule whose registration says it catches Graph error `subcode` before upload."""
    if subcode is None:
        return ()
    return tuple(r for r in RULES.values() if r.graph_subcode == subcode)
