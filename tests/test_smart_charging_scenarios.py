"""Hard smart-charging sessions through Home Assistant: interference, a slow car, late prices."""

from dataclasses import replace
from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_load_integrations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.simulator import FaultSettings, Simulation

from .priced_simulator import (
    CAR,
    START,
    STATE,
    TZ,
    TZ_NAME,
    advance,
    set_prices,
    settle,
    turn_on_smart_charging,
    vehicle_device,
)

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator

DEPARTURE = START.replace(hour=7) + timedelta(days=1)


def battery_level(simulation: Simulation) -> float:
    level = simulation.vehicle_state().battery_level_pct
    assert level is not None
    return level


async def test_someone_else_starting_the_charge_is_respected_and_raises_the_interference_issue(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Another app starts the charge: EV Flex leaves it alone and raises the interference
    issue; a new session hands control back and EV Flex's confirmed command clears it."""
    await turn_on_smart_charging(hass, freezer)
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    issue_id = f"interference_{loaded_entry.entry_id}_{simulation.vehicle_id}"
    charging = loaded_entry.runtime_data.smart_charging[simulation.vehicle_id]

    for round_ in range(3):
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
        commands_before = simulation._command_counter
        simulation.send_command(simulation.vehicle_id, CommandKind.START)  # someone else
        await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=15))
        assert hass.states.get(STATE).state == "plan_executing_overridden"
        assert simulation.charger_state().is_charging, "the other app's charge goes on"
        assert simulation._command_counter == commands_before + 1, "EV Flex sent nothing"
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_key == "interference"
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["device"] == charging.display_name
        # A new session (unplug, plug in) hands control back to the plan.
        simulation.unplug()
        await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=5))
        simulation.plug_in()
        await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=15))
        assert hass.states.get(STATE).state == "plan_executing_stopped", round_

    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    decision = charging.controller.decision
    assert decision is not None
    assert decision.interference_count == 3
    assert decision.repeated_interference


async def test_cancel_override_hands_an_interfered_session_back(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    await turn_on_smart_charging(hass, freezer)
    simulation.send_command(simulation.vehicle_id, CommandKind.START)
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=10))
    assert hass.states.get(STATE).state == "plan_executing_overridden"

    await hass.services.async_call(
        DOMAIN,
        "cancel_override",
        {"device_id": vehicle_device(hass, loaded_entry)},
        blocking=True,
    )
    await settle(hass)
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert not simulation.charger_state().is_charging


async def test_a_car_slower_than_advertised_still_makes_the_departure(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The wallbox gives 11 kW but the car takes 3.7 kW: 40 → 80 % needs 9 hours, not 3."""
    simulation.vehicle_spec = replace(simulation.vehicle_spec, onboard_charger_kw=3.7)
    # The account reports the real (slower) power before smart charging takes over.
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=1))
    assert float(hass.states.get(f"sensor.{CAR}_charge_rate").state) == 3.7
    await turn_on_smart_charging(hass, freezer)
    # Learned while it charged by itself (smart charging off); the dashboard shows it.
    learned = float(hass.states.get(f"sensor.{CAR}_learned_charging_power").state)
    assert abs(learned - 3.7) < 0.05
    assert 50 <= float(hass.states.get(f"sensor.{CAR}_learned_charging_efficiency").state) <= 100
    next_start = datetime.fromisoformat(hass.states.get(f"sensor.{CAR}_next_charging_start").state)
    # Charging begins well before the cheap 02:00-05:00 window: it would not be enough.
    assert next_start.astimezone(TZ) <= DEPARTURE - timedelta(hours=8)

    await advance(hass, freezer, DEPARTURE)
    assert battery_level(simulation) >= 79.5
    assert float(hass.states.get(f"sensor.{CAR}_expected_charge_at_departure").state) >= 79.5


async def test_prices_arriving_after_the_departure_plan_the_next_one(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Only today's prices are known; the departure passes; tomorrow's arrive at 13:00."""
    await hass.config.async_set_time_zone(TZ_NAME)
    set_prices(hass, tomorrow=False)
    simulator_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await settle(hass)
    simulation: Simulation = simulator_entry.runtime_data.account.simulation
    await turn_on_smart_charging(hass, freezer)
    assert hass.states.get(STATE).state == "plan_executing_stopped_awaiting_prices"

    await advance(hass, freezer, DEPARTURE + timedelta(minutes=10))
    # The target was met without the night's prices (the behind-check charged in time).
    assert battery_level(simulation) >= 79.5
    departure = hass.states.get(STATE).attributes["departure"]
    assert departure.astimezone(TZ) == DEPARTURE + timedelta(days=1)

    # The car drives a little and comes home; prices for the next day arrive at 13:00.
    simulation.unplug()
    simulation.drive(150)
    await advance(hass, freezer, DEPARTURE.replace(hour=12))
    simulation.plug_in()
    await advance(hass, freezer, DEPARTURE.replace(hour=12, minute=30))
    freezer.move_to(DEPARTURE.replace(hour=13))
    set_prices(hass, today=DEPARTURE)
    await settle(hass)
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    await advance(hass, freezer, DEPARTURE + timedelta(days=1))
    assert battery_level(simulation) >= 79.5


async def test_smart_charging_after_a_manual_start_is_not_taken_for_another_app(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The user starts charging by hand, then smart charging stops it: that is EV Flex itself."""
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_charging"}, blocking=True
    )
    await turn_on_smart_charging(hass, freezer)
    assert not simulation.charger_state().is_charging
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=20))
    raised = [
        issue.translation_key
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    ]
    assert raised == []
    assert hass.states.get(STATE).state == "plan_executing_stopped"


async def test_a_weekly_departure_schedule(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Tuesday 18:00: only Wednesday 06:15 and Saturday 10:00 are scheduled; then back to daily."""
    await turn_on_smart_charging(hass, freezer)
    device_id = vehicle_device(hass, loaded_entry)
    await hass.services.async_call(
        DOMAIN,
        "set_departure_schedule",
        {"device_id": device_id, "wednesday": "06:15", "saturday": "10:00"},
        blocking=True,
    )
    await settle(hass)
    attributes = hass.states.get(STATE).attributes
    assert attributes["departure"] == START.replace(hour=6, minute=15) + timedelta(days=1)
    assert attributes["departure_schedule"] == {
        "monday": None,
        "tuesday": None,
        "wednesday": "06:15",
        "thursday": None,
        "friday": None,
        "saturday": "10:00",
        "sunday": None,
    }
    next_stop = datetime.fromisoformat(hass.states.get(f"sensor.{CAR}_next_charging_stop").state)
    assert next_stop <= START.replace(hour=6, minute=15) + timedelta(days=1)

    # After Wednesday's departure the next one is Saturday's.
    await advance(hass, freezer, START.replace(hour=6, minute=20) + timedelta(days=1))
    departure = hass.states.get(STATE).attributes["departure"]
    assert departure == START.replace(hour=10, minute=0) + timedelta(days=4)

    # Setting the daily time ends the schedule.
    await hass.services.async_call(
        DOMAIN,
        "set_departure_schedule",
        {"device_id": device_id, "saturday": "10:00"},
        blocking=True,
    )
    await hass.services.async_call(
        "time",
        "set_value",
        {ATTR_ENTITY_ID: f"time.{CAR}_departure_time", "time": "06:45:00"},
        blocking=True,
    )
    await settle(hass)
    attributes = hass.states.get(STATE).attributes
    assert attributes["departure_schedule"] is None
    assert attributes["departure"] == START.replace(hour=6, minute=45) + timedelta(days=1)
    await hass.services.async_call(
        "time",
        "set_value",
        {ATTR_ENTITY_ID: f"time.{CAR}_departure_time", "time": "07:00:00"},
        blocking=True,
    )
    await hass.services.async_call(
        DOMAIN,
        "set_departure_schedule",
        {"device_id": device_id, "saturday": "10:00"},
        blocking=True,
    )

    # No days: the daily departure time applies again (07:00 today is still ahead).
    await hass.services.async_call(
        DOMAIN, "set_departure_schedule", {"device_id": device_id}, blocking=True
    )
    await settle(hass)
    attributes = hass.states.get(STATE).attributes
    assert attributes["departure_schedule"] is None
    assert attributes["departure"] == START.replace(hour=7) + timedelta(days=1)


async def test_a_car_we_stopped_charges_again_once_smart_charging_is_off(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """EV Flex stopped the car, it was unplugged, smart charging switched off, plugged in
    again: the car is handed back charging, as if EV Flex had never been there."""
    await turn_on_smart_charging(hass, freezer)
    assert not simulation.charger_state().is_charging
    simulation.unplug()
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=5))
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    simulation.plug_in()
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=5))
    assert hass.states.get(STATE).state == "disabled"
    assert simulation.charger_state().is_charging


