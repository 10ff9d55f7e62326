"""SARIF, JUnit and GitHub renderers: valid against their formats, and faithful to the Report."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from igpreflight.catalog import RULES, finding
from igpreflight.model import (
    FileReport,
    Finding,
    ImageFacts,
    Kind,
    MediaItem,
    Post,
    PostReport,
    Report,
    Role,
    Severity,
    Unreadable,
    VideoFacts,
)
from igpreflight.report import RENDERERS, github, junit, sarif
from igpreflight.report.locate import ci_path
from igpreflight.report.text import summary_line

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.json").read_text())
# The official schema (see tests/data/README.md); SCHEMA above is a stricter subset.
OFFICIAL = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json").read_text())

# RFC 3986: what may appear in a URI reference (anything else must be percent-encoded).
_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri-reference")
def _is_uri_reference(value: object) -> bool:
    return isinstance(value, str) and bool(_URI_CHARS.match(value))


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return _is_uri_reference(value) and bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", str(value)))


def _image(path: str, fmt: str = "JPEG", w: int = 1080, h: int = 1350) -> ImageFacts:
    return ImageFacts(path, 90_000, fmt, w, h, "RGB", 8, extension=path.rsplit(".", 1)[-1])


def _video(path: str) -> VideoFacts:
    return VideoFacts(path, 2_000_000, "QuickTime", False, 12.0, True, True, "AVC")


def sample_report() -> Report:
    """Every shape a renderer meets: clean, image, video, unreadable, post, odd names."""
    webp = "assets/a b#1,x.webp"
    mov = "clips/ünï:code,50%.mov"
    return Report(
        files=[
            FileReport(
                webp,
                Kind.IMAGE,
                Role.FEED_IMAGE,
                _image(webp, "WEBP"),
                [
                    finding("IMG002", "format WEBP is not accepted; use JPEG"),
                    finding("IMG010", "extension .webp, content WEBP"),
                ],
            ),
            FileReport("assets/ok.jpg", Kind.IMAGE, Role.FEED_IMAGE, _image("assets/ok.jpg"), []),
            FileReport(
                mov,
                Kind.VIDEO,
                Role.REELS,
                _video(mov),
                [
                    finding("VID004", "moov atom after mdat: 100% of the file\nmust load first"),
                    finding("VID001", "container QuickTime, expected MP4"),
                    finding("VID017", "note: 12.0 s, \r\nfine"),
                ],
            ),
            FileReport(
                "broken.jpg",
                Kind.UNKNOWN,
                None,
                Unreadable("broken.jpg", "truncated"),
                [finding("FILE001", "cannot be read: truncated")],
            ),
            FileReport("/abs/dir/story img.jpg", Kind.IMAGE, Role.STORY_IMAGE, _image("x"), []),
        ],
        posts=[
            PostReport(
                Post(
                    "launch",
                    "CAROUSEL",
                    (MediaItem(webp, "/r/" + webp),),
                ),
                [finding("POST005", "carousel has 1 item; it needs 2 to 10")],
            ),
            PostReport(Post("teaser", "REELS", (MediaItem(mov, "/r/" + mov),)), []),
        ],
    )


def all_findings(report: Report) -> list[tuple[str, str]]:
    out = [(r.path, f.rule) for r in report.files for f in r.findings]
    return out + [(p.post.media[0].path, f.rule) for p in report.posts for f in p.findings]


# --- SARIF -----------------------------------------------------------------


def test_sarif_validates_against_the_schema() -> None:
    log = json.loads(sarif.render(sample_report()))
    jsonschema.Draft4Validator(OFFICIAL, format_checker=FORMATS).validate(log)
    jsonschema.Draft4Validator(SCHEMA, format_checker=FORMATS).validate(log)
    assert log["version"] == "2.1.0"
    assert log["$schema"].startswith("https://")


def test_schema_is_not_a_rubber_stamp() -> None:
    """The vendored schema rejects what SARIF forbids, so the validation above means something."""
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=FORMATS)
    good = json.loads(sarif.render(sample_report()))
    bad_level = json.loads(json.dumps(good))
    bad_level["runs"][0]["results"][0]["level"] = "fatal"
    no_message = json.loads(json.dumps(good))
    del no_message["runs"][0]["results"][0]["message"]
    raw_uri = json.loads(json.dumps(good))
    raw_uri["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"
    ] = "assets/a b.webp"
    stray = json.loads(json.dumps(good))
    stray["runs"][0]["tool"]["driver"]["rules"][0]["severity"] = "error"
    for broken in (bad_level, no_message, raw_uri, stray):
        assert not validator.is_valid(broken)
    official = jsonschema.Draft4Validator(OFFICIAL, format_checker=FORMATS)
    assert official.is_valid(good)
    for broken in (bad_level, no_message, stray):
        assert not official.is_valid(broken)


def test_sarif_has_one_rule_per_catalog_code_with_help() -> None:
    driver = json.loads(sarif.render(Report()))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "igpreflight"
    assert driver["version"]
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    levels = {"error": Severity.ERROR, "warning": Severity.WARNING, "note": Severity.INFO}
    for rule in driver["rules"]:
        info = RULES[rule["id"]]
        assert levels[rule["defaultConfiguration"]["level"]] is info.severity
        assert rule["shortDescription"]["text"] == info.summary
        assert info.fix_hint in rule["help"]["text"]
        assert rule["properties"]["graphSubcode"] == info.graph_subcode
        assert rule["properties"]["graphCode"] == info.graph_code
    img003 = next(r for r in driver["rules"] if r["id"] == "IMG003")
    assert "36003/2207009" in img003["fullDescription"]["text"]


def test_sarif_has_one_result_per_finding_at_its_file() -> None:
    report = sample_report()
    run = json.loads(sarif.render(report))["runs"][0]
    results = run["results"]
    assert len(results) == len(all_findings(report))
    rules = run["tool"]["driver"]["rules"]
    for result, (path, rule) in zip(results, all_findings(report), strict=True):
        assert result["ruleId"] == rule
        assert rules[result["ruleIndex"]]["id"] == rule
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        if path.startswith("/"):
            assert uri == "file://" + path.replace(" ", "%20")
        else:
            assert unquote(uri) == path
        assert result["message"]["text"]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["IMG002"]["level"] == "error"
    assert by_rule["IMG010"]["level"] == "warning"
    assert by_rule["VID017"]["level"] == "note"
    assert by_rule["POST005"]["message"]["text"].startswith("post launch: ")
    uri = by_rule["IMG002"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "assets/a%20b%231%2Cx.webp"
    fingerprints = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)
    assert fingerprints == [
        r["partialFingerprints"][sarif.FINGERPRINT_KEY]
        for r in json.loads(sarif.render(sample_report()))["runs"][0]["results"]
    ]


def test_sarif_post_findings_prefer_the_manifest() -> None:
    post = Post("p1", "CAROUSEL", (MediaItem("a.jpg", "/x/a.jpg"),), source="posts.toml")
    report = Report(posts=[PostReport(post, [finding("POST005", "one item")])])
    result = json.loads(sarif.render(report))["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "posts.toml"
    assert result["locations"][0]["logicalLocations"][0]["name"] == "p1"


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("a.jpg", "a.jpg"),
        ("dir/sub dir/é.jpg", "dir/sub%20dir/%C3%A9.jpg"),
        ("./x%y.png", "x%25y.png"),
        ("/tmp/a b.jpg", "file:///tmp/a%20b.jpg"),
        ("https://cdn.example/a.jpg", "https://cdn.example/a.jpg"),
    ],
)
def test_path_to_uri(path: str, uri: str) -> None:
    assert sarif.path_to_uri(path) == uri


# --- JUnit -----------------------------------------------------------------


def test_junit_counts_match_the_report() -> None:
    report = sample_report()
    root = ET.fromstring(junit.render(report).encode("utf-8"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["igpreflight"]
    suite = suites[0]
    cases = suite.findall("testcase")
    assert len(cases) == len(report.files) + len(report.posts) == int(suite.get("tests"))
    failing = [c for c in cases if c.findall("failure")]
    assert int(suite.get("failures")) == len(failing) == int(root.get("failures"))
    assert all(len(c.findall("failure")) == 1 for c in failing)  # what consumers count
    named = [code for c in failing for code in c.find("failure").get("type").split(",")]
    assert len(named) == len(report.errors)
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert int(props["findings.errors"]) == len(report.errors)
    assert int(props["findings.warnings"]) == len(report.warnings)


def test_junit_testcases_name_files_and_carry_findings() -> None:
    report = sample_report()
    cases = (
        ET.fromstring(junit.render(report).encode("utf-8")).find("testsuite").findall("testcase")
    )
    names = [c.get("name") for c in cases]
    assert names == [r.path for r in report.files] + ["post launch", "post teaser"]
    assert cases[0].get("classname") == "image.feed"
    assert cases[2].get("classname") == "video.reels"
    assert cases[3].get("classname") == "unknown.unknown"
    assert cases[5].get("classname") == "post.carousel"
    webp = cases[0]
    assert [f.get("message") for f in webp.findall("failure")] == [
        "IMG002: format WEBP is not accepted; use JPEG"
    ]
    assert "IMG010" in webp.find("system-out").text  # a warning: reported, not failed
    assert cases[1].find("failure") is None and cases[1].find("system-out") is None
    video_failures = [f.get("type") for f in cases[2].findall("failure")]
    assert video_failures == ["VID001"]
    out = cases[2].find("system-out").text
    assert "VID004" in out and "VID017" in out


def test_junit_names_every_error_of_a_file_in_its_one_failure() -> None:
    """Jenkins and GitHub's junit-report actions show a testcase's first <failure>
    only, and junitparser counts each: one failure holds every error instead."""
    path = "posts/wide.webp"
    findings = [
        finding("IMG002", "format WEBP is not accepted; use JPEG"),
        finding("IMG003", "aspect ratio 3.000 is above 1.91:1"),
        finding("IMG010", "extension .webp, content WEBP"),
    ]
    report = Report(
        files=[FileReport(path, Kind.IMAGE, Role.FEED_IMAGE, _image(path, "WEBP"), findings)]
    )
    case = ET.fromstring(junit.render(report).encode("utf-8")).find("testsuite/testcase")
    (failure,) = case.findall("failure")
    assert failure.get("type") == "IMG002,IMG003"
    assert failure.get("message") == (
        "IMG002: format WEBP is not accepted; use JPEG; IMG003: aspect ratio 3.000 is above 1.91:1"
    )
    body = failure.text.split("\n\n")
    assert [part.split(":", 1)[0] for part in body] == ["IMG002", "IMG003"]
    assert "IMG010" in case.find("system-out").text  # the warning fails nothing


def test_junit_has_one_testcase_for_a_file_walked_and_listed_in_a_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walked (feed) and listed in a story post, a file was two testcases of one
    name, one test to a dashboard that keys on names. SPEC: one testcase per file;
    it names its roles, and each error the roles it was found in."""
    from igpreflight.cli import cli

    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (1080, 1920), "teal").save(tmp_path / "tall.jpg")  # 9:16
    Image.new("RGB", (1080, 1080), "teal").save(tmp_path / "sq.webp")
    (tmp_path / "posts.toml").write_text(
        '[[post]]\nid = "s"\nmedia_type = "STORIES"\nmedia = ["tall.jpg"]\n'
        '[[post]]\nid = "c"\nmedia_type = "CAROUSEL"\nmedia = ["sq.webp", "sq.webp"]\n'
    )
    args = ["check", ".", "--manifest", "posts.toml", "--format"]
    out = CliRunner().invoke(cli, [*args, "junit"]).output
    cases = ET.fromstring(out.split("\n", 1)[1]).find("testsuite").findall("testcase")
    names = [c.get("name") for c in cases]
    assert names == ["sq.webp", "tall.jpg", "post s", "post c"], out
    sq, tall = cases[0], cases[1]
    assert sq.get("classname") == "image.feed+carousel-item"
    assert sq.find("failure").get("message") == (
        "IMG002: as feed, carousel-item: format WEBP is not accepted; use JPEG"
    )
    assert tall.get("classname") == "image.feed+story"
    assert tall.find("failure").get("type") == "IMG003"  # too tall for the feed only
    assert tall.find("failure").get("message").startswith("IMG003: as feed: aspect ratio")
    json_files = json.loads(CliRunner().invoke(cli, [*args, "json"]).output)["files"]
    assert len(json_files) == 4  # the other reports still give each role its entry


