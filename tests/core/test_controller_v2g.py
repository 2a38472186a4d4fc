"""Vehicle-to-grid: price spikes and demand response, always within the reserve."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_flex.core.controller import SmartChargingState
from custom_components.ev_flex.core.executor import DeviceMode
from custom_components.ev_flex.core.planner import PriceSlot
from custom_components.ev_flex.core.simulator import VEHICLE_PRESETS

from .controller_rig import (
    DEPARTURE,
    START,
    Rig,
    current,
    make_rig,
    quarter_prices,
    smart,
    statuses,
)

SUV = VEHICLE_PRESETS["suv_v2g"]  # 99 kWh, 11 kW both ways


def spike_prices() -> list[PriceSlot]:
    """Flat 0.20 to buy, 0.15 to sell; 18:00-20:00 the export price spikes to 1.00."""
    imports: list[float] = []
    exports: list[float] = []
    for quarter in range(36 * 4):
        hour = (17 + quarter // 4) % 24
        spike = 18 <= hour < 20
        imports.append(1.10 if spike else (0.10 if 1 <= hour < 5 else 0.20))
        exports.append(1.00 if spike else 0.05)
    return quarter_prices(START, imports, export=exports)


def lowest_soc(rig: Rig) -> float:
    return min(d.soc.soc_pct for d in rig.decisions if d.soc is not None)


async def test_discharges_on_the_spike_within_the_reserve_and_still_meets_the_target() -> None:
    rig = make_rig(
        start=START,
        prices=spike_prices(),
        settings=smart(v2g=True, reserve_soc_pct=60.0),
        vehicle=SUV,
        soc_pct=80.0,
        charger_can_discharge=True,
    )
    await rig.run_until(DEPARTURE)
    assert SmartChargingState.DISCHARGING in statuses(rig)
    assert any(e.kind.value == "discharge_started" for d in rig.decisions for e in d.events)
    # It sold down to the reserve during the spike (2 hours at 11 kW would allow more), never
    # below it.
    assert lowest_soc(rig) == pytest.approx(60.0, abs=0.3)
    assert rig.sim.vehicle_state().odometer_km is not None
    assert min(d.soc.low_pct for d in rig.decisions if d.soc is not None) >= 60.0 - 0.1
    discharging = [d for d in rig.decisions if d.status is SmartChargingState.DISCHARGING]
    assert all(18 <= d.state.last_step_at.hour < 20 for d in discharging if d.state.last_step_at)
    # And bought it back cheaply at night for the departure (and some more to sell on the next
    # evening's spike).
    final = rig.sim.vehicle_state().battery_level_pct
    assert final is not None
    assert final >= 80.0 - 0.1


async def test_no_discharge_below_the_price_threshold() -> None:
    rig = make_rig(
        start=START,
        prices=spike_prices(),
        settings=smart(v2g=True, reserve_soc_pct=50.0, discharge_price_threshold=2.0),
        vehicle=SUV,
        soc_pct=80.0,
        charger_can_discharge=True,
    )
    await rig.run_until(datetime(2026, 1, 15, 21, 0, tzinfo=UTC))
    assert SmartChargingState.DISCHARGING not in statuses(rig)
    assert lowest_soc(rig) >= 79.9


async def test_no_discharge_without_v2g_hardware() -> None:
    rig = make_rig(
        start=START,
        prices=spike_prices(),
        settings=smart(v2g=True, reserve_soc_pct=50.0),
        vehicle=SUV,
        soc_pct=80.0,
        charger_can_discharge=False,
    )
    await rig.run_until(datetime(2026, 1, 15, 21, 0, tzinfo=UTC))
    assert SmartChargingState.DISCHARGING not in statuses(rig)


async def test_a_demand_response_request_discharges_down_to_the_reserve() -> None:
    flat = quarter_prices(START, [0.20] * 36 * 4, export=[0.05] * 36 * 4)
    rig = make_rig(
        start=START,
        prices=flat,
        settings=smart(v2g=True, reserve_soc_pct=55.0, target_soc_pct=60.0),
        vehicle=SUV,
        soc_pct=60.0,
        charger_can_discharge=True,
    )
    await rig.run_until(datetime(2026, 1, 15, 18, 0, tzinfo=UTC))
    rig.controller.request_discharge(rig.clock.now, 5.0, timedelta(hours=3))
    decision = await rig.tick()
    assert decision.status is SmartChargingState.DISCHARGING
    assert decision.action is not None
    assert decision.action.power_kw == 5.0
    assert rig.sim.charger_state().charge_rate_kw == pytest.approx(-5.0)
    # 5 points of 99 kWh at 5 kW (90 %) take about 55 minutes; then it stops at the reserve.
    await rig.run_until(datetime(2026, 1, 15, 20, 0, tzinfo=UTC))
    assert rig.sim.charger_state().charge_rate_kw == 0.0
    assert lowest_soc(rig) >= 55.0 - 0.1
    soc = rig.sim.vehicle_state().battery_level_pct
    assert soc is not None
    assert soc == pytest.approx(55.0, abs=0.6)
    # Once at the reserve it stays stopped for this request: no start-stop dance.
    during = [kind for at, kind, _ in rig.sent if at >= datetime(2026, 1, 15, 18, 0, tzinfo=UTC)]
    assert len(during) <= 3
    await rig.run_until(DEPARTURE)
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(60.0, abs=0.2)


async def test_cancelling_ends_a_demand_response_discharge() -> None:
    flat = quarter_prices(START, [0.20] * 36 * 4, export=[0.05] * 36 * 4)
    rig = make_rig(
        start=START,
        prices=flat,
        settings=smart(v2g=True, reserve_soc_pct=30.0),
        vehicle=SUV,
        soc_pct=80.0,
        charger_can_discharge=True,
    )
    await rig.run_until(datetime(2026, 1, 15, 18, 0, tzinfo=UTC))
    rig.controller.request_discharge(rig.clock.now, 7.0, timedelta(hours=2))
    await rig.run_until(datetime(2026, 1, 15, 18, 20, tzinfo=UTC))
    assert rig.decisions[-1].action is not None
    assert rig.decisions[-1].action.mode is DeviceMode.DISCHARGE
    rig.controller.cancel_override(rig.clock.now)
    await rig.run_until(datetime(2026, 1, 15, 18, 30, tzinfo=UTC))
    assert current(rig) is not SmartChargingState.DISCHARGING
    rate = rig.sim.charger_state().charge_rate_kw
    assert rate is not None
    assert rate >= 0.0


async def test_demand_response_never_makes_the_departure_target_unreachable() -> None:
    flat = quarter_prices(START, [0.20] * 36 * 4, export=[0.05] * 36 * 4)
    rig = make_rig(
        start=START,
        prices=flat,
        settings=smart(v2g=True, reserve_soc_pct=20.0, departure_time="19:00"),
        vehicle=SUV,
        soc_pct=75.0,
        charger_can_discharge=True,
    )
    await rig.run_until(datetime(2026, 1, 15, 17, 10, tzinfo=UTC))
    rig.controller.request_discharge(rig.clock.now, 11.0, timedelta(hours=2))
    await rig.run_until(datetime(2026, 1, 15, 19, 0, tzinfo=UTC))
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(80.0, abs=0.2)


async def test_the_car_backs_up_the_home_during_an_outage() -> None:
    flat = quarter_prices(START, [0.20] * 36 * 4, export=[0.05] * 36 * 4)
    rig = make_rig(
        start=START,
        prices=flat,
        settings=smart(v2g=True, reserve_soc_pct=70.0, backup_on_outage=True),
        vehicle=SUV,
        soc_pct=75.0,
        charger_can_discharge=True,
    )
    await rig.run_until(START + timedelta(minutes=10))
    rig.grid_outage = True
    await rig.run_until(START + timedelta(minutes=20))
    decision = rig.decisions[-1]
    assert decision.status is SmartChargingState.DISCHARGING
    assert decision.action is not None
    assert decision.action.power_kw == pytest.approx(11.04)
    # It stops at the reserve, and charges nothing while the grid is down.
    await rig.run_until(START + timedelta(hours=2))
    assert lowest_soc(rig) >= 70.0 - 0.1
    assert rig.sim.charger_state().charge_rate_kw == 0.0
    rig.grid_outage = False
    await rig.run_until(DEPARTURE)
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(80.0, abs=0.2)
