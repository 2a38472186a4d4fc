"""The Enode client against the fake Enode server over real loopback HTTP."""

from dataclasses import replace
from datetime import timedelta
import logging

import aiohttp
import pytest

from custom_components.ev_flex.core.enode import (
    PRODUCTION_ENDPOINTS,
    SANDBOX_ENDPOINTS,
    TOKEN_REFRESH_MARGIN_S,
    ActionState,
    ChargeKind,
    EnodeActionTimeoutError,
    EnodeAuthError,
    EnodeBadRequestError,
    EnodeConflictError,
    EnodeConnectionError,
    EnodeEndpoints,
    EnodeEnvironment,
    EnodeInterferenceError,
    EnodeNotFoundError,
    EnodePlace,
    EnodeRateLimitedError,
    EnodeServerError,
    EnodeTimeoutError,
    FailureReasonType,
    PowerDeliveryState,
    TargetType,
    VendorType,
    vehicle_state_from,
)
from custom_components.ev_flex.core.simulator import VEHICLE_PRESETS
from tests.fakes.enode_server import FakeEnodeServer

from .enode_support import REDIRECT_URI, USER, ManualMonotonic, make_client
from .manual_clock import ManualClock

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
def action_delay() -> timedelta:
    """Long enough that a test sees an action still pending."""
    return timedelta(seconds=10)


def linked_site(server: FakeEnodeServer, **kwargs: object) -> tuple[str, str]:
    """A car and its home charger, both linked to USER; returns (vehicle id, charger id)."""
    site = server.add_site(**kwargs)  # type: ignore[arg-type]
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    server.link(USER, site.vehicle_id)
    server.link(USER, site.charger_id)
    return site.vehicle_id, site.charger_id


# Environments


def test_environment_endpoints() -> None:
    """Production and sandbox use Enode's hosts; a custom base serves API and token."""
    assert EnodeEndpoints.for_environment(EnodeEnvironment.PRODUCTION) is PRODUCTION_ENDPOINTS
    assert EnodeEndpoints.for_environment(EnodeEnvironment.SANDBOX) is SANDBOX_ENDPOINTS
    assert SANDBOX_ENDPOINTS.token_url == "https://oauth.sandbox.enode.io/oauth2/token"
    custom = EnodeEndpoints.for_environment(EnodeEnvironment.CUSTOM, "http://127.0.0.1:8765/")
    assert custom.api_url == "http://127.0.0.1:8765"
    assert custom.token_url == "http://127.0.0.1:8765/oauth2/token"
    with pytest.raises(ValueError, match="base URL"):
        EnodeEndpoints.for_environment(EnodeEnvironment.CUSTOM)
    with pytest.raises(ValueError, match="http"):
        EnodeEndpoints.custom("ftp://example.com")


# Token


