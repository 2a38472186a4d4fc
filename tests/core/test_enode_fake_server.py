"""Behaviour of the fake Enode server itself that the client tests do not reach."""

import asyncio
from dataclasses import replace
from datetime import timedelta
import json

import aiohttp
import pytest

from custom_components.ev_flex.core.enode import (
    ActionState,
    ChargeKind,
    EnodeBadRequestError,
    EnodeNotFoundError,
    TargetType,
    VendorType,
    snapshot_from,
)
from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.simulator import VEHICLE_PRESETS
from tests.fakes.enode_server import (
    FAKE_BRAND,
    FakeEnodeServer,
    serve,
    server_from_args,
)

from .enode_support import REDIRECT_URI, USER, make_client, webhook_receiver
from .manual_clock import ManualClock

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def _token(session: aiohttp.ClientSession, server: FakeEnodeServer) -> str:
    """A token requested with the credentials in the form body (also allowed by OAuth2)."""
    async with session.post(
        f"{server.base_url}/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": server.client_id,
            "client_secret": server.client_secret,
        },
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3599
    return str(body["access_token"])


async def test_token_endpoint_checks_the_grant(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    async with session.post(
        f"{server.base_url}/oauth2/token",
        data={"grant_type": "password"},
        headers={"Authorization": aiohttp.encode_basic_auth(server.client_id, "x")},
    ) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "unsupported_grant_type"


async def test_pagination_rules(server: FakeEnodeServer, session: aiohttp.ClientSession) -> None:
    for _ in range(3):
        server.link(USER, server.add_vehicle())
    headers = {"Authorization": f"Bearer {await _token(session, server)}"}
    url = f"{server.base_url}/vehicles"

    async with session.get(url, params={"pageSize": "2"}, headers=headers) as first:
        page = await first.json()
    assert len(page["data"]) == 2
    assert page["pagination"]["before"] is None
    after = page["pagination"]["after"]
    async with session.get(url, params={"pageSize": "2", "after": after}, headers=headers) as nxt:
        second = await nxt.json()
    assert len(second["data"]) == 1
    assert second["pagination"]["after"] is None
    before = second["pagination"]["before"]
    async with session.get(
        url, params={"pageSize": "2", "before": before}, headers=headers
    ) as back:
        assert [v["id"] for v in (await back.json())["data"]] == [v["id"] for v in page["data"]]

    for params in (
        {"after": after, "before": before},
        {"pageSize": "0"},
        {"pageSize": "many"},
        {"after": "bm90LWEtY3Vyc29y"},
    ):
        async with session.get(url, params=params, headers=headers) as bad:
            assert bad.status == 400
            assert bad.content_type == "application/problem+json"


async def test_unknown_route_and_missing_token(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{server.base_url}/hvacs") as anonymous:
        assert anonymous.status == 401
    headers = {"Authorization": f"Bearer {await _token(session, server)}"}
    async with session.get(f"{server.base_url}/hvacs", headers=headers) as missing:
        assert missing.status == 404
        assert (await missing.json())["type"].endswith("/not-found")
    async with session.get(f"{server.base_url}/health/ready") as health:
        assert health.status == 204


async def test_link_creates_a_device_when_none_is_free(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    for vendor_type in (VendorType.VEHICLE, VendorType.CHARGER):
        link = await client.create_link_session(
            USER, vendor_type=vendor_type, redirect_uri=REDIRECT_URI
        )
        async with session.get(link.link_url) as page:
            assert "a new virtual one will be created" in await page.text()
        async with session.get(f"{link.link_url}?autolink=1", allow_redirects=False) as done:
            assert done.status == 302
    assert len(await client.list_vehicles(USER)) == 1
    assert len(await client.list_chargers(USER)) == 1

    server.create_devices_on_link = False
    link = await client.create_link_session(
        USER, vendor_type=VendorType.VEHICLE, redirect_uri=REDIRECT_URI
    )
    async with session.get(f"{link.link_url}?autolink=1", allow_redirects=False) as none:
        assert none.status == 409
    async with session.get(f"{server.base_url}/link/unknown-token") as unknown:
        assert unknown.status == 404


async def test_link_offers_only_matching_devices(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    tesla = server.add_vehicle()
    other = server.add_vehicle(VEHICLE_PRESETS["hatchback"], vehicle_vendor="RENAULT")
    link = await client.create_link_session(
        USER, vendor_type=VendorType.VEHICLE, redirect_uri=REDIRECT_URI, vendor="RENAULT"
    )
    async with session.get(
        link.link_url, params={"device": tesla}, allow_redirects=False
    ) as refused:
        assert refused.status == 400
    async with session.get(
        link.link_url, params={"device": other}, allow_redirects=False
    ) as linked:
        assert linked.status == 302
    assert [v.id for v in await client.list_vehicles(USER)] == [other]

    with pytest.raises(EnodeBadRequestError):
        await client.create_link_session(USER, vendor_type=VendorType.HVAC, redirect_uri="x")


async def test_charging_physics_follow_the_actions(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    site = server.add_site(soc_pct=20.0)
    assert site.charger_id is not None
    server.link(USER, site.charger_id)
    stop = await client.create_charge_action(TargetType.CHARGER, site.charger_id, ChargeKind.STOP)
    clock.advance(seconds=5)
    assert (await client.wait_for_action(stop)).state is ActionState.CONFIRMED
    clock.advance(hours=1)
    idle = await client.get_charger(site.charger_id)
    assert idle.charge_state.is_charging is False
    # Only the five seconds before the stop took effect added energy.
    assert site.simulation.vehicle_state().battery_level_pct == pytest.approx(20.02, abs=0.005)

    start = await client.create_charge_action(TargetType.CHARGER, site.charger_id, ChargeKind.START)
    clock.advance(seconds=5)
    assert (await client.wait_for_action(start)).state is ActionState.CONFIRMED
    clock.advance(hours=1)
    # One hour at 11 kW with 90 % efficiency stores 9.9 kWh: 13.2 points of 75 kWh.
    assert site.simulation.vehicle_state().battery_level_pct == pytest.approx(33.22, abs=0.01)


async def test_without_pairing_ids_the_keys_are_absent(session: aiohttp.ClientSession) -> None:
    async with FakeEnodeServer(pairing_ids=False) as server:
        site = server.add_site()
        assert site.vehicle_id is not None
        assert site.charger_id is not None
        server.link(USER, site.vehicle_id)
        server.link(USER, site.charger_id)
        assert "pluggedInChargerId" not in server.vehicle_json(site.vehicle_id)["chargeState"]
        client = make_client(session, server)
        snapshot = snapshot_from(await client.list_vehicles(USER), await client.list_chargers(USER))
    assert not snapshot.reports_plugged_in_ids
    assert snapshot.vehicles[site.vehicle_id].plugged_in_charger_id is None


async def test_locations_by_body_and_update(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": f"Bearer {await _token(session, server)}"}
    base = server.base_url
    async with session.post(
        f"{base}/locations",
        json={"userId": USER, "name": "Home", "latitude": 59.91, "longitude": 10.75},
        headers=headers,
    ) as created:
        location = await created.json()
    assert location["timezoneName"] == "UTC"
    async with session.put(
        f"{base}/locations/{location['id']}", json={"name": "Cabin"}, headers=headers
    ) as updated:
        assert (await updated.json())["name"] == "Cabin"
    async with session.get(f"{base}/locations/{location['id']}", headers=headers) as fetched:
        assert (await fetched.json())["name"] == "Cabin"
    async with session.post(f"{base}/locations", json={"name": "x"}, headers=headers) as bad:
        assert bad.status == 400

    # A car parked within GPS range of a Location is at it, even without a charger.
    vehicle_id = server.add_vehicle()
    server.link(USER, vehicle_id)
    client = make_client(session, server)
    assert (await client.get_vehicle(vehicle_id)).location.id == location["id"]
    with pytest.raises(EnodeNotFoundError):
        await client.delete_location("missing")


async def test_webhook_validation_and_reactivation(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    with pytest.raises(EnodeBadRequestError):
        await client.create_webhook("https://example.com/hook", "short")
    with pytest.raises(EnodeBadRequestError):
        await client.create_webhook("not a url", "long-enough-secret-value")
    hook = await client.create_webhook("https://example.com/hook", "long-enough-secret-value")
    # Enode posts only to HTTPS; this fixture's flag allows plain HTTP for local receivers.
    server.allow_http_webhooks = False
    with pytest.raises(EnodeBadRequestError):
        await client.create_webhook("http://example.com/hook", "long-enough-secret-value")
    assert (await client.get_webhook(hook.id)).url == "https://example.com/hook"
    headers = {"Authorization": f"Bearer {await _token(session, server)}"}
    async with session.patch(
        f"{server.base_url}/webhooks/{hook.id}",
        json={"events": ["user:vehicle:updated"], "authentication": None},
        headers=headers,
    ) as patched:
        body = await patched.json()
    assert body["events"] == ["user:vehicle:updated"]
    assert body["isActive"] is True
    async with session.get(f"{server.base_url}/webhooks/{hook.id}", headers=headers) as fetched:
        assert (await fetched.json())["id"] == hook.id


async def test_control_endpoints(server: FakeEnodeServer, session: aiohttp.ClientSession) -> None:
    base = f"{server.base_url}/_fake"
    async with session.post(f"{base}/sites", json={"preset": "hatchback", "pluggedIn": False}) as r:
        ids = await r.json()
    async with session.post(f"{base}/devices/{ids['vehicleId']}/plug", json={"pluggedIn": True}):
        pass
    assert server.site_of(ids["vehicleId"]).simulation.vehicle_state().is_plugged_in
    async with session.post(
        f"{base}/devices/{ids['chargerId']}/reachable", json={"reachable": False}
    ):
        pass
    assert server.site_of(ids["chargerId"]).simulation.faults.charger_offline
    async with session.post(
        f"{base}/faults", json={"server_error_rate": 0.5, "interference": ["x"]}
    ) as faults:
        assert faults.status == 204
    assert server.faults.server_error_rate == 0.5
    assert server.faults.interference == {"x"}
    async with session.post(f"{base}/faults", json={"no_such_fault": 1}) as unknown:
        assert unknown.status == 400
    async with session.post(f"{base}/devices/nope/plug", json={}) as missing:
        assert missing.status == 404
    async with session.get(f"{base}/state") as state:
        body = await state.json()
    assert body["sites"][0]["canStartStop"] is False
    assert body["faults"]["interference"] == ["x"]

    token = await _token(session, server)
    async with session.post(f"{base}/expire-tokens"):
        pass
    async with session.get(
        f"{server.base_url}/vehicles", headers={"Authorization": f"Bearer {token}"}
    ) as refused:
        assert refused.status == 401
    async with session.post(f"{base}/tick") as tick:
        assert tick.status == 204


async def test_background_ticker_delivers_without_help(session: aiohttp.ClientSession) -> None:
    async with (
        webhook_receiver() as receiver,
        FakeEnodeServer(auto_tick_interval=0.01, allow_http_webhooks=True) as server,
    ):
        client = make_client(session, server)
        await client.create_webhook(receiver.url, "long-enough-secret-value")
        server.link(USER, server.add_vehicle())
        await asyncio.wait_for(receiver.received.wait(), timeout=5)
    assert json.loads(receiver.bodies[0])[0]["event"] == "user:vehicle:discovered"


async def test_command_line_server(capsys: pytest.CaptureFixture[str]) -> None:
    server = server_from_args(
        ["--port", "0", "--preset", "hatchback", "--action-delay", "1", "--tick", "60"]
    )
    assert server.action_delay == timedelta(seconds=1)
    (site,) = server.sites
    assert not site.simulation.vehicle_spec.can_start_stop
    assert site.simulation.vehicle_spec.make == FAKE_BRAND
    assert site.vehicle_vendor == "FAKEENODE"
    stop = asyncio.Event()
    stop.set()
    await serve(server, stop)
    printed = capsys.readouterr().out
    assert f"Fake Enode API on http://127.0.0.1:{server.port}" in printed
    assert "fake-client-secret" in printed


async def test_requests_are_validated(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    site = server.add_site()
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    server.link(USER, site.vehicle_id)
    server.link(USER, site.charger_id)
    headers = {"Authorization": f"Bearer {await _token(session, server)}"}
    base = server.base_url
    bad_requests = [
        ("PUT", f"/chargers/{site.charger_id}", {"locationId": "nowhere"}),
        ("POST", f"/chargers/{site.charger_id}/charging", {"action": "PAUSE"}),
        ("POST", f"/chargers/{site.charger_id}/max-current", {"maxCurrent": True}),
        ("POST", f"/users/{USER}/locations", {"name": "Home", "latitude": "north"}),
        ("POST", f"/users/{USER}/link", {"redirectUri": "https://x"}),
        ("POST", f"/users/{USER}/link", {"scopes": []}),
        ("POST", "/webhooks", {"url": "https://x", "secret": "s" * 20, "events": "all"}),
        ("POST", "/webhooks", {"url": "https://x", "secret": "s" * 20, "authentication": 1}),
        ("POST", "/webhooks", {"url": "https://x", "secret": "s" * 20, "authentication": {}}),
        ("POST", "/webhooks", ["not", "an", "object"]),
    ]
    for method, path, body in bad_requests:
        async with session.request(method, f"{base}{path}", json=body, headers=headers) as r:
            assert r.status == 400, (method, path, body)
    async with session.post(
        f"{base}/webhooks", data="{broken", headers={**headers, "Content-Type": "application/json"}
    ) as broken:
        assert broken.status == 400
    async with session.delete(f"{base}/vehicles", headers=headers) as wrong_method:
        assert wrong_method.status == 405
    async with session.get(f"{base}/chargers", headers=headers) as listed:
        assert [c["id"] for c in (await listed.json())["data"]] == [site.charger_id]

    server.faults.rate_limit_rate = 1.0
    server.faults.retry_after_s = None
    async with session.get(f"{base}/chargers", headers=headers) as limited:
        assert limited.status == 429
        assert "Retry-After" not in limited.headers


async def test_vehicle_actions_can_be_cancelled(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    vehicle_id = server.add_vehicle(plugged_in=True)
    server.link(USER, vehicle_id)
    action = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    cancelled = await client.cancel_action(TargetType.VEHICLE, action.id)
    assert cancelled.state is ActionState.CANCELLED
    assert server.action(action.id)["state"] == "CANCELLED"
    # Actions are looked up under their own target type.
    with pytest.raises(EnodeNotFoundError):
        await client.get_action(TargetType.CHARGER, action.id)
    # A vehicle START replaces a pending STOP (the charging car makes the START redundant:
    # Enode then creates an action that ends UNNECESSARY instead of answering 400).
    server.faults.unnecessary_action_rate = 1.0
    stop = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.START)
    assert server.action(stop.id)["failureReason"]["type"] == "CONFLICT"


async def test_device_states_and_stale_data(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    full = server.add_site(soc_pct=100.0)
    assert full.vehicle_id is not None
    assert full.charger_id is not None
    server.link(USER, full.vehicle_id)
    server.link(USER, full.charger_id)
    vehicle = server.vehicle_json(full.vehicle_id)
    assert vehicle["chargeState"]["powerDeliveryState"] == "PLUGGED_IN:COMPLETE"
    assert vehicle["chargeState"]["chargeRate"] is None

    server.set_reachable(full.charger_id, reachable=False)
    server.set_reachable(full.vehicle_id, reachable=False)
    stale = server.charger_json(full.charger_id)
    assert stale["isReachable"] is False
    assert stale["chargeState"]["isPluggedIn"] is True
    # Neither side answers: a command is not refused up front, it just stays pending.
    client = make_client(session, server)
    action = await client.create_charge_action(TargetType.CHARGER, full.charger_id, ChargeKind.STOP)
    assert action.state is ActionState.PENDING

    # A device that never answered has no data to serve.
    ghost = server.add_site()
    assert ghost.charger_id is not None
    ghost.simulation.set_faults(replace(ghost.simulation.faults, charger_offline=True))
    assert server.charger_json(ghost.charger_id) == {
        "id": ghost.charger_id,
        "userId": None,
        "isReachable": False,
    }


async def test_webhook_switched_off_after_repeated_failures(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    async with webhook_receiver() as receiver:
        hook = await client.create_webhook(receiver.url, "long-enough-secret-value")
        receiver.status = 500
        server.link(USER, server.add_vehicle())
        for _ in range(20):
            await server.tick()
        assert len(receiver.bodies) == 20
    listed = {h.id: h for h in await client.list_webhooks()}
    assert not listed[hook.id].is_active
    assert server.pending_events() == []
    # Nothing is queued for an inactive webhook.
    server.link(USER, server.add_charger())
    assert server.pending_events() == []


async def test_delivery_to_an_unreachable_receiver(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    async with webhook_receiver() as receiver:
        url = receiver.url
    await client.create_webhook(url, "long-enough-secret-value")
    server.link(USER, server.add_vehicle())
    await server.tick()
    assert server.deliveries[-1].status is None
    assert len(server.pending_events()) == 1


async def test_control_rejects_unknown_presets_and_unplugs(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    base = f"{server.base_url}/_fake"
    async with session.post(f"{base}/sites", json={"preset": "tractor"}) as bad:
        assert bad.status == 400
    vehicle_id = server.add_vehicle(plugged_in=True)
    async with session.post(f"{base}/devices/{vehicle_id}/plug", json={"pluggedIn": False}):
        pass
    assert not server.site_of(vehicle_id).simulation.vehicle_state().is_plugged_in
    async with session.post(f"{base}/devices/nope/reachable", json={}) as missing:
        assert missing.status == 404


async def test_actions_take_enodes_time(clock: ManualClock, session: aiohttp.ClientSession) -> None:
    """Without a fixed delay, actions settle as Enode's reference describes (seeded): most in
    about 20 s, some after minutes, a few after nearly half an hour; never after 30 minutes."""
    delays: list[float] = []
    async with FakeEnodeServer(clock=clock, seed=3) as fake:
        client = make_client(session, fake)
        for _ in range(40):
            charger_id = fake.add_charger(plugged_in=True)
            fake.link(USER, charger_id)
            for _ in range(5):
                action = await client.create_charge_action(
                    TargetType.CHARGER, charger_id, ChargeKind.STOP
                )
                settles_at = fake._actions[action.id].due_at
                delays.append((settles_at - clock.now).total_seconds())
                fake._finish(fake._actions[action.id], "CANCELLED")
                fake.site_of(charger_id).simulation.send_command(charger_id, CommandKind.START)
    delays.sort()
    assert 10 <= delays[len(delays) // 2] <= 40
    assert sum(delay > 60 for delay in delays) >= len(delays) // 20
    assert max(delays) < 1800
    # The same seed and device give the same delays.
    first, second = FakeEnodeServer(clock=clock, seed=3), FakeEnodeServer(clock=clock, seed=3)
    assert [first._action_delay("car") for _ in range(5)] == [
        second._action_delay("car") for _ in range(5)
    ]


async def test_redundant_and_fully_charged_commands_get_400(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    server.faults.unnecessary_action_rate = 0.0
    full = server.add_site(soc_pct=100.0)
    assert full.vehicle_id is not None
    server.link(USER, full.vehicle_id)
    with pytest.raises(EnodeBadRequestError, match="fully charged"):
        await client.create_charge_action(TargetType.VEHICLE, full.vehicle_id, ChargeKind.START)
    charging = server.add_vehicle(plugged_in=True)
    server.link(USER, charging)
    with pytest.raises(EnodeBadRequestError, match="Already charging"):
        await client.create_charge_action(TargetType.VEHICLE, charging, ChargeKind.START)
    stop = await client.create_charge_action(TargetType.VEHICLE, charging, ChargeKind.STOP)
    assert stop.state is ActionState.PENDING


async def test_enode_pairing_unlocks_start_stop_through_the_charger(
    clock: ManualClock, session: aiohttp.ClientSession
) -> None:
    """A car that cannot start or stop shows both once a charger of its user is linked, and
    its commands are then carried out by that charger."""
    async with FakeEnodeServer(clock=clock, action_delay=timedelta(0), enode_pairing=True) as fake:
        client = make_client(session, fake)
        site = fake.add_site(vehicle=VEHICLE_PRESETS["hatchback"], soc_pct=40.0)
        assert site.vehicle_id is not None
        assert site.charger_id is not None
        fake.link(USER, site.vehicle_id)
        capabilities = fake.vehicle_json(site.vehicle_id)["capabilities"]
        assert not capabilities["startCharging"]["isCapable"]
        with pytest.raises(EnodeBadRequestError):
            await client.create_charge_action(TargetType.VEHICLE, site.vehicle_id, ChargeKind.STOP)

        fake.link(USER, site.charger_id)
        capabilities = fake.vehicle_json(site.vehicle_id)["capabilities"]
        assert capabilities["startCharging"]["isCapable"]
        assert capabilities["stopCharging"]["isCapable"]
        action = await client.create_charge_action(
            TargetType.VEHICLE, site.vehicle_id, ChargeKind.STOP
        )
        assert action.state is ActionState.CONFIRMED
        assert not site.simulation.charger_state().is_charging


async def test_settled_actions_are_forgotten_after_a_week(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    charger_id = server.add_charger(plugged_in=True)
    server.link(USER, charger_id)
    action = await client.create_charge_action(TargetType.CHARGER, charger_id, ChargeKind.STOP)
    clock.advance(seconds=5)
    assert (await client.get_action(TargetType.CHARGER, action.id)).state is ActionState.CONFIRMED
    clock.advance(days=6)
    assert (await client.get_action(TargetType.CHARGER, action.id)).state is ActionState.CONFIRMED
    clock.advance(days=2)
    with pytest.raises(EnodeNotFoundError):
        await client.get_action(TargetType.CHARGER, action.id)
