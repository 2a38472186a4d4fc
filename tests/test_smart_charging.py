"""Smart charging run end to end: a simulated car, a real price entity and the time freezer."""

from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.persistent_notification import _async_get_or_create_notifications
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.plan_answer import plan_answer
from custom_components.ev_flex.core.planner import SwitchInterval
from custom_components.ev_flex.core.simulator import FaultSettings, Simulation
from custom_components.ev_flex.entity import charging_currency

from .priced_simulator import (
    CAR,
    PRICE_ENTITY,
    START,
    STATE,
    TZ,
    VEHICLE_ID,
    advance,
    controller_store_key,
    set_up,
    settle,
    store_controller,
    turn_on_smart_charging,
    vehicle_device,
)

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator


async def test_off_by_default_charges_when_plugged_in(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulation: Simulation
) -> None:
    """Without smart charging the car simply charges."""
    assert hass.states.get(STATE).state == "disabled"
    assert hass.states.get(f"switch.{CAR}_smart_charging").state == STATE_OFF
    assert simulation.charger_state().is_charging


async def test_waits_for_cheap_hours_and_is_ready_on_time(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """80 % by 07:00: it stops now, charges in the cheap night hours and makes the target."""
    await turn_on_smart_charging(hass, freezer)
    assert not simulation.charger_state().is_charging, "charging waits for cheaper prices"
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert hass.states.get(f"binary_sensor.{CAR}_charging_planned_now").state == STATE_OFF
    next_start = datetime.fromisoformat(hass.states.get(f"sensor.{CAR}_next_charging_start").state)
    assert next_start.astimezone(TZ).hour in (2, 3, 4)
    estimated = float(hass.states.get(f"sensor.{CAR}_estimated_charging_cost").state)
    charge_now = float(hass.states.get(f"sensor.{CAR}_cost_if_charged_now").state)
    assert estimated < charge_now

    calendar = f"calendar.{CAR}_charging_plan"
    assert (
        hass.states.get(calendar)
        .attributes["message"]
        .startswith("Charge EV Flex Simulator Sedan 75 kWh at")
    )

    await advance(hass, freezer, next_start.astimezone(TZ) + timedelta(minutes=10))
    assert simulation.charger_state().is_charging
    assert hass.states.get(f"binary_sensor.{CAR}_charging_planned_now").state == STATE_ON

    await advance(hass, freezer, START.replace(hour=7) + timedelta(days=1))
    soc = simulation.vehicle_state().battery_level_pct
    assert soc is not None
    assert soc >= 79.5


async def test_turning_smart_charging_on_at_the_peak_buys_none_of_it(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The car charges by itself at the 18:00 peak; turning smart charging on stops it at once
    (no probe): its power was learned while it charged by itself."""
    await advance(hass, freezer, START + timedelta(minutes=2))
    assert simulation.charger_state().is_charging
    power = float(hass.states.get(f"sensor.{CAR}_charge_rate").state)
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await settle(hass)
    assert hass.states.get(STATE).attributes["reason"] == "plan"
    await advance(hass, freezer, datetime.now(TZ) + timedelta(seconds=15))
    assert not simulation.charger_state().is_charging
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    learned = float(hass.states.get(f"sensor.{CAR}_learned_charging_power").state)
    assert learned == pytest.approx(power, abs=0.05)


async def test_departure_and_target_settings(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The time and number entities change the plan's departure and target."""
    await turn_on_smart_charging(hass, freezer)
    await hass.services.async_call(
        "time",
        "set_value",
        {ATTR_ENTITY_ID: f"time.{CAR}_departure_time", "time": time(6, 15)},
        blocking=True,
    )
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: f"number.{CAR}_target_charge", "value": 90},
        blocking=True,
    )
    await settle(hass)
    attributes = hass.states.get(STATE).attributes
    assert attributes["target_soc"] == 90
    assert attributes["departure"].astimezone(TZ).time() == time(6, 15)


