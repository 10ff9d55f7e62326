"""One rule is one unit: its registration is the only place its meaning lives.

These tests hold the registry, the catalog, the planners and the package source
together, so that forgetting a place when adding a rule fails here.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from igpreflight.catalog import RULES
from igpreflight.model import Role, Severity
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.rules import REGISTRY, RULE_MODULES, Registry, load_rules, rule_info
from igpreflight.preflight.rules.quota import QuotaFacts, check_quota
from igpreflight.publish.graph.table import GRAPH_ERRORS
from igpreflight.transcode import plan_image, plan_video
from igpreflight.transcode.types import FixOptions
from tests.factories import GOOD_IMAGE, GOOD_VIDEO

PACKAGE = Path(__file__).resolve().parent.parent / "igpreflight"
PLANNERS = {"image": plan_image, "video": plan_video}

# Facts that break each rule `fix` resolves (with the role and fix options that
# matter). A new fixable rule needs its line here: the tests below plan a fix for
# it and look for the step that resolves it.
FIXABLE_EXAMPLES = {
    "IMG001": (replace(GOOD_IMAGE, bytes=9_000_000), Role.FEED_IMAGE, {}),
    "IMG002": (replace(GOOD_IMAGE, format="WEBP", extension="webp"), Role.FEED_IMAGE, {}),
    "IMG003": (replace(GOOD_IMAGE, height=2000), Role.FEED_IMAGE, {}),
    "IMG004": (replace(GOOD_IMAGE, width=2000, height=1600), Role.FEED_IMAGE, {}),
    "IMG006": (replace(GOOD_IMAGE, bits=16), Role.FEED_IMAGE, {}),
    "IMG007": (replace(GOOD_IMAGE, orientation=6, height=1080), Role.FEED_IMAGE, {}),
    "IMG008": (replace(GOOD_IMAGE, frames=3), Role.FEED_IMAGE, {}),
    "IMG009": (replace(GOOD_IMAGE, has_alpha=True, mode="RGBA"), Role.FEED_IMAGE, {}),
    "IMG010": (replace(GOOD_IMAGE, extension="png"), Role.FEED_IMAGE, {}),
    "IMG012": (replace(GOOD_IMAGE, format="PNG", extension="png"), Role.FEED_IMAGE, {}),
    "IMG013": (replace(GOOD_IMAGE, exif_error="a loop"), Role.FEED_IMAGE, {}),
    "IMG014": (replace(GOOD_IMAGE, jpeg_coding="arithmetic"), Role.FEED_IMAGE, {}),
    "VID001": (replace(GOOD_VIDEO, container="Matroska", extension="mkv"), Role.REELS, {}),
    "VID002": (replace(GOOD_VIDEO, video_codec="VP9"), Role.REELS, {}),
    "VID003": (replace(GOOD_VIDEO, audio_codec="Opus"), Role.REELS, {}),
    "VID004": (replace(GOOD_VIDEO, is_streamable=False), Role.REELS, {}),
    "VID005": (replace(GOOD_VIDEO, fps=120.0), Role.REELS, {}),
    "VID006": (replace(GOOD_VIDEO, width=2160, height=3840), Role.REELS, {}),
    "VID007": (GOOD_VIDEO, Role.CAROUSEL_VIDEO, {}),  # 9:16 is outside a carousel's range
    "VID008": (replace(GOOD_VIDEO, duration=1.0), Role.REELS, {"extend": True}),
    "VID009": (replace(GOOD_VIDEO, bytes=400_000_000), Role.REELS, {}),
    "VID010": (replace(GOOD_VIDEO, video_bitrate=30_000_000), Role.REELS, {}),
    "VID011": (replace(GOOD_VIDEO, audio_sample_rate=96_000), Role.REELS, {}),
    "VID012": (replace(GOOD_VIDEO, audio_channels=6), Role.REELS, {}),
    "VID013": (replace(GOOD_VIDEO, scan_type="Interlaced"), Role.REELS, {}),
    "VID014": (replace(GOOD_VIDEO, chroma="4:2:2"), Role.REELS, {}),
    "VID015": (replace(GOOD_VIDEO, frame_rate_mode="VFR"), Role.REELS, {}),
    "VID016": (replace(GOOD_VIDEO, has_edit_list=True), Role.REELS, {}),
    "VID017": (replace(GOOD_VIDEO, width=1920, height=1080, rotation=90), Role.REELS, {}),
    "VID018": (replace(GOOD_VIDEO, video_codec="HEVC"), Role.REELS, {}),
    # An audio bitrate far from 128 kbps is resolved when the audio is encoded anyway.
    "VID020": (replace(GOOD_VIDEO, audio_codec="Opus", audio_bitrate=32_000), Role.REELS, {}),
}


def _resolvable(kind: str) -> set[str]:
    return {
        r.code
        for r in REGISTRY.rules.values()
        if r.kind == kind and (r.info.fixable or r.info.on_request)
    }


def test_the_catalog_is_the_registry():
    codes = list(RULES)  # listed by family, then numerically, whatever the registration order
    assert codes[0] == "IMG001" and codes[-1] == "FILE003"
    assert codes.index("IMG002") < codes.index("IMG010") < codes.index("VID001")
    assert {c: r.info for c, r in load_rules().rules.items()} == RULES
    for info in RULES.values():
        assert info.summary and info.fix_hint, info.code
        assert "\n" not in info.summary, info.code


def test_each_rule_module_is_listed_with_the_kind_its_rules_read():
    """A check loads the modules of its kind alone (`load_rules(kind)`): a module listed
    under the wrong kind would leave its rules out of that check."""
    registry = load_rules()
    for rule in registry.rules.values():
        module = rule.module.rpartition(".")[2]
        assert RULE_MODULES[module] == rule.kind, rule.code
    for kind in set(RULE_MODULES.values()):
        assert getattr(registry, kind), f"no rule of kind {kind}"


def test_rule_info_is_the_catalogs_entry():
    assert all(rule_info(code) is info for code, info in RULES.items())
    assert rule_info("IMG999") is None


@pytest.mark.parametrize("kind", sorted(PLANNERS))
def test_each_planner_claims_exactly_the_rules_fix_resolves(kind):
    """Forgetting the planner's rule set used to turn a 'fixable' finding into `failed`."""
    claimed = set(PLANNERS[kind].RESOLVES)
    assert claimed <= REGISTRY.codes(), claimed - REGISTRY.codes()
    assert claimed == _resolvable(kind)


