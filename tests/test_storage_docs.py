"""docs/storage-and-upload.md: every API call in its examples binds to the real signature."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import igpreflight

PAGE = Path(__file__).resolve().parents[1] / "docs" / "storage-and-upload.md"
NAMES = {"upload", "publish", "run", "check_url", "UploadTarget"}


def test_the_examples_call_the_api_as_it_is():
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    calls = [
        node
        for block in blocks
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in NAMES
    ]
    assert {c.func.id for c in calls} == NAMES
    for call in calls:
        args = [None for _ in call.args]
        kwargs = {k.arg: None for k in call.keywords}
        inspect.signature(getattr(igpreflight, call.func.id)).bind(*args, **kwargs)
