"""The Graph client: auth, error objects and their class, usage headers, redaction."""

from __future__ import annotations

import json
import logging
import socket

import pytest

from igpreflight.publish.graph.client import GraphClient, graph_url_from_env
from igpreflight.publish.graph.errors import GraphError, Usage, subcode_from_status
from igpreflight.publish.graph.table import ErrorClass
from igpreflight.publish.params import container_params, slots_for
from igpreflight.redaction import redact, register_secret

pytest.register_assert_rewrite("publish_support")

from publish_support import FAKE_TOKEN, image_post  # noqa: E402

pytest_plugins = ("publish_support",)


def test_usage_headers():
    headers = {
        "x-app-usage": json.dumps({"call_count": 12, "total_time": 101, "total_cputime": 3}),
        "x-business-use-case-usage": json.dumps(
            {
                "1784": [
                    {
                        "type": "instagram",
                        "call_count": 100,
                        "total_cputime": 4,
                        "total_time": 5,
                        "estimated_time_to_regain_access": 7,
                    }
                ]
            }
        ),
    }
    u = Usage.from_headers(headers)
    assert (u.app_pct, u.business_pct, u.regain_seconds) == (101, 100, 420)
    assert u.exhausted and u.wait_seconds == 420
    assert Usage.from_headers({"retry-after": "30"}).wait_seconds == 30
    assert Usage.from_headers({"x-app-usage": "not json"}) == Usage()
    assert Usage().wait_seconds is None and not Usage().exhausted


@pytest.mark.parametrize(
    ("code", "subcode", "transient", "status", "cls"),
    [
        (4, None, False, 400, ErrorClass.WAIT_QUOTA),
        (4, 2207051, False, 400, ErrorClass.PERMANENT),
        (190, 463, False, 400, ErrorClass.RECONNECT_AUTH),
        (190, 999, False, 400, ErrorClass.RECONNECT_AUTH),
        (250, None, False, 403, ErrorClass.RECONNECT_AUTH),
        (9, 2207042, False, 400, ErrorClass.WAIT_QUOTA),
        (-1, 2207053, False, 400, ErrorClass.RECREATE_CONTAINER),
        (None, 2207036, False, 400, ErrorClass.FIX_MEDIA),
        (777, None, True, 400, ErrorClass.RETRY_SAME),
        (None, None, False, 503, ErrorClass.RETRY_SAME),
        (None, None, False, None, ErrorClass.RETRY_SAME),
        (None, None, False, 404, ErrorClass.PERMANENT),
        (None, None, False, 429, ErrorClass.WAIT_QUOTA),
        (777, None, False, 400, ErrorClass.PERMANENT),
    ],
)
def test_error_class_comes_from_the_catalog(code, subcode, transient, status, cls):
    assert GraphError(status, code, subcode, transient, "m").error_class is cls


def test_network_errors_are_retry_same_and_refused_connections_are_certain():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = GraphClient(FAKE_TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(GraphError) as info:
        client.publish("1", "2")
    err = info.value
    assert err.network and not err.uncertain
    assert err.error_class is ErrorClass.RETRY_SAME
    assert err.code_text == "network"


def test_subcode_from_status():
    text = "Error: Injected failure. Media upload has failed with error code 2207053"
    assert subcode_from_status(text) == 2207053
    assert subcode_from_status("Error: unknown") is None


def test_graph_url_from_env(monkeypatch):
    monkeypatch.setenv("IGPREFLIGHT_GRAPH_URL", "http://127.0.0.1:9/")
    assert graph_url_from_env() == "http://127.0.0.1:9"
    assert graph_url_from_env("https://graph.instagram.com") == "https://graph.instagram.com"
    monkeypatch.delenv("IGPREFLIGHT_GRAPH_URL")
    assert graph_url_from_env() == "https://graph.facebook.com"


def test_bearer_header_and_error_fields(emu):
    client = GraphClient(FAKE_TOKEN, base_url=emu.url)
    assert client.publishing_limit(emu.user_id) == (0, 50)
    emu.inject("media_publish", "token_expired")
    with pytest.raises(GraphError) as info:
        client.publish(emu.user_id, "123")
    err = info.value
    assert (err.http_status, err.code, err.subcode) == (400, 190, 463)
    assert err.fbtrace_id and err.error_class is ErrorClass.RECONNECT_AUTH
    # the token went in the header, never in the URL
    assert all("access_token" not in r["params"] for r in emu.requests)


def test_token_in_query_is_redacted_from_httpx_logs(emu, caplog):
    client = GraphClient(FAKE_TOKEN, base_url=emu.url, token_in_query=True)
    with caplog.at_level(logging.DEBUG):
        client.publishing_limit(emu.user_id)
        emu.inject("limit", "http_500")
        with pytest.raises(GraphError):
            client.publishing_limit(emu.user_id)
    assert "access_token" in caplog.text  # httpx logged the URL...
    assert FAKE_TOKEN not in caplog.text  # ...without the token
    assert emu.requests[0]["params"]["access_token"] == "[REDACTED]"


def test_structured_error_log(emu, caplog):
    client = GraphClient(FAKE_TOKEN, base_url=emu.url)
    emu.inject("status", "rate_limit_613", regain_minutes=1)
    with caplog.at_level(logging.WARNING, logger="igpreflight.graph"), pytest.raises(GraphError):
        client.container_status("17900000000000042")
    [rec] = [r for r in caplog.records if r.name == "igpreflight.graph"]
    assert rec.code == 613 and rec.subcode is None and rec.http_status >= 400
    assert rec.container_id == "17900000000000042"
    assert rec.fbtrace_id and rec.error_class == "wait-quota"
    assert hasattr(rec, "is_transient") and hasattr(rec, "graph_message")


def test_redaction_of_any_igpreflight_log(caplog):
    register_secret(FAKE_TOKEN)
    with caplog.at_level(logging.INFO):
        logging.getLogger("igpreflight.publish").info("oops %s", FAKE_TOKEN)
        logging.getLogger("igpreflight.graph").warning(
            f"oops {FAKE_TOKEN}", extra={"x": FAKE_TOKEN}
        )
    assert FAKE_TOKEN not in caplog.text
    assert all(getattr(r, "x", "") != FAKE_TOKEN for r in caplog.records)
    assert redact(f"a {FAKE_TOKEN} b") == "a *** b"


def test_dry_run_plan_shows_no_token():
    client = GraphClient(FAKE_TOKEN, base_url="https://graph.facebook.com")
    call = client.plan(
        "POST", "1/media", {"image_url": "https://x/a.jpg", "is_carousel_item": True}
    )
    text = call.render()
    assert text.startswith("POST https://graph.facebook.com/v25.0/1/media ")
    assert "is_carousel_item=true" in text and FAKE_TOKEN not in text and "***" in text


def test_params_of_an_image_post(media):
    post = image_post(media, "x", alt_text="alt")
    [slot] = slots_for(post, "IMAGE", [False])
    p = container_params(post, "IMAGE", slot, media_url="https://cdn/x.jpg")
    assert p == {"image_url": "https://cdn/x.jpg", "caption": "caption x", "alt_text": "alt"}
