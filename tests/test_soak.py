"""Two simulated days of a user doing anything, with faults: EV Flex never logs an error, never
sends commands in a loop, always shows a valid state, and still meets a reachable departure."""

from datetime import datetime, time, timedelta
import logging
import random

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.simulator import FaultSettings, Simulation

from .priced_simulator import (
    CAR,
    PRICE_ENTITY,
    START,
    TZ,
    advance,
    set_prices,
    settle,
    vehicle_device,
)
from .scenario_support import assert_still_sound, call_as_user, problems

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator

# No loop. The most that is fair: while every command fails, each try goes to the car and
# then the charger, and tries follow after 30 s, 2, 5 and 15 minutes, for each new target,
# beside the user's own switching.
MAX_COMMANDS_PER_HOUR = 20


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_two_days_of_anything(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    seed: int,
) -> None:
    rng = random.Random(seed)
    device_id = vehicle_device(hass, loaded_entry)
    await call_as_user(hass, "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"})

    def user_does_something() -> tuple[str, str, dict[str, object]] | None:
        choice = rng.randrange(12)
        if choice == 0:
            return (
                "switch",
                rng.choice(["turn_on", "turn_off"]),
                {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"},
            )
        if choice == 1:
            return (
                "number",
                "set_value",
                {
                    ATTR_ENTITY_ID: f"number.{CAR}_target_charge",
                    "value": rng.choice([20, 50, 80, 100]),
                },
            )
        if choice == 2:
            return (
                "time",
                "set_value",
                {
                    ATTR_ENTITY_ID: f"time.{CAR}_departure_time",
                    "time": time(rng.randrange(24), rng.choice([0, 15, 30, 45])),
                },
            )
        if choice == 3:
            return DOMAIN, "charge_now", {"device_id": device_id}
        if choice == 4:
            return DOMAIN, "cancel_override", {"device_id": device_id}
        if choice == 5:
            when = datetime.now(TZ) + timedelta(hours=rng.uniform(-2, 30))
            return DOMAIN, "set_departure", {"device_id": device_id, "departure": when}
        if choice == 6:
            return (
                "number",
                "set_value",
                {
                    ATTR_ENTITY_ID: f"number.{CAR}_protective_minimum_charge",
                    "value": rng.choice([0, 10, 30]),
                },
            )
        if choice == 7:
            return (
                "switch",
                rng.choice(["turn_on", "turn_off"]),
                {ATTR_ENTITY_ID: f"switch.{CAR}_charging"},
            )
        return None

    end = START + timedelta(days=2)
    hour_start, commands_at_hour_start = datetime.now(TZ), simulation._command_counter
    with caplog.at_level(logging.WARNING, logger="custom_components.ev_flex"):
        while datetime.now(TZ) < end:
            event = rng.randrange(10)
            if event == 0:
                simulation.unplug() if rng.random() < 0.5 else simulation.plug_in()
            elif event == 1:
                simulation.drive(rng.uniform(5, 120))
            elif event == 2:
                simulation.set_faults(
                    FaultSettings(
                        command_failure_rate=rng.choice([0.0, 0.3, 1.0]),
                        vehicle_offline=rng.random() < 0.2,
                        account_unreachable=rng.random() < 0.1,
                    )
                )
            elif event == 3:
                hass.states.async_remove(PRICE_ENTITY) if rng.random() < 0.3 else set_prices(
                    hass, today=datetime.now(TZ)
                )
            if (action := user_does_something()) is not None:
                await call_as_user(hass, *action)
            await settle(hass)
            await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=rng.randrange(5, 40)))

            assert_still_sound(hass, loaded_entry, CAR)
            if datetime.now(TZ) - hour_start >= timedelta(hours=1):
                sent = simulation._command_counter - commands_at_hour_start
                assert sent <= MAX_COMMANDS_PER_HOUR, f"{sent} commands in an hour"
                hour_start = datetime.now(TZ)
                commands_at_hour_start = simulation._command_counter

    found = problems(caplog.records, outages_expected=False)
    assert not found, found

    # Calm again: all faults gone, plugged in, prices back, a departure in 12 hours.
    simulation.set_faults(FaultSettings())
    simulation.plug_in()
    simulation.set_soc(30.0)
    set_prices(hass, today=datetime.now(TZ))
    await call_as_user(hass, "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"})
    await call_as_user(hass, DOMAIN, "cancel_override", {"device_id": device_id})
    await call_as_user(
        hass, "number", "set_value", {ATTR_ENTITY_ID: f"number.{CAR}_target_charge", "value": 80}
    )
    await call_as_user(
        hass,
        "number",
        "set_value",
        {ATTR_ENTITY_ID: f"number.{CAR}_protective_minimum_charge", "value": 0},
    )
    departure = datetime.now(TZ) + timedelta(hours=12)
    await call_as_user(
        hass, DOMAIN, "set_departure", {"device_id": device_id, "departure": departure}
    )
    await advance(hass, freezer, departure)
    level = simulation.vehicle_state().battery_level_pct
    assert level is not None
    assert level >= 79.5
