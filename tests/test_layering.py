"""The layers only point down: no module imports one from a layer above it.

Every module of the package is parsed (ast) and each `import` (at the top or inside a
function, lazy or not) is checked against LAYERS. A new folder or top-level module is
in the base layer until it is listed here (a folder, or one module of it); list it
where it belongs. Honest on purpose: a module may be listed above its folder's layer
(catalog, generated from the rule registry, sits with preflight), never below it (which
would make a forbidden import legal by moving the module instead of the import); no
module imports another in a loop; and a command speaks only to the API, the reports,
the terminal and the configuration.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "igpreflight"

# Bottom to top. A module may import its own layer and the layers below it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("version", ("_version",)),
    # Every other top-level module: model, limits, envelope, atomic, hashing...
    ("base", ()),
    # storage/ (s3 URIs, clients, ranged reads) is base; objects.py probes what it lists.
    # catalog's rule table is generated from the rule registry (preflight/rules/).
    # config reads rule codes from the catalog; the engine and the fixer read config.
    ("preflight", ("preflight", "storage.objects", "catalog", "config")),
    ("transcode", ("transcode",)),
    # check and fix on engines (Dask) and shards, over the local and s3:// drivers.
    ("scale", ("scale",)),
    ("publish", ("publish",)),
    ("api", ("api",)),
    ("report", ("report",)),
    # the HTTP service: a front end over the API, like the commands (which start it).
    ("serve", ("serve",)),
    # collector: the console script's garbage collector while the command loads.
    ("commands", ("commands", "cli", "launch", "collector", "__main__", "")),  # "" is the root
]
RANK = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}
BASE = next(i for i, (layer, _) in enumerate(LAYERS) if layer == "base")

# Upward imports being removed by other work, each with who removes it. The test also
# fails when one of them is gone, so the list never hides a new one.
KNOWN: set[tuple[str, str]] = set()


TEST_CODE = {"fixtures", "tests", "bench"}

# What a command may import: the API, the reports, the terminal, the configuration
# (and the other commands, click's options, the version, the start-up's collector;
# `serve` starts the HTTP service, the other front end over the API).
COMMAND_DEPS = (
    *("api", "report", "terminal", "config", "commands", "cli", "launch", "_version", "serve", ""),
    "collector",
)

# Commands reaching past the API: none (issue 19). What a command needs from below
# comes through igpreflight.api (api/options.py, errors.py, profiles.py, progress.py and
# output.py name it); never add an exception here.
COMMANDS_KNOWN: set[tuple[str, str]] = set()

# Import loops allowed: none (issue 19). A lazy import that closes a loop is still a
# loop: the modules cannot be understood one before the other. Break one by giving the
# shared piece its own module or by passing a function or value in, never by adding it
# here.
KNOWN_LOOPS: list[list[str]] = []


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def rank(module: str) -> int:
    """The layer of the longest LAYERS name that `module` is or lies under."""
    parts = module.split(".")[1:]
    for n in range(len(parts), -1, -1):
        name = ".".join(parts[:n])
        if name in RANK and (n or not parts):
            return RANK[name]
    return BASE


def layer_name(module: str) -> str:
    return LAYERS[rank(module)][0]


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The igpreflight modules `module` imports, a `from X import y` naming X.y when
    y is a module, else X."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
    return {m for m in out if m == "igpreflight" or m.startswith("igpreflight.")}


def upward_imports() -> set[tuple[str, str]]:
    known = modules()
    return {
        (module, target)
        for module, path in known.items()
        for target in imports(module, path, known)
        if rank(target) > rank(module)
    }


def test_no_module_imports_from_a_layer_above_it() -> None:
    new = sorted(upward_imports() - KNOWN)
    assert not new, "\n".join(
        f"{m} ({layer_name(m)}) imports {t} ({layer_name(t)}), a layer above it;"
        " move the code down, or list the module's folder in LAYERS where it belongs"
        for m, t in new
    )


def command_imports() -> set[tuple[str, str]]:
    """(command module, what it imports) for every import past COMMAND_DEPS."""
    known = modules()
    out = set()
    for module, path in known.items():
        if rank(module) != RANK["commands"]:
            continue
        for target in imports(module, path, known):
            name = target[len("igpreflight.") :] if target != "igpreflight" else ""
            if not any(name == d or name.startswith(f"{d}.") for d in COMMAND_DEPS):
                out.add((module, target))
    return out


def test_commands_speak_only_to_the_api_reports_terminal_and_config() -> None:
    new = sorted(command_imports() - COMMANDS_KNOWN)
    assert not new, "\n".join(
        f"{m} imports {t}: a command reaches the rest through igpreflight.api" for m, t in new
    )
    gone = sorted(COMMANDS_KNOWN - command_imports())
    assert not gone, f"these imports are gone: remove them from COMMANDS_KNOWN: {gone}"


def test_no_module_is_listed_below_its_folder() -> None:
    """A module or folder listed in LAYERS sits in its folder's layer or above it."""
    for layer, names in LAYERS:
        for name in names:
            if not name or "." not in name:
                continue
            folder = name.rsplit(".", 1)[0]
            below = {k: v for k, v in RANK.items() if k != name}
            parent = next(
                (below[p] for p in _prefixes(folder) if p in below),
                BASE,
            )
            assert RANK[name] >= parent, f"{name} ({layer}) is listed below its folder's layer"


