"""SARIF as GitHub code scanning and its upload-sarif action take it: an alert's
identity (`primaryLocationLineHash`, the only fingerprint code scanning reads),
location URIs whose scheme matches the checkout's (else the whole upload is
refused), relative URIs resolved through `%SRCROOT%`."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import jsonschema
import pytest
from click.testing import CliRunner
from PIL import Image

from igpreflight.catalog import finding
from igpreflight.cli import cli
from igpreflight.model import FileReport, ImageFacts, Kind, Report, Role
from igpreflight.report import sarif

OFFICIAL = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json").read_text())


def _image(path: str) -> ImageFacts:
    return ImageFacts(path, 90_000, "WEBP", 1080, 1080, "RGB", 8, extension="webp")


def _file(path: str, *findings) -> FileReport:  # type: ignore[no-untyped-def]
    return FileReport(path, Kind.IMAGE, Role.FEED_IMAGE, _image(path), list(findings))


def test_an_object_elsewhere_does_not_make_code_scanning_refuse_the_upload() -> None:
    """upload-sarif sends the checkout as a file:// root, and code scanning refuses an
    upload with a location URI of another scheme: one s3:// or https:// result made
    the upload of every finding fail."""
    webp = finding("IMG002", "format WEBP is not accepted; use JPEG")
    report = Report(
        files=[
            _file("posts/a.webp", webp),
            _file("s3://bucket/shoot/é b.webp", webp),
            _file("https://cdn.example.com/x.webp?sig=1", webp),
        ]
    )
    log = sarif.build(report)
    jsonschema.Draft4Validator(OFFICIAL).validate(log)
    locations = [r["locations"][0] for r in log["runs"][0]["results"]]
    for loc in locations:
        if "physicalLocation" in loc:
            uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            assert urlparse(uri).scheme in ("", "file"), uri
    assert locations[0]["physicalLocation"]["artifactLocation"] == {
        "uri": "posts/a.webp",
        "uriBaseId": "%SRCROOT%",
    }
    assert [
        loc.get("logicalLocations", [{}])[0].get("fullyQualifiedName") for loc in locations
    ] == [
        None,
        "s3://bucket/shoot/é b.webp",
        "https://cdn.example.com/x.webp?sig=1",
    ]


def test_each_alert_of_a_file_has_its_own_primary_location_line_hash() -> None:
    """Code scanning keys an alert on primaryLocationLineHash alone; without one,
    upload-sarif hashed line 1 of the binary file, the same for every result in it,
    so the two profiles' IMG003 alerts of one image were one alert."""
    report = Report(
        files=[
            _file(
                "posts/wide.jpg",
                replace(finding("IMG003", "aspect ratio 3.000 is above 1.91:1"), profile="a"),
                replace(finding("IMG003", "aspect ratio 3.000 is above 1.91:1"), profile="b"),
                finding("IMG004", "width 3000 px is above 1440"),
            ),
            _file("posts/other.jpg", finding("IMG004", "width 3000 px is above 1440")),
        ]
    )
    results = sarif.build(report)["runs"][0]["results"]
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert len(set(hashes)) == len(hashes) == 4
    again = sarif.build(report)["runs"][0]["results"]
    assert hashes == [r["partialFingerprints"]["primaryLocationLineHash"] for r in again]


def test_a_viewer_finds_each_file_through_srcroot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log may be written anywhere (`--output reports/x.sarif`); `%SRCROOT%`
    says where its relative URIs start, the repository's root."""
    (tmp_path / "posts" / "été").mkdir(parents=True)
    Image.new("RGB", (1080, 1080)).save(tmp_path / "posts" / "été" / "a b,50%.webp")
    (tmp_path / "reports").mkdir()
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "reports" / "x.sarif"
    result = CliRunner().invoke(cli, ["check", "posts", "--format", "sarif", "-o", str(out)])
    assert result.exit_code == 1, result.output
    run = json.loads(out.read_text())["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    (res,) = run["results"]
    artifact = res["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact["uriBaseId"] == "%SRCROOT%"
    assert Path(unquote(urlparse(urljoin(base, artifact["uri"])).path)).is_file()


def test_a_file_name_that_is_not_utf8_has_a_uri_of_its_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name from another system's encoding (Latin-1 `é` is byte E9) reached `quote`
    as a lone surrogate: the whole SARIF report was an internal error, exit 2."""
    name = os.fsdecode(b"caf\xe9.webp")
    Image.new("RGB", (1080, 1080)).save(tmp_path / name, format="WEBP")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", ".", "--format", "sarif"])
    assert result.exit_code == 1, result.output
    log = json.loads(result.output)
    jsonschema.Draft4Validator(OFFICIAL).validate(log)
    (res,) = log["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "caf%E9.webp"
    assert res["ruleId"] == "IMG002"
