"""schemathesis against the service's own OpenAPI, over a loopback socket: no generated
request gets a 5xx, and every answer matches its documented status, type and schema.

No generated URL may reach the network: this module's guard refuses every host
without a lookup, so URLs become findings (URL006) and nothing leaves the machine.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from serve_support import SECRETS, keys_file, running

from igpreflight.serve.settings import ServeSettings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
KEY = SECRETS["IGPF_TEST_KEY_ALL"]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schema")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("igpreflight.net.guard.resolve", _no_lookups)
        mp.setattr("igpreflight.net.guard.non_public_reason", lambda address: "off limits here")
        settings_ = ServeSettings(
            data_dir=str(folder / "data"),
            isolated=True,
            rate=0,
            keys_file=str(keys_file(folder, mp)),
            max_upload=2_000_000,
            body_timeout=5,
        )
        with running(settings_) as svc:
            schema = schemathesis.openapi.from_url(f"{svc.url}/openapi.json")
            schema.media_ids = _upload_samples(svc, folder)  # type: ignore[attr-defined]
            yield schema


def _upload_samples(svc, folder) -> list[str]:
    from fixtures.generate import make_image, make_video

    samples = [
        make_image(folder / "ok.jpg", size=(1080, 1350)),
        make_image(folder / "wide.png", size=(900, 300), mode="RGBA"),
        make_video(folder / "clip.mp4", width=64, height=112, duration=1.0),
    ]
    with svc.client(KEY) as http:
        return [
            http.post("/v1/media", files={"file": (p.name, p.read_bytes())}).json()["id"]
            for p in samples
        ]


def _no_lookups(host: str, port: int, timeout: float) -> list[str]:
    raise OSError(f"no DNS lookups in this test ({host})")


def each_operation(schema, examples: int, check) -> list[str]:
    """Run `check(case)` on `examples` generated cases of every operation (schemathesis'
    pytest plugin does not run under this pytest, so hypothesis drives it directly)."""
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            check(case)

        run()
        seen.append(f"{operation.method.upper()} {operation.path}")
    return seen


def test_the_api_keeps_its_own_contract(api_schema):
    auth = {"Authorization": f"Bearer {KEY}"}
    seen = each_operation(
        api_schema, 40, lambda c: c.call_and_validate(headers=auth, checks=CHECKS)
    )
    assert "POST /v1/check" in seen and "POST /v1/media" in seen and len(seen) >= 11


def test_without_a_key_every_v1_call_is_a_documented_401(api_schema):
    def check(case):
        response = case.call_and_validate(checks=CHECKS)
        if case.path.startswith("/v1/"):
            assert response.status_code == 401

    each_operation(api_schema, 5, check)


def posts(media_ids: list[str]):
    """Posts in the manifest's shape with real media ids, URLs and odd values."""
    text = st.text(max_size=30)
    number = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-5, 5))
    tag = st.fixed_dictionaries(
        {}, optional={"username": text, "product_id": text, "x": number, "y": number}
    )
    ref = st.one_of(
        st.sampled_from(media_ids),
        st.sampled_from(["https://cdn.example.com/a.jpg", "http://10.0.0.1/b.mp4", "ftp://x/y"]),
        st.fixed_dictionaries(
            {"media_id": st.sampled_from(media_ids)},
            optional={"user_tags": st.lists(tag, max_size=3), "alt_text": text},
        ),
    )
    return st.fixed_dictionaries(
        {"media": st.lists(ref, min_size=1, max_size=12)},
        optional={
            "media_type": st.sampled_from(["IMAGE", "REELS", "STORIES", "CAROUSEL", "VIDEO", "x"]),
            "caption": st.text(max_size=300),
            "thumb_offset": st.integers(-10, 10**7),
            "cover": st.sampled_from(media_ids),
            "share_to_feed": st.booleans(),
            "collaborators": st.lists(text, max_size=4),
            "user_tags": st.lists(tag, max_size=3),
            "publish_at": st.sampled_from(["2026-12-01T09:00:00Z", "tomorrow"]),
            "id": text,
        },
    )


def test_generated_posts_with_real_media_never_break_the_service(api_schema):
    """Posts schemathesis would rarely reach (valid ids, carousels, covers), each
    answered by its documented schema, and never a 5xx."""
    operation = api_schema["/v1/check"]["POST"]
    auth = {"Authorization": f"Bearer {KEY}"}
    answered = []

    @given(post=posts(api_schema.media_ids), strict=st.booleans(), deep=st.booleans())
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(post, strict, deep):
        case = operation.Case(
            body={"post": post, "strict": strict, "deep": deep}, media_type="application/json"
        )
        answered.append(case.call_and_validate(headers=auth, checks=CHECKS).status_code)

    run()
    assert 200 in answered and set(answered) <= {200, 422}


def test_every_refusal_the_document_names_is_problem_details(api_schema):
    """Generated clients pick the model to read by the status and type the document
    names. FastAPI named a 422 of `application/json` HTTPValidationError on the
    routes with parameters, while the service answers problem details: the client
    openapi-python-client generated raised ValueError reading the answer to
    `GET /v1/webhooks/deliveries?limit=0` (its `detail` is a string, not a list)."""
    raw = api_schema.raw_schema
    for path, operations in raw["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status[0] in "45" and (path, status) != ("/readyz", "503"):
                    assert list(answer["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
    assert "HTTPValidationError" not in raw["components"]["schemas"]
    operation = api_schema["/v1/webhooks/deliveries"]["GET"]
    auth = {"Authorization": f"Bearer {KEY}"}
    for query in ({"limit": 0}, {"status": "gone"}):
        response = operation.Case(query=query).call_and_validate(headers=auth, checks=CHECKS)
        assert response.status_code == 422
        assert response.headers["content-type"] == ["application/problem+json"]