def test_no_other_kind_of_rule_claims_to_be_fixable():
    planned = {c for kind in PLANNERS for c in _resolvable(kind)}
    assert {c for c, info in RULES.items() if info.fixable or info.on_request} == planned


@pytest.mark.parametrize("code", sorted(_resolvable("image") | _resolvable("video")))
def test_every_fixable_rule_gets_a_planned_step(code):
    facts, role, options = FIXABLE_EXAMPLES[code]
    findings = check_facts(facts, role)
    assert code in {f.rule for f in findings}, f"the example does not break {code}"
    planner = PLANNERS[REGISTRY.rules[code].kind]
    plan = (planner.plan_image if planner is plan_image else planner.plan_video)(
        facts, findings, role, FixOptions(**options)
    )
    assert plan.reason is None, plan.reason
    assert code in {r for step in plan.steps for r in step.rules}, plan.steps


def test_the_examples_are_exactly_the_fixable_rules():
    assert set(FIXABLE_EXAMPLES) == _resolvable("image") | _resolvable("video")


def test_on_request_rules_are_not_fixable_findings():
    facts, role, _ = FIXABLE_EXAMPLES["VID008"]
    (duration,) = [f for f in check_facts(facts, role) if f.rule == "VID008"]
    assert RULES["VID008"].on_request and not duration.fixable


