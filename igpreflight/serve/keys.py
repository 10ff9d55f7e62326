"""API keys: who may call the service, and for which accounts.

A keys file (`--keys FILE`, IGPREFLIGHT_KEYS) names each key and the environment
variable holding its secret, as the accounts file does for tokens::

    [[key]]
    name = "scheduler-brand-a"
    secret_env = "IGPF_KEY_BRAND_A"
    accounts = ["brand-a"]          # account names, or ["*"] for every account

Only SHA-256 digests of the secrets are kept in memory; a secret is never
logged, returned or counted in metrics. Resources a key creates (uploads, fix
jobs) carry its account scope, and a key sees a resource only when its own scope
covers it, so a brand-a key cannot read what a brand-b key made.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

ALL = "*"
MIN_SECRET = 16  # characters: a shorter secret is refused at start
_KEYS = {"name", "secret_env", "accounts"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class KeysFileError(ValueError):
    """A keys file the service cannot start with (a usage error, exit 2)."""


@dataclass(frozen=True)
class Principal:
    """The caller a key identifies: its name and the accounts it may act for."""

    name: str
    accounts: frozenset[str]  # {"*"} for every account

    @property
    def everything(self) -> bool:
        return ALL in self.accounts

    def may_use(self, account: str) -> bool:
        return self.everything or account in self.accounts

    def covers(self, scope: Iterable[str]) -> bool:
        """Whether a resource created under `scope` is visible to this caller."""
        scope = frozenset(scope)
        return self.everything or (ALL not in scope and scope <= self.accounts)

    @property
    def scope(self) -> list[str]:
        """What resources this caller creates are stamped with."""
        return sorted(self.accounts)


# With no keys file on a loopback host, every caller is this one.
ANONYMOUS = Principal("anonymous", frozenset({ALL}))


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


class KeyRing:
    """The digests of the configured keys, each with its principal."""

    def __init__(self, principals: dict[bytes, Principal]) -> None:
        self._by_digest = principals

    def __len__(self) -> int:
        return len(self._by_digest)

    def identify(self, secret: str) -> Principal | None:
        return self._by_digest.get(digest(secret))


def load_keys(path: str | os.PathLike[str], known_accounts: Iterable[str] | None = None) -> KeyRing:
    """The keys of `path`, their secrets read from the environment now.

    `known_accounts` (the accounts file's names, when there is one) catches a key
    scoped to an account that does not exist.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeysFileError(f"keys file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KeysFileError(f"keys file {str(p)!r}: {exc}") from None
    entries = data.get("key", [])
    if not isinstance(entries, list) or not entries:
        raise KeysFileError(f"keys file {str(p)!r}: no [[key]] table")
    accounts = set(known_accounts) if known_accounts is not None else None
    ring: dict[bytes, Principal] = {}
    names: set[str] = set()
    for i, entry in enumerate(entries, 1):
        principal, secret = _parse(entry, f"{p}: key #{i}", accounts)
        if principal.name in names:
            raise KeysFileError(f"{p}: key {principal.name!r} is defined twice")
        if digest(secret) in ring:
            raise KeysFileError(f"{p}: key {principal.name!r} has the same secret as another key")
        names.add(principal.name)
        ring[digest(secret)] = principal
    return KeyRing(ring)


def _parse(entry: Any, where: str, known: set[str] | None) -> tuple[Principal, str]:
    if not isinstance(entry, dict):
        raise KeysFileError(f"{where}: must be a table")
    unknown = set(entry) - _KEYS
    if unknown:
        raise KeysFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise KeysFileError(f"{where}: name is required")
    name = name.strip()
    env = entry.get("secret_env")
    if not isinstance(env, str) or not _ENV_NAME.match(env.strip()):
        raise KeysFileError(
            f"key {name!r}: secret_env must name an environment variable, not hold a secret"
        )
    accounts = entry.get("accounts")
    if (
        not isinstance(accounts, list)
        or not accounts
        or not all(isinstance(a, str) and a.strip() for a in accounts)
    ):
        raise KeysFileError(f'key {name!r}: accounts must list account names, or ["*"]')
    scope = frozenset(a.strip() for a in accounts)
    if known is not None and ALL not in scope and not scope <= known:
        missing = ", ".join(sorted(scope - known))
        raise KeysFileError(f"key {name!r}: no such account in the accounts file: {missing}")
    secret = os.environ.get(env.strip(), "").strip()
    if not secret:
        raise KeysFileError(f"key {name!r}: the variable {env.strip()} is not set")
    if len(secret) < MIN_SECRET:
        raise KeysFileError(
            f"key {name!r}: the secret in {env.strip()} is shorter than {MIN_SECRET} characters"
        )
    return Principal(name, scope), secret