def test_junit_survives_control_characters_in_names() -> None:
    path = "bad\x01name.jpg"
    report = Report(
        files=[
            FileReport(
                path, Kind.UNKNOWN, None, Unreadable(path, "x"), [finding("FILE001", "x\x1b[0m")]
            )
        ]
    )
    case = ET.fromstring(junit.render(report).encode("utf-8")).find("testsuite/testcase")
    assert case.get("name") == "bad\\x01name.jpg"  # as the text report shows it
    assert "\x1b" not in case.find("failure").text


# --- GitHub ----------------------------------------------------------------

# ::error file=<prop>,title=<prop>::<data>; properties may not contain raw ':' ',' CR LF
# (nor '%' unless it starts an escape); data may not contain raw CR LF. Neither holds a
# raw control character: those are percent-encoded as CR and LF are (%1B).
_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_PROP = rf"(?:[^%:,{_CONTROL}]|%[0-9A-F]{{2}})+"
WORKFLOW_COMMAND = re.compile(
    rf"^::(error|warning|notice) file=(?P<file>{_PROP}),title=(?P<title>{_PROP})::"
    rf"(?P<data>(?:[^%{_CONTROL}]|%[0-9A-F]{{2}})*)$"
)


def _unescape(text: str) -> str:
    """The runner's escapes (%25 %0D %0A %3A %2C) and our codes of other control
    characters are the percent codes of UTF-8 bytes: one decoding reads both."""
    return unquote(text, errors="strict")


