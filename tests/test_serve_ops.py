"""/healthz, /readyz (the machine's PostgreSQL, SQLite, moto's S3), /metrics, the
OpenAPI document and the docs page, and the JSON body cap."""

from __future__ import annotations

import pytest
from s3_support import s3server  # noqa: F401 - the fixture
from serve_support import running

from igpreflight.serve.health import check_database
from igpreflight.serve.settings import ServeSettings

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_up() -> bool:
    ok, _ = check_database(POSTGRES)
    return ok


def test_openapi_31_and_the_docs_page(tmp_path):
    with (
        running(ServeSettings(data_dir=str(tmp_path / "d"), isolated=True)) as svc,
        svc.client() as http,
    ):
        doc = http.get("/openapi.json").json()
        page = http.get("/docs")
    assert doc["openapi"].startswith("3.1")
    assert {"/v1/check", "/v1/media", "/v1/fix", "/v1/jobs/{job_id}", "/v1/rules"} <= set(
        doc["paths"]
    )
    assert "ProblemDetails" in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    check = doc["paths"]["/v1/check"]["post"]["responses"]
    assert "application/problem+json" in check["422"]["content"]
    assert page.status_code == 200 and "swagger" in page.text.lower()
    # A generated client names a method after each operation id: two alike break it.
    ids = [op["operationId"] for path in doc["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert "head" in doc["paths"]["/v1/media/{media_id}/content"]


def test_readyz_with_sqlite_and_a_bucket(tmp_path, s3server):  # noqa: F811
    settings = ServeSettings(
        data_dir=str(tmp_path / "d"),
        isolated=True,
        db=str(tmp_path / "publish.sqlite"),
        bucket=s3server.bucket(),
        endpoint_url=s3server.endpoint,
    )
    with running(settings) as svc, svc.client() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["ready"] and body["checks"]["storage"]["ok"] and body["checks"]["database"]["ok"]


def test_readyz_says_what_is_down(tmp_path, s3server):  # noqa: F811
    settings = ServeSettings(
        data_dir=str(tmp_path / "d"),
        isolated=True,
        db="postgresql://nobody:hunter2-secret@127.0.0.1:1/none",
        bucket="no-such-bucket-here",
        endpoint_url=s3server.endpoint,
    )
    with running(settings) as svc, svc.client() as http:
        ready = http.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert not body["ready"]
    assert not body["checks"]["database"]["ok"] and not body["checks"]["storage"]["ok"]
    assert "hunter2" not in ready.text  # a database password never shows


@pytest.mark.skipif(not postgres_up(), reason="no PostgreSQL at 127.0.0.1:5432")
def test_readyz_with_postgresql(tmp_path):
    settings = ServeSettings(data_dir=str(tmp_path / "d"), isolated=True, db=POSTGRES)
    with running(settings) as svc, svc.client() as http:
        ready = http.get("/readyz").json()
    assert ready["ready"] and ready["checks"]["database"]["detail"] == "PostgreSQL"


def test_metrics_count_routes_by_template_and_findings_by_rule(tmp_path):
    from fixtures.generate import make_image

    wide = make_image(tmp_path / "wide.jpg", size=(1200, 400)).read_bytes()
    settings = ServeSettings(data_dir=str(tmp_path / "d"), isolated=True, rate=0)
    with running(settings) as svc, svc.client() as http:
        before = http.get("/metrics").text
        media = http.post("/v1/media", files={"file": ("w.jpg", wide)}).json()["id"]
        http.get(f"/v1/media/{media}")
        http.post("/v1/check", json={"post": {"media": [media]}})
        after = http.get("/metrics").text
    assert 'route="/v1/media/{media_id}"' in after and media not in after
    assert 'igpreflight_http_request_duration_seconds_bucket{le="0.005",method="POST"' in after

    def count(text: str, needle: str) -> float:
        found = [line for line in text.splitlines() if line.startswith(needle)]
        return float(found[0].rsplit(" ", 1)[1]) if found else 0.0

    img003 = 'igpreflight_findings_total{rule="IMG003",severity="error"}'
    assert count(after, img003) - count(before, img003) == 2  # the upload, then the check


def test_a_json_body_over_1_mb_is_413(tmp_path):
    settings = ServeSettings(data_dir=str(tmp_path / "d"), isolated=True, rate=0)
    big = {"post": {"media": ["https://a.example/a.jpg"], "caption": "x" * 1_100_000}}
    with running(settings) as svc, svc.client() as http:
        answer = http.post("/v1/check", json=big)

        def chunks():
            yield b'{"post": {"caption": "'
            for _ in range(20):
                yield b"y" * 65_536
            yield b'", "media": ["https://a.example/a.jpg"]}}'

        streamed = http.post(
            "/v1/check", content=chunks(), headers={"content-type": "application/json"}
        )
    assert answer.status_code == 413 and answer.json()["type"].endswith("too-large")
    assert streamed.status_code == 413
