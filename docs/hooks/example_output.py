"""Run a rule's example through the real code and write what the user would see.

`check` output comes from the text renderer `igpreflight check` uses, `fix --dry-run`
output from the planner and the renderer `igpreflight fix` uses, `check-url` output
from the URL rules and their renderer: nothing on a rule page is typed by hand, so a
changed message or plan changes the page. An example that no longer breaks its rule
raises ExampleError, which fails the build.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

from rule_examples import Example, FileExample, PostExample, QuotaExample, UrlExample, image, video

from igpreflight.api.fixing import FixResult
from igpreflight.api.urlchecking import CheckUrlResult
from igpreflight.model import AsOption, FileReport, PostReport, Report, Unreadable, role_for
from igpreflight.preflight.checks import check_facts, check_posts
from igpreflight.preflight.engine import infer_media_type
from igpreflight.preflight.manifest import parse_manifest
from igpreflight.preflight.rules import Rule
from igpreflight.preflight.rules.quota import check_quota
from igpreflight.preflight.urlcheck import judge
from igpreflight.profiles import BUILTIN, Profile, house_profile, intersect, resolve
from igpreflight.report import render
from igpreflight.report.fix import render_text as render_fix
from igpreflight.report.urls import check_url_text
from igpreflight.transcode import plan_image, plan_video
from igpreflight.transcode.types import FileFixResult, FixOptions, FixStatus

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the project's own fallback
    import tomli as tomllib


class ExampleError(Exception):
    """A rule's example does not show the rule (it no longer breaks it)."""


def _console(command: str, output: str) -> str:
    return f"```console\n$ {command}\n{output.rstrip()}\n```\n"


def _flags(as_: str, options: dict) -> str:
    flags = [] if as_ == "auto" else [f"--as {as_}"]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        flags.append(flag if value is True else f"{flag} {value}")
    return "".join(f" {f}" for f in flags)


def _profiles(spec: str) -> tuple[Profile, ...]:
    """An example's profiles: a built-in name, or a house profile's TOML (one table
    under [profiles], as igpreflight.toml holds it)."""
    if not spec:
        return ()
    if "=" not in spec:
        return resolve(spec)
    ((name, table),) = tomllib.loads(spec)["profiles"].items()
    return (house_profile(name, table, where="igpreflight.toml", known=BUILTIN),)


def _profile_intro(spec: str) -> str:
    if "=" not in spec:
        return ""
    return f"With this house profile in `igpreflight.toml`:\n\n```toml\n{spec.rstrip()}\n```\n\n"


def _profile_flag(profiles: tuple[Profile, ...]) -> str:
    return f" --profile {','.join(p.name for p in profiles)}" if profiles else ""


def _file(rule: Rule, ex: FileExample) -> str:
    facts = ex.facts
    role = None if isinstance(facts, Unreadable) else role_for(facts.kind, AsOption(ex.as_))
    profiles = _profiles(ex.profile)
    findings = check_facts(facts, role, profiles)
    if rule.code not in {f.rule for f in findings}:
        raise ExampleError(f"{rule.code}: the example ({ex.given}) is not {rule.code} any more")
    report = Report(files=[FileReport(facts.path, facts.kind, role, facts, findings)])
    name = facts.path
    text = _profile_intro(ex.profile) + f"{ex.given[:1].upper()}{ex.given[1:]}:\n\n"
    flags = _flags(ex.as_, {}) + _profile_flag(profiles)
    text += _console(f"igpreflight check {name}{flags}", render(report, "text"))
    if not (rule.info.fixable or rule.info.on_request):
        return text
    planner = plan_image.plan_image if facts.kind.value == "image" else plan_video.plan_video
    aim = intersect(profiles).profile if profiles else None
    plan = planner(facts, findings, role, FixOptions(**ex.fix_options), aim)
    if rule.code not in {code for step in plan.steps for code in step.rules}:
        raise ExampleError(f"{rule.code}: fix's plan for the example has no step resolving it")
    fixed = f"fixed/{PurePosixPath(name).stem}.{plan.extension}"
    done = plan.status not in (FixStatus.UNFIXABLE, FixStatus.FAILED)
    result = FileFixResult(name, fixed if done else None, plan.status, plan, reason=plan.reason)
    command = f"igpreflight fix {name} --out fixed --dry-run{_flags(ex.as_, ex.fix_options)}"
    text += "\n`fix` plans the least work that resolves it"
    text += " (each step names the rules it resolves in `--format json`):\n\n"
    return text + _console(command, render_fix(FixResult([result], dry_run=True)))


def _post(rule: Rule, ex: PostExample) -> str:
    base = Path("/posts")
    posts = parse_manifest(tomllib.loads(ex.manifest), base)
    facts = {}
    for post in posts:
        for item in (*post.media, *([post.cover] if post.cover else [])):
            default = video(item.path) if item.path.endswith(".mp4") else image(item.path)
            facts[item.key] = ex.facts.get(item.path, default)
    posts = [infer_media_type(p, facts) for p in posts]  # as check --manifest does
    profiles = _profiles(ex.profile)
    found = check_posts(posts, facts, lambda post: profiles)
    if rule.code not in {f.rule for fs in found.values() for f in fs}:
        raise ExampleError(f"{rule.code}: the example ({ex.given}) is not {rule.code} any more")
    report = Report(posts=[PostReport(p, found.get(p.id, [])) for p in posts])
    lines = render(report, "text").rstrip("\n").splitlines()[:-1]  # without the summary line
    text = _profile_intro(ex.profile)
    text += f"{ex.given[:1].upper()}{ex.given[1:]}, in `posts.toml`:\n\n"
    text += f"```toml\n{(ex.shown or ex.manifest).rstrip()}\n```\n\n"
    text += "The post's lines of its report (each media is compliant here):\n\n"
    command = "igpreflight check --manifest posts.toml" + _profile_flag(profiles)
    return text + _console(command, "\n".join(lines))


def _url(rule: Rule, ex: UrlExample) -> str:
    result = judge(ex.facts)
    if rule.code not in {f.rule for f in result.findings}:
        raise ExampleError(f"{rule.code}: the example ({ex.given}) is not {rule.code} any more")
    name = PurePosixPath(ex.facts.url.partition("?")[0]).name
    local = f" --local {name}" if ex.facts.local_sha256 else ""
    text = f"{ex.given[:1].upper()}{ex.given[1:]}:\n\n"
    return text + _console(
        f"igpreflight check-url {ex.facts.url}{local}", check_url_text(CheckUrlResult([result]))
    )


def _quota(rule: Rule, ex: QuotaExample) -> str:
    findings = check_quota(ex.facts)
    if rule.code not in {f.rule for f in findings}:
        raise ExampleError(f"{rule.code}: the example ({ex.given}) is not {rule.code} any more")
    lines = []
    for f in findings:
        graph = "/".join(str(c) for c in (f.code, f.subcode) if c is not None)
        lines.append(f"{f.severity.value} {f.rule} {f.message}  [{graph}]")
    text = f"{ex.given[:1].upper()}{ex.given[1:]}: `publish` holds its next post with\n\n"
    return text + "```text\n" + "\n".join(lines) + "\n```\n"


def example_markdown(rule: Rule, example: Example) -> str:
    """The example section's body: the input, the command and its real output."""
    if isinstance(example, FileExample):
        return _file(rule, example)
    if isinstance(example, PostExample):
        return _post(rule, example)
    if isinstance(example, UrlExample):
        return _url(rule, example)
    return _quota(rule, example)