def test_github_lines_follow_the_workflow_command_syntax() -> None:
    report = sample_report()
    lines = github.render(report).splitlines()
    assert lines[-1] == summary_line(report)
    commands = lines[:-1]
    assert len(commands) == len(all_findings(report))
    kinds = {"error": Severity.ERROR, "warning": Severity.WARNING, "notice": Severity.INFO}
    for line, (path, rule) in zip(commands, all_findings(report), strict=True):
        match = WORKFLOW_COMMAND.match(line)
        assert match, line
        assert _unescape(match["file"]) == path
        assert match["title"] == rule
        assert kinds[match[1]] is RULES[rule].severity
    vid004 = next(line for line in commands if "title=VID004" in line)
    data = WORKFLOW_COMMAND.match(vid004)["data"]
    assert "100%25 of the file%0Amust load first" in data
    assert "file=clips/ünï%3Acode%2C50%25.mov" in vid004
    post = next(line for line in commands if "title=POST005" in line)
    assert "::post launch: carousel has 1 item" in post


def test_github_names_a_file_with_an_escape_sequence_unambiguously(tmp_path: Path) -> None:
    """click strips ANSI sequences from a stdout that is not a terminal, so the
    annotation of `t<ESC>[31mred.webp` named `tred.webp`, another file (which may
    exist). Control characters are percent-encoded as the runner's CR and LF are."""
    import subprocess
    import sys

    Image.new("RGB", (400, 400)).save(tmp_path / "t\x1b[31mred.webp")
    Image.new("RGB", (400, 400)).save(tmp_path / "tred.webp")
    done = subprocess.run(
        [sys.executable, "-m", "igpreflight", "check", "--format", "github", "."],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
        text=True,
    )
    files = {WORKFLOW_COMMAND.match(line)["file"] for line in done.stdout.splitlines()[:-1]}
    assert files == {"t%1B[31mred.webp", "tred.webp"}, done.stdout
    assert {_unescape(f) for f in files} == {"t\x1b[31mred.webp", "tred.webp"}


