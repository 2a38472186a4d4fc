"""Smart charging of a car linked through Enode (the fake API over loopback), prices and time
driven by Home Assistant: a car that cannot stop itself is steered through its charger."""

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import CONF_CHARGING_ZONE, CONF_ENODE_LOCATION_ID, DOMAIN
from custom_components.ev_flex.core.model import Location
from custom_components.ev_flex.core.simulator import VEHICLE_PRESETS
from tests.fakes.enode_server import FakeEnodeServer, VirtualSite

from .enode_site import ENODE_USER, HATCHBACK, enode_entry_data, set_up_hatchback, setup_entry
from .priced_simulator import PRICE_ENTITY, START, TZ, TZ_NAME, advance, set_prices, settle

CAR = HATCHBACK
STATE = f"sensor.{CAR}_smart_charging_state"


# Enode is polled every 2 minutes: Home Assistant has no URL for webhooks here.
pytestmark = pytest.mark.usefixtures("polling_only")


async def turn_on_smart_charging(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await settle(hass)


async def test_a_car_that_cannot_stop_itself_is_steered_through_its_charger(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    _, site = await set_up_hatchback(hass, fake_enode, freezer)
    assert hass.states.get(STATE).state == "disabled"
    assert site.simulation.charger_state().is_charging, "off: it simply charges"

    await turn_on_smart_charging(hass)
    await advance(hass, freezer, START + timedelta(minutes=10))
    # Evening prices are high: the charger (the car has no stop of its own) holds the charge.
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert not site.simulation.charger_state().is_charging
    assert hass.states.get(STATE).attributes["command_path"] == "charger"
    next_start = datetime.fromisoformat(hass.states.get(f"sensor.{CAR}_next_charging_start").state)
    assert 2 <= next_start.astimezone(TZ).hour < 5

    await advance(hass, freezer, next_start.astimezone(TZ) + timedelta(minutes=10))
    assert hass.states.get(STATE).state == "plan_executing_started"
    assert site.simulation.charger_state().is_charging

    await advance(hass, freezer, START.replace(hour=7) + timedelta(days=1))
    level = site.simulation.vehicle_state().battery_level_pct
    assert level is not None
    assert level >= 79.5


async def test_a_charger_controlled_by_another_app_is_reported_and_retried(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """Enode refuses the stop with 422 (another schedule steers the charger): a repair issue;
    once the other schedule is gone, the next try goes through and the issue goes away."""
    entry, site = await set_up_hatchback(hass, fake_enode, freezer)
    assert site.charger_id is not None
    issue_id = f"interference_{entry.entry_id}_{site.charger_id}"
    fake_enode.faults.interference = {site.charger_id}
    await turn_on_smart_charging(hass)
    await advance(hass, freezer, START + timedelta(minutes=5))
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "interference"
    assert hass.states.get(STATE).state == "plan_executing_stop_failed"
    assert site.simulation.charger_state().is_charging

    fake_enode.faults.interference = set()
    await advance(hass, freezer, START + timedelta(minutes=30))
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert not site.simulation.charger_state().is_charging
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_plugged_into_its_home_charger_outside_the_zone_is_at_home(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """Home's centre is about 450 m from the car, which is plugged into its own charger: smart
    charging steers it, and no repair says it is away."""
    entry, site = await set_up_hatchback(hass, fake_enode, freezer)
    await hass.config.async_update(latitude=59.914, longitude=10.75)
    await turn_on_smart_charging(hass)
    await advance(hass, freezer, START + timedelta(minutes=10))
    state = hass.states.get(STATE)
    assert state.attributes["at_charging_location"] is True
    assert state.attributes["reason"] != "away"
    assert state.state == "plan_executing_stopped"
    assert not site.simulation.charger_state().is_charging
    issue_id = f"not_at_charging_location_{entry.entry_id}_{site.vehicle_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


SEDAN = "ev_flex_simulator_sedan_75_kwh"


async def set_up_sedan_without_its_charger(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    freezer: FrozenDateTimeFactory,
    options: dict[str, str],
) -> tuple[MockConfigEntry, VirtualSite]:
    """A sedan plugged in at 18:00, linked without a charger, priced, with smart charging on."""
    freezer.move_to(START)
    await hass.config.async_set_time_zone(TZ_NAME)
    set_prices(hass)
    site = fake_enode.add_site(vehicle=VEHICLE_PRESETS["sedan"], plugged_in=True)
    fake_enode.link(ENODE_USER, site.vehicle_id or "")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Sedan",
        unique_id=f"enode-{fake_enode.client_id}-sedan",
        data=enode_entry_data(fake_enode),
        options={"price_entity": PRICE_ENTITY, **options},
    )
    await setup_entry(hass, entry)
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{SEDAN}_smart_charging"}, blocking=True
    )
    return entry, site


async def test_away_from_the_charging_zone_smart_charging_and_repair_agree(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """A car plugged in far from the charging zone, not into its own charger: smart charging
    keeps its hands off (reason `away`) and the repair says so, by the same rule."""
    await hass.config.async_update(latitude=59.95, longitude=10.75)
    entry, site = await set_up_sedan_without_its_charger(hass, fake_enode, freezer, {})
    await advance(hass, freezer, START + timedelta(minutes=5))
    state = hass.states.get(f"sensor.{SEDAN}_smart_charging_state")
    assert (state.state, state.attributes["reason"]) == ("considering", "away")
    assert state.attributes["at_charging_location"] is False
    issue_id = f"not_at_charging_location_{entry.entry_id}_{site.vehicle_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None


async def test_refused_credentials_on_a_smart_charging_command_start_reauth(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """Enode refuses the credentials when smart charging sends its first command: the user is
    asked to sign in again at once, not only after the next poll."""
    entry, _ = await set_up_hatchback(hass, fake_enode, freezer)
    fake_enode.faults.reject_tokens = True
    await turn_on_smart_charging(hass)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    assert flows[0]["context"]["entry_id"] == entry.entry_id


async def test_crossing_the_zone_edge_moves_every_judgement_together(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """A car plugged in (not into a charger of its own) moves away from the garage, whose zone
    reaches 300 m, further than the 250 m within which Enode puts a car at the garage's
    Location. Smart charging and the repair issue change their minds at the same moment: when
    the car leaves the zone, wherever Enode's word changed."""
    hass.states.async_set(
        "zone.garage",
        "0",
        {"latitude": 59.91, "longitude": 10.75, "radius": 300, "friendly_name": "Garage"},
    )
    entry, site = await set_up_sedan_without_its_charger(
        hass, fake_enode, freezer, {CONF_CHARGING_ZONE: "zone.garage"}
    )
    vehicle_id = site.vehicle_id or ""
    issue_id = f"not_at_charging_location_{entry.entry_id}_{vehicle_id}"

    async def judgements(metres_north: float) -> tuple[bool, bool, bool, bool]:
        """Where Enode puts the car, and what smart charging and the repairs make of it."""
        # A thousandth of a degree of latitude is 111 m.
        site.vehicle_position = Location(latitude=59.91 + metres_north / 111_200, longitude=10.75)
        await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=5))
        state = hass.states.get(f"sensor.{SEDAN}_smart_charging_state")
        location = fake_enode.vehicle_json(vehicle_id)["location"]["id"]
        return (
            location == entry.data[CONF_ENODE_LOCATION_ID],
            state.attributes["at_charging_location"],
            state.attributes["reason"] == "away",
            ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None,
        )

    # Enode's Location and the zone both hold it.
    assert await judgements(200) == (True, True, False, False)
    # Past Enode's 250 m, still in the zone: at the charging location all the same.
    assert await judgements(280) == (False, True, False, False)
    # Across the zone's edge: away, for smart charging and for the repairs alike.
    assert await judgements(330) == (False, False, True, True)
    # And back.
    assert await judgements(200) == (True, True, False, False)
