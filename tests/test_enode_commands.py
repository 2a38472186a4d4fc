"""Smart charging's commands against the fake Enode API with Enode's real timing: slow vendors
are waited for, the charger takes over only after the car's action ended (cancelled first when
it never settled), redundant commands are success, a 422 is final, and a restart follows the
action in flight instead of sending it again."""

from datetime import datetime, timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.model import CommandKind
from tests.fakes.enode_server import FakeEnodeServer, VirtualSite

from .enode_site import set_up_hatchback
from .priced_simulator import TZ, advance, settle
from .scenario_support import problems

SEDAN = "ev_flex_simulator_sedan_75_kwh"
STATE = f"sensor.{SEDAN}_smart_charging_state"

# Enode is polled every 2 minutes where Home Assistant has no URL for webhooks.
polling_only = pytest.mark.usefixtures("polling_only")


async def set_up_sedan(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> tuple[MockConfigEntry, VirtualSite, str, str]:
    """A sedan (it starts and stops by itself) charging at its charger at 18:00, where evening
    prices make smart charging stop it."""
    entry, site = await set_up_hatchback(hass, fake_enode, freezer, preset="sedan")
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    return entry, site, site.vehicle_id, site.charger_id


async def turn_on_smart_charging(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{SEDAN}_smart_charging"}, blocking=True
    )
    await settle(hass)


def requests(fake_enode: FakeEnodeServer, method: str, ending: str) -> list[str]:
    """Paths of the API requests so far with this method whose path ends so."""
    return [
        path for verb, path, _ in fake_enode.request_log if verb == method and path.endswith(ending)
    ]


def actions_of(fake_enode: FakeEnodeServer, device_id: str) -> list[dict[str, object]]:
    return [
        fake_enode.action(action_id)
        for action_id, action in fake_enode._actions.items()
        if action.target_id == device_id
    ]


def issue(
    hass: HomeAssistant, kind: str, entry: MockConfigEntry, subject: str
) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry.entry_id}_{subject}")


async def minute_by_minute(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: int
) -> None:
    """Move the clock a minute at a time, so checks due within a minute happen on time."""
    for _ in range(minutes):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await settle(hass)