def test_github_clean_report_is_just_the_summary() -> None:
    report = Report(files=[sample_report().files[1]])
    assert github.render(report) == summary_line(report) + "\n"


def test_every_format_is_offered_by_check() -> None:
    from igpreflight.commands.check import check

    help_text = CliRunner().invoke(check, ["--help"]).output
    for fmt in ("sarif", "junit", "github"):
        assert fmt in RENDERERS
        assert fmt in help_text


# --- Through the real command ------------------------------------------------


def _probe_available() -> bool:
    try:
        import igpreflight.preflight.probe  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _probe_available(), reason="probe module not in the tree yet")
@pytest.mark.parametrize("fmt", ["sarif", "junit", "github"])
def test_check_command_writes_each_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    from igpreflight.cli import cli

    Image.new("RGB", (1080, 1350), (200, 80, 40)).save(tmp_path / "good.jpg", quality=90)
    Image.new("RGB", (400, 1600), (20, 80, 140)).save(tmp_path / "tall.jpg", quality=90)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["check", "good.jpg", "tall.jpg", "--format", fmt, "--jobs", "1"]
    )
    assert result.exit_code == 1, result.output  # tall.jpg breaks IMG003
    out = result.output
    if fmt == "sarif":
        log = json.loads(out)
        jsonschema.Draft4Validator(SCHEMA, format_checker=FORMATS).validate(log)
        jsonschema.Draft4Validator(OFFICIAL, format_checker=FORMATS).validate(log)
        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"]
            if r["level"] == "error"
        }
        assert uris == {"tall.jpg"}
    elif fmt == "junit":
        suite = ET.fromstring(out.encode("utf-8")).find("testsuite")
        assert suite.get("tests") == "2" and suite.get("failures") == "1"
    else:
        assert any(
            line.startswith("::error file=tall.jpg,title=IMG003::") for line in out.splitlines()
        )


# --- any text at all -----------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(path=_TEXT, message=_TEXT)
def test_github_escaping_round_trips_any_text(path: str, message: str) -> None:
    f = Finding("IMG002", Severity.ERROR, message)
    line = github.annotation(f, path)
    assert "\n" not in line and "\r" not in line
    match = WORKFLOW_COMMAND.match(line)
    assert match, line
    # The path as every CI format shows it (`./a//b/` -> `a/b`), escaped and back intact.
    assert _unescape(match["file"]) == ci_path(path)
    assert _unescape(match["data"]).startswith(message)


