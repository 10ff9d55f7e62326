"""The rule registry: one rule is one unit, registered once with everything known about it.

A rule is a small pure function from facts to findings. Its registration carries
its code, severity, one-line summary, the Graph error it prevents and what `fix`
does about it; the function builds its findings with `rule.finding(message)`, so
the code string is written once. `igpreflight rules`, `explain`, the reports'
help text and the catalog's rule table are all generated from this registry.
See CONTRIBUTING.md, "Adding a rule".

A rule never opens a file. Its numbers come from the limits it is given: those of
the profile the file or post is checked under (`igpreflight.profiles`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import field
from functools import partialmethod
from typing import Any

from igpreflight.limits import IMAGE_LIMITS, POST_LIMITS, PostLimits
from igpreflight.model import Facts, Finding, Role, Severity
from igpreflight.records import record

# The modules that register rules, in registration order, each with the kind of input its
# rules read; families are listed (rules, SARIF) in the order of their first module. A
# family's rules may span several modules, each named after the family and its job
# (post_tags.py is in the post family). A new rule module is added here and nowhere else.
RULE_MODULES = {
    "image": "image",
    "video": "video",
    "video_dimensions": "video",
    "video_encoding": "video",
    "post": "post",
    "post_types": "post",
    "post_video_options": "post",
    "post_tags": "post",
    "post_fields": "post",
    "post_batch": "batch",
    "url": "url",
    "quota": "quota",
    "file": "file",
}


@record
class PostContext:
    """What a post rule may look at besides the post: the facts of its media
    (keyed by MediaItem.key: local path or URL) and the limits of the profile."""

    facts: Mapping[str, Facts]
    limits: PostLimits = POST_LIMITS
    max_alt_text: int = IMAGE_LIMITS[Role.FEED_IMAGE].max_alt_text  # POST017


@record
class RuleInfo:
    """What a rule means, for people and tools (`igpreflight rules`, SARIF, explain)."""

    code: str
    severity: Severity
    summary: str  # one line: what the rule checks
    graph_code: int | None = None
    graph_subcode: int | None = None
    fixable: bool = False  # `fix` resolves it without being asked
    fix_hint: str = ""  # what `igpreflight fix` does about it, or what the user must do
    # `fix` resolves it only when an option asks for it (VID008: --trim / --extend);
    # its findings stay not fixable, so a plain `fix` reports the file unfixable.
    on_request: bool = False
    # The profile values it reads ("image.max_bytes"): what `explain`, the rule pages and
    # SARIF show for each profile (SPEC 12).
    limits: tuple[str, ...] = ()


@record(eq=False)
class Rule:
    """A registered rule: its meaning (`info`) and the function that checks it.

    Call it like the function; build findings with `rule.finding(message)`.
    """

    info: RuleInfo
    kind: str  # image, video, post, batch, file, url, quota: what the check reads
    check: Callable[..., Any] | None  # None: declared here, checked by code elsewhere
    module: str  # the module that registered it (its code string lives there)

    @property
    def code(self) -> str:
        return self.info.code

    @property
    def family(self) -> str:
        """The family its module belongs to (post for post_tags.py): what listings group by."""
        return self.module.rpartition(".")[2].partition("_")[0]

    def __call__(self, *args: Any) -> Any:
        if self.check is None:
            raise TypeError(f"rule {self.code} is declared in {self.module}, checked elsewhere")
        return self.check(*args)

    def finding(self, message: str, *, fixable: bool | None = None) -> Finding:
        """A finding of this rule; severity, Graph codes and fixable come from the registration
        (`fixable=False` when this occurrence cannot be fixed, e.g. a video with no video)."""
        info = self.info
        return Finding(
            rule=info.code,
            severity=info.severity,
            message=message,
            code=info.graph_code,
            subcode=info.graph_subcode,
            fixable=info.fixable if fixable is None else fixable,
        )

    def __repr__(self) -> str:
        return f"<Rule {self.code} ({self.kind})>"


@record(frozen=False)
class Registry:
    """Every rule by code, and per kind of input, in registration order."""

    rules: dict[str, Rule] = field(default_factory=dict)
    image: dict[str, Rule] = field(default_factory=dict)
    video: dict[str, Rule] = field(default_factory=dict)
    post: dict[str, Rule] = field(default_factory=dict)
    batch: dict[str, Rule] = field(default_factory=dict)
    file: dict[str, Rule] = field(default_factory=dict)
    url: dict[str, Rule] = field(default_factory=dict)
    quota: dict[str, Rule] = field(default_factory=dict)

    def register(
        self,
        kind: str,
        code: str,
        severity: Severity,
        summary: str,
        *,
        graph: tuple[int | None, int | None] = (None, None),
        fix: str | None = None,
        todo: str | None = None,
        on_request: bool = False,
        limits: tuple[str, ...] = (),
    ) -> Callable[[Callable[..., Any]], Rule]:
        """Register the decorated function as rule `code` of `kind`.

        Give `fix` (what `igpreflight fix` does: the rule is fixable) or `todo`
        (what the user must do), never both. `on_request`: fix resolves it only
        when an option asks (the hint in `todo` names the option).
        """
        if (fix is None) == (todo is None):
            raise ValueError(f"rule {code}: give exactly one of fix= or todo=")
        table: dict[str, Rule] = getattr(self, kind)
        info = RuleInfo(
            code,
            severity,
            summary,
            graph[0],
            graph[1],
            fixable=fix is not None,
            fix_hint=fix if fix is not None else todo or "",
            on_request=on_request,
            limits=limits,
        )

        def decorate(fn: Callable[..., Any] | None, module: str = "") -> Rule:
            if code in self.rules:
                raise ValueError(f"rule {code} registered twice")
            rule = Rule(info, kind, fn, module or getattr(fn, "__module__", ""))
            self.rules[code] = table[code] = rule
            return rule

        return decorate

    def declare(
        self, kind: str, code: str, severity: Severity, summary: str, *, module: str, **kw: Any
    ) -> Rule:
        """Register a rule whose check is not (yet) a function here: its meaning is
        registered like any other, and `rule.finding()` builds its findings."""
        return self.register(kind, code, severity, summary, **kw)(None, module)

    # @REGISTRY.image_rule(code, severity, summary, ...): register(kind, ...) per kind.
    image_rule = partialmethod(register, "image")
    video_rule = partialmethod(register, "video")
    post_rule = partialmethod(register, "post")
    batch_rule = partialmethod(register, "batch")
    file_rule = partialmethod(register, "file")
    url_rule = partialmethod(register, "url")
    quota_rule = partialmethod(register, "quota")

    def codes(self) -> set[str]:
        """Every registered rule code, whatever it reads."""
        return set(self.rules)


REGISTRY = Registry()


def load_rules(*kinds: str) -> Registry:
    """Import the rule modules (which register their rules) of these kinds, or of every
    kind, and return the registry. Checking one photo reads the image rules alone:
    importing the other twelve modules cost `check FILE` 6-7 ms of its start-up."""
    wanted = set(kinds or _KINDS) - _LOADED
    if wanted:
        for name, kind in RULE_MODULES.items():  # a kind's rules in registration order
            if kind in wanted:
                importlib.import_module(f"{__name__}.{name}")
        _LOADED.update(wanted)
    return REGISTRY


_KINDS = frozenset(RULE_MODULES.values())
_LOADED: set[str] = set()  # the kinds whose every module load_rules has imported


def rule_info(code: str) -> RuleInfo | None:
    """The registration of rule `code` (None for an unknown code), as the catalog has it,
    without importing every rule module when the one that registered it is loaded."""
    rule = REGISTRY.rules.get(code)
    if rule is None and _LOADED != _KINDS:
        rule = load_rules().rules.get(code)
    return rule.info if rule is not None else None


def listing_order(rule: Rule) -> tuple[int, str, int]:
    """Rules as people list them: by family (RULE_MODULES order), then by code,
    numerically (IMG002 before IMG010), whatever order they were registered in."""
    module = rule.family
    order = tuple(RULE_MODULES)
    rank = order.index(module) if module in order else len(order)
    head = rule.code.rstrip("0123456789")
    return rank, head, int(rule.code[len(head) :] or -1)
