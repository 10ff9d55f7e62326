"""What the guide pages state as fact, held to the code: a new user's docs trial found
checks.md's posts family ending at POST021 (the registry has POST023), README and
service.md installing the `serve` extra from PyPI (igpreflight is not on it), and
install-and-troubleshooting.md quoting error lines the commands no longer print. Every
option a page's shell lines give its command is held to the command too. Cheap: no
media decoded, two short command runs."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from igpreflight.preflight.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_checks_page_families_span_the_registry() -> None:
    """Each family row's range (IMG001-IMG013, QUOTA001) is its codes' first and last."""
    rows = re.findall(
        r"^\| \[\w+\]\([^)]*\) \| ([A-Z]+\d+(?:-[A-Z]+\d+)?) \|", _page("checks.md"), re.M
    )
    assert len(rows) >= 6, rows
    codes = sorted(load_rules().rules)
    for span in rows:
        first, _, last = span.partition("-")
        prefix = re.match(r"[A-Z]+", first).group(0)
        family = [c for c in codes if re.fullmatch(rf"{prefix}\d+", c)]
        assert (first, last or first) == (family[0], family[-1]), (span, family)
    covered = {re.match(r"[A-Z]+", span).group(0) for span in rows}
    assert covered == {re.match(r"[A-Z]+", c).group(0) for c in codes}


def test_no_page_installs_igpreflight_from_a_package_index() -> None:
    """Every `pip install` of igpreflight names the checkout, a git URL or a built wheel."""
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    bad = []
    for page in pages:
        for line in page.read_text(encoding="utf-8").splitlines():
            for target in re.findall(
                r"pip install (?:-e )?(['\"]?igpreflight[^ '\"]*['\"]?)", line
            ):
                if "git+" not in line and "not published on PyPI" not in line:
                    bad.append(f"{page.name}: {target}")
    assert bad == []


def _quoted_errors() -> list[str]:
    page = _page("install-and-troubleshooting.md")
    section = page[page.index("## Error messages and exit codes") :]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    return block.splitlines()


def _stderr(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "docs-test", "AWS_SECRET_ACCESS_KEY": "docs-test"}
    env.pop("AWS_PROFILE", None)
    done = subprocess.run(
        [sys.executable, "-m", "igpreflight", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done
    return done.stderr.splitlines()[-1]


def test_quoted_error_lines_are_what_the_commands_print(tmp_path: Path) -> None:
    jobs, _database, endpoint = _quoted_errors()
    (tmp_path / "igpreflight.toml").write_text("jobs = 5000\n", encoding="utf-8")
    got = _stderr(["check", "."], tmp_path)
    cpus = os.cpu_count() or 1
    want = jobs.replace("/home/ana/site/", f"{tmp_path}/").replace(
        "at most 8 ", f"at most {4 * cpus} "
    )
    assert got == want.replace("2 CPUs here", f"{cpus} CPUs here")

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    got = _stderr(["check", "--isolated", "s3://media/2026/", "--endpoint-url", url], tmp_path)
    assert got == endpoint.replace("http://127.0.0.1:9000", url)


def _command_lines() -> list[tuple[str, str]]:
    """(page, line) for every `igpreflight CMD ...` in the shell blocks of the pages."""
    found = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```(?:sh|console|bash)\n(.*?)```", text, re.S):
            joined = block.replace("\\\n", " ")
            for line in joined.splitlines():
                for part in re.split(r"&&|;|\|", line.split("  #")[0]):
                    if re.match(r"\s*(\$ )?igpreflight [a-z]", part):
                        found.append((page.name, part.strip().removeprefix("$ ")))
    return found


def test_every_option_a_page_shows_is_an_option_of_its_command() -> None:
    """`igpreflight fix ... --pad-color blur` on a page must still be an option of
    `fix`: a renamed option fails here, not on a reader's machine."""
    import click

    from igpreflight.cli import cli

    context = click.Context(cli)
    lines = _command_lines()
    assert len(lines) > 60, len(lines)
    wrong = []
    for page, line in lines:
        words = line.split()
        command = cli.get_command(context, words[1])
        if command is None:
            wrong.append(f"{page}: {line}: no command {words[1]}")
            continue
        if isinstance(command, click.Group) and len(words) > 2:
            command = command.get_command(context, words[2]) or command
        names = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for word in words[2:]:
            if word == "--":
                break
            option = word.split("=")[0]
            if option.startswith("--") and option not in names:
                wrong.append(f"{page}: {line}: {option}")
    assert wrong == []
