"""The error catalog decides retries: every class of SPEC section 6, subcode before code."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from igpreflight.catalog import RULES
from igpreflight.cli import cli
from igpreflight.publish.graph.table import ErrorClass, classify

C = ErrorClass


@pytest.mark.parametrize(
    "code, subcode, expected",
    [
        (1, None, C.RETRY_SAME),
        (2, None, C.RETRY_SAME),
        (9007, 2207027, C.RETRY_SAME),
        (24, 2207008, C.RETRY_SAME),
        (-2, 2207003, C.RETRY_SAME),
        (-1, 2207001, C.RETRY_SAME),
        (-2, 2207020, C.RECREATE_CONTAINER),
        (-1, 2207032, C.RECREATE_CONTAINER),
        (-1, 2207053, C.RECREATE_CONTAINER),
        (24, 2207006, C.RECREATE_CONTAINER),
        (4, None, C.WAIT_QUOTA),
        (17, None, C.WAIT_QUOTA),
        (32, None, C.WAIT_QUOTA),
        (613, None, C.WAIT_QUOTA),
        (80002, None, C.WAIT_QUOTA),
        (341, None, C.WAIT_QUOTA),
        (9, 2207042, C.WAIT_QUOTA),
        (352, 2207026, C.FIX_MEDIA),
        (36000, 2207004, C.FIX_MEDIA),
        (36001, 2207005, C.FIX_MEDIA),
        (36003, 2207009, C.FIX_MEDIA),
        (36004, 2207010, C.FIX_MEDIA),
        (1, 2207057, C.FIX_MEDIA),
        (100, 2207028, C.FIX_MEDIA),
        (100, 2207035, C.FIX_MEDIA),
        (100, 2207036, C.FIX_MEDIA),
        (100, 2207040, C.FIX_MEDIA),
        (9004, 2207052, C.FIX_MEDIA),
        (190, None, C.RECONNECT_AUTH),
        (190, 463, C.RECONNECT_AUTH),
        (190, 460, C.RECONNECT_AUTH),
        (10, None, C.RECONNECT_AUTH),
        (200, None, C.RECONNECT_AUTH),
        (299, None, C.RECONNECT_AUTH),
        (4, 2207051, C.PERMANENT),
        (25, 2207050, C.PERMANENT),
        (100, 2207023, C.PERMANENT),
        (100, 2207037, C.PERMANENT),
        (368, None, C.PERMANENT),
    ],
)
def test_every_class_of_spec_section_6(code, subcode, expected):
    assert classify(code, subcode) is expected


def test_subcode_decides_before_code():
    assert classify(4) is C.WAIT_QUOTA
    assert classify(4, 2207051) is C.PERMANENT


def test_server_errors_and_transient_flags_retry():
    assert classify(None, None, http_status=503) is C.RETRY_SAME
    assert classify(12345, None, is_transient=True) is C.RETRY_SAME
    assert classify(12345, None) is C.PERMANENT


def test_rule_codes_are_stable_and_unique():
    codes = list(RULES)
    assert len(codes) == len(set(codes))
    for family, count in (("IMG", 12), ("VID", 20), ("POST", 19), ("URL", 6)):
        expected = {f"{family}{n:03d}" for n in range(1, count + 1)}
        assert expected <= set(codes), family


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_explain_rule_and_graph_codes():
    r = run("explain", "IMG003")
    assert r.exit_code == 0 and "4:5" in r.output and "2207009" in r.output
    r = run("explain", "2207026")
    assert r.exit_code == 0 and "fix-media" in r.output and "VID001" in r.output
    r = run("explain", "352/2207026")
    assert r.exit_code == 0 and "fix-media" in r.output
    r = run("explain", "190")
    assert r.exit_code == 0 and "reconnect-auth" in r.output
    r = run("explain", "4/2207051")
    assert r.exit_code == 0 and "permanent" in r.output
    assert run("explain", "IMG999").exit_code == 1
    assert run("explain", "7777777").exit_code == 1


def test_rules_json_lists_every_rule():
    import json

    r = run("rules", "--format", "json")
    rules = json.loads(r.output)
    assert {x["code"] for x in rules} == set(RULES)
    img3 = next(x for x in rules if x["code"] == "IMG003")
    assert img3["graph_subcode"] == 2207009 and img3["fixable"] is True
    assert "IMG003" in run("rules").output


def test_explain_negative_and_bare_codes():
    r = run("explain", "-2/2207003")
    assert r.exit_code == 0 and "retry-same" in r.output and "URL004" in r.output
    r = run("explain", "-1")
    assert r.exit_code == 0 and "2207001" in r.output and "2207053" in r.output
    for bare, subcode in (("352", "2207026"), ("100", "2207028"), ("9", "2207042")):
        r = run("explain", bare)
        assert r.exit_code == 0 and subcode in r.output, bare
    # a number of thousands of digits is no code: one line, not "internal error"
    r = run("explain", "9" * 5000)
    assert r.exit_code != 0 and "unknown code" in r.output and "internal error" not in r.output
