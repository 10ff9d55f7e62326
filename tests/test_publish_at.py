"""`publish_at`: RFC 3339 in, epoch seconds out, never early, never out of range."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from igpreflight.preflight.manifest import ManifestError, load_manifest
from igpreflight.preflight.rfc3339 import (
    END_EPOCH,
    MIN_EPOCH,
    format_moment,
    format_rfc3339,
    parse_rfc3339,
)

OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# Local times whose UTC instant stays within years 0001-9999 whatever the offset.
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS
)


def exact(d: datetime) -> Decimal:
    """The instant `d` names, in exact decimal seconds since the epoch."""
    delta = d - datetime(1970, 1, 1, tzinfo=UTC)
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6


def rfc3339(d: datetime) -> str:
    text = d.isoformat()
    return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text


@settings(max_examples=400, deadline=None)
@given(INSTANTS)
def test_any_datetime_at_any_offset_is_kept_to_the_microsecond_and_never_early(d):
    for value in (rfc3339(d), d):  # a string, and what TOML gives for a date-time
        epoch = parse_rfc3339(value)
        with localcontext() as ctx:
            ctx.prec = 1200
            assert Decimal(epoch) >= exact(d)  # never before the instant written
            assert Decimal(math.nextafter(epoch, -math.inf)) < exact(d)  # the first float after
        assert parse_rfc3339(format_rfc3339(epoch)) == epoch
        assert format_rfc3339(parse_rfc3339(format_rfc3339(epoch))) == format_rfc3339(epoch)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=4102444800))  # 1970 to 2100: the clock's times
def test_a_moment_is_said_to_the_millisecond(x):
    """When a job or an event happened: 3 decimals at most, within half a ms, where
    the exact form of `time.time()` had 7 (12:10:11.1234567Z)."""
    text = format_moment(x)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z", text), text
    assert abs(parse_rfc3339(text) - x) <= 0.0005 + 1e-6


@settings(max_examples=400, deadline=None)
@given(st.floats(min_value=MIN_EPOCH, max_value=END_EPOCH, exclude_max=True))
def test_format_then_parse_gives_back_the_same_float(x):
    text = format_rfc3339(x)
    assert parse_rfc3339(text) == x
    assert text.endswith("Z")
    if abs(x) >= 1:  # a float step of 2e-16 s or more: at most 17 fractional digits
        assert len(text) <= len("0001-01-01T00:00:00.Z") + 17, text


def test_fractional_seconds_survive_normalisation(tmp_path):
    """...:01.923Z published at :01 would be 0.923 s early."""
    assert format_rfc3339(parse_rfc3339("2026-12-01T09:00:01.923Z")) == "2026-12-01T09:00:01.923Z"
    assert format_rfc3339(parse_rfc3339("2026-12-01T10:00:01.5+01:00")) == (
        "2026-12-01T09:00:01.5Z"
    )
    assert parse_rfc3339("2026-12-01T09:00:01.923Z") > parse_rfc3339("2026-12-01T09:00:01Z")
    (tmp_path / "a.jpg").write_bytes(b"")
    doc = {"post": [{"id": "p", "media": ["a.jpg"], "publish_at": "2026-12-01T09:00:01.923Z"}]}
    (tmp_path / "m.json").write_text(json.dumps(doc))
    (tmp_path / "m.toml").write_text(
        '[[post]]\nid = "p"\nmedia = ["a.jpg"]\npublish_at = 2026-12-01T10:00:01.923+01:00\n'
    )
    for name in ("m.json", "m.toml"):
        (post,) = load_manifest(tmp_path / name)
        assert post.extra["publish_at"] == "2026-12-01T09:00:01.923Z", name


OUT_OF_RANGE = [
    ("9999-12-31T23:59:59-12:00", "out of range"),  # UTC year 10000
    ("0001-01-01T00:00:00+01:00", "out of range"),  # UTC year 0
    ("0000-01-01T00:00:00Z", "year 0 is out of range"),
    ("2026-01-01T00:00:00+24:00", "UTC offsets run from -23:59 to +23:59"),
    ("2026-01-01T00:00:00-99:99", "UTC offsets run from -23:59 to +23:59"),
    ("2026-13-01T00:00:00Z", "month must be in 1..12"),
    ("2026-06-30T23:59:60Z", "second must be in 0..59"),
    ("2026-01-01T00:00:00", "has no UTC offset"),
    ("2026-W01-1T00:00:00Z", "is not an RFC 3339 date-time"),
    ("20260101T000000Z", "is not an RFC 3339 date-time"),
    ("tomorrow", "is not an RFC 3339 date-time"),
]


@pytest.mark.parametrize("value,says", OUT_OF_RANGE)
def test_a_value_that_names_no_instant_is_a_manifest_error(value, says, tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    doc = {"post": [{"id": "p", "media": ["a.jpg"], "publish_at": value}]}
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(ManifestError, match=re.escape(says)) as info:
        load_manifest(tmp_path / "m.json")
    assert str(info.value).startswith("post #1: publish_at ") and "\n" not in str(info.value)


def test_a_toml_date_time_out_of_range_is_a_manifest_error(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    for value, says in (
        ("9999-12-31T23:59:59-12:00", "out of range"),
        ("2026-12-01T09:00:00", "has no UTC offset"),
        ("2026-12-01", "must be an RFC 3339 date-time"),
    ):
        (tmp_path / "m.toml").write_text(
            f'[[post]]\nid = "p"\nmedia = ["a.jpg"]\npublish_at = {value}\n'
        )
        with pytest.raises(ManifestError, match=says):
            load_manifest(tmp_path / "m.toml")


def test_the_cli_says_it_in_one_line_with_exit_2(tmp_path):
    """The year-10000 value of issue 19 raised `ValueError: year 10000` before."""
    (tmp_path / "a.jpg").write_bytes(b"")
    doc = {"post": [{"id": "p", "media": ["a.jpg"], "publish_at": "9999-12-31T23:59:59-12:00"}]}
    (tmp_path / "m.json").write_text(json.dumps(doc))
    for command in (["check", "--manifest"], ["publish", "--dry-run"]):
        done = subprocess.run(
            [sys.executable, "-m", "igpreflight", *command, str(tmp_path / "m.json")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, (command, done.stderr)
        assert "Traceback" not in done.stderr
        errors = [line for line in done.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1 and errors[0].startswith("igpreflight: error: post #1: publish_at")
