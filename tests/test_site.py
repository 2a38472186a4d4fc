"""The house through Home Assistant: the live guard, the plan's site and the solar modes."""

from datetime import datetime, time, timedelta
import logging
import threading
from typing import Any, NoReturn
from unittest.mock import Mock
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.translation import async_load_integrations
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    async_fire_time_changed,
    mock_integration,
    mock_platform,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ev_flex import house_plan, shown_plan
from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.controller_data import Decision
from custom_components.ev_flex.core.planner import (
    Plan,
    PlanProblem,
    PlanRequest,
    PlanValidationError,
    plan,
)
from custom_components.ev_flex.core.simulator import Simulation
from custom_components.ev_flex.core.site_plan import CarAsk
from custom_components.ev_flex.diagnostics import async_get_config_entry_diagnostics

TZ_NAME = "Europe/Oslo"
TZ = ZoneInfo(TZ_NAME)
START = datetime(2026, 6, 16, 18, 0, tzinfo=TZ)
PRICE_ENTITY = "sensor.day_ahead_prices"
HOUSE = "sensor.house_power"
CAR = "ev_flex_simulator_sedan_75_kwh"
SITE = {"house_entity": HOUSE, "house_kind": "grid", "fuse_a": 25, "phases": 3}


def _prices(day: datetime) -> list[dict[str, Any]]:
    midnight = day.replace(hour=0, minute=0)
    return [
        {"time": (midnight + timedelta(hours=hour)).isoformat(), "price": 0.05 + hour / 100}
        for hour in range(24)
    ]


async def settle(hass: HomeAssistant) -> None:
    for _ in range(3):
        await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
def simulator_entry(
    simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """The simulated account with prices and a house with a 25 A three-phase fuse."""
    freezer.move_to(START)
    return MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options={"price_entity": PRICE_ENTITY, "site": SITE},
    )


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, simulator_entry: MockConfigEntry) -> MockConfigEntry:
    await set_up(hass, simulator_entry)
    return simulator_entry


def _request(start: datetime, end: datetime) -> PlanRequest:
    """A one-slot planner request from `start` to `end`."""
    return PlanRequest.from_dict(
        {
            "now": start.isoformat(),
            "battery": {"capacity_kwh": 75, "soc_pct": 40},
            "charge": {"max_kw": 11.0, "efficiency": 0.9},
            "prices": [{"start": start.isoformat(), "end": end.isoformat(), "import": 0.1}],
        }
    )


async def set_house(hass: HomeAssistant, simulation: Simulation, house_kw: float) -> None:
    """The grid meter: the house's own load plus what the car draws now (in W, as many do)."""
    meter_w = (house_kw + simulation.grid_power_kw()) * 1000.0
    hass.states.async_set(HOUSE, f"{meter_w:.0f}", {"unit_of_measurement": "W"})
    await settle(hass)


async def charge_now(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, "simulator-garage-vehicle"), entry.entry_id
    )
    assert device is not None
    await hass.services.async_call(DOMAIN, "charge_now", {"device_id": device.id}, blocking=True)
    await settle(hass)


async def test_live_guard_keeps_the_house_under_the_fuse(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Within the same second as the meter: the current drops to keep under 25 A; it rises
    again only a minute after the last command; without a meter it is never raised."""
    await set_house(hass, simulation, 2.0)
    await charge_now(hass, loaded_entry)
    freezer.tick(timedelta(minutes=1))
    await set_house(hass, simulation, 2.0)
    # Charging at once: as much as the fuse leaves (17.25 kW - 0.3 kW margin - 2 kW = 21 A).
    assert simulation.charger_state().max_current_a == 21.0
    assert simulation.charger_state().is_charging

    # The oven and the heat pump: 10 kW. 6.95 kW is left: 10 A, at once.
    freezer.tick(timedelta(seconds=5))
    await set_house(hass, simulation, 10.0)
    charger = simulation.charger_state()
    assert charger.max_current_a == 10.0
    assert 10.0 + charger.charge_rate_kw <= 17.25

    # The oven is off again: more current waits a minute after the last command.
    freezer.tick(timedelta(seconds=20))
    await set_house(hass, simulation, 2.0)
    assert simulation.charger_state().max_current_a == 10.0
    freezer.tick(timedelta(seconds=45))
    async_fire_time_changed(hass)
    await set_house(hass, simulation, 2.1)
    assert simulation.charger_state().max_current_a == 21.0

    # The meter goes away: a warning, and the current is never raised on a guess.
    freezer.tick(timedelta(minutes=2))
    hass.states.async_set(HOUSE, STATE_UNAVAILABLE)
    await settle(hass)
    assert "has no reading" in caplog.text
    assert simulation.charger_state().max_current_a == 21.0


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Prices, the house sensor at 1 kW, and the entry set up in Oslo."""
    await hass.config.async_set_time_zone(TZ_NAME)
    hass.states.async_set(
        PRICE_ENTITY,
        "0.2",
        {
            "unit_of_measurement": "EUR/kWh",
            "prices_today": _prices(START),
            "prices_tomorrow": _prices(START + timedelta(days=1)),
        },
    )
    hass.states.async_set(HOUSE, "1.0", {"unit_of_measurement": "kW"})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)


