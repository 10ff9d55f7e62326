"""Keys, tenants and limits: who may call, what each key may see, how much it may send.

A brand-a key cannot see, check with, fix or delete what a brand-b key stored,
nor act for brand-b's account; secrets never appear in answers, logs or metrics;
every refusal is problem+json."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import pytest
from serve_support import SECRETS, keys_file, running

from fixtures.generate import make_image, make_video
from igpreflight.serve.keys import KeysFileError, load_keys
from igpreflight.serve.settings import ServeSettings

KEY_A, KEY_B, KEY_ALL = (
    SECRETS[k] for k in ("IGPF_TEST_KEY_A", "IGPF_TEST_KEY_B", "IGPF_TEST_KEY_ALL")
)


def accounts_file(folder):
    path = folder / "accounts.toml"
    path.write_text(
        '[[account]]\nname = "brand-a"\nig_user_id = "1001"\ntoken_env = "IGPF_TOKEN_A"\n\n'
        '[[account]]\nname = "brand-b"\nig_user_id = "1002"\ntoken_env = "IGPF_TOKEN_B"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def service(tmp_path, monkeypatch):
    settings = ServeSettings(
        data_dir=str(tmp_path / "data"),
        isolated=True,
        rate=0,
        keys_file=str(keys_file(tmp_path, monkeypatch)),
        accounts_file=str(accounts_file(tmp_path)),
    )
    with running(settings) as svc:
        yield svc


def test_no_key_or_an_unknown_key_is_401(service):
    with service.client() as anonymous, service.client("not-a-key-at-all-xyz") as wrong:
        for http in (anonymous, wrong):
            for answer in (
                http.post("/v1/check", json={"post": {"media": ["https://a.example/a.jpg"]}}),
                http.get("/v1/rules"),
                http.get("/v1/jobs/j_" + "a" * 22),
            ):
                assert answer.status_code == 401
                assert answer.headers["www-authenticate"].startswith("Bearer")
                assert answer.headers["content-type"] == "application/problem+json"
        assert anonymous.get("/healthz").status_code == 200  # probes need no key


def test_tenants_cannot_see_each_others_media_or_jobs(service, tmp_path):
    jpeg = make_image(tmp_path / "a.png", size=(900, 300)).read_bytes()
    clip = make_video(tmp_path / "c.avi", width=64, height=64, duration=1.0, container="avi")
    with service.client(KEY_A) as a, service.client(KEY_B) as b, service.client(KEY_ALL) as admin:
        media = a.post("/v1/media", files={"file": ("a.png", jpeg)}).json()["id"]
        video = a.post("/v1/media", files={"file": ("c.avi", clip.read_bytes())}).json()["id"]
        job = a.post("/v1/fix", json={"media_id": video})
        assert job.status_code == 202
        job_id = job.json()["id"]
        for answer in (
            b.get(f"/v1/media/{media}"),
            b.get(f"/v1/media/{media}/content"),
            b.delete(f"/v1/media/{media}"),
            b.post("/v1/check", json={"post": {"media": [media]}}),
            b.post("/v1/fix", json={"media_id": media}),
            b.get(f"/v1/jobs/{job_id}"),
        ):
            assert answer.status_code == 404, answer.text
            assert media not in answer.text or "no media" in answer.json()["detail"]
        assert a.get(f"/v1/media/{media}").status_code == 200
        assert a.get(f"/v1/jobs/{job_id}").status_code == 200
        assert admin.get(f"/v1/media/{media}").status_code == 200  # ["*"] covers brand-a
        # and what the admin key stores, a brand-a key cannot see
        own = admin.post("/v1/media", files={"file": ("a.png", jpeg)}).json()["id"]
        assert a.get(f"/v1/media/{own}").status_code == 404


def test_a_key_acts_only_for_its_accounts(service, tmp_path):
    jpeg = make_image(tmp_path / "ok.jpg", size=(1080, 1080)).read_bytes()
    with service.client(KEY_A) as a, service.client(KEY_ALL) as admin:
        media = a.post("/v1/media", files={"file": ("ok.jpg", jpeg)}).json()["id"]
        mine = a.post("/v1/check", json={"post": {"media": [media], "account": "brand-a"}})
        theirs = a.post("/v1/check", json={"post": {"media": [media], "account": "brand-b"}})
        unknown = admin.post("/v1/check", json={"post": {"media": [media], "account": "brand-z"}})
    assert mine.status_code == 200 and mine.json()["valid"]
    assert theirs.status_code == 403 and theirs.json()["type"].endswith("account-forbidden")
    assert unknown.status_code == 422


def test_secrets_never_appear_in_answers_logs_or_metrics(service, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    jpeg = make_image(tmp_path / "ok.jpg", size=(1080, 1080)).read_bytes()
    seen = []
    with service.client(KEY_A) as a, service.client(KEY_B + "x") as wrong:
        seen.append(a.post("/v1/media", files={"file": ("ok.jpg", jpeg)}))
        seen.append(a.post("/v1/check", json={"post": {"media": ["/etc/x"]}}))
        seen.append(wrong.get("/v1/rules"))
        seen.append(a.get("/openapi.json"))
        seen.append(a.get("/metrics"))
    text = "\n".join(r.text + str(dict(r.headers)) for r in seen) + caplog.text
    for secret in SECRETS.values():
        assert secret not in text


def test_rate_limits_are_per_key_with_retry_after(tmp_path, monkeypatch):
    settings = ServeSettings(
        data_dir=str(tmp_path / "d"),
        isolated=True,
        rate=0.5,
        burst=2,
        keys_file=str(keys_file(tmp_path, monkeypatch)),
    )
    with running(settings) as svc, svc.client(KEY_A) as a, svc.client(KEY_B) as b:
        statuses = [a.get("/v1/rules").status_code for _ in range(3)]
        limited = a.get("/v1/rules")
        other = b.get("/v1/rules")
    assert statuses == [200, 200, 429]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"
    assert other.status_code == 200


def test_rate_limiter_refills():
    from igpreflight.serve.limits import RateLimiter

    now = [0.0]
    limiter = RateLimiter(rate=2, burst=1, clock=lambda: now[0])
    assert limiter.wait_needed("k") == 0
    assert limiter.wait_needed("k") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.wait_needed("k") == 0


@pytest.mark.parametrize(
    ("text", "env", "why"),
    [
        ('[[key]]\nname = "a"\nsecret_env = "K"\naccounts = ["*"]\n', {}, "is not set"),
        ('[[key]]\nname = "a"\nsecret_env = "K"\naccounts = ["*"]\n', {"K": "short"}, "shorter"),
        ('[[key]]\nname = "a"\nsecret_env = "sk-live-123"\naccounts = ["*"]\n', {}, "not hold"),
        (
            '[[key]]\nname = "a"\nsecret_env = "K"\naccounts = ["brand-z"]\n',
            {"K": "x" * 20},
            "no such account",
        ),
        ('[[key]]\nname = "a"\nsecret_env = "K"\naccounts = []\n', {"K": "x" * 20}, "accounts"),
        (
            '[[key]]\nname = "a"\nsecret_env = "K"\naccounts = ["*"]\ncolour = 1\n',
            {"K": "x" * 20},
            "unknown",
        ),
        ("[[key]]\nname = ", {}, "keys file"),
    ],
)
def test_bad_keys_files_are_refused(tmp_path, monkeypatch, text, env, why):
    monkeypatch.delenv("K", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "keys.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KeysFileError, match=why):
        load_keys(path, known_accounts={"brand-a"})


def test_serve_refuses_bad_setups_in_one_line(tmp_path):
    """A non-loopback address without keys, or a bad keys file: exit 2, one line, no socket."""
    bad_keys = tmp_path / "keys.toml"
    bad_keys.write_text('[[key]]\nname = "a"\nsecret_env = "UNSET_VAR_X"\naccounts = ["*"]\n')
    for args, says in (
        (["--host", "0.0.0.0"], "without API keys"),
        (["--keys", str(bad_keys)], "UNSET_VAR_X is not set"),
    ):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "igpreflight", "serve", "--port", "0", "--isolated", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert done.returncode == 2, done.stderr
        assert says in done.stderr and "Traceback" not in done.stderr
        assert time.monotonic() - started < 30
