"""Accounts files and the manifest's `account` / `publish_at`: usage errors name the culprit."""

from __future__ import annotations

import pytest

from igpreflight.preflight.manifest import ManifestError, load_manifest
from igpreflight.publish.accounts import AccountError, account_for, load_accounts

GOOD = """
[[account]]
name = "brand-a"
ig_user_id = "17841400000000001"
token_env = "IG_TOKEN_BRAND_A"

[[account]]
name = "brand-b"
ig_user_id = 17841400000000002
token_env = "IG_TOKEN_BRAND_B"
graph_url = "https://graph.instagram.com"
"""


def test_accounts_file_and_tokens_from_the_environment(tmp_path, monkeypatch):
    f = tmp_path / "accounts.toml"
    f.write_text(GOOD)
    monkeypatch.setenv("IG_TOKEN_BRAND_A", "tok-a")
    monkeypatch.delenv("IG_TOKEN_BRAND_B", raising=False)
    accounts = load_accounts(f)
    assert sorted(accounts) == ["brand-a", "brand-b"]
    assert accounts["brand-b"].ig_user_id == "17841400000000002"
    assert accounts["brand-b"].graph_url == "https://graph.instagram.com"
    assert account_for("brand-a", accounts).token() == "tok-a"
    assert "tok-a" not in repr(accounts["brand-a"])  # the token is never held
    with pytest.raises(AccountError, match="'brand-b'.*IG_TOKEN_BRAND_B"):
        account_for("brand-b", accounts)
    with pytest.raises(AccountError, match="unknown account 'brand-c'"):
        account_for("brand-c", accounts)
    monkeypatch.setenv("IGPREFLIGHT_ACCOUNTS", str(f))
    assert sorted(load_accounts()) == ["brand-a", "brand-b"]


@pytest.mark.parametrize(
    "text, message",
    [
        ('[[account]]\nname = "x"\nig_user_id = "1"\ntoken_env = "EAAB token"', "token_env"),
        ('[[account]]\nname = "x"\nig_user_id = "me"\ntoken_env = "T"', "numeric"),
        ('[[account]]\nname = "x"\ntoken_env = "T"', "ig_user_id is required"),
        ('[[account]]\nname = "x"\nig_user_id = "1"\ntoken_env = "T"\ntoken = "s"', "unknown"),
        ("[[account]\n", "accounts file"),
        (GOOD + GOOD, "defined twice"),
    ],
)
def test_bad_accounts_files(tmp_path, text, message):
    f = tmp_path / "accounts.toml"
    f.write_text(text)
    with pytest.raises(AccountError, match=message):
        load_accounts(f)


def test_a_post_without_account_uses_ig_user_id(monkeypatch):
    monkeypatch.setenv("IG_USER_ID", "17841400000000009")
    monkeypatch.setenv("IG_ACCESS_TOKEN", "t")
    assert account_for(None, {}).ig_user_id == "17841400000000009"
    monkeypatch.delenv("IG_ACCESS_TOKEN")
    with pytest.raises(AccountError, match="IG_ACCESS_TOKEN"):
        account_for(None, {})


def test_manifest_account_and_publish_at(tmp_path):
    m = tmp_path / "posts.toml"
    m.write_text(
        '[[post]]\nid = "a"\nmedia = ["https://x.example/a.jpg"]\naccount = "brand-a"\n'
        "publish_at = 2026-12-01T10:00:00+01:00\n"
        '[[post]]\nid = "b"\nmedia = ["https://x.example/b.jpg"]\n'
        'publish_at = "2026-12-01T09:30:00Z"\n'
    )
    a, b = load_manifest(m)
    assert a.extra == {"account": "brand-a", "publish_at": "2026-12-01T09:00:00Z"}
    assert b.extra == {"publish_at": "2026-12-01T09:30:00Z"}
    for bad in ('"tomorrow"', '"2026-12-01T09:00:00"', "2026-12-01"):
        m.write_text(f'[[post]]\nmedia = ["https://x.example/a.jpg"]\npublish_at = {bad}\n')
        with pytest.raises(ManifestError, match="publish_at"):
            load_manifest(m)
