"""The CI reports of a real `check` run, read by the tools their users have: JUnit
through Jenkins' JUnit schema and junitparser, on a content repository with
control characters, unicode and commas in its file names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from click.testing import CliRunner
from junitparser import Failure, JUnitXml
from PIL import Image

from igpreflight.cli import cli

DATA = Path(__file__).parent / "data"
JUNIT_XSD = xmlschema.XMLSchema(DATA / "junit-10.xsd")  # see tests/data/README.md

# Names a content repository can hold: a control character, ESC, a bidi override,
# a file really named with U+FFFD, unicode, and a comma, colon and percent.
NAMES = [
    "ctl\x01x.webp",
    "esc\x1b[31mx.webp",
    "rlo\u202ex.webp",
    "ctl\ufffdx.webp",
    "ünï 日本.webp",
    "a b, c: 50%.webp",
]


def check(*args: str) -> str:
    result = CliRunner().invoke(cli, ["check", *args])
    assert result.exit_code == 1, result.output
    return result.output


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "posts").mkdir()
    for name in NAMES:
        Image.new("RGB", (1080, 1080), "teal").save(tmp_path / "posts" / name, format="WEBP")
    Image.new("RGB", (1080, 1350), "teal").save(tmp_path / "posts" / "ok.jpg")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_junit_is_valid_for_jenkins_and_read_by_junitparser(repo: Path) -> None:
    out = repo / "junit.xml"
    check("posts", "--format", "junit", "--output", str(out))
    tree = ET.parse(out)
    cases = list(tree.iter("testcase"))
    assert all(c.get("file") == c.get("name") for c in cases)
    for case in cases:  # GitLab links a testcase's `file`; Jenkins' schema has no such attribute
        del case.attrib["file"]
    JUNIT_XSD.validate(tree)
    suite = next(iter(JUnitXml.fromfile(str(out))))
    assert (suite.tests, suite.failures, suite.errors) == (len(NAMES) + 1, len(NAMES), 0)
    failed = [c for c in suite if any(isinstance(r, Failure) for r in c.result)]
    assert len(failed) == len(NAMES)


def test_junit_names_a_file_with_a_control_character_as_the_text_report_does(
    repo: Path,
) -> None:
    """U+FFFD stood for every control character: `ctl\\x01x.webp`, `esc\\x1b...` and
    a file really named `ctl` U+FFFD `x.webp` were alike, one test to a dashboard
    keyed on names, and a bidi override went raw into the dashboard's page."""
    root = ET.fromstring(check("posts", "--format", "junit").split("\n", 1)[1])
    names = [c.get("name") for c in root.iter("testcase")]
    assert len(set(names)) == len(names) == len(NAMES) + 1
    for shown in ("posts/ctl\\x01x.webp", "posts/esc\\x1b[31mx.webp", "posts/rlo\\u202ex.webp"):
        assert shown in names
        assert shown in check("posts")  # the text report's name of that file
    assert "posts/ctl\ufffdx.webp" in names
    assert "\u202e" not in ET.tostring(root, encoding="unicode")