@settings(max_examples=150, deadline=None)
@given(path=_TEXT.filter(lambda p: not p.startswith("/") and "\\" not in p))
def test_sarif_uri_of_any_relative_path_is_a_uri_reference(path: str) -> None:
    uri = sarif.path_to_uri(path)
    if "://" in path and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path):
        return  # a URL is passed through as given
    assert _is_uri_reference(uri), uri
    assert not re.match(r"^[^/]*:", uri)  # no first segment that reads as a scheme
    assert unquote(uri) == PurePosixPath(path).as_posix()


@settings(max_examples=100, deadline=None)
@given(path=_TEXT, message=_TEXT)
def test_junit_is_well_formed_for_any_text(path: str, message: str) -> None:
    report = Report(
        files=[
            FileReport(
                path, Kind.UNKNOWN, None, Unreadable(path, "x"), [finding("FILE001", message)]
            )
        ]
    )
    suite = ET.fromstring(junit.render(report).encode("utf-8")).find("testsuite")
    assert suite.get("tests") == "1" and suite.get("failures") == "1"


def test_junit_strict_fails_on_warnings_like_the_exit_code(tmp_path):
    import xml.etree.ElementTree as ET

    from click.testing import CliRunner
    from PIL import Image

    from igpreflight.cli import cli

    png = tmp_path / "a.png"
    Image.new("RGB", (1080, 1080), "white").save(png)  # IMG012: a warning only
    plain = CliRunner().invoke(cli, ["check", "--format", "junit", str(png)])
    strict = CliRunner().invoke(cli, ["check", "--format", "junit", "--strict", str(png)])
    assert (plain.exit_code, strict.exit_code) == (0, 1)
    assert ET.fromstring(plain.output.split("\n", 1)[1]).get("failures") == "0"
    assert ET.fromstring(strict.output.split("\n", 1)[1]).get("failures") == "1"


def test_github_says_when_there_are_more_annotations_than_github_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GitHub shows 10 annotations of a kind per step; with 12 WebPs a reviewer saw ten
    # and nothing said that two more files failed.
    from igpreflight.cli import cli

    for i in range(12):
        Image.new("RGB", (1080, 1080), (i, 80, 140)).save(tmp_path / f"p{i:02d}.webp")
    Image.new("RGB", (1080, 1080), (9, 80, 140)).save(tmp_path / "flat.png")
    monkeypatch.chdir(tmp_path)
    lines = CliRunner().invoke(cli, ["check", "--format", "github", "."]).output.splitlines()
    command, _, data = lines[0].partition("title=igpreflight::")
    assert command == "::notice ", lines[0]  # a notice of its own, before the findings
    assert _unescape(data).startswith("12 errors, 1 warning: GitHub shows 10 "), data
    assert sum(line.startswith("::error file=") for line in lines) == 12  # all still there

    for extra in sorted(tmp_path.glob("p*.webp"))[10:]:
        extra.unlink()
    ten = CliRunner().invoke(cli, ["check", "--format", "github", "."]).output
    assert ten.startswith("::warning file=flat.png,") and "GitHub shows" not in ten


def test_sarif_keeps_the_most_severe_results_code_scanning_accepts(tmp_path: Path) -> None:
    # Code scanning refuses a whole run of more than 25,000 results; a content archive
    # of that many PNGs once got its upload (and the Action's step) refused for warnings.
    from igpreflight.api.checking import check

    for i in range(3):
        Image.new("RGB", (1080, 1080), (i, 80, 140)).save(tmp_path / f"a{i}.png")
    for i in range(2):
        Image.new("RGB", (1080, 1080), (i, 80, 140)).save(tmp_path / f"b{i}.webp")
    report = check([tmp_path])
    assert sarif.MAX_RESULTS == 25_000
    whole = sarif.build(report)
    assert len(whole["runs"][0]["results"]) == 5 and "invocations" not in whole["runs"][0]

    capped = sarif.build(report, max_results=3)
    run = capped["runs"][0]
    assert [r["level"] for r in run["results"]] == ["error", "error", "warning"]
    assert [r["ruleId"] for r in run["results"]] == ["IMG002", "IMG002", "IMG012"]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("2 of 5 results left out (2 warning)")
    jsonschema.Draft4Validator(OFFICIAL, format_checker=FORMATS).validate(capped)
    jsonschema.Draft4Validator(SCHEMA, format_checker=FORMATS).validate(capped)
