"""The controller closing the loop on the simulator: plans, targets, SoC estimates, learning."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_flex.core.controller import (
    OverrideKind,
    SmartChargingState,
)
from custom_components.ev_flex.core.executor import DeviceMode
from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.planner import (
    Battery,
    ChargeSettings,
    PlanRequest,
    PriceSlot,
    Target,
    plan,
)
from custom_components.ev_flex.core.simulator import VehicleSpec

from .controller_rig import (
    DEPARTURE,
    START,
    Rig,
    current,
    make_rig,
    night_prices,
    smart,
    statuses,
)

SEDAN = VehicleSpec()  # 75 kWh, 11 kW, 90 % efficiency, taper from 80 %


def optimal_cost(soc: float, prices: list[PriceSlot], target: float = 80.0) -> float:
    """The planner with the true car, all prices known: the cheapest possible."""
    request = PlanRequest(
        now=START,
        battery=Battery(capacity_kwh=75.0, soc_pct=soc),
        charge=ChargeSettings(max_kw=11.0, efficiency=0.9, taper=((80, 11.0), (100, 3.0))),
        targets=(Target(by=DEPARTURE, soc_pct=target),),
        prices=tuple(prices),
    )
    return plan(request).cost


async def test_reaches_80_by_7_in_the_cheapest_hours() -> None:
    prices = night_prices()
    rig = make_rig(start=START, prices=prices, settings=smart(), soc_pct=40.0)
    final = await rig.run_until(DEPARTURE)

    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(80.0, abs=0.15)
    # All but the short power probe at plug-in went into the 0.10 hours.
    assert rig.energy_cost == pytest.approx(optimal_cost(40.0, prices), rel=0.02)
    assert statuses(rig)[-1] is SmartChargingState.ENDED_FINISHED
    assert SmartChargingState.STOPPED in statuses(rig)
    assert SmartChargingState.STARTED in statuses(rig)
    # Commands alternate: never the same command twice in a row.
    kinds = [kind for _, kind, _ in rig.sent]
    assert all(a != b for a, b in pairwise(kinds))
    assert len(kinds) <= 5
    starts = [at for at, kind, _ in rig.sent if kind is CommandKind.START]
    assert any(datetime(2026, 1, 16, 1, 0, tzinfo=UTC) <= at for at in starts)
    assert final.considerations.has_prices


async def test_the_plan_numbers_are_reported() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(START + timedelta(minutes=10))
    decision = rig.decisions[-1]
    assert decision.status is SmartChargingState.STOPPED
    assert decision.departure == DEPARTURE
    assert decision.target_soc_pct == 80.0
    assert decision.expected_soc_at_departure_pct == pytest.approx(80.0)
    assert decision.shortfall_pct == 0.0
    assert decision.estimated_cost is not None
    assert decision.charge_now_cost is not None
    assert decision.estimated_cost < decision.charge_now_cost
    assert decision.next_start == datetime(2026, 1, 16, 1, 0, tzinfo=UTC)
    assert decision.next_stop is not None
    assert decision.next_stop > decision.next_start
    assert decision.plan is not None
    assert decision.plan.switch_times
    assert decision.wake_at <= START + timedelta(minutes=25)


async def test_departure_time_is_local() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), tz=oslo)
    decision = await rig.tick()
    assert decision.departure == datetime(2026, 1, 16, 7, 0, tzinfo=oslo)
    assert decision.departure == datetime(2026, 1, 16, 6, 0, tzinfo=UTC)


async def test_protective_minimum_charges_at_once_whatever_the_price() -> None:
    rig = make_rig(
        start=START,
        prices=night_prices(),
        settings=smart(protective_soc_pct=30.0),
        soc_pct=10.0,
    )
    await rig.run_until(START + timedelta(minutes=5))
    assert rig.decisions[-1].action is not None
    assert rig.decisions[-1].action.mode is DeviceMode.CHARGE
    # 20 points of 75 kWh at 11 kW and 90 %: about 1.5 hours, then it waits for cheap hours.
    await rig.run_until(START + timedelta(hours=2))
    soc = rig.sim.vehicle_state().battery_level_pct
    assert soc is not None
    assert 30.0 <= soc < 31.0
    assert rig.sim.charger_state().is_charging is False
    await rig.run_until(DEPARTURE)
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(80.0, abs=0.15)


async def test_a_stale_soc_still_meets_the_target() -> None:
    """The car reports every 30 minutes and never while charging: estimates bridge the gaps."""
    prices = night_prices(cheap_from=3, cheap_to=7)
    rig = make_rig(start=START, prices=prices, settings=smart(), soc_pct=30.0, stale=True)
    await rig.run_until(DEPARTURE)
    final = rig.sim.vehicle_state().battery_level_pct
    assert final is not None
    # A first session: the efficiency is still a guess (+-5 %), so it errs on the safe side.
    assert 80.0 - 0.1 <= final <= 83.0
    kinds = [kind for _, kind, _ in rig.sent]
    assert all(a != b for a, b in pairwise(kinds))
    assert len(kinds) <= 8
    charging = [d for d in rig.decisions if d.action is not None and d.reason == "plan"]
    estimated = [d for d in charging if d.soc is not None and d.soc.is_estimated]
    assert estimated, "the SoC was estimated while the car stayed silent"
    for decision in estimated:
        assert decision.soc is not None
        assert decision.soc.low_pct <= decision.soc.soc_pct <= decision.soc.high_pct


async def test_a_car_slower_than_advertised_is_learned_and_still_makes_it() -> None:
    """11 kW advertised, 3.7 kW real: only 4 cheap hours, but 9 hours of charging needed."""
    slow = VehicleSpec(onboard_charger_kw=3.7)
    rig = make_rig(
        start=START,
        prices=night_prices(cheap_from=2, cheap_to=6),
        settings=smart(),
        vehicle=slow,
        soc_pct=40.0,
    )
    await rig.run_until(DEPARTURE)
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(80.0, abs=0.15)
    assert rig.decisions[-1].model.max_kw == pytest.approx(3.7, abs=0.05)


async def test_an_unreachable_target_reports_the_shortfall_and_charges_flat_out() -> None:
    rig = make_rig(
        start=START,
        prices=night_prices(),
        settings=smart(departure_time="20:00", target_soc_pct=100.0),
        soc_pct=10.0,
    )
    await rig.run_until(START + timedelta(minutes=10))
    decision = rig.decisions[-1]
    assert decision.shortfall_pct is not None
    assert decision.shortfall_pct > 10.0
    assert decision.expected_soc_at_departure_pct is not None
    assert decision.expected_soc_at_departure_pct < 100.0
    assert decision.status is SmartChargingState.STARTED
    await rig.run_until(datetime(2026, 1, 15, 19, 59, tzinfo=UTC))
    charged = [d for d in rig.decisions[3:] if d.action is not None]
    assert all(d.action is not None and d.action.mode is DeviceMode.CHARGE for d in charged)


async def test_charge_now_overrides_until_the_target() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=70.0)
    await rig.run_until(START + timedelta(hours=1))
    assert rig.sim.charger_state().is_charging is False
    rig.controller.charge_now(rig.clock.now)
    decision = await rig.tick()
    assert decision.status is SmartChargingState.CHARGING_NOW
    assert decision.override is OverrideKind.CHARGE_NOW
    assert rig.sim.charger_state().is_charging is True
    # 10 points of 75 kWh at 11 kW: about 45 minutes, then it stops on its own.
    await rig.run_until(START + timedelta(hours=2, minutes=30))
    soc = rig.sim.vehicle_state().battery_level_pct
    assert soc is not None
    assert 80.0 <= soc < 80.5
    assert rig.sim.charger_state().is_charging is False
    assert rig.decisions[-1].override is None
    assert current(rig) is SmartChargingState.ENDED_FINISHED


# Interference


async def _third_party(rig: Rig, kind: CommandKind) -> None:
    """Someone else's app starts or stops the charger (not through our executor)."""
    rig.sim.send_command(rig.sim.charger_id, kind)


