"""How a path is shown in every report: as the user gave it, minus the noise.

`check .` walks to `./posts/x.webp`; GitHub does not match a `./`-prefixed path to a
pull request's file, so annotations vanished. Every report (text, JSON, SARIF,
JUnit, GitHub, HTML) shows `posts/x.webp` instead: a relative path loses `.`
segments and doubled separators, an absolute one stays absolute (CI formats make
it relative to the repository's root in CI, else to the working directory:
`report.locate.ci_path`), and `..` is kept,
since through a symlink it is not the same as dropping a folder.
"""

from __future__ import annotations

import os
from pathlib import PurePath


def shown_path(path: str | os.PathLike[str]) -> str:
    """`./posts//x.webp` -> `posts/x.webp`; URIs (s3://, https://) unchanged."""
    text = os.fspath(path)
    if not text or "://" in text or (os.sep == "/" and _plain(text)):
        return text
    return str(PurePath(text))


def _plain(text: str) -> bool:
    """A POSIX path PurePath would give back unchanged (the usual case, in a tenth
    of the time: `check DIR` shows every file of the folder)."""
    return (
        "//" not in text
        and "/./" not in text
        and not text.startswith("./")
        and not text.endswith(("/", "/."))
        and text != "."
    )