def _with_site(entry: MockConfigEntry, site: dict[str, Any]) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options={"price_entity": PRICE_ENTITY, "site": site},
    )


HOUSE_DEVICE = "ev_flex_garage_house"


async def test_house_entities_and_the_solar_mode(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulation: Simulation
) -> None:
    """The house shows its power with and without the cars; the solar mode is kept."""
    await set_house(hass, simulation, 2.0)
    with_cars = float(hass.states.get(f"sensor.{HOUSE_DEVICE}_house_power").state)
    without = float(hass.states.get(f"sensor.{HOUSE_DEVICE}_house_power_without_cars").state)
    assert with_cars == pytest.approx(2.0 + simulation.grid_power_kw(), abs=1e-3)
    assert without == pytest.approx(2.0, abs=1e-3)
    assert hass.states.get(f"sensor.{HOUSE_DEVICE}_expected_peak_this_month").state == "0.0"

    mode = f"select.{CAR}_solar_mode"
    assert hass.states.get(mode).state == "cheapest"
    await hass.services.async_call(
        "select", "select_option", {ATTR_ENTITY_ID: mode, "option": "solar_only"}, blocking=True
    )
    assert hass.states.get(mode).state == "solar_only"
    # Diagnostics show the house.
    # (Through the platform: the frozen clock lies before the test client's token.)
    diagnostics = await async_get_config_entry_diagnostics(hass, loaded_entry)
    assert diagnostics["site"]["solar_modes"] == {"simulator-garage-vehicle": "solar_only"}
    assert diagnostics["site"]["import_limit_kw"] == pytest.approx(17.25)
    assert diagnostics["site"]["house_without_cars_kw"] == pytest.approx(2.0, abs=1e-3)
    # Kept over a reload.
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await settle(hass)
    assert hass.states.get(mode).state == "solar_only"


async def test_without_a_house_there_are_no_house_entities(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options={"price_entity": PRICE_ENTITY},
    )
    await set_up(hass, entry)
    assert hass.states.get(f"select.{CAR}_solar_mode") is None
    assert hass.states.get(f"sensor.{HOUSE_DEVICE}_house_power") is None
    assert entry.runtime_data.site is None


# The solar forecast


def _solcast(day: datetime, peak_kw: float) -> list[dict[str, Any]]:
    """A Solcast day sensor's detailedForecast: half hours from local midnight."""
    midnight = day.replace(hour=0, minute=0)
    return [
        {
            "period_start": (midnight + timedelta(minutes=30 * i)).isoformat(),
            "pv_estimate": round(max(0.0, peak_kw * (1 - abs(i - 26) / 12)), 3),
            "pv_estimate10": 0.0,
            "pv_estimate90": 0.0,
        }
        for i in range(48)
    ]


async def test_solcast_forecast_reaches_the_plan(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """With a Solcast forecast the plan's site carries solar; a stale one counts as none."""
    forecast = "sensor.solcast_pv_forecast_forecast_tomorrow"
    hass.states.async_set(
        forecast, "30.1", {"detailedForecast": _solcast(START + timedelta(days=1), 6.0)}
    )
    entry = _with_site(simulator_entry, {**SITE, "forecast_entity": forecast})
    await set_up(hass, entry)
    site = entry.runtime_data.site
    assert site is not None
    noon = (START + timedelta(days=1)).replace(hour=13)
    assert site.solar_kw(noon, noon + timedelta(hours=1)) == pytest.approx(5.75)
    request = site.planner_request("car", _request(noon, noon + timedelta(hours=1)), None)
    assert request.site is not None
    assert request.site.solar_kw == (5.75,)
    assert request.site.import_limit_kw == pytest.approx(17.25)

    # Two days later the forecast lies in the past: no solar.
    freezer.move_to(START + timedelta(days=3))
    assert site.solar_kw(noon, noon + timedelta(hours=1)) == 0.0


async def test_forecast_solar_is_read_at_its_energy_platform(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    """Forecast.Solar publishes its forecast through the energy platform: Wh per hour."""
    tomorrow_noon = (START + timedelta(days=1)).replace(hour=12)
    asked: list[str] = []

    async def async_get_solar_forecast(
        hass: HomeAssistant, config_entry_id: str
    ) -> dict[str, dict[str, float]]:
        asked.append(config_entry_id)
        return {"wh_hours": {tomorrow_noon.isoformat(): 4200, "bad": 1}}

    mock_integration(hass, MockModule("forecast_solar"))
    mock_platform(
        hass,
        "forecast_solar.energy",
        Mock(async_get_solar_forecast=async_get_solar_forecast),
    )
    solar_entry = MockConfigEntry(domain="forecast_solar")
    solar_entry.add_to_hass(hass)
    forecast = (
        er.async_get(hass)
        .async_get_or_create(
            "sensor", "forecast_solar", "roof_power_production_now", config_entry=solar_entry
        )
        .entity_id
    )
    hass.states.async_set(forecast, "3200", {"unit_of_measurement": "W"})
    entry = _with_site(simulator_entry, {**SITE, "forecast_entity": forecast})
    await set_up(hass, entry)
    site = entry.runtime_data.site
    assert site is not None
    assert asked == [solar_entry.entry_id]
    quarter = tomorrow_noon + timedelta(minutes=15)
    assert site.solar_kw(quarter, quarter + timedelta(minutes=15)) == pytest.approx(4.2)
    assert site.solar_kw(START, START + timedelta(hours=1)) == 0.0


async def solar_first_entry(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, sunny_day: datetime
) -> MockConfigEntry:
    """The house with a Solcast forecast of 9 kW at noon on `sunny_day`, the car in solar first."""
    forecast = "sensor.solcast_pv_forecast_forecast_tomorrow"
    hass.states.async_set(forecast, "30.1", {"detailedForecast": _solcast(sunny_day, 9.0)})
    entry = _with_site(simulator_entry, {**SITE, "forecast_entity": forecast})
    await set_up(hass, entry)
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: f"select.{CAR}_solar_mode", "option": "solar_first"},
        blocking=True,
    )
    return entry