async def test_someone_else_starting_the_charge_is_respected() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 15, 18, 0, tzinfo=UTC))
    assert current(rig) is SmartChargingState.STOPPED
    await _third_party(rig, CommandKind.START)
    sent_before = len(rig.sent)
    await rig.run_until(datetime(2026, 1, 15, 18, 15, tzinfo=UTC))
    decision = rig.decisions[-1]
    assert decision.status is SmartChargingState.OVERRIDDEN
    assert decision.override is OverrideKind.EXTERNAL
    assert decision.action is None
    assert decision.interference_count == 1
    assert any(event.kind.value == "interference" for d in rig.decisions for event in d.events)
    # Hands off: the car keeps charging as the other party wanted, and nothing is sent.
    await rig.run_until(datetime(2026, 1, 15, 20, 0, tzinfo=UTC))
    assert rig.sim.charger_state().is_charging is True
    assert len(rig.sent) == sent_before
    assert current(rig) is SmartChargingState.OVERRIDDEN


async def test_someone_else_stopping_a_planned_charge_is_respected() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 16, 1, 30, tzinfo=UTC))
    assert current(rig) is SmartChargingState.STARTED
    await _third_party(rig, CommandKind.STOP)
    sent_before = len(rig.sent)
    await rig.run_until(datetime(2026, 1, 16, 2, 0, tzinfo=UTC))
    assert current(rig) is SmartChargingState.OVERRIDDEN
    assert len(rig.sent) == sent_before
    assert rig.sim.charger_state().is_charging is False


