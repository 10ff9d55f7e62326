"""The documentation site: `mkdocs build --strict` passes, with a page per registered rule.

CI runs only the README's test command, so the site's own check lives here: one strict
build (a broken link or anchor, a page missing from the navigation, a rule without an
example, an example that no longer breaks its rule all fail it), then what it built.
The hook's refusals are also tried directly, so they are known to fail when they must.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from igpreflight.cli import COMMANDS
from igpreflight.model import Severity
from igpreflight.preflight.rules import Registry, load_rules
from igpreflight.publish.graph.table import GRAPH_ERRORS

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / "docs" / "hooks"
# Pages other engineers are writing: listed in the navigation already, so their arrival
# needs no edit of mkdocs.yml.
ANNOUNCED = (
    "publishing",
    "storage-and-upload",
    "performance",
    "service",
    "install-and-troubleshooting",
    "profiles",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out


def _text(page: Path) -> str:
    """The page's article (no navigation) as plain text."""
    article = re.search(r"<article.*?</article>", page.read_text(encoding="utf-8"), re.S)
    assert article, page
    return html.unescape(re.sub(r"<[^>]+>", "", article.group(0)))


def test_every_rule_has_its_page_with_an_example(site: Path) -> None:
    rules = load_rules().rules
    index = (site / "rules" / "index.html").read_text(encoding="utf-8")
    for code, rule in rules.items():
        page = site / "rules" / code / "index.html"
        assert page.is_file(), f"no page for {code}"
        text = _text(page)
        assert f"{code}: {rule.info.summary}" in text
        example = text.partition("Example")[2].partition("How fix resolves it")[0]
        assert f" {code} " in example, f"{code}: the example does not show the rule"
        assert f"{code}/" in index, f"the rules list does not link {code}"


def test_rule_pages_show_real_output(site: Path) -> None:
    """IMG003's page holds what check and fix --dry-run print for its example."""
    text = _text(site / "rules" / "IMG003" / "index.html")
    assert "aspect ratio 0.500 (540x1080) is below 4:5 (0.8)  [36003/2207009]" in text
    assert "too-tall.jpg -> fixed/too-tall.jpg: converted (dry run) (crop centre 540x675" in text
    graph = _text(site / "rules" / "VID002" / "index.html")
    assert "352/2207026" in graph and "igpreflight fix clip.mp4 --out fixed --dry-run" in graph


def test_graph_errors_page_lists_the_catalog(site: Path) -> None:
    text = _text(site / "graph-errors" / "index.html")
    for info in GRAPH_ERRORS:
        label = "/".join(str(c) for c in (info.code, info.subcode) if c is not None)
        assert (label or "HTTP 5xx") in text, label


def test_cli_reference_covers_every_command(site: Path) -> None:
    text = _text(site / "cli" / "index.html")
    for name in COMMANDS:
        assert f"igpreflight {name} [OPTIONS]" in text, name


def test_api_reference_is_generated_from_docstrings(site: Path) -> None:
    text = _text(site / "api" / "index.html")
    for name in ("check", "fix", "upload", "publish", "run", "PublishRefused"):
        assert re.search(rf"\b{name}\b", text), name
    assert "returns a Report" in text  # check's docstring


def test_pages_being_written_are_in_the_navigation(site: Path) -> None:
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    listed = set(re.findall(r"([\w-]+)\.md", str(nav)))
    assert set(ANNOUNCED) <= listed
    for name in ANNOUNCED:
        assert (site / name / "index.html").is_file(), name


# ---------------------------------------------------------------- the hook's refusals


@pytest.fixture(scope="module")
def hooks():
    sys.path.insert(0, str(HOOKS))
    try:
        import example_output
        import rule_examples
        import rule_pages
    finally:
        sys.path.remove(str(HOOKS))
    return rule_pages, rule_examples, example_output


def test_a_rule_without_an_example_fails_the_build(hooks) -> None:
    rule_pages, _, _ = hooks
    from mkdocs.exceptions import PluginError

    registry = Registry()
    rule = registry.declare(
        "image", "IMG999", Severity.WARNING, "a rule nobody documented", module="x", todo="t"
    )
    with pytest.raises(PluginError, match="IMG999 has no example"):
        rule_pages.rule_page(rule)


def test_an_example_that_no_longer_breaks_its_rule_fails_the_build(hooks) -> None:
    _, rule_examples, example_output = hooks
    rule = load_rules().rules["IMG003"]
    compliant = rule_examples.FileExample("a 4:5 JPEG", rule_examples.image("ok.jpg"))
    with pytest.raises(example_output.ExampleError, match="not IMG003"):
        example_output.example_markdown(rule, compliant)


# ---------------------------------------------------------------- recipes on the pages


def _gitlab_job() -> dict:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if ".gitlab-ci.yml" in b]
    return yaml.safe_load(block)["instagram-media"]


def test_gitlab_recipe_runs_and_writes_its_reports(tmp_path: Path) -> None:
    """The GitLab job's script, as written (but the install: this checkout is installed),
    on a content repository with one good and one refused image."""
    job = _gitlab_job()
    posts = tmp_path / "posts"
    posts.mkdir()
    Image.new("RGB", (1080, 1350), (200, 80, 40)).save(posts / "good.jpg", quality=90)
    Image.new("RGB", (400, 1600), (20, 80, 140)).save(posts / "tall.jpg", quality=90)
    codes = []
    for line in job["script"]:
        if line.startswith("python -m pip install"):
            continue
        command = re.sub(r"^igpreflight ", f'"{sys.executable}" -m igpreflight ', line)
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert "Traceback" not in done.stderr, done.stderr
        codes.append(done.returncode)
    assert codes == [0, 0, 1]  # the reports whatever the verdict; the last line decides
    junit = (tmp_path / job["artifacts"]["reports"]["junit"]).read_text(encoding="utf-8")
    assert "IMG003" in junit and "tall.jpg" in junit
    assert all((tmp_path / p).is_file() for p in job["artifacts"]["paths"])
