"""`igpreflight.check_url`: the function under `check-url`, against a real loopback server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner
from loopback import serving
from PIL import Image

from igpreflight.cli import cli


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 80), (200, 60, 30)).save(buf, "JPEG")
    return buf.getvalue()


JPEG = _jpeg()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/a.jpg":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(JPEG)))
        self.end_headers()
        self.wfile.write(JPEG)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving(Handler) as url:
        yield url


def test_check_url_is_exported_and_returns_the_cli_document(server, tmp_path, capsys):
    from igpreflight import CheckUrlResult, check_url

    local = tmp_path / "a.jpg"
    local.write_bytes(JPEG)
    good, missing = f"{server}/a.jpg", f"{server}/gone.jpg"
    result = check_url([good, missing], local=[local, local], allow_private=True, timeout=5)
    assert capsys.readouterr() == ("", "")  # nothing printed
    assert isinstance(result, CheckUrlResult)
    assert [r.ok for r in result.urls] == [True, False] and not result.ok
    assert result.summary() == {"urls": 2, "passing": 1, "failing": 1}
    assert {f.rule for f in result.urls[1].errors} == {"URL001"}
    doc = result.to_dict()
    cli_run = CliRunner().invoke(
        cli,
        ["check-url", good, missing, "--local", str(local), "--local", str(local)]
        + ["--allow-private", "--timeout", "5", "--format", "json"],
    )
    assert cli_run.exit_code == 1
    cli_doc = json.loads(cli_run.output)

    def verdicts(d: dict) -> list:  # fetch timings (in details too) differ between runs
        return [[(c["rule"], c["status"]) for c in u["checks"]] for u in d["urls"]]

    assert cli_doc.keys() == doc.keys() and cli_doc["summary"] == doc["summary"]
    assert verdicts(cli_doc) == verdicts(doc)


def test_one_url_as_a_string_and_strict(server):
    from igpreflight import check_url

    result = check_url(f"{server}/a.jpg", allow_private=True, timeout=5)
    assert result.ok and len(result.urls) == 1
    # without allow_private a loopback host is URL006, decided without any traffic
    assert {f.rule for f in check_url(f"{server}/a.jpg").urls[0].errors} == {"URL006"}


def test_misuse_is_a_usage_error(tmp_path: Path):
    from igpreflight import check_url
    from igpreflight.api.errors import UsageError

    with pytest.raises(UsageError, match="one --local FILE per URL"):
        check_url(["https://a.example/x.jpg", "https://b.example/y.jpg"], local=tmp_path / "a")
    with pytest.raises(UsageError, match="at least one URL"):
        check_url([])
    r = CliRunner().invoke(cli, ["check-url", "https://a.example/x", "--local", __file__, "x"])
    assert r.exit_code == 2
