"""Accounts: which Instagram account a post goes to, and where its token comes from.

An accounts file (TOML, `--accounts FILE` or IGPREFLIGHT_ACCOUNTS) names each
account and the environment variable that holds its token::

    [[account]]
    name = "brand-a"
    ig_user_id = "17841400000000001"
    token_env = "IG_TOKEN_BRAND_A"
    graph_url = "https://graph.instagram.com"   # optional
    api_version = "v25.0"                       # optional

Only the variable's *name* is ever stored or passed around (the durable queue
records what a workflow is called with); `token()` reads the value at the moment
of a call. A post without `account` uses IG_USER_ID / IG_ACCESS_TOKEN as before.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from igpreflight.boundedread import MB, InputError, read_bounded

ACCOUNTS_ENV = "IGPREFLIGHT_ACCOUNTS"
# An accounts file names a few accounts: more than this is not one (/dev/zero, a log).
MAX_ACCOUNTS_BYTES = MB
DEFAULT_ACCOUNT = "default"  # the IG_USER_ID / IG_ACCESS_TOKEN account
_KEYS = {"name", "ig_user_id", "token_env", "graph_url", "api_version"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AccountError(ValueError):
    """A usage error about accounts (exit 2): the message names the account or variable."""


@dataclass(frozen=True)
class Account:
    """One Instagram account; never holds the token itself."""

    name: str
    ig_user_id: str
    token_env: str
    graph_url: str | None = None
    api_version: str | None = None

    def token(self) -> str:
        """The access token, read from the environment now."""
        value = os.environ.get(self.token_env, "").strip()
        if not value:
            raise AccountError(
                f"account {self.name!r}: the token variable {self.token_env} is not set"
            )
        return value

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ig_user_id": self.ig_user_id,
            "token_env": self.token_env,
            "graph_url": self.graph_url,
            "api_version": self.api_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        return cls(**{k: data.get(k) for k in _KEYS})  # type: ignore[arg-type]


def load_accounts(path: str | os.PathLike[str] | None = None) -> dict[str, Account]:
    """The accounts of `path` (else IGPREFLIGHT_ACCOUNTS; none when neither is given).
    Only a regular file of at most 1 MB is read (AccountError otherwise)."""
    where = path or os.environ.get(ACCOUNTS_ENV) or None
    if where is None:
        return {}
    p = Path(where)
    try:
        raw = read_bounded(p, MAX_ACCOUNTS_BYTES, "accounts file", regular_only=True)
        data = tomllib.loads(raw.decode("utf-8"))
    except InputError as exc:
        raise AccountError(str(exc)) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AccountError(f"accounts file {str(p)!r}: {exc}") from None
    entries = data.get("account", [])
    if not isinstance(entries, list) or not entries:
        raise AccountError(f"accounts file {str(p)!r}: no [[account]] table")
    out: dict[str, Account] = {}
    for i, entry in enumerate(entries, 1):
        acc = _parse(entry, f"{p}: account #{i}")
        if acc.name in out:
            raise AccountError(f"{p}: account {acc.name!r} is defined twice")
        out[acc.name] = acc
    return out


def _parse(entry: Any, where: str) -> Account:
    if not isinstance(entry, dict):
        raise AccountError(f"{where}: must be a table")
    unknown = set(entry) - _KEYS
    if unknown:
        raise AccountError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("name", "ig_user_id", "token_env"):
        if not isinstance(entry.get(key), (str, int)) or not str(entry[key]).strip():
            raise AccountError(f"{where}: {key} is required")
    name = str(entry["name"]).strip()
    user = str(entry["ig_user_id"]).strip()
    if not user.isdigit():
        raise AccountError(f"account {name!r}: ig_user_id {user!r} is not a numeric IG user id")
    env = str(entry["token_env"]).strip()
    if not _ENV_NAME.match(env):
        raise AccountError(
            f"account {name!r}: token_env must name an environment variable, not hold a token"
        )
    return Account(
        name=name,
        ig_user_id=user,
        token_env=env,
        graph_url=_opt(entry, "graph_url", name),
        api_version=_opt(entry, "api_version", name),
    )


def _opt(entry: dict[str, Any], key: str, name: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise AccountError(f"account {name!r}: {key} must be a non-empty string")
    return value.strip()


def default_account() -> Account | None:
    """The account of IG_USER_ID / IG_ACCESS_TOKEN, for posts that name none."""
    user = os.environ.get("IG_USER_ID", "").strip()
    if not user:
        return None
    return Account(DEFAULT_ACCOUNT, user, "IG_ACCESS_TOKEN")


def account_for(name: str | None, accounts: Mapping[str, Account]) -> Account:
    """The account a post names (or the default one); AccountError names what is missing."""
    if name is None:
        acc = default_account()
        if acc is None:
            raise AccountError(
                "a post names no account and IG_USER_ID is not set"
                " (give the post an `account`, or set IG_USER_ID and IG_ACCESS_TOKEN)"
            )
    else:
        acc = accounts.get(name)
        if acc is None:
            known = ", ".join(sorted(accounts)) or "none: pass --accounts FILE"
            raise AccountError(f"unknown account {name!r} (accounts: {known})")
    acc.token()  # a missing token variable is a usage error before anything is queued
    return acc


def check_accounts(names: Iterable[str | None], accounts: Mapping[str, Account]) -> None:
    """Every named account exists and has its token variable set."""
    for name in dict.fromkeys(names):
        account_for(name, accounts)
