"""schemathesis on the posts endpoints of a service that has accounts and a publishing
database (test_serve_schema's service has neither): no generated request gets a 5xx,
and every answer matches its documented status, type and schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from posts_support import KEY_ALL, accounts_file
from serve_support import keys_file, running
from test_serve_schema import CHECKS, _no_lookups

from fixtures.graph_emulator import GraphEmulator
from igpreflight.serve.settings import ServeSettings

AUTH = {"Authorization": f"Bearer {KEY_ALL}"}


@pytest.fixture(scope="module")
def posts_schema(tmp_path_factory):
    folder = tmp_path_factory.mktemp("posts-schema")
    with pytest.MonkeyPatch.context() as mp, GraphEmulator() as emu:
        mp.setattr("igpreflight.net.guard.resolve", _no_lookups)
        mp.setattr("igpreflight.net.guard.non_public_reason", lambda address: "off limits here")
        settings_ = ServeSettings(
            data_dir=str(folder / "data"),
            db=str(folder / "publish.sqlite"),
            isolated=True,
            rate=0,
            keys_file=str(keys_file(folder, mp)),
            accounts_file=str(accounts_file(folder, emu, mp)),
            publish_worker=False,  # enqueue only: the queue is read, never run, here
        )
        with running(settings_) as svc:
            yield schemathesis.openapi.from_url(f"{svc.url}/openapi.json")


def _run(operation, strategy, check, examples: int) -> None:
    @given(case=strategy)
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


def test_the_posts_endpoints_keep_their_contract(posts_schema):
    seen = []
    for result in posts_schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/v1/posts"):
            continue
        _run(
            operation,
            operation.as_strategy(),
            lambda c: c.call_and_validate(headers=AUTH, checks=CHECKS),
            40,
        )
        seen.append(f"{operation.method.upper()} {operation.path}")
    assert sorted(seen) == [
        "DELETE /v1/posts/{post_id}",
        "GET /v1/posts",
        "GET /v1/posts/{post_id}",
        "POST /v1/posts",
    ]


def test_generated_posts_for_real_accounts_never_break_the_service(posts_schema):
    operation = posts_schema["/v1/posts"]["POST"]
    answered = []
    body = st.fixed_dictionaries(
        {
            "account": st.sampled_from(["brand-a", "brand-b", "brand-z"]),
            "media": st.lists(
                st.sampled_from(["https://cdn.example.com/a.jpg", "m_AAAAAAAAAAAAAAAAAAAAAA"]),
                min_size=1,
                max_size=3,
            ),
        },
        optional={
            "caption": st.text(max_size=50),
            "publish_at": st.sampled_from(["2099-01-01T00:00:00Z", "soon"]),
        },
    )

    # What a client can send as a header value (uvicorn refuses the rest before us).
    header = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=300)

    @given(post=body, key=header)
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(post, key):
        case = operation.Case(
            body=post, media_type="application/json", headers={"Idempotency-Key": key}
        )
        answered.append(case.call_and_validate(headers=AUTH, checks=CHECKS).status_code)

    run()
    assert set(answered) <= {400, 404, 409, 422} and 422 in answered