def _prefixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def test_no_module_imports_another_in_a_loop() -> None:
    """Imports form no cycle (lazy ones included): every module can be understood, and
    imported, before the ones that use it."""
    known = modules()
    graph = {
        m: {t for t in imports(m, p, known) if t in known and t != m} for m, p in known.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                loops.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    new = [loop for loop in loops if loop not in KNOWN_LOOPS]
    assert not new, new
    gone = [loop for loop in KNOWN_LOOPS if loop not in loops]
    assert not gone, f"these loops are gone: remove them from KNOWN_LOOPS: {gone}"


def test_the_loop_check_sees_a_loop(tmp_path: Path) -> None:
    """The checker itself: two modules importing each other (one lazily) are a loop."""
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from igpreflight.publish.steps import b\n")
    b.write_text("def f():\n    from igpreflight.publish.steps import a\n")
    known = {"igpreflight.publish.steps.a": a, "igpreflight.publish.steps.b": b}
    assert imports("igpreflight.publish.steps.a", a, known) == {"igpreflight.publish.steps.b"}
    assert imports("igpreflight.publish.steps.b", b, known) == {"igpreflight.publish.steps.a"}


def test_known_exceptions_still_exist() -> None:
    gone = sorted(KNOWN - upward_imports())
    assert not gone, f"these upward imports are gone: remove them from KNOWN: {gone}"


def test_the_package_never_imports_test_code() -> None:
    """fixtures/, tests/ and bench/ are not installed: the package cannot lean on them."""
    found = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            found += [f"{module}: {n}" for n in names if n.split(".")[0] in TEST_CODE]
    assert not found, found


def test_the_version_module_is_a_leaf() -> None:
    known = modules()
    assert imports("igpreflight._version", known["igpreflight._version"], known) == set()


def test_the_checker_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The checker itself: an import inside a function and a relative one are seen."""
    source = tmp_path / "probe.py"
    source.write_text(
        "def f():\n    from igpreflight.report import text\n"
        "from ..publish import graph\nfrom igpreflight import check\n"
    )
    known = {**modules(), "igpreflight.preflight.probe": source}
    found = imports("igpreflight.preflight.probe", source, known)
    assert found == {"igpreflight.report.text", "igpreflight.publish.graph", "igpreflight"}
    assert all(rank(t) > rank("igpreflight.preflight.probe") for t in found)


def test_the_api_subpackage_is_reached_by_from_imports_only() -> None:
    """`igpreflight.publish` is the API function (see igpreflight/__init__.py), so
    `import igpreflight.publish.x as y` would not find the package."""
    bad = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                bad += [
                    f"{module}: import {a.name}"
                    for a in node.names
                    if a.name.startswith("igpreflight.publish.")
                ]
    assert not bad, bad


def test_commands_stay_thin() -> None:
    """A command parses options, calls the API and renders (issue 10): none grows past
    250 lines; logic belongs in igpreflight/api/ or below, output in report/."""
    long = {
        path.name: n
        for path in (PACKAGE / "commands").glob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 250
    }
    assert not long, long


def test_one_json_envelope() -> None:
    """`{"version": 1, "tool": ...}` is built by envelope.py alone: every JSON
    document calls `envelope()` rather than writing the two keys again."""
    built = []
    for module, path in modules().items():
        if module == "igpreflight.envelope":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if {"version", "tool"} <= keys:
                    built.append(f"{module}:{node.lineno}")
    assert not built, built