async def _smart_charging_decision(hass: HomeAssistant, entry: MockConfigEntry) -> Decision:
    """Turn smart charging on for the simulated car and return what it decided."""
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await settle(hass)
    decision = entry.runtime_data.smart_charging["simulator-garage-vehicle"].controller.decision
    assert decision is not None
    return decision


async def test_solar_mode_plans_with_the_grid_made_dear_but_shows_real_prices(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Solar first: the plan takes from the grid only what the target needs, and its slots,
    cost and charge-now cost are in real prices."""
    entry = await solar_first_entry(hass, simulator_entry, START + timedelta(days=1))
    decision = await _smart_charging_decision(hass, entry)
    assert decision.plan is not None
    real = {
        item["time"]: item["price"]
        for day in (START, START + timedelta(days=1))
        for item in _prices(day)
    }
    for slot in decision.plan.slots:
        hour = slot.end.astimezone(TZ) - timedelta(hours=1)
        assert slot.import_price == pytest.approx(real[hour.isoformat()])
    cost = float(hass.states.get(f"sensor.{CAR}_estimated_charging_cost").state)
    charge_now = float(hass.states.get(f"sensor.{CAR}_cost_if_charged_now").state)
    assert 0 <= cost < charge_now < 50
    share = hass.states.get(f"sensor.{CAR}_planned_solar_share").state
    assert share != "unknown"
    assert float(hass.states.get(f"sensor.{CAR}_planned_charging_power").state) >= 0


async def test_a_car_behind_its_target_charges_flat_out_in_solar_first(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A car that can no longer reach its target in time charges at full power, even where
    the plan expected the sun and the sky is grey: the guard leaves nothing to the sun then."""
    noon = (START + timedelta(days=1)).replace(hour=12)
    freezer.move_to(noon)
    entry = await solar_first_entry(hass, simulator_entry, noon)
    await hass.services.async_call(
        "time",
        "set_value",
        {ATTR_ENTITY_ID: f"time.{CAR}_departure_time", "time": time(12, 30)},
        blocking=True,
    )
    decision = await _smart_charging_decision(hass, entry)
    assert decision.reason == "behind"
    simulation: Simulation = entry.runtime_data.account.simulation  # type: ignore[attr-defined]
    # Clouds: the house imports 1 kW, no surplus at all.
    freezer.tick(timedelta(minutes=1))
    await set_house(hass, simulation, 1.0)
    charger = simulation.charger_state()
    assert charger.is_charging
    # Flat out: as much as the fuse leaves (17.25 kW - 0.3 kW margin - 1 kW: 23 A), or the
    # charger's most.
    assert charger.max_current_a == min(23.0, charger.max_current_limit_a)


# Two cars, two entries, one house


def _carport(simulator_entry: MockConfigEntry) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Carport",
        unique_id="simulator-carport",
        data={**simulator_entry.data, "name": "Carport"},
        options={"price_entity": PRICE_ENTITY, "site": SITE},
    )


GARAGE_ID, CARPORT_ID = "simulator-garage-vehicle", "simulator-carport-vehicle"
FUSE_KW = 17.25