def assert_stopped_without_trouble(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    vehicle_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopped as planned, with no "commands failing" repair and nothing logged as a problem."""
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert issue(hass, "commands_failing", entry, vehicle_id) is None
    assert not problems(caplog.records, outages_expected=False)


def later(minutes: float) -> datetime:
    return datetime.now(TZ) + timedelta(minutes=minutes)


@polling_only
async def test_a_slow_vendor_is_waited_for(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The car takes 12 minutes: the state says it waits for the car, nothing else is sent,
    the action is checked at growing intervals, and then it counts as done."""
    entry, site, vehicle_id, charger_id = await set_up_sedan(hass, fake_enode, freezer)
    fake_enode.action_delay = timedelta(minutes=12)
    with caplog.at_level(logging.WARNING):
        await turn_on_smart_charging(hass)
        await advance(hass, freezer, later(6))
        state = hass.states.get(STATE)
        assert state.state == "plan_executing_stopping"
        assert state.attributes["reason"] == "awaiting_confirmation"
        assert site.simulation.vehicle_state().is_charging
        [pending] = actions_of(fake_enode, vehicle_id)
        assert pending["state"] == "PENDING"
        assert actions_of(fake_enode, charger_id) == []

        await advance(hass, freezer, later(15))
    assert_stopped_without_trouble(hass, entry, vehicle_id, caplog)
    assert not site.simulation.vehicle_state().is_charging
    [done] = actions_of(fake_enode, vehicle_id)
    assert done["state"] == "CONFIRMED"
    assert actions_of(fake_enode, charger_id) == []
    # Looked at when due (here: whenever the clock moved), not again and again.
    assert len(requests(fake_enode, "GET", f"/actions/{done['id']}")) <= 6


@polling_only
async def test_the_charger_takes_over_only_after_the_car_gave_up(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """The car never confirms: for 29 minutes nothing is sent to the charger; then the car's
    action is cancelled, and only after that the charger stops the charge."""
    _, site, vehicle_id, charger_id = await set_up_sedan(hass, fake_enode, freezer)
    fake_enode.faults.silent_devices = {vehicle_id}
    # This vendor's actions are kept open at Enode for longer than EV Flex waits.
    fake_enode.action_give_up_after = timedelta(hours=2)
    await turn_on_smart_charging(hass)
    await minute_by_minute(hass, freezer, 29)
    assert requests(fake_enode, "POST", f"{charger_id}/charging") == []
    assert hass.states.get(STATE).state == "plan_executing_stopping"
    # Checked at growing intervals: about a dozen looks in half an hour.
    [car_action] = actions_of(fake_enode, vehicle_id)
    assert len(requests(fake_enode, "GET", f"/actions/{car_action['id']}")) <= 14

    await minute_by_minute(hass, freezer, 8)
    [car_action] = actions_of(fake_enode, vehicle_id)
    assert car_action["state"] == "CANCELLED"
    log = [(verb, path) for verb, path, _ in fake_enode.request_log]
    cancelled = log.index(("POST", f"/vehicles/actions/{car_action['id']}/cancel"))
    handed_over = log.index(("POST", f"/chargers/{charger_id}/charging"))
    assert cancelled < handed_over
    await minute_by_minute(hass, freezer, 5)
    assert not site.simulation.charger_state().is_charging
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert hass.states.get(STATE).attributes["command_path"] == "charger"


@polling_only
async def test_a_failed_car_action_hands_over_to_the_charger_at_once(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    _, site, vehicle_id, charger_id = await set_up_sedan(hass, fake_enode, freezer)
    fake_enode.faults.vehicle_action_failure_rate = 1.0
    fake_enode.action_delay = timedelta(seconds=20)
    await turn_on_smart_charging(hass)
    await advance(hass, freezer, later(10))
    [car_action] = actions_of(fake_enode, vehicle_id)
    assert car_action["state"] == "FAILED"
    assert requests(fake_enode, "POST", "/cancel") == []
    await advance(hass, freezer, later(5))
    [charger_action] = actions_of(fake_enode, charger_id)
    assert charger_action["state"] == "CONFIRMED"
    assert not site.simulation.charger_state().is_charging
    assert hass.states.get(STATE).state == "plan_executing_stopped"


@pytest.mark.parametrize("unnecessary_action_rate", [0.0, 1.0], ids=["http_400", "unnecessary"])
@polling_only
async def test_a_redundant_command_counts_as_confirmed(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    unnecessary_action_rate: float,
) -> None:
    """The car stopped by itself after EV Flex last read it: Enode answers the stop with 400
    (or an action that ends UNNECESSARY). A fresh read shows it stopped, so that is success:
    no retry, no charger, no repair."""
    entry, site, vehicle_id, charger_id = await set_up_sedan(hass, fake_enode, freezer)
    fake_enode.faults.unnecessary_action_rate = unnecessary_action_rate
    fake_enode.action_delay = timedelta(seconds=20)
    site.simulation.send_command(vehicle_id, CommandKind.STOP)
    with caplog.at_level(logging.WARNING):
        await turn_on_smart_charging(hass)
        await advance(hass, freezer, later(2))
        # One stop, answered "already so": not sent again, not handed to the charger.
        assert len(requests(fake_enode, "POST", f"{vehicle_id}/charging")) == 1
        assert hass.states.get(STATE).state == "plan_executing_stopped"
        # The rest of the evening peak: the car stays stopped, and the state never says
        # stopped while the car charges.
        for _ in range(60):
            await minute_by_minute(hass, freezer, 1)
            if hass.states.get(STATE).state == "plan_executing_stopped":
                assert not site.simulation.vehicle_state().is_charging
    assert len(requests(fake_enode, "POST", f"{vehicle_id}/charging")) == 1
    assert requests(fake_enode, "POST", f"{charger_id}/charging") == []
    charging = entry.runtime_data.smart_charging[vehicle_id].controller.executor.state
    assert charging.failed is None
    assert charging.confirmed_without_command
    assert_stopped_without_trouble(hass, entry, vehicle_id, caplog)


@polling_only
async def test_a_schedule_elsewhere_is_final(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """Enode answers 422 for the car: no route around it through the charger, the interference
    repair is raised (not "commands failing"), and the car is left alone for a while."""
    entry, site, vehicle_id, charger_id = await set_up_sedan(hass, fake_enode, freezer)
    fake_enode.faults.interference = {vehicle_id}
    await turn_on_smart_charging(hass)
    await advance(hass, freezer, later(14))
    assert len(requests(fake_enode, "POST", f"{vehicle_id}/charging")) == 1
    assert requests(fake_enode, "POST", f"{charger_id}/charging") == []
    assert site.simulation.charger_state().is_charging
    assert issue(hass, "interference", entry, vehicle_id) is not None
    assert hass.states.get(STATE).state == "plan_executing_stop_failed"

    await advance(hass, freezer, later(120))
    assert requests(fake_enode, "POST", f"{charger_id}/charging") == []
    assert issue(hass, "commands_failing", entry, vehicle_id) is None

    fake_enode.faults.interference = set()
    await advance(hass, freezer, later(20))
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert issue(hass, "interference", entry, vehicle_id) is None


@polling_only
async def test_a_restart_follows_the_pending_action(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """Home Assistant restarts while the car's stop is pending: the same action is followed to
    its end; no second stop is sent."""
    entry, site, vehicle_id, charger_id = await set_up_sedan(hass, fake_enode, freezer)
    fake_enode.action_delay = timedelta(minutes=10)
    await turn_on_smart_charging(hass)
    await advance(hass, freezer, later(3))
    [pending] = actions_of(fake_enode, vehicle_id)
    assert pending["state"] == "PENDING"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, later(2))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await advance(hass, freezer, later(10))

    [followed] = actions_of(fake_enode, vehicle_id)
    assert followed["id"] == pending["id"]
    assert followed["state"] == "CONFIRMED"
    assert actions_of(fake_enode, charger_id) == []
    assert len(requests(fake_enode, "POST", f"{vehicle_id}/charging")) == 1
    assert not site.simulation.vehicle_state().is_charging
    assert hass.states.get(STATE).state == "plan_executing_stopped"


@pytest.mark.usefixtures("webhook_client")
async def test_a_webhook_event_ends_the_wait_early(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """With a working webhook, Enode's user:vendor-action:updated event has the action checked
    at once, long before the next scheduled look."""
    entry, site, vehicle_id, _ = await set_up_sedan(hass, fake_enode, freezer)
    assert entry.runtime_data.enode is not None
    assert entry.runtime_data.enode.webhook_active
    fake_enode.action_delay = timedelta(minutes=5)
    await turn_on_smart_charging(hass)
    while not actions_of(fake_enode, vehicle_id):
        await minute_by_minute(hass, freezer, 1)
    # The action settles 5 minutes after it was made; the next scheduled look is later.
    await minute_by_minute(hass, freezer, 6)
    [action] = actions_of(fake_enode, vehicle_id)
    assert action["state"] == "CONFIRMED"
    assert hass.states.get(STATE).state == "plan_executing_stopping"
    looks = len(requests(fake_enode, "GET", f"/actions/{action['id']}"))
    assert looks <= 3

    await fake_enode.tick()
    await settle(hass)
    assert "user:vendor-action:updated" in fake_enode.deliveries[-1].events
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert len(requests(fake_enode, "GET", f"/actions/{action['id']}")) == looks + 1
    assert not site.simulation.vehicle_state().is_charging


@polling_only
async def test_refused_credentials_while_following_an_action_start_reauth(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """Enode refuses the credentials when smart charging checks on its pending action: the
    user is asked to sign in again then, not only after the next poll."""
    entry, _, _, _ = await set_up_sedan(hass, fake_enode, freezer)
    fake_enode.action_delay = timedelta(minutes=12)
    await turn_on_smart_charging(hass)
    assert hass.states.get(STATE).state == "plan_executing_stopping"
    fake_enode.faults.reject_tokens = True
    # The first check of the action is due 10 s after it was sent; the next poll is minutes away.
    freezer.tick(timedelta(seconds=15))
    async_fire_time_changed(hass)
    await settle(hass)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    assert flows[0]["context"]["entry_id"] == entry.entry_id