async def test_a_new_session_does_not_trust_the_last_sessions_commands(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """EV Flex's start was confirmed in an earlier session. Since then the car was unplugged,
    plugged in again and stopped in its own app while smart charging was off. Switched back
    on with a departure close, EV Flex starts the car, rather than taking its old command for
    the truth and blaming another app."""
    smart = f"switch.{CAR}_smart_charging"
    device_id = vehicle_device(hass, loaded_entry)

    async def leave_in(hours: float, target: int) -> None:
        departure = datetime.now(TZ) + timedelta(hours=hours)
        await hass.services.async_call(
            DOMAIN,
            "set_departure",
            {"device_id": device_id, "departure": departure, "target_soc": target},
            blocking=True,
        )

    await leave_in(3, 100)
    await turn_on_smart_charging(hass, freezer)
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=20))
    assert simulation.charger_state().is_charging, "charging for the near departure"
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: smart}, blocking=True)
    simulation.unplug()
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=30))
    simulation.plug_in()
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=30))
    simulation.send_command(simulation.vehicle_id, CommandKind.STOP)  # the car's own app
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=30))
    level = battery_level(simulation)

    await leave_in(4, min(100, round(level) + 20))
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: smart}, blocking=True)
    await advance(hass, freezer, datetime.now(TZ) + timedelta(hours=4))
    assert hass.states.get(STATE).attributes["override"] is None
    assert battery_level(simulation) >= min(100, round(level) + 20) - 0.5


@pytest.mark.parametrize(
    ("language", "error"),
    [("en", "the device rejected the command"), ("de", "das Gerät hat den Befehl abgelehnt")],
)
async def test_commands_that_keep_failing_ask_the_user_to_look(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
    language: str,
    error: str,
) -> None:
    """Every command fails for 20 minutes: a repair issue names the car and the error, in the
    server's language; it goes away by itself once a command goes through."""
    # The server's language changes, and Home Assistant loads its texts.
    hass.config.language = language
    await async_load_integrations(hass, {DOMAIN})
    issue_id = f"commands_failing_{loaded_entry.entry_id}_{simulation.vehicle_id}"
    simulation.set_faults(FaultSettings(command_failure_rate=1.0))
    await turn_on_smart_charging(hass, freezer)
    assert hass.states.get(STATE).state == "plan_executing_stop_failed"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None, "not at once"
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=25))
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "commands_failing"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["vehicle"] == "EV Flex Simulator Sedan 75 kWh"
    assert issue.translation_placeholders["error"] == error

    simulation.set_faults(FaultSettings())
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=35))
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