async def test_charge_now_and_cancel(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Charge now has its own state and the plan sensors follow it; cancelling returns to the
    plan."""
    await turn_on_smart_charging(hass, freezer)
    planned_start = hass.states.get(f"sensor.{CAR}_next_charging_start").state
    planned_cost = float(hass.states.get(f"sensor.{CAR}_estimated_charging_cost").state)
    device_id = vehicle_device(hass, loaded_entry)
    await hass.services.async_call(DOMAIN, "charge_now", {"device_id": device_id}, blocking=True)
    await settle(hass)
    assert simulation.charger_state().is_charging
    state = hass.states.get(STATE)
    assert state.state == "plan_executing_charging_now"
    assert state.attributes["reason"] == "charge_now"
    # Charging has started: no later start; it stops when the target is reached, and costs
    # what charging at once costs (evening prices: more than the plan).
    assert hass.states.get(f"sensor.{CAR}_next_charging_start").state == "unknown"
    assert planned_start != "unknown"
    stop = datetime.fromisoformat(hass.states.get(f"sensor.{CAR}_next_charging_stop").state)
    assert datetime.now(TZ) < stop < START + timedelta(hours=6)
    cost = float(hass.states.get(f"sensor.{CAR}_estimated_charging_cost").state)
    assert cost == float(hass.states.get(f"sensor.{CAR}_cost_if_charged_now").state)
    assert cost > planned_cost
    # The calendar shows the charge now, not the plan's night windows.
    calendar = hass.states.get(f"calendar.{CAR}_charging_plan")
    assert calendar.state == STATE_ON
    assert calendar.attributes["message"] == "Charge EV Flex Simulator Sedan 75 kWh now"
    assert datetime.fromisoformat(calendar.attributes["end_time"]).hour == stop.astimezone(TZ).hour

    await hass.services.async_call(
        DOMAIN, "cancel_override", {"device_id": device_id}, blocking=True
    )
    await settle(hass)
    assert not simulation.charger_state().is_charging


async def test_restart_mid_plan_sends_nothing_twice(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a restart the plan carries on and no command is repeated."""
    await turn_on_smart_charging(hass, freezer)
    commands_before = simulation._command_counter
    assert commands_before >= 1

    await hass.config_entries.async_unload(loaded_entry.entry_id)
    await settle(hass)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await settle(hass)
    assert hass.states.get(f"switch.{CAR}_smart_charging").state == STATE_ON
    assert hass.states.get(STATE).state == "plan_executing_stopped"
    assert simulation._command_counter == commands_before


async def test_plan_charging_for_the_vehicle(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The plan action returns the planner's answer and changes nothing."""
    summary = (await plan_for_vehicle(hass, loaded_entry))["summary"]
    assert summary["status"] == "ok"
    assert summary["switch_times"]
    assert summary["target_met"] is True
    assert hass.states.get(STATE).state == "disabled"


async def plan_for_vehicle(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """The plan_charging answer for the entry's vehicle."""
    result = await hass.services.async_call(
        DOMAIN,
        "plan_charging",
        {"device_id": vehicle_device(hass, entry)},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    return dict(result)


def to_second(moment: datetime) -> datetime:
    """A planner time to the nearest second, as the action shows it."""
    moment += timedelta(microseconds=500_000)
    return moment.replace(microsecond=0)


async def test_plan_charging_shows_the_plan_the_car_follows(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """For a vehicle under smart charging the action answers with the controller's own plan:
    the same switch times, and the learned power and efficiency, not advertised values."""
    charging = loaded_entry.runtime_data.smart_charging["simulator-garage-vehicle"]
    charging.controller.state.learner.add_charge_sample(grid_kwh=10.0, stored_kwh=8.0)
    await turn_on_smart_charging(hass, freezer)
    plan = charging.controller.state.plan
    assert plan is not None
    result = await plan_for_vehicle(hass, loaded_entry)
    assert [
        (datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
        for w in result["summary"]["switch_times"]
    ] == [(to_second(w.start), to_second(w.end)) for w in plan.switch_times]
    model = charging.controller.decision.model
    charge = result["planned_from"]["charge"]
    assert charge["efficiency"] == pytest.approx(model.efficiency, abs=0.002)
    assert charge["efficiency"] < 0.85, "learned, not the advertised 90 %"
    assert charge["max_kw"] == pytest.approx(model.max_kw, abs=0.05)


async def test_plan_charging_answers_with_the_active_plan_itself(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The action's answer is the controller's active plan laid out, not a plan made again."""
    charging = loaded_entry.runtime_data.smart_charging["simulator-garage-vehicle"]
    await turn_on_smart_charging(hass, freezer)
    state = charging.controller.state
    assert state.plan is not None
    assert state.plan_request is not None
    expected = plan_answer(
        state.plan, state.plan_request, tz=TZ, currency=charging_currency(charging)
    )
    assert await plan_for_vehicle(hass, loaded_entry) == expected


async def test_plan_charging_before_smart_charging_shows_the_plan_it_will_follow(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Asked while smart charging is off, the action shows the plan the controller makes when
    it is turned on at that moment: one request builder for both."""
    charging = loaded_entry.runtime_data.smart_charging["simulator-garage-vehicle"]
    preview = await plan_for_vehicle(hass, loaded_entry)
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await settle(hass)
    state = charging.controller.state
    assert state.plan is not None
    assert state.plan_request is not None
    followed = plan_answer(
        state.plan, state.plan_request, tz=TZ, currency=charging_currency(charging)
    )
    assert preview == followed


async def test_plan_charging_answer_reads_top_down(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Summary first and slots last; money in cents, energy in hundredths of a kWh, every time
    local with its offset."""
    await turn_on_smart_charging(hass, freezer)
    result = await plan_for_vehicle(hass, loaded_entry)
    assert list(result) == ["summary", "planned_from", "slots"]
    summary = result["summary"]
    assert list(summary)[:2] == ["status", "switch_times"]
    assert summary["currency"] == "EUR"
    for key in ("cost", "charge_now_cost", "savings"):
        assert summary[key] == round(summary[key], 2)
    for key in ("energy_charged_kwh", "energy_discharged_kwh"):
        assert summary[key] == round(summary[key], 2)
    assert summary["expected_soc_at_departure_pct"] == 80.0
    times = [
        summary["departure"],
        result["planned_from"]["now"],
        *(w[key] for w in summary["switch_times"] for key in ("start", "end")),
        *(slot[key] for slot in result["slots"] for key in ("start", "end")),
    ]
    for text in times:
        moment = datetime.fromisoformat(text)
        assert moment.utcoffset() == moment.astimezone(TZ).utcoffset(), text
        assert moment.microsecond == 0, text
    assert summary["departure"] == "2026-01-14T07:00:00+01:00"


async def test_plan_charging_with_explicit_values(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Any car can be planned from explicit values and a price entity."""
    result = await hass.services.async_call(
        DOMAIN,
        "plan_charging",
        {
            "soc": 20,
            "capacity_kwh": 60,
            "max_power_kw": 7.4,
            "target_soc": 80,
            "departure": "2026-01-14 07:00:00",
            "price_entity": PRICE_ENTITY,
        },
        blocking=True,
        return_response=True,
    )
    assert result is not None
    starts = [
        datetime.fromisoformat(w["start"]).astimezone(TZ) for w in result["summary"]["switch_times"]
    ]
    assert starts
    assert all(start.hour not in range(17, 21) for start in starts), "never at the evening peak"
    cheap_hours = {hour for start in starts for hour in (start.hour,) if 2 <= hour < 5}
    assert cheap_hours, "the cheapest night hours are used"
    assert result["summary"]["energy_charged_kwh"] == round(36 / 0.9, 2)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({}, "device_or_values"),
        ({"device_id": "nope"}, "unknown_device"),
        ({"soc": 20}, "missing_fields"),
        (
            {
                "soc": 20,
                "capacity_kwh": 60,
                "max_power_kw": 7.4,
                "target_soc": 80,
                "departure": "2026-01-13 07:00:00",
                "price_entity": PRICE_ENTITY,
            },
            "departure_in_past",
        ),
        (
            {
                "soc": 20,
                "capacity_kwh": 60,
                "max_power_kw": 7.4,
                "target_soc": 30,
                "departure": "2026-01-14 07:00:00",
                "price_entity": PRICE_ENTITY,
                "allow_discharge": True,
                "reserve_soc": 40,
            },
            "target_below_reserve",
        ),
        (
            {
                "soc": 20,
                "capacity_kwh": 60,
                "max_power_kw": 7.4,
                "target_soc": 80,
                "departure": "2026-01-14 07:00:00",
                "price_entity": "sensor.nothing",
            },
            "no_prices",
        ),
    ],
)
async def test_plan_charging_bad_input(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, data: dict[str, Any], key: str
) -> None:
    """Bad input gets a translated validation error, never a traceback."""
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "plan_charging", data, blocking=True, return_response=True
        )
    assert raised.value.translation_key == key


async def test_set_departure_rules(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A one-off departure must lie ahead; a good one shows in the state's attributes."""
    device_id = vehicle_device(hass, loaded_entry)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "set_departure",
            {"device_id": device_id, "departure": "2026-01-13 09:00:00"},
            blocking=True,
        )
    assert raised.value.translation_key == "departure_in_past"

    await turn_on_smart_charging(hass, freezer)
    await hass.services.async_call(
        DOMAIN,
        "set_departure",
        {"device_id": device_id, "departure": "2026-01-14 05:30:00", "target_soc": 70},
        blocking=True,
    )
    await settle(hass)
    attributes = hass.states.get(STATE).attributes
    assert attributes["departure"].astimezone(TZ) == datetime(2026, 1, 14, 5, 30, tzinfo=TZ)
    assert attributes["target_soc"] == 70


async def test_discharge_needs_bidirectional_hardware(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The sedan and its wallbox cannot discharge: the action says so."""
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "discharge",
            {
                "device_id": vehicle_device(hass, loaded_entry),
                "power_kw": 5,
                "duration": {"hours": 1},
            },
            blocking=True,
        )
    assert raised.value.translation_key == "cannot_discharge"


async def test_v2g_discharges_at_the_peak_within_the_reserve(
    hass: HomeAssistant, v2g_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """At the evening peak the car feeds the grid, but never below its reserve."""
    await set_up(hass, v2g_entry)
    simulation: Simulation = v2g_entry.runtime_data.account.simulation
    simulation.set_soc(85.0)
    car = "ev_flex_simulator_suv_99_kwh_bidirectional"
    started: list[Any] = []
    hass.bus.async_listen("ev_flex_discharge_started", started.append)

    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: f"number.{car}_vehicle_to_grid_reserve", "value": 70},
        blocking=True,
    )
    for switch in ("smart_charging", "vehicle_to_grid"):
        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{car}_{switch}"}, blocking=True
        )
    # The peak lasts 17:00-21:00 at one price; the plan uses its last hours.
    await advance(hass, freezer, START.replace(hour=20, minute=10))
    assert hass.states.get(f"sensor.{car}_smart_charging_state").state == (
        "plan_executing_discharging"
    )
    charger_rate = simulation.charger_state().charge_rate_kw
    assert charger_rate is not None
    assert charger_rate < 0
    assert started
    # notify_v2g is on: the user is told how to stop it.
    notification = _async_get_or_create_notifications(hass)[
        f"{DOMAIN}_v2g_simulator-garage-vehicle"
    ]
    assert notification["title"] == "EV Flex: vehicle-to-grid started"
    assert notification["message"] == (
        "EV Flex started discharging EV Flex Simulator SUV 99 kWh bidirectional to the grid. To "
        "stop it, call `ev_flex.cancel_override` or switch vehicle-to-grid off."
    )

    lowest = 100.0
    while datetime.now(TZ) < START.replace(hour=21):
        await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=15))
        soc = simulation.vehicle_state().battery_level_pct
        assert soc is not None
        lowest = min(lowest, soc)
    assert 69.0 <= lowest < 85.0, "it discharged, and not below the reserve"


async def test_v2g_plans_nothing_after_the_departure(
    hass: HomeAssistant, v2g_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Tomorrow evening's peak comes after the 07:00 departure: the car is away then, so the
    plan (and its calendar) holds no discharge there, only tonight's."""
    await set_up(hass, v2g_entry)
    simulation: Simulation = v2g_entry.runtime_data.account.simulation
    simulation.set_soc(90.0)
    car = "ev_flex_simulator_suv_99_kwh_bidirectional"
    for switch in ("smart_charging", "vehicle_to_grid"):
        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{car}_{switch}"}, blocking=True
        )
    await advance(hass, freezer, START + timedelta(minutes=10))
    departure = START.replace(hour=7) + timedelta(days=1)
    entity = hass.data["calendar"].get_entity(f"calendar.{car}_charging_plan")
    events = await entity.async_get_events(hass, START, START + timedelta(days=2))
    discharges = [event for event in events if event.summary.startswith("Discharge")]
    assert discharges, "tonight's peak is sold"
    assert all(event.end <= departure for event in events)


async def test_grid_outage_sensor_is_followed(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    """The chosen outage sensor reaches the controller as soon as it changes."""
    hass.states.async_set("binary_sensor.grid_outage", STATE_OFF)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options={"price_entity": PRICE_ENTITY, "outage_entity": "binary_sensor.grid_outage"},
    )
    await set_up(hass, entry)
    charging = entry.runtime_data.smart_charging["simulator-garage-vehicle"]
    assert charging.observation().grid_outage is False
    hass.states.async_set("binary_sensor.grid_outage", STATE_ON)
    await settle(hass)
    assert charging.observation().grid_outage is True


async def test_v2g_plan_and_discharge_request(
    hass: HomeAssistant, v2g_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A bidirectional car: the plan may discharge, and a demand-response request is taken."""
    await set_up(hass, v2g_entry)
    simulation: Simulation = v2g_entry.runtime_data.account.simulation
    simulation.set_soc(90.0)
    car = "ev_flex_simulator_suv_99_kwh_bidirectional"
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{car}_vehicle_to_grid"}, blocking=True
    )
    # The next poll reads the 90 %; tonight's peak (before the departure) is sold from it.
    await advance(hass, freezer, START + timedelta(minutes=5))
    device_id = vehicle_device(hass, v2g_entry)
    result = await hass.services.async_call(
        DOMAIN, "plan_charging", {"device_id": device_id}, blocking=True, return_response=True
    )
    assert result is not None
    assert result["summary"]["energy_discharged_kwh"] > 0

    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "set_departure",
            {"device_id": device_id, "departure": "2026-01-14T06:00:00+01:00", "target_soc": 20},
            blocking=True,
        )
    assert raised.value.translation_key == "target_below_reserve"

    await hass.services.async_call(
        DOMAIN,
        "discharge",
        {"device_id": device_id, "power_kw": 4, "duration": {"minutes": 30}},
        blocking=True,
    )
    await settle(hass)
    requests = v2g_entry.runtime_data.smart_charging[
        "simulator-garage-vehicle"
    ].controller.settings.discharge_requests
    assert [request.power_kw for request in requests] == [4]


async def test_explicit_plan_with_discharge(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """With discharge allowed, export earns the spot price and the evening peak is sold."""
    result = await hass.services.async_call(
        DOMAIN,
        "plan_charging",
        {
            "soc": 90,
            "capacity_kwh": 60,
            "max_power_kw": 7.4,
            "target_soc": 80,
            "departure": "2026-01-14T07:00:00+01:00",
            "price_entity": PRICE_ENTITY,
            "allow_discharge": True,
            "reserve_soc": 50,
        },
        blocking=True,
        return_response=True,
    )
    assert result is not None
    assert result["summary"]["energy_discharged_kwh"] > 0
    assert result["summary"]["target_met"] is True
    departure = datetime(2026, 1, 14, 7, tzinfo=TZ)
    assert all(datetime.fromisoformat(slot["end"]) <= departure for slot in result["slots"]), (
        "nothing is planned after the departure"
    )


async def test_device_that_is_not_a_vehicle(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The charger's device, or a vehicle of an unloaded entry, is refused."""
    charger = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, "simulator-garage-charger"), loaded_entry.entry_id
    )
    assert charger is not None
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "charge_now", {"device_id": charger.id}, blocking=True
        )
    assert raised.value.translation_key == "not_a_vehicle"

    vehicle = vehicle_device(hass, loaded_entry)
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(DOMAIN, "charge_now", {"device_id": vehicle}, blocking=True)
    assert raised.value.translation_key == "not_a_vehicle"


async def test_device_plan_needs_readings_and_prices(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Planning for a car that is offline, or without prices, says what is missing."""
    device_id = vehicle_device(hass, loaded_entry)
    hass.states.async_set(PRICE_ENTITY, "unavailable")
    await settle(hass)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "plan_charging", {"device_id": device_id}, blocking=True, return_response=True
        )
    assert raised.value.translation_key == "no_prices"
    assert raised.value.translation_placeholders["reason"] == (
        "none of them covers the time from now on"
    )

    simulation.set_faults(FaultSettings(vehicle_offline=True))
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=1))
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "plan_charging", {"device_id": device_id}, blocking=True, return_response=True
        )
    assert raised.value.translation_key == "vehicle_data_missing"


async def test_calendar_lists_windows_and_skips_slivers(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The calendar returns the plan's windows in a range; a seconds-long window is left out."""
    await turn_on_smart_charging(hass, freezer)
    charging = loaded_entry.runtime_data.smart_charging["simulator-garage-vehicle"]
    plan = charging.controller.state.plan
    assert plan is not None
    sliver_start = plan.switch_times[0].end
    sliver = SwitchInterval(sliver_start, sliver_start + timedelta(seconds=20), "charge", 11.0)
    plan = replace(plan, switch_times=(*plan.switch_times, sliver))
    charging.controller.state.plan = plan
    entity = hass.data["calendar"].get_entity(f"calendar.{CAR}_charging_plan")
    events = await entity.async_get_events(hass, START, START + timedelta(days=2))
    assert [event.start for event in events] == [
        w.start.astimezone(ZoneInfo("UTC")) for w in plan.switch_times[:-1]
    ]
    assert all(
        event.summary.startswith("Charge EV Flex Simulator Sedan 75 kWh at") for event in events
    )


async def test_unreadable_stored_state_starts_afresh(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A corrupt stored state is logged and ignored; the controller runs from scratch."""
    store_controller(hass_storage, simulator_entry, {"version": 1, "state": {"status": "bogus"}})
    await set_up(hass, simulator_entry)
    assert "Saved data of EV Flex Simulator Sedan 75 kWh was reset" in caplog.text
    assert hass.states.get(STATE).state == "disabled"


async def test_interference_issues_of_earlier_versions_are_dropped(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Earlier versions raised interference under two names (a refused or undone command, and
    overrides again and again); they go at setup, and the next sign raises the one issue."""
    simulator_entry.add_to_hass(hass)
    older = {
        f"controlled_elsewhere_{simulator_entry.entry_id}_{VEHICLE_ID}": "controlled_elsewhere",
        f"interference_{simulator_entry.entry_id}_{VEHICLE_ID}": "repeated_interference",
    }
    for issue_id, translation_key in older.items():
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=translation_key,
        )
    other = f"interference_{simulator_entry.entry_id}_charger"
    ir.async_create_issue(
        hass,
        DOMAIN,
        other,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="interference",
    )
    await set_up(hass, simulator_entry)
    for issue_id in older:
        assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert issue_registry.async_get_issue(DOMAIN, other) is not None


async def test_in_flight_command_unknown_after_restart_is_sent_again(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stop that was in flight at shutdown and that the account no longer knows is not taken
    as done: after the restart the controller sends it again."""
    await turn_on_smart_charging(hass, freezer)
    assert not simulation.charger_state().is_charging
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    await settle(hass)
    stored = hass_storage[controller_store_key(loaded_entry)]["data"]["executor"]
    target = stored["confirmed"]
    assert target is not None
    stored["in_flight"] = {
        "command_id": "sim-cmd-gone",
        "kind": "stop",
        "value": None,
        "target": target,
        "completes_target": True,
        "sent_at": datetime.now(TZ).isoformat(),
    }
    stored["confirmed"] = stored["confirmed_at"] = None
    # The car meanwhile charges again: the lost stop never happened.
    simulation.send_command(simulation.vehicle_id, CommandKind.START)
    simulation.send_command(simulation.charger_id, CommandKind.START)
    assert simulation.vehicle_state().is_charging
    commands_before = simulation._command_counter

    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await settle(hass)
    assert simulation._command_counter == commands_before + 1
    assert not simulation.charger_state().is_charging
    assert hass.states.get(STATE).state == "plan_executing_stopped"


async def test_turning_smart_charging_off_hands_back_control(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Switched off, smart charging stops steering and the car charges again."""
    await turn_on_smart_charging(hass, freezer)
    assert not simulation.charger_state().is_charging
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await settle(hass)
    assert hass.states.get(f"switch.{CAR}_smart_charging").state == STATE_OFF
    assert hass.states.get(STATE).state == "plan_ended_disabled"
    assert simulation.charger_state().is_charging


async def test_v2g_target_and_reserve_keep_their_order(
    hass: HomeAssistant, v2g_entry: MockConfigEntry
) -> None:
    """With vehicle-to-grid on, the target may not go under the reserve, nor the reserve over it."""
    await set_up(hass, v2g_entry)
    car = "ev_flex_simulator_suv_99_kwh_bidirectional"
    target = f"number.{car}_target_charge"
    reserve = f"number.{car}_vehicle_to_grid_reserve"

    async def set_number(entity_id: str, value: float) -> None:
        await hass.services.async_call(
            "number", "set_value", {ATTR_ENTITY_ID: entity_id, "value": value}, blocking=True
        )

    async def refused(entity_id: str, value: float) -> ServiceValidationError:
        with pytest.raises(ServiceValidationError) as raised:
            await set_number(entity_id, value)
        return raised.value

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{car}_vehicle_to_grid"}, blocking=True
    )
    error = await refused(target, 35)
    assert error.translation_key == "target_below_reserve"
    assert error.translation_placeholders == {"reserve": "40"}
    assert float(hass.states.get(target).state) == 80
    await set_number(target, 45)
    assert float(hass.states.get(target).state) == 45

    error = await refused(reserve, 50)
    assert error.translation_key == "reserve_above_target"
    assert error.translation_placeholders == {"target": "45"}
    assert float(hass.states.get(reserve).state) == 40
    await set_number(reserve, 30)
    assert float(hass.states.get(reserve).state) == 30


@pytest.mark.parametrize("vehicle_preset", ["hatchback"])
async def test_nothing_to_stop_at_an_offline_charger_then_stopped_when_it_charges(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A car that cannot stop itself, at an offline charger: it does not charge, so there is
    nothing to stop (no command, no failure); once the charger is back and charges, the stop
    goes through the charger."""
    car = "ev_flex_simulator_hatchback_40_kwh"
    state = f"sensor.{car}_smart_charging_state"
    simulation.set_faults(FaultSettings(charger_offline=True))
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{car}_smart_charging"}, blocking=True
    )
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=6))
    assert hass.states.get(state).state == "plan_executing_stopped"
    executor = loaded_entry.runtime_data.smart_charging["simulator-garage-vehicle"]
    assert executor.controller.executor.state.commands_sent == 0

    simulation.set_faults(FaultSettings())
    await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=6))
    assert hass.states.get(state).state == "plan_executing_stopped"
    assert not simulation.vehicle_state().is_charging
    assert executor.controller.executor.state.commands_sent == 1
