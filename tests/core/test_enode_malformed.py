"""The Enode client against a misbehaving API: broken bodies, odd headers, looping cursors.

The fake Enode server always answers well-formed; this serves scripted answers over real
loopback HTTP instead.
"""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import json
import socket

import aiohttp
from aiohttp import web
import pytest

from custom_components.ev_flex.core.enode import (
    EnodeAuthError,
    EnodeClient,
    EnodeConflictError,
    EnodeEndpoints,
    EnodeMalformedResponseError,
    EnodeRateLimitedError,
    EnodeServerError,
    TargetType,
    VendorType,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

type Answer = Callable[[web.Request], web.Response]

GOOD_TOKEN = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600}


class ScriptedApi:
    """An HTTP server that answers each (method, path) as the test says."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], Answer] = {
            ("POST", "/oauth2/token"): lambda _: web.json_response(GOOD_TOKEN)
        }
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.bodies: list[bytes] = []
        self.raw_paths: list[str] = []
        self.url = ""

    def answer(self, method: str, path: str, answer: Answer) -> None:
        self.answers[(method, path)] = answer

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path, dict(request.query)))
        self.bodies.append(await request.read())
        self.raw_paths.append(request.raw_path)
        answer = self.answers.get((request.method, request.path))
        if answer is None:
            return web.Response(status=404)
        return answer(request)


@pytest.fixture
async def api() -> AsyncIterator[ScriptedApi]:
    scripted = ScriptedApi()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", scripted.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    scripted.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield scripted
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(api: ScriptedApi) -> AsyncIterator[EnodeClient]:
    async with aiohttp.ClientSession() as session:
        yield EnodeClient(
            session,
            client_id="id",
            client_secret="secret",
            endpoints=EnodeEndpoints.custom(api.url),
        )


def _text(status: int, body: str) -> Answer:
    return lambda _: web.Response(status=status, text=body)


def _json(body: object, status: int = 200, **headers: str) -> Answer:
    return lambda _: web.json_response(body, status=status, headers=headers or None)


async def test_token_must_be_a_bearer_token(api: ScriptedApi, client: EnodeClient) -> None:
    api.answer("POST", "/oauth2/token", _json({"access_token": "t", "token_type": "mac"}))
    with pytest.raises(EnodeMalformedResponseError):
        await client.verify_credentials()


async def test_token_endpoint_outage_is_a_server_error(
    api: ScriptedApi, client: EnodeClient
) -> None:
    api.answer("POST", "/oauth2/token", _text(503, "<html>maintenance</html>"))
    with pytest.raises(EnodeServerError) as caught:
        await client.verify_credentials()
    assert caught.value.problem.detail == "<html>maintenance</html>"


async def test_token_endpoint_refusal_is_an_auth_error(
    api: ScriptedApi, client: EnodeClient
) -> None:
    api.answer("POST", "/oauth2/token", _json({"error": "unauthorized_client"}, status=400))
    with pytest.raises(EnodeAuthError):
        await client.verify_credentials()


async def test_legacy_problem_fields_are_read(api: ScriptedApi, client: EnodeClient) -> None:
    """Before 2024-10-01, problems repeated the type in `error` and the detail in `message`."""
    api.answer(
        "GET",
        "/users",
        _json({"error": "https://docs.enode.io/problems/x", "message": "went wrong"}, status=500),
    )
    with pytest.raises(EnodeServerError) as caught:
        await client.verify_credentials()
    assert caught.value.problem.type == "https://docs.enode.io/problems/x"
    assert caught.value.problem.describe() == "went wrong"


async def test_success_without_json_is_malformed(api: ScriptedApi, client: EnodeClient) -> None:
    api.answer("GET", "/users", _text(200, "<html>captive portal</html>"))
    with pytest.raises(EnodeMalformedResponseError):
        await client.verify_credentials()


async def test_list_without_data_is_malformed(api: ScriptedApi, client: EnodeClient) -> None:
    api.answer("GET", "/vehicles", _json({"items": []}))
    with pytest.raises(EnodeMalformedResponseError):
        await client.list_vehicles()


async def test_a_repeating_cursor_does_not_loop(api: ScriptedApi, client: EnodeClient) -> None:
    page = {"data": [{"id": "v1"}], "pagination": {"after": "same", "before": None}}
    api.answer("GET", "/vehicles", _json(page))
    vehicles = await client.list_vehicles()
    assert [v.id for v in vehicles] == ["v1", "v1"]
    assert [query.get("after") for _, path, query in api.requests if path == "/vehicles"] == [
        None,
        "same",
    ]


async def test_retry_after_as_an_http_date(api: ScriptedApi, client: EnodeClient) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    api.answer("GET", "/users", _json({"title": "Slow down"}, status=429, **{"Retry-After": when}))
    with pytest.raises(EnodeRateLimitedError) as caught:
        await client.verify_credentials()
    assert 100 < caught.value.retry_after <= 120


async def test_unreadable_retry_after_backs_off(api: ScriptedApi, client: EnodeClient) -> None:
    api.answer("GET", "/users", _json({}, status=429, **{"Retry-After": "soon"}))
    with pytest.raises(EnodeRateLimitedError) as caught:
        await client.verify_credentials()
    assert caught.value.retry_after == 2.0


async def test_conflict_without_an_action_body(api: ScriptedApi, client: EnodeClient) -> None:
    api.answer("POST", "/chargers/actions/a1/cancel", _text(409, "already done"))
    with pytest.raises(EnodeConflictError) as caught:
        await client.cancel_action(TargetType.CHARGER, "a1")
    assert caught.value.action is None


async def test_link_session_without_url_is_malformed(api: ScriptedApi, client: EnodeClient) -> None:
    api.answer("POST", "/users/u1/link", _json({"linkToken": "abc"}))
    with pytest.raises(EnodeMalformedResponseError):
        await client.create_link_session(
            "u1", vendor_type=VendorType.CHARGER, redirect_uri="https://x", vendor="EASEE"
        )


async def test_link_session_request_body(api: ScriptedApi, client: EnodeClient) -> None:
    api.answer("POST", "/users/u 1/link", _json({"linkUrl": "https://link.example/x"}))
    session = await client.create_link_session(
        "u 1",
        vendor_type=VendorType.CHARGER,
        redirect_uri="https://x",
        color_scheme="dark",
        language="nb-NO",
    )
    assert session.link_url == "https://link.example/x"
    assert session.link_token is None
    # Ids go into the path percent-encoded.
    assert api.raw_paths[-1] == "/users/u%201/link"
    assert json.loads(api.bodies[-1]) == {
        "vendorType": "charger",
        "scopes": ["charger:read:data", "charger:control:charging"],
        "language": "nb-NO",
        "redirectUri": "https://x",
        "colorScheme": "dark",
    }


async def test_odd_user_and_webhook_shapes(api: ScriptedApi, client: EnodeClient) -> None:
    api.answer(
        "GET",
        "/users/u1",
        _json(
            {
                "id": "u1",
                "linkedVendors": [
                    {"vendor": "TESLA", "vendorType": "vehicle", "isValid": False},
                    {"vendorType": "charger"},
                    {"vendor": "NEWCO", "vendorType": "spaceship"},
                    "junk",
                ],
            }
        ),
    )
    user = await client.get_user("u1")
    assert [(v.vendor, v.vendor_type.value, v.is_valid) for v in user.linked_vendors] == [
        ("TESLA", "vehicle", False),
        ("NEWCO", "unknown", True),
    ]
    api.answer(
        "POST",
        "/webhooks",
        _json({"id": "w1", "url": "https://x", "events": ["*"], "isActive": False}),
    )
    hook = await client.create_webhook(
        "https://x", "secret", api_version="2024-10-01", authentication=("X-Key", "v")
    )
    assert not hook.is_active
    assert hook.events == ("*",)
    assert json.loads(api.bodies[-1]) == {
        "url": "https://x",
        "secret": "secret",
        "events": ["*"],
        "apiVersion": "2024-10-01",
        "authentication": {"headerName": "X-Key", "headerValue": "v"},
    }