async def test_the_override_ends_when_the_car_is_unplugged() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 15, 18, 0, tzinfo=UTC))
    await _third_party(rig, CommandKind.START)
    await rig.run_until(datetime(2026, 1, 15, 18, 30, tzinfo=UTC))
    assert current(rig) is SmartChargingState.OVERRIDDEN
    rig.sim.unplug()
    await rig.run_until(datetime(2026, 1, 15, 18, 40, tzinfo=UTC))
    assert current(rig) is SmartChargingState.CONSIDERING
    assert rig.decisions[-1].override is None
    rig.sim.plug_in()
    await rig.run_until(datetime(2026, 1, 15, 19, 0, tzinfo=UTC))
    # Back under control: the plan stops the charge again (after a short probe or at once).
    assert current(rig) is SmartChargingState.STOPPED
    assert rig.sim.charger_state().is_charging is False


async def test_cancelling_the_override_hands_control_back_to_the_plan() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 15, 18, 0, tzinfo=UTC))
    await _third_party(rig, CommandKind.START)
    await rig.run_until(datetime(2026, 1, 15, 18, 30, tzinfo=UTC))
    assert current(rig) is SmartChargingState.OVERRIDDEN
    rig.controller.cancel_override(rig.clock.now)
    await rig.run_until(datetime(2026, 1, 15, 18, 40, tzinfo=UTC))
    assert current(rig) is SmartChargingState.STOPPED
    assert rig.sent[-1][1] is CommandKind.STOP
    assert rig.sim.charger_state().is_charging is False


async def test_repeated_interference_is_counted() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    moment = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    for round_ in range(3):
        await rig.run_until(moment)
        assert not rig.decisions[-1].repeated_interference
        await _third_party(rig, CommandKind.START)
        await rig.run_until(moment + timedelta(minutes=20))
        assert rig.decisions[-1].interference_count == round_ + 1
        rig.sim.unplug()
        await rig.run_until(moment + timedelta(minutes=25))
        rig.sim.plug_in()
        moment += timedelta(minutes=45)
    assert rig.decisions[-1].repeated_interference


async def test_a_start_that_never_brings_power_is_reported_and_retried() -> None:
    """The charger confirms, but the car takes no power (its own app paused it)."""
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 16, 0, 50, tzinfo=UTC))
    rig.sim.send_command(rig.sim.vehicle_id, CommandKind.STOP)
    await rig.run_until(datetime(2026, 1, 16, 1, 30, tzinfo=UTC))
    assert current(rig) is SmartChargingState.CHARGE_INTERRUPTED
    starts = [at for at, kind, _ in rig.sent if kind is CommandKind.START and at.hour == 1]
    # The first start, and at most two more, ten minutes apart: never a loop.
    assert len(starts) == 3
    assert starts[2] - starts[1] >= timedelta(minutes=10)
    rig.sim.send_command(rig.sim.vehicle_id, CommandKind.START)
    await rig.run_until(datetime(2026, 1, 16, 1, 50, tzinfo=UTC))
    assert current(rig) is SmartChargingState.STARTED
    assert rig.sim.charger_state().is_charging is True


async def test_no_probe_at_the_evening_peak_the_first_planned_charge_measures() -> None:
    """Plugged in at the 17:00 peak with the whole night ahead: no minute of the peak is bought
    to measure the power: it is measured once the price falls."""
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(START + timedelta(hours=4) - timedelta(minutes=1))
    assert all(d.reason != "probe" for d in rig.decisions)
    assert all(kind is not CommandKind.START for _, kind, _ in rig.sent)
    assert not rig.decisions[-1].model.measured_bands
    # The peak is over at 21:00: the cheapest price before the night's charge.
    await rig.run_until(START + timedelta(hours=4, minutes=5))
    assert rig.decisions[-1].model.measured_bands
    await rig.run_until(DEPARTURE)
    assert rig.decisions[-1].model.measured_bands
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(80.0, abs=0.15)


async def test_a_tight_session_probes_at_once_even_at_the_peak() -> None:
    """Little time to the departure: the power is measured at once, whatever the price."""
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    # About 3.5 hours of charging in 8: the plan charges after the peak.
    rig.controller.set_departure(START + timedelta(hours=8))
    await rig.run_until(START + timedelta(minutes=5))
    next_start = rig.decisions[0].next_start
    assert next_start is not None
    assert next_start >= START + timedelta(hours=4)
    assert any(d.reason == "probe" for d in rig.decisions)