def _code_strings(path: Path, codes: set[str]) -> set[str]:
    """Rule codes written in string literals of `path` (docstrings and comments are prose)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and id(node) not in docstrings:
            found |= set(re.findall(r"\b[A-Z]+\d{3}\b", node.value)) & codes
    return found


# Files allowed to write a rule's code for now, each with the codes; nothing may join
# this list (the URL checks moved into preflight/rules/url.py, issue 10 item 2).
PENDING: dict[str, set[str]] = {}


def test_a_rule_code_is_written_only_in_its_rule_module_and_its_planner():
    codes = REGISTRY.codes()
    allowed: dict[str, set[str]] = {}
    for rule in REGISTRY.rules.values():
        home = rule.module.removeprefix("igpreflight.").replace(".", "/") + ".py"
        allowed.setdefault(home, set()).add(rule.code)
    for planner in PLANNERS.values():
        home = planner.__name__.removeprefix("igpreflight.").replace(".", "/") + ".py"
        allowed.setdefault(home, set()).update(planner.RESOLVES)
    for where, pending in PENDING.items():
        # A pending entry goes when its file does; the list never hides a new one.
        assert (PACKAGE / where).exists(), f"{where} is gone: remove it from PENDING"
        allowed.setdefault(where, set()).update(pending)
    stray = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        extra = _code_strings(path, codes) - allowed.get(where, set())
        if extra:
            stray[where] = sorted(extra)
    assert stray == {}


def test_the_source_check_sees_codes_in_strings_and_f_strings(tmp_path):
    """The check above would pass on an empty package; show it finds what it must."""
    src = tmp_path / "m.py"
    src.write_text(
        '"""VID001 in a docstring is prose."""\n'
        "# IMG001 in a comment too\n"
        'X = "IMG002"\n'
        'def f(n):\n    """POST001 here too."""\n    return f"QUOTA001: {n} FILE001"\n',
        encoding="utf-8",
    )
    assert _code_strings(src, REGISTRY.codes()) == {"IMG002", "QUOTA001", "FILE001"}


def test_quota_rule_finds_a_used_up_quota_and_a_graph_refusal():
    assert check_quota(QuotaFacts(total=50, remaining=3)) == []
    (used,) = check_quota(QuotaFacts(total=50, remaining=0))
    assert used.rule == "QUOTA001" and used.severity is Severity.ERROR
    assert (used.code, used.subcode) == (9, 2207042)
    assert "(50 posts per 24 h) is used up" in used.message
    (refused,) = check_quota(QuotaFacts(50, 10, refusal="9/2207042: limit reached"))
    assert "publishing limit reached (9/2207042: limit reached)" in refused.message


def test_explain_a_subcode_lists_every_rule_that_prevents_it():
    """Through the real CLI: `explain 2207026` names each video rule that catches it."""
    out = subprocess.run(
        [sys.executable, "-m", "igpreflight", "explain", "2207026"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = {c for c, info in RULES.items() if info.graph_subcode == 2207026}
    assert {"VID001", "VID002", "VID003", "VID014"} <= expected
    listed = set(re.findall(r"^\s+([A-Z]+\d{3})\s", out, flags=re.M))
    assert listed == expected, out
    assert "fix-media" in out


def test_every_graph_error_names_a_registered_rule_or_none():
    for g in GRAPH_ERRORS:
        assert g.rule is None or g.rule in RULES
        assert all(r.graph_subcode == g.subcode for r in g.rules)


def test_a_registration_is_complete_and_unique():
    reg = Registry()

    @reg.image_rule("IMG900", Severity.WARNING, "a test rule", fix="what fix does")
    def rule(facts, lim):
        yield rule.finding("broken")

    (f,) = rule(None, None)
    assert (f.rule, f.severity, f.fixable) == ("IMG900", Severity.WARNING, True)
    assert rule.finding("x", fixable=False).fixable is False
    with pytest.raises(ValueError, match="registered twice"):
        reg.video_rule("IMG900", Severity.ERROR, "again", todo="t")(lambda f, lim: ())
    with pytest.raises(ValueError, match="exactly one of fix= or todo="):
        reg.post_rule("POST900", Severity.ERROR, "both", fix="a", todo="b")