async def test_token_is_cached_until_shortly_before_expiry(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    monotonic = ManualMonotonic()
    client = make_client(session, server, monotonic=monotonic)
    await client.list_vehicles(USER)
    await client.list_chargers(USER)
    assert server.stats.token_requests == 1

    # 3599 s lifetime, refreshed 60 s early: still cached one second before that point.
    monotonic.value += server.token_lifetime_s - TOKEN_REFRESH_MARGIN_S - 1
    await client.list_vehicles(USER)
    assert server.stats.token_requests == 1

    monotonic.value += 1
    await client.list_vehicles(USER)
    assert server.stats.token_requests == 2
    assert server.stats.unauthorized == 0


async def test_refused_token_is_refreshed_once(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    """The server forgets the token; the client gets a new one and the call succeeds."""
    client = make_client(session, server)
    linked_site(server)
    await client.list_vehicles(USER)
    server.expire_tokens()
    vehicles = await client.list_vehicles(USER)
    assert len(vehicles) == 1
    assert server.stats.token_requests == 2
    assert server.stats.unauthorized == 1


async def test_second_refusal_is_an_auth_error(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    await client.verify_credentials()
    server.faults.reject_tokens = True
    with pytest.raises(EnodeAuthError) as caught:
        await client.list_vehicles(USER)
    assert caught.value.status == 401
    # Exactly one refresh: the first token plus one more.
    assert server.stats.token_requests == 2
    assert server.stats.unauthorized == 2


async def test_token_expiry_on_the_server_clock(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A token the server considers expired is replaced even though the client still trusts it."""
    client = make_client(session, server)
    await client.verify_credentials()
    clock.advance(seconds=server.token_lifetime_s + 1)
    await client.verify_credentials()
    assert server.stats.token_requests == 2


async def test_wrong_credentials(server: FakeEnodeServer, session: aiohttp.ClientSession) -> None:
    client = make_client(session, server, client_secret="wrong")
    with pytest.raises(EnodeAuthError) as caught:
        await client.verify_credentials()
    assert caught.value.status == 401
    assert caught.value.problem.type == "invalid_client"
    assert server.stats.api_requests == 0


async def test_unreachable_api(session: aiohttp.ClientSession) -> None:
    async with FakeEnodeServer() as gone:
        url = gone.base_url
    client = make_client(session, gone, endpoints=EnodeEndpoints.custom(url))
    with pytest.raises(EnodeConnectionError):
        await client.verify_credentials()


async def test_slow_response_times_out(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server, request_timeout=0.05)
    server.faults.response_delay_s = 0.3
    with pytest.raises(EnodeTimeoutError):
        await client.verify_credentials()


# Users and linking


async def test_link_flow_redirects_and_links_the_vehicle(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    site = server.add_site(vehicle=VEHICLE_PRESETS["hatchback"])
    client = make_client(session, server)
    link = await client.create_link_session(
        USER, vendor_type=VendorType.VEHICLE, redirect_uri=REDIRECT_URI
    )
    assert link.link_url.startswith(server.base_url)
    assert link.link_token

    async with session.get(link.link_url) as page:
        html = await page.text()
    assert page.status == 200
    assert "Hatchback 40 kWh" in html
    assert "<form" in html

    async with session.get(f"{link.link_url}?autolink=1", allow_redirects=False) as done:
        assert done.status == 302
        assert done.headers["Location"] == REDIRECT_URI

    user = await client.get_user(USER)
    assert [(v.vendor_type, v.is_valid) for v in user.linked_vendors] == [
        (VendorType.VEHICLE, True)
    ]
    vehicles = await client.list_vehicles(USER)
    assert [v.id for v in vehicles] == [site.vehicle_id]
    # The hatchback cannot start or stop charging by itself.
    assert not vehicles[0].capabilities.start_charging.is_capable
    assert await client.list_chargers(USER) == []

    # A link session is single-use.
    async with session.get(f"{link.link_url}?autolink=1", allow_redirects=False) as again:
        assert again.status == 410


async def test_link_form_and_cancel(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    site = server.add_site()
    client = make_client(session, server)
    charger_link = await client.create_link_session(
        USER, vendor_type=VendorType.CHARGER, redirect_uri=REDIRECT_URI
    )
    async with session.post(
        charger_link.link_url,
        data={"action": "link", "device": site.charger_id},
        allow_redirects=False,
    ) as posted:
        assert posted.status == 302
    assert [c.id for c in await client.list_chargers(USER)] == [site.charger_id]

    cancelled = await client.create_link_session(
        USER, vendor_type=VendorType.VEHICLE, redirect_uri=REDIRECT_URI
    )
    async with session.get(f"{cancelled.link_url}?cancel=1", allow_redirects=False) as back:
        location = back.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    assert "error=access_denied" in location
    assert await client.list_vehicles(USER) == []


async def test_unknown_user_is_not_found(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    with pytest.raises(EnodeNotFoundError) as caught:
        await client.get_user("nobody")
    assert caught.value.problem.title == "User does not exist"
    # Lists for a user never linked are empty, as with Enode.
    assert await client.list_vehicles("nobody") == []


async def test_deleted_user_is_gone_with_their_devices(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    vehicle_id, _ = linked_site(server)
    server.link("user-2", server.add_vehicle())
    await client.delete_user(USER)
    with pytest.raises(EnodeNotFoundError):
        await client.get_user(USER)
    with pytest.raises(EnodeNotFoundError):
        await client.get_vehicle(vehicle_id)
    assert (await client.get_user("user-2")).id == "user-2"


# Devices and pagination


async def test_every_page_is_read(server: FakeEnodeServer, session: aiohttp.ClientSession) -> None:
    client = make_client(session, server)
    created = []
    for _ in range(5):
        vehicle_id = server.add_vehicle()
        server.link(USER, vehicle_id)
        created.append(vehicle_id)
    vehicles = await client.list_vehicles(USER, page_size=2)
    assert sorted(v.id for v in vehicles) == sorted(created)
    pages = [entry for entry in server.request_log if entry[1] == f"/users/{USER}/vehicles"]
    assert len(pages) == 3
    # The client-wide list holds them as well.
    assert len(await client.list_vehicles(page_size=4)) == 5


async def test_vehicle_and_charger_read_and_converted(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    vehicle_id, charger_id = linked_site(server, soc_pct=30.0)
    vehicle = await client.get_vehicle(vehicle_id)
    charger = await client.get_charger(charger_id)
    assert vehicle.charge_state.battery_level == pytest.approx(30.0)
    assert vehicle.charge_state.power_delivery_state is PowerDeliveryState.CHARGING
    assert vehicle.charge_state.plugged_in_charger_id == charger_id
    assert charger.charge_state.plugged_in_vehicle_id == vehicle_id
    assert charger.charge_state.charge_rate_kw == pytest.approx(11.0)

    state = vehicle_state_from(vehicle)
    assert state.vehicle_id == vehicle_id
    assert state.battery_level_pct == pytest.approx(30.0)
    assert state.is_plugged_in is True
    assert state.capabilities.can_start_stop
    assert state.plugged_in_charger_id == charger_id
    assert state.power_delivery_state == "PLUGGED_IN:CHARGING"

    with pytest.raises(EnodeNotFoundError):
        await client.get_charger("no-such-charger")


async def test_locations_and_charger_location(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    vehicle_id, charger_id = linked_site(server)
    place = EnodePlace(name="Home", latitude=52.0, longitude=5.0, timezone_name="Europe/Amsterdam")
    home = await client.create_location(USER, place)
    assert home.timezone_name == "Europe/Amsterdam"
    moved = await client.update_location(
        home.id, replace(place, name="Cabin", latitude=60.4, timezone_name="Europe/Oslo")
    )
    assert (moved.id, moved.name, moved.latitude, moved.longitude) == (home.id, "Cabin", 60.4, 5.0)
    assert moved.timezone_name == "Europe/Oslo"

    charger = await client.set_charger_location(charger_id, home.id)
    assert charger.location.id == home.id
    # The paired, plugged-in car is at its charger's Location even though its GPS is elsewhere.
    assert (await client.get_vehicle(vehicle_id)).location.id == home.id

    await client.delete_location(home.id)
    assert (await client.get_charger(charger_id)).location.id is None


# Errors


async def test_rate_limit_honours_retry_after(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    server.faults.rate_limit_next = 1
    server.faults.retry_after_s = 7
    with pytest.raises(EnodeRateLimitedError) as caught:
        await client.list_vehicles(USER)
    assert caught.value.status == 429
    assert caught.value.retry_after == pytest.approx(7.0)
    # The next call is served again.
    assert await client.list_vehicles(USER) == []


async def test_rate_limit_backs_off_without_retry_after(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server, rate_limit_backoff=2.0, rate_limit_backoff_max=5.0)
    server.faults.retry_after_s = None
    server.faults.rate_limit_next = 3
    waits = []
    for _ in range(3):
        with pytest.raises(EnodeRateLimitedError) as caught:
            await client.list_vehicles(USER)
        waits.append(caught.value.retry_after)
    assert waits == [2.0, 4.0, 5.0]
    # A success resets the backoff.
    await client.list_vehicles(USER)
    server.faults.rate_limit_next = 1
    with pytest.raises(EnodeRateLimitedError) as caught:
        await client.list_vehicles(USER)
    assert caught.value.retry_after == 2.0


async def test_server_error(server: FakeEnodeServer, session: aiohttp.ClientSession) -> None:
    client = make_client(session, server)
    server.faults.server_error_rate = 1.0
    with pytest.raises(EnodeServerError) as caught:
        await client.list_chargers(USER)
    assert caught.value.status == 500
    assert server.stats.server_errors == 1


async def test_interference_is_a_typed_error(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    vehicle_id, charger_id = linked_site(server)
    server.faults.interference = {charger_id}
    with pytest.raises(EnodeInterferenceError) as caught:
        await client.create_charge_action(TargetType.CHARGER, charger_id, ChargeKind.STOP)
    assert caught.value.status == 422
    assert "schedule" in (caught.value.problem.title or "")
    # The vehicle is not under a schedule.
    action = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    assert action.state is ActionState.PENDING


async def test_vehicle_without_start_stop_is_refused(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    vehicle_id, _ = linked_site(server, vehicle=VEHICLE_PRESETS["hatchback"])
    with pytest.raises(EnodeBadRequestError) as caught:
        await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    assert caught.value.status == 400
    with pytest.raises(ValueError, match="START or STOP"):
        await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.UNKNOWN)


async def test_malformed_entries_are_tolerated(
    server: FakeEnodeServer, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(session, server)
    vehicle_id, _ = linked_site(server)
    server.add_raw_vehicle(
        USER,
        {
            "id": "odd-vehicle",
            "vendor": "SOMENEWBRAND",
            "isReachable": "maybe",
            "information": None,
            "chargeState": {
                "batteryLevel": "full",
                "isPluggedIn": "yes",
                "chargeRate": True,
                "powerDeliveryState": "PLUGGED_IN:TELEPORTING",
                "lastUpdated": "yesterday",
            },
            "capabilities": "none",
            "location": {"latitude": 1.0},
        },
    )
    server.add_raw_vehicle(USER, {"vendor": "TESLA", "chargeState": {}})
    with caplog.at_level(logging.WARNING):
        vehicles = await client.list_vehicles(USER)
        await client.list_vehicles(USER)
    by_id = {v.id: v for v in vehicles}
    assert set(by_id) == {vehicle_id, "odd-vehicle"}
    odd = by_id["odd-vehicle"]
    assert odd.charge_state.battery_level is None
    assert odd.charge_state.is_plugged_in is None
    assert odd.charge_state.charge_rate_kw is None
    assert odd.charge_state.power_delivery_state is PowerDeliveryState.UNKNOWN
    assert odd.charge_state.last_updated is None
    assert odd.is_reachable is None
    state = vehicle_state_from(odd)
    assert state.make == "Somenewbrand"
    assert state.location is None
    assert state.online
    assert not state.capabilities.can_start_stop
    # The entry without an id is reported once, not on every refresh.
    warnings = [r for r in caplog.records if "unreadable entries" in r.getMessage()]
    assert len(warnings) == 1


# Actions


async def test_action_confirms_after_the_delay(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    vehicle_id, _ = linked_site(server)
    action = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    assert action.state is ActionState.PENDING
    assert action.kind is ChargeKind.STOP
    assert not action.is_settled
    assert (await client.get_action(TargetType.VEHICLE, action.id)).state is ActionState.PENDING

    clock.advance(seconds=10)
    done = await client.wait_for_action(action)
    assert done.state is ActionState.CONFIRMED
    assert done.completed_at == clock.now
    # The car really stopped charging.
    vehicle = await client.get_vehicle(vehicle_id)
    assert vehicle.charge_state.is_charging is False
    assert vehicle.charge_state.power_delivery_state is PowerDeliveryState.STOPPED


async def test_action_wait_times_out(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    _, charger_id = linked_site(server)
    server.faults.actions_never_confirm = True
    action = await client.create_charge_action(TargetType.CHARGER, charger_id, ChargeKind.STOP)
    clock.advance(minutes=5)
    with pytest.raises(EnodeActionTimeoutError) as caught:
        await client.wait_for_action(action, max_wait=0.05, poll_interval=0.01)
    assert caught.value.action.state is ActionState.PENDING
    # Enode gives up after 30 minutes.
    clock.advance(minutes=30)
    failed = await client.get_action(TargetType.CHARGER, action.id)
    assert failed.state is ActionState.FAILED
    assert failed.failure_reason is not None
    assert failed.failure_reason.type is FailureReasonType.NO_RESPONSE


async def test_polling_waits_out_a_rate_limit(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    vehicle_id, _ = linked_site(server)
    action = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    clock.advance(seconds=10)
    server.faults.rate_limit_next = 1
    server.faults.retry_after_s = 0
    done = await client.wait_for_action(action)
    assert done.state is ActionState.CONFIRMED
    assert server.stats.rate_limited == 1


async def test_polling_waits_out_server_errors(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    vehicle_id, _ = linked_site(server)
    action = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    clock.advance(seconds=10)
    server.faults.server_error_rate = 1.0
    with pytest.raises(EnodeActionTimeoutError):
        await client.wait_for_action(action, max_wait=0.05, poll_interval=0.01)
    assert server.stats.server_errors >= 1
    server.faults.server_error_rate = 0.0
    assert (await client.wait_for_action(action)).state is ActionState.CONFIRMED


async def test_failed_and_cancelled_actions(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    vehicle_id, charger_id = linked_site(server)
    server.faults.vehicle_action_failure_rate = 1.0
    clock.advance(seconds=0)
    failing = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    clock.advance(seconds=10)
    failed = await client.wait_for_action(failing)
    assert failed.state is ActionState.FAILED

    # A new charger action cancels the pending one.
    first = await client.create_charge_action(TargetType.CHARGER, charger_id, ChargeKind.STOP)
    second = await client.create_charge_action(TargetType.CHARGER, charger_id, ChargeKind.START)
    superseded = await client.get_action(TargetType.CHARGER, first.id)
    assert superseded.state is ActionState.CANCELLED
    assert superseded.failure_reason is not None
    assert superseded.failure_reason.type is FailureReasonType.CONFLICT
    assert second.state is ActionState.PENDING

    # Cancelling on request, and a 409 carrying the action once it is settled.
    cancelled = await client.cancel_action(TargetType.CHARGER, second.id)
    assert cancelled.state is ActionState.CANCELLED
    with pytest.raises(EnodeConflictError) as caught:
        await client.cancel_action(TargetType.CHARGER, second.id)
    assert caught.value.action is not None
    assert caught.value.action.id == second.id

    # Unplugged: Enode cancels at once because the precondition fails.
    server.unplug(charger_id)
    unplugged = await client.create_charge_action(TargetType.CHARGER, charger_id, ChargeKind.START)
    assert unplugged.state is ActionState.CANCELLED
    assert unplugged.failure_reason is not None
    assert unplugged.failure_reason.type is FailureReasonType.FAILED_PRECONDITION


async def test_same_vehicle_action_is_returned_again(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    vehicle_id, _ = linked_site(server)
    first = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    again = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    assert again.id == first.id


async def test_max_current(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    vehicle_id, charger_id = linked_site(server)
    action = await client.create_max_current_action(TargetType.CHARGER, charger_id, 10)
    assert action.kind is None
    assert action.max_current_a == 10
    clock.advance(seconds=10)
    assert (await client.wait_for_action(action)).state is ActionState.CONFIRMED
    charger = await client.get_charger(charger_id)
    assert charger.charge_state.max_current_a == 10
    # 10 A on three phases is 6.9 kW.
    assert charger.charge_state.charge_rate_kw == pytest.approx(6.9)

    with pytest.raises(EnodeBadRequestError):
        await client.create_max_current_action(TargetType.CHARGER, charger_id, 80)
    with pytest.raises(EnodeBadRequestError):
        await client.create_max_current_action(TargetType.VEHICLE, vehicle_id, 10)


async def test_charge_and_set_max_current_wait_for_the_outcome(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    """With no action delay, the convenience calls return settled actions."""
    server.action_delay = timedelta(0)
    client = make_client(session, server)
    _, charger_id = linked_site(server)
    stopped = await client.charge(TargetType.CHARGER, charger_id, ChargeKind.STOP)
    assert stopped.state is ActionState.CONFIRMED
    assert (await client.get_charger(charger_id)).charge_state.is_charging is False
    limited = await client.set_max_current(TargetType.CHARGER, charger_id, 8)
    assert limited.state is ActionState.CONFIRMED


async def test_unreachable_vehicle_serves_stale_data_and_actions_hang(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    vehicle_id, _ = linked_site(server, soc_pct=50.0)
    server.set_reachable(vehicle_id, reachable=False)
    clock.advance(hours=1)
    vehicle = await client.get_vehicle(vehicle_id)
    assert vehicle.is_reachable is False
    # The last reading, not the hour of charging since.
    assert vehicle.charge_state.battery_level == pytest.approx(50.0)
    assert vehicle_state_from(vehicle).online is False

    action = await client.create_charge_action(TargetType.VEHICLE, vehicle_id, ChargeKind.STOP)
    clock.advance(seconds=10)
    assert (await client.get_action(TargetType.VEHICLE, action.id)).state is ActionState.PENDING
    server.set_reachable(vehicle_id, reachable=True)
    assert (await client.wait_for_action(action)).state is ActionState.CONFIRMED
