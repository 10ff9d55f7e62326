"""docs/service.md's first steps, run as a new user would: the exports of "Start it",
the keys file of "Keys", `serve --keys keys.toml`, then the curl session's calls.

The trial found "Start it" exported IGPF_KEY_SCHEDULER while the keys file beside
it named IGPF_KEY_BRAND_A and IGPF_KEY_OPS: `serve` stopped at once, 'the variable
IGPF_KEY_BRAND_A is not set'.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from serve_support import REPO, serve_process

PAGE = REPO / "docs" / "service.md"


def section(title: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_start_it_with_the_keys_file_as_written_then_the_curl_session(
    tmp_path: Path, monkeypatch: Any
) -> None:
    start = blocks(section("Start it"), "console")[0]
    exported = re.findall(r"^\$ export (\w+)=\$\(python -c .*\)$", start, re.M)
    assert exported, start
    for name in ("IGPF_KEY_SCHEDULER", "IGPF_KEY_BRAND_A", "IGPF_KEY_OPS"):
        monkeypatch.delenv(name, raising=False)
    for name in exported:
        monkeypatch.setenv(name, secrets.token_urlsafe(32))
    (tmp_path / "keys.toml").write_text(blocks(section("Keys"), "toml")[0], encoding="utf-8")
    Image.new("RGB", (1200, 400), "orange").save(tmp_path / "banner.png")
    command = re.search(r"^\$ igpreflight serve (.*)$", start, re.M)
    assert command is not None
    options = command[1].replace("--port 8080", "").split()  # serve_process takes any port
    with serve_process(tmp_path, *options) as (url, _):
        key = {"Authorization": f"Bearer {os.environ['IGPF_KEY_SCHEDULER']}"}
        with httpx.Client(base_url=url, timeout=60) as http:
            anonymous = http.get("/v1/rules")
            with open(tmp_path / "banner.png", "rb") as banner:
                upload = http.post("/v1/media", headers=key, files={"file": banner})
            media = upload.json()
            fix = http.post("/v1/fix", headers=key, json={"media_id": media["id"], "aspect": "pad"})
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "send an API key: Authorization: Bearer <key>"
    assert upload.status_code == 201, upload.text
    [error] = media["errors"]
    assert error["rule"] == "IMG003"
    assert error["message"] == "aspect ratio 3.000 (1200x400) is above 1.91:1"
    assert fix.status_code == 200, fix.text
    fixed = fix.json()
    assert fixed["status"] == "converted" and fixed["media"]["valid"]
    assert [s["step"] for s in fixed["steps"]] == ["resize", "pad", "encode"]