async def two_cars(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator_entry: MockConfigEntry
) -> MockConfigEntry:
    """A second entry's car in the same house. Both smart charge: the garage's car to 80 % by
    07:00, the carport's to 70 % by 20:00, and both want this evening's two cheap hours."""
    cheap_evening = [
        {**item, "price": 0.01}
        if item["time"].startswith(("2026-06-16T18", "2026-06-16T19"))
        else item
        for item in _prices(START)
    ]
    hass.states.async_set(
        PRICE_ENTITY,
        "0.01",
        {
            "unit_of_measurement": "EUR/kWh",
            "prices_today": cheap_evening,
            "prices_tomorrow": _prices(START + timedelta(days=1)),
        },
    )
    carport = _carport(simulator_entry)
    carport.add_to_hass(hass)
    assert await hass.config_entries.async_setup(carport.entry_id)
    await settle(hass)
    for suffix, leaves, target in (("", time(7, 0), 80), ("_2", time(20, 0), 70)):
        await hass.services.async_call(
            "time",
            "set_value",
            {ATTR_ENTITY_ID: f"time.{CAR}_departure_time{suffix}", "time": leaves},
            blocking=True,
        )
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: f"number.{CAR}_target_charge{suffix}", "value": target},
            blocking=True,
        )
        await hass.services.async_call(
            "switch",
            "turn_on",
            {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging{suffix}"},
            blocking=True,
        )
    await settle(hass)
    return carport


async def plug(hass: HomeAssistant, entry: MockConfigEntry, *, plugged_in: bool) -> None:
    simulation = entry.runtime_data.account.simulation
    if plugged_in:
        simulation.plug_in()
    else:
        simulation.unplug()
    await entry.runtime_data.coordinator.async_refresh()
    await settle(hass)


def _plan_of(entry: MockConfigEntry, vehicle_id: str) -> Plan:
    plan = entry.runtime_data.smart_charging[vehicle_id].controller.state.plan
    assert plan is not None
    return plan


def _kw_at(plan: Plan, moment: datetime) -> float:
    return next((slot.charge_kw for slot in plan.slots if slot.start <= moment < slot.end), 0.0)


MIDNIGHT = START.replace(hour=0) + timedelta(days=1)


async def test_two_cars_share_one_joint_plan_under_the_fuse(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The fuse can't feed both cars at full power. The carport's car leaves at 20:00: the
    joint plan gives it the two cheap hours it needs and the garage's car what the fuse
    leaves, then the night's hours. (Planned on its own first, the garage's car took those
    hours and the carport's fell short.)"""
    carport = await two_cars(hass, loaded_entry, simulator_entry)
    garage, late = _plan_of(loaded_entry, GARAGE_ID), _plan_of(carport, CARPORT_ID)
    assert late.targets[0].met
    assert garage.targets[0].met
    assert _kw_at(late, START) > 5
    assert _kw_at(garage, MIDNIGHT) > 1
    for moment in {slot.start for slot in (*garage.slots, *late.slots)}:
        assert _kw_at(garage, moment) + _kw_at(late, moment) <= FUSE_KW + 1e-6
    # Both entries' houses show the house's planned peak: both cars at once.
    for device in (HOUSE_DEVICE, "ev_flex_carport_house"):
        peak = float(hass.states.get(f"sensor.{device}_expected_peak_this_month").state)
        assert peak == pytest.approx(FUSE_KW, abs=0.5)

    # Both charge as planned, each car's planned power sensor shows its share, and the meter
    # (the house and both cars) stays under the fuse.
    second = carport.runtime_data.account.simulation
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await settle(hass)
    meter_kw = simulation.grid_power_kw() + second.grid_power_kw()
    hass.states.async_set(HOUSE, f"{meter_kw * 1000:.0f}", {"unit_of_measurement": "W"})
    await settle(hass)
    now = datetime.now(TZ)
    for entity_id, entry, vehicle_id in (
        (f"sensor.{CAR}_planned_charging_power", loaded_entry, GARAGE_ID),
        (f"sensor.{CAR}_planned_charging_power_2", carport, CARPORT_ID),
    ):
        shown = float(hass.states.get(entity_id).state)
        assert shown == pytest.approx(_kw_at(_plan_of(entry, vehicle_id), now), abs=1e-3)
        assert shown > 1
    assert second.grid_power_kw() > 5
    assert simulation.grid_power_kw() > 1
    assert simulation.grid_power_kw() + second.grid_power_kw() <= FUSE_KW
    house = float(hass.states.get(f"sensor.{HOUSE_DEVICE}_house_power").state)
    assert house == pytest.approx(meter_kw, abs=1e-3)


async def test_a_car_leaving_gives_the_other_the_fuse(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_entry: MockConfigEntry,
) -> None:
    """The carport's car unplugs: the garage's car plans again alone, the house's grid power
    its own; plugged in again, the carport's car joins the joint plan again; the garage's
    entry reloaded, its car joins again too; the carport's entry unloaded, its car leaves."""
    carport = await two_cars(hass, loaded_entry, simulator_entry)

    def others_kw() -> float:
        slot = _plan_of(loaded_entry, GARAGE_ID).slots[0]
        assert slot.grid_kw is not None
        return slot.grid_kw - slot.charge_kw

    assert others_kw() == pytest.approx(_kw_at(_plan_of(carport, CARPORT_ID), START), abs=1e-3)
    assert others_kw() > 5
    await plug(hass, carport, plugged_in=False)
    assert others_kw() == pytest.approx(0.0, abs=1e-3)
    await plug(hass, carport, plugged_in=True)
    assert others_kw() > 5
    assert _plan_of(carport, CARPORT_ID).targets[0].met
    # Over a reload (as over a restart) the garage's car joins the joint plan again.
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await settle(hass)
    assert others_kw() > 5
    # A car following a plan the house does not know asks the house at its next step.
    site = loaded_entry.runtime_data.site
    assert site is not None
    site.leave_house_plan(GARAGE_ID)
    await settle(hass)
    await loaded_entry.runtime_data.coordinator.async_refresh()
    await settle(hass)
    assert site.takes_part(GARAGE_ID)
    carport_slot = _plan_of(carport, CARPORT_ID).slots[0]
    assert carport_slot.grid_kw is not None
    assert carport_slot.grid_kw - carport_slot.charge_kw > 5
    assert await hass.config_entries.async_unload(carport.entry_id)
    await settle(hass)
    assert others_kw() == pytest.approx(0.0, abs=1e-3)


async def test_a_planning_fault_keeps_the_previous_plans(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The planner failing in the executor: a warning, and each car keeps the plan it had."""
    carport = await two_cars(hass, loaded_entry, simulator_entry)
    before = _plan_of(loaded_entry, GARAGE_ID), _plan_of(carport, CARPORT_ID)

    def broken(_asks: object) -> NoReturn:
        raise RuntimeError("the planner broke")

    monkeypatch.setattr(house_plan, "plan_house", broken)
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: f"number.{CAR}_target_charge_2", "value": 90},
        blocking=True,
    )
    await settle(hass)
    assert "Planning the house's cars failed" in caplog.text
    assert (_plan_of(loaded_entry, GARAGE_ID), _plan_of(carport, CARPORT_ID)) == before
    shown = hass.states.get(f"sensor.{CAR}_planned_charging_power_2")
    assert shown is not None
    assert float(shown.state) == pytest.approx(_kw_at(before[1], START))


async def test_current_control_charges_at_the_planned_power(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The simulated charger takes a current: each planned slot charges through at its planned
    power, and the guard sets that power as a current per phase."""
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await settle(hass)
    charging = loaded_entry.runtime_data.smart_charging["simulator-garage-vehicle"]
    plan = charging.controller.state.plan
    assert plan is not None
    windows = [w for w in plan.switch_times if w.mode == "charge"]
    assert windows
    for window in windows:
        # Whole amps on three phases, as the charger takes them.
        assert window.kw / 0.69 == pytest.approx(round(window.kw / 0.69))
    for slot in plan.slots:
        if slot.charge_kw >= 4.14:
            # The whole slot charges, with at least its planned energy (and at most a minute
            # at one amp more).
            seconds = [
                (min(slot.end, w.end) - max(slot.start, w.start)).total_seconds() for w in windows
            ]
            assert sum(s for s in seconds if s > 0) == (slot.end - slot.start).total_seconds()
            kwh = sum(w.kw * s / 3600 for w, s in zip(windows, seconds, strict=True) if s > 0)
            planned_kwh = slot.charge_kw * (slot.end - slot.start).total_seconds() / 3600
            assert planned_kwh - 1e-9 <= kwh <= planned_kwh + 0.69 / 60
    # In a slot planned below full power, the charger gets that power as a current.
    second = next(w for w in windows if w.kw < 20)
    until = second.start + timedelta(minutes=5)
    while datetime.now(TZ) < until:
        freezer.tick(timedelta(minutes=10))
        async_fire_time_changed(hass)
        await settle(hass)
    plan = charging.controller.state.plan
    assert plan is not None
    now = datetime.now(TZ)
    window = next(w for w in plan.switch_times if w.start <= now < w.end)
    assert 4.14 <= window.kw < 20
    assert simulation.charger_state().max_current_a == int(window.kw / 0.69)
    assert simulation.charger_state().is_charging


async def test_live_guard_follows_the_solar_surplus_in_solar_first(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Solar first with sun this evening: the plan charges from the expected surplus, and
    live the current follows the meter's surplus; under a cloud the car goes down to 6 A at
    once, and up again only a minute after the last command."""
    forecast = "sensor.solcast_pv_forecast_forecast_today"
    evening = [
        {
            "period_start": (START + timedelta(minutes=30 * i)).isoformat(),
            "pv_estimate": 9.0 if i < 4 else 0.0,
            "pv_estimate10": 0.0,
            "pv_estimate90": 0.0,
        }
        for i in range(12)
    ]
    hass.states.async_set(forecast, "9", {"detailedForecast": evening})
    entry = _with_site(simulator_entry, {**SITE, "forecast_entity": forecast})
    await set_up(hass, entry)
    simulation = entry.runtime_data.account.simulation
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: f"select.{CAR}_solar_mode", "option": "solar_first"},
        blocking=True,
    )
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await settle(hass)
    assert _kw_at(_plan_of(entry, GARAGE_ID), START) > 4
    assert float(hass.states.get(f"sensor.{CAR}_planned_solar_share").state) > 50

    async def current_after(wait: timedelta, house_kw: float) -> float | None:
        """The charger's current once the clock moved on and the meter shows the house."""
        freezer.tick(wait)
        async_fire_time_changed(hass)
        await entry.runtime_data.coordinator.async_refresh()
        await set_house(hass, simulation, house_kw)
        return simulation.charger_state().max_current_a

    # The panels give 7 kW more than the house uses: the car takes it (10 A on three phases).
    assert await current_after(timedelta(minutes=1), -7.0) == 10.0
    # A cloud: 1 kW spare is less than half of 6 A, so solar first doesn't top up; the plan
    # still charges, so the car goes as low as the charger allows, once a minute has passed
    # since the last command (only the fuse is protected at once).
    assert await current_after(timedelta(seconds=15), -1.0) == 10.0
    assert await current_after(timedelta(seconds=50), -1.1) == 6.0
    # The sun is back: the car follows it again a minute later.
    assert await current_after(timedelta(seconds=20), -7.0) == 6.0
    assert await current_after(timedelta(seconds=45), -7.1) == 10.0


def _count_plans(monkeypatch: pytest.MonkeyPatch) -> list[PlanRequest]:
    """Every request a car alone is planned with, in order."""
    made: list[PlanRequest] = []

    def counting(request: PlanRequest) -> Plan:
        made.append(request)
        return plan(request)

    monkeypatch.setattr(shown_plan, "make_plan", counting)
    return made


async def _plan_charging(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """The garage car's plan as the `plan_charging` action shows it."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, GARAGE_ID), entry.entry_id)
    assert device is not None
    answer = await hass.services.async_call(
        DOMAIN, "plan_charging", {"device_id": device.id}, blocking=True, return_response=True
    )
    assert answer is not None
    return dict(answer)


async def test_the_plan_shown_for_a_car_alone_is_made_once_for_the_same_inputs(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Smart charging off, the action (like the card) shows the plan the car would follow with
    the house; asked again a minute later it is the same plan, not planned again on the event
    loop; with another target it is planned again."""
    made = _count_plans(monkeypatch)

    async def shown() -> dict[str, Any]:
        return await _plan_charging(hass, loaded_entry)

    first = await shown()
    assert len(made) == 1
    assert made[0].site is not None
    freezer.tick(timedelta(minutes=1))
    assert (await shown())["summary"] == first["summary"]
    assert len(made) == 1
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: f"number.{CAR}_target_charge", "value": 90},
        blocking=True,
    )
    await shown()
    assert len(made) == 2


async def _card(hass: HomeAssistant, ws_client: WebSocketGenerator, entry: MockConfigEntry) -> Any:
    """A card subscribed to the garage car's plan (its subscription answered)."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, GARAGE_ID), entry.entry_id)
    assert device is not None
    client = await ws_client(hass)
    await client.send_json_auto_id(
        {"type": "ev_flex/vehicle_plan/subscribe", "device_id": device.id}
    )
    assert (await client.receive_json())["success"]
    return client


async def _nothing_sent(client: Any) -> None:
    """The card got no event: a ping is answered first."""
    await client.send_json_auto_id({"type": "ping"})
    assert (await client.receive_json())["type"] == "pong"


async def test_the_plan_shown_for_a_car_alone_is_made_off_the_event_loop(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Smart charging off, the plan the card and the action show is made in the executor: the
    card is answered at once and gets the plan when it is ready. A target changed while a
    plan is made wins: the plan for the old one is dropped, the card and the action get the
    plan for the new one."""
    made: list[tuple[PlanRequest, int]] = []
    release = threading.Event()

    def slow(request: PlanRequest) -> Plan:
        made.append((request, threading.get_ident()))
        assert release.wait(10), "the test releases the planner"
        return plan(request)

    monkeypatch.setattr(shown_plan, "make_plan", slow)
    client = await _card(hass, hass_ws_client, loaded_entry)
    await _nothing_sent(client)
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: f"number.{CAR}_target_charge", "value": 90},
        blocking=True,
    )
    action = hass.async_create_task(_plan_charging(hass, loaded_entry))
    await _nothing_sent(client)
    release.set()
    answer = await action
    event = (await client.receive_json())["event"]
    assert event["plan"]["summary"]["target_soc_pct"] == 90
    assert answer["summary"] == event["plan"]["summary"]
    await _nothing_sent(client)
    assert [request.targets[-1].soc_pct for request, _ in made] == [80, 90]
    assert all(request.site is not None for request, _ in made)
    assert hass.loop_thread_id not in {thread for _, thread in made}


async def test_the_action_waiting_for_a_plan_when_the_entry_unloads_says_so(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan shown is being made when the entry unloads: the action gets a translated
    error, not a wait without end."""
    release = threading.Event()

    def slow(request: PlanRequest) -> Plan:
        assert release.wait(10), "the test releases the planner"
        return plan(request)

    monkeypatch.setattr(shown_plan, "make_plan", slow)
    # Started eagerly: the action waits for the plan before the unload begins.
    action = hass.async_create_task(_plan_charging(hass, loaded_entry), eager_start=True)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    release.set()
    with pytest.raises(HomeAssistantError) as raised:
        await action
    assert raised.value.translation_key == "invalid_plan_request"
    assert raised.value.translation_placeholders == {
        "error": "EV Flex was unloaded before the plan was made"
    }
    assert not isinstance(raised.value, ServiceValidationError), "not the user's fault"


@pytest.mark.parametrize(
    ("fault", "error", "warnings"),
    [
        (RuntimeError("the solver broke"), HomeAssistantError, 1),
        (PlanValidationError("prices", PlanProblem.REQUIRED), ServiceValidationError, 0),
    ],
    ids=["fault", "refused"],
)
async def test_a_failing_planner_shows_no_plan_and_the_action_says_why(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fault: Exception,
    error: type[HomeAssistantError],
    warnings: int,
) -> None:
    """A planner fault or refusal for the plan shown: the card shows no plan (not an error),
    the action raises a translated error naming the cause, a fault is logged once as a
    warning, and nothing else stops."""
    calls: list[PlanRequest] = []

    def broken(request: PlanRequest) -> NoReturn:
        calls.append(request)
        raise fault

    monkeypatch.setattr(shown_plan, "make_plan", broken)
    client = await _card(hass, hass_ws_client, loaded_entry)
    event = (await client.receive_json())["event"]
    assert event["problem"] == "no_plan"
    assert event["plan"] is None
    assert event["prices"], "the prices still show"
    with pytest.raises(error) as raised:
        await _plan_charging(hass, loaded_entry)
    assert raised.value.translation_key == "invalid_plan_request"
    assert str(fault) in str(raised.value)
    assert len(calls) == 1, "a failed plan is not made again for the same inputs"
    warned = [
        record
        for record in caplog.records
        if record.levelno >= logging.WARNING and "the plan shown for" in record.getMessage()
    ]
    assert len(warned) == warnings
    assert "Error doing job" not in caplog.text
    assert hass.states.get(f"sensor.{CAR}_smart_charging_state").state == "disabled"


@pytest.mark.parametrize(
    ("language", "error"),
    [
        (
            "en",
            "targets[0].by: 2026-01-05T06:00:00+00:00 is before now (2026-01-05T07:00:00+00:00)",
        ),
        (
            "de",
            "targets[0].by: 2026-01-05T06:00:00+00:00 liegt vor jetzt (2026-01-05T07:00:00+00:00)",
        ),
    ],
)
async def test_a_plan_request_the_planner_refuses_is_explained_in_the_servers_language(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    error: str,
) -> None:
    """The planner names the field and what is wrong with it; the plan action says so in the
    server's language, the field and its values as they are."""
    hass.config.language = language
    await async_load_integrations(hass, {DOMAIN})

    def refuse(request: PlanRequest) -> NoReturn:
        raise PlanValidationError(
            "targets[0].by",
            PlanProblem.BEFORE_NOW,
            time="2026-01-05T06:00:00+00:00",
            now="2026-01-05T07:00:00+00:00",
        )

    monkeypatch.setattr(shown_plan, "make_plan", refuse)
    with pytest.raises(ServiceValidationError) as raised:
        await _plan_charging(hass, loaded_entry)
    assert raised.value.translation_key == "invalid_plan_request"
    assert raised.value.translation_placeholders == {"error": error}


async def _planned_hour_import(
    hass: HomeAssistant, entry: MockConfigEntry, made: list[PlanRequest]
) -> float:
    """The hour's import so far that the plan shown for the garage car was made with."""
    await _plan_charging(hass, entry)
    site = made[-1].site
    assert site is not None
    return site.hour_import_kwh


async def test_a_plan_at_half_past_counts_what_the_meter_imported_since_the_hour_began(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The capacity tariff averages the whole clock hour: a plan made at half past gets what
    the grid meter imported since the hour began (export counts nothing), and a new hour starts
    from what the meter shows then."""
    made = _count_plans(monkeypatch)
    for minutes, meter_w in ((15, "6000"), (5, "-2000"), (10, "9000")):
        hass.states.async_set(HOUSE, meter_w, {"unit_of_measurement": "W"})
        await settle(hass)
        freezer.tick(timedelta(minutes=minutes))
    # 6 kW for a quarter, exporting for 5 minutes, 9 kW for 10 minutes.
    assert await _planned_hour_import(hass, loaded_entry, made) == pytest.approx(3.0)
    freezer.tick(timedelta(minutes=45))
    # 19:15: the meter still shows 9 kW, all of this hour's quarter.
    assert await _planned_hour_import(hass, loaded_entry, made) == pytest.approx(2.25)


async def test_the_hour_so_far_is_kept_over_a_restart(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the meter counted this hour survives a reload (the minutes Home Assistant did not
    watch are estimated, here from a house that draws nothing yet); a restart in the next hour
    starts that hour afresh."""
    made = _count_plans(monkeypatch)
    hass.states.async_set(HOUSE, "6000", {"unit_of_measurement": "W"})
    await settle(hass)
    freezer.tick(timedelta(minutes=20))
    assert await _planned_hour_import(hass, loaded_entry, made) == pytest.approx(2.0)

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    freezer.tick(timedelta(minutes=5))
    hass.states.async_set(HOUSE, "0", {"unit_of_measurement": "W"})
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await settle(hass)
    freezer.tick(timedelta(minutes=10))
    # 18:35: the 20 minutes at 6 kW before the restart; nothing since.
    assert await _planned_hour_import(hass, loaded_entry, made) == pytest.approx(2.0)

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    freezer.tick(timedelta(minutes=30))
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await settle(hass)
    # 19:05: a new hour, counted from nothing.
    assert await _planned_hour_import(hass, loaded_entry, made) == pytest.approx(0.0)


async def test_the_hour_so_far_is_stored_when_home_assistant_stops(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant stops 20 minutes into a steady 6 kW: the store holds those 2 kWh, not
    only what was counted at the last reading."""
    hass.states.async_set(HOUSE, "6000", {"unit_of_measurement": "W"})
    await settle(hass)
    # The save the reading asked for is written; the meter then holds for 20 minutes.
    freezer.tick(timedelta(seconds=10))
    async_fire_time_changed(hass)
    await settle(hass)
    key = f"{DOMAIN}.site.{loaded_entry.entry_id}"
    assert hass_storage[key]["data"]["hour_import"]["kwh"] == pytest.approx(6 * 10 / 3600)
    freezer.tick(timedelta(minutes=20) - timedelta(seconds=10))
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await settle(hass)
    async_fire_time_changed(hass)
    await settle(hass)
    stored = hass_storage[key]["data"]["hour_import"]
    assert stored["kwh"] == pytest.approx(2.0)
    assert datetime.fromisoformat(stored["last_at"]) == START + timedelta(minutes=20)


def _stored_hour(**changes: Any) -> dict[str, Any]:
    """The site's store as a run that saw 17:50-18:00 at 6 kW left it (1 kWh)."""
    began = START - timedelta(minutes=60)
    hour = {
        "began": began.isoformat(),
        "kwh": 1.0,
        "observed_h": 10 / 60,
        "last_at": (began + timedelta(minutes=59)).isoformat(),
    }
    return {"hour_import": hour | changes}


@pytest.mark.parametrize(
    ("stored", "hour_so_far"),
    [
        (_stored_hour(), 1.0),
        (_stored_hour(kwh=float("nan")), 0.0),
        (_stored_hour(kwh=-1.0), 0.0),
        (_stored_hour(kwh=1e12), 0.0),
        (_stored_hour(kwh="1.0"), 0.0),
        (_stored_hour(kwh=True), 0.0),
        (_stored_hour(observed_h=float("inf")), 0.0),
        (_stored_hour(began=(START - timedelta(hours=2)).isoformat()), 0.0),
        (_stored_hour(began="yesterday"), 0.0),
        (_stored_hour(began="2026-06-16T17:00:00"), 0.0),
        (_stored_hour(last_at=(START + timedelta(hours=1)).isoformat()), 0.0),
        ({"hour_import": ["a", "list"]}, 0.0),
    ],
    ids=[
        "this hour",
        "nan",
        "negative",
        "huge",
        "text",
        "bool",
        "infinite share",
        "another hour",
        "no time",
        "no time zone",
        "from the future",
        "wrong shape",
    ],
)
async def test_a_stored_hour_is_used_only_when_it_is_this_hour_and_readable(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    hass_storage: dict[str, Any],
    stored: dict[str, Any],
    hour_so_far: float,
) -> None:
    """A fresh start at 17:59:30 with the site's store of an earlier run: the hour's import
    so far is the stored one when it is this clock hour and readable; a value from another
    hour, or one that is no number, negative, huge or from the future is ignored (the hour
    counts from what is seen), and setup goes on."""
    freezer.move_to(START - timedelta(seconds=30))
    key = f"{DOMAIN}.site.{simulator_entry.entry_id}"
    hass_storage[key] = {"version": 1, "minor_version": 1, "key": key, "data": stored}
    made = _count_plans(monkeypatch)
    await set_up(hass, simulator_entry)
    assert await _planned_hour_import(hass, simulator_entry, made) == pytest.approx(hour_so_far)


async def test_without_a_meter_the_hour_so_far_is_what_the_car_was_planned_to_draw(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A house with a fuse and no house sensor (no load learned): the hour's import so far is
    the car's planned power while it was planned, held until the next plan."""
    made: list[PlanRequest] = []
    real_plan_house = house_plan.plan_house

    def counting(asks: list[CarAsk]) -> dict[str, Plan | None]:
        made.extend(ask.completed for ask in asks)
        return real_plan_house(asks)

    monkeypatch.setattr(house_plan, "plan_house", counting)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options={"price_entity": PRICE_ENTITY, "site": {"fuse_a": 25, "phases": 3}},
    )
    await set_up(hass, entry)
    # Leaving at 19:00 for 90 %: the car charges from now.
    for domain, service, suffix, data in (
        ("time", "set_value", "departure_time", {"time": time(19, 0)}),
        ("number", "set_value", "target_charge", {"value": 90}),
        ("switch", "turn_on", "smart_charging", {}),
    ):
        await hass.services.async_call(
            domain, service, {ATTR_ENTITY_ID: f"{domain}.{CAR}_{suffix}", **data}, blocking=True
        )
    await settle(hass)
    planned_kw = float(hass.states.get(f"sensor.{CAR}_planned_charging_power").state)
    assert planned_kw > 1.0
    freezer.tick(timedelta(minutes=20))
    async_fire_time_changed(hass)
    await settle(hass)
    site = made[-1].site
    assert site is not None
    assert site.hour_import_kwh == pytest.approx(planned_kw / 3.0, abs=1e-3)


async def test_a_home_switched_to_german_names_ev_flex_s_own_devices_in_german(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """The devices EV Flex makes up itself (the prices, the house) are named and described in
    the server's language after a restart in it; the car and charger keep their makers'
    names."""
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    hass.config.language = "de"
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()

    devices = {
        (device.name, device.model)
        for device in dr.async_entries_for_config_entry(device_registry, loaded_entry.entry_id)
    }
    assert devices == {
        ("EV Flex Simulator Sedan 75 kWh", "Sedan 75 kWh"),
        ("EV Flex Simulator Wallbox 22 kW", "Wallbox 22 kW"),
        ("EV Flex Garage", "Preise und Tarif"),
        ("EV Flex Garage Haus", "Haus: Hauptsicherung, Solar und Leistungstarif"),
    }
