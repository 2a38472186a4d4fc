"""When the car's SoC is old, missing or silent: waiting, pausing for a report, assuming."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_flex.core.controller import (
    DepartureOverride,
    Observation,
    SmartChargingState,
    step,
)
from custom_components.ev_flex.core.executor import ExecutorState
from custom_components.ev_flex.core.model import (
    ChargerCapabilities,
    ChargerState,
    CommandKind,
    VehicleCapabilities,
    VehicleState,
)
from custom_components.ev_flex.core.planner import PriceSlot

from .controller_rig import (
    DEPARTURE,
    START,
    current,
    make_rig,
    night_prices,
    quarter_prices,
    smart,
    statuses,
)


def rising_prices() -> list[PriceSlot]:
    """Each quarter dearer than the one before: the cheapest time is always now."""
    return quarter_prices(START, [0.10 + 0.01 * index for index in range(36 * 4)])


async def test_a_report_from_before_the_plug_in_is_not_trusted() -> None:
    """The car drove since its last report; the controller waits for a fresh one."""
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=60.0, stale=True)
    rig.sim.unplug()
    await rig.run_until(START + timedelta(minutes=20))
    rig.sim.drive(100.0)  # 21 points of 75 kWh
    rig.clock.now = START + timedelta(minutes=25)
    rig.sim.plug_in()
    await rig.run_until(START + timedelta(minutes=29))
    waiting = rig.decisions[-1]
    assert waiting.status is SmartChargingState.CONSIDERING
    assert waiting.reason == "waiting_for_soc"
    assert not waiting.considerations.has_time_estimate
    assert waiting.soc is None
    assert rig.sim.charger_state().is_charging is False
    await rig.run_until(START + timedelta(minutes=31))
    decision = rig.decisions[-1]
    assert decision.considerations.has_time_estimate
    assert decision.soc is not None
    assert decision.soc.reported_at == START + timedelta(minutes=30)
    # The report, plus what a short power probe just after it added.
    assert decision.soc.soc_pct == pytest.approx(60.0 - 100 * 0.16 / 75 * 100, abs=0.3)
    await rig.run_until(DEPARTURE)
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(80.0, abs=0.2)


async def test_a_tight_session_charges_at_once_and_pauses_for_the_cars_report() -> None:
    """The car reports on the half hour (learned); it charges, and pauses just for that."""
    rig = make_rig(start=START, prices=rising_prices(), settings=smart(), soc_pct=60.0, stale=True)
    rig.sim.unplug()
    await rig.run_until(START + timedelta(hours=1))  # reports at 17:00, 17:30, 18:00
    rig.sim.drive(40.0)  # to 51.5 %
    rig.clock.now = START + timedelta(hours=1, minutes=10)
    departure = START + timedelta(hours=2, minutes=10)
    rig.controller.set_departure(departure, 60.0)
    assert rig.controller.settings.departure_override == DepartureOverride(
        at=departure, target_soc_pct=60.0
    )
    rig.sim.plug_in()
    await rig.run_until(departure)
    report_time = START + timedelta(hours=1, minutes=30)
    pause = [
        (at, kind)
        for at, kind, _ in rig.sent
        if report_time - timedelta(minutes=2) <= at <= report_time + timedelta(minutes=2)
    ]
    assert [kind for _, kind in pause] == [CommandKind.STOP, CommandKind.START]
    assert any(d.soc is not None and d.soc.reported_at == report_time for d in rig.decisions)
    final = rig.sim.vehicle_state().battery_level_pct
    assert final is not None
    assert 60.0 - 0.1 <= final <= 61.0


async def test_a_car_that_never_reports_its_soc_is_charged_as_if_it_came_home_empty() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0, stale=True)
    assert rig.stale is not None
    rig.stale.silent = True
    await rig.run_until(START + timedelta(minutes=30))
    assert current(rig) is SmartChargingState.CONSIDERING
    assert not rig.decisions[-1].considerations.has_time_estimate
    await rig.run_until(DEPARTURE)
    final = rig.sim.vehicle_state().battery_level_pct
    assert final is not None
    assert final >= 80.0
    assert SmartChargingState.OVERRIDDEN not in statuses(rig)
    # It still waited for the cheap hours rather than charging at once.
    starts = [at for at, kind, _ in rig.sent if kind is CommandKind.START]
    assert starts
    assert max(starts) >= datetime(2026, 1, 16, 0, 0, tzinfo=UTC)


def test_observation_combines_vehicle_and_charger() -> None:
    vehicle = VehicleState(
        vehicle_id="v",
        battery_level_pct=55.0,
        battery_capacity_kwh=64.0,
        is_plugged_in=True,
        is_charging=True,
        charge_rate_kw=7.0,
        charge_limit_pct=90.0,
        last_seen=START,
        capabilities=VehicleCapabilities(can_discharge=True),
    )
    charger = ChargerState(
        charger_id="c",
        is_plugged_in=True,
        is_charging=True,
        charge_rate_kw=7.2,
        max_current_a=16.0,
        phases=3,
        capabilities=ChargerCapabilities(can_discharge=True),
    )
    both = Observation.from_states(vehicle, charger, at_charging_location=True)
    assert both.power_kw == 7.2
    assert both.soc_pct == 55.0
    assert both.soc_reported_at == START
    assert both.capacity_kwh == 64.0
    assert both.charge_limit_pct == 90.0
    assert both.advertised_charge_kw == pytest.approx(11.04)
    assert both.max_discharge_kw == pytest.approx(11.04)

    car_only = Observation.from_states(vehicle, None, at_charging_location=False)
    assert car_only.power_kw == 7.0
    assert car_only.max_discharge_kw == 0.0
    assert car_only.advertised_charge_kw is None

    offline = Observation.from_states(
        VehicleState(vehicle_id="v", online=False, battery_level_pct=10.0),
        charger,
        at_charging_location=True,
    )
    assert offline.soc_pct is None
    assert offline.plugged_in is True
    assert offline.power_kw == 7.2


def test_now_must_be_aware() -> None:
    from custom_components.ev_flex.core.controller import ControllerState

    with pytest.raises(ValueError, match="aware"):
        step(
            now=datetime(2026, 1, 15, 17, 0),
            observation=Observation(),
            prices=[],
            settings=smart(),
            state=ControllerState(),
            executor=ExecutorState(),
            tz=UTC,
        )


def _plugged_observation(
    *, reported_at: datetime, plugged_in_at: datetime | None = None
) -> Observation:
    return Observation(
        plugged_in=True,
        soc_pct=50.0,
        soc_reported_at=reported_at,
        capacity_kwh=75.0,
        power_kw=0.0,
        plugged_in_at=plugged_in_at,
    )


def _first_step(observation: Observation, last_plugged: bool | None) -> bool:
    from custom_components.ev_flex.core.controller import ControllerState

    state = ControllerState(last_plugged=last_plugged)
    decision = step(
        now=START,
        observation=observation,
        prices=night_prices(),
        settings=smart(),
        state=state,
        executor=ExecutorState(),
        tz=UTC,
    )
    return decision.considerations.has_time_estimate


def test_on_first_sight_an_older_report_is_trusted() -> None:
    """Just installed, car already plugged in: nothing says it drove since it reported."""
    old = START - timedelta(minutes=20)
    assert _first_step(_plugged_observation(reported_at=old), last_plugged=None)
    # Seen unplugged before: the same report may predate a trip.
    assert not _first_step(_plugged_observation(reported_at=old), last_plugged=False)


def test_the_accounts_plug_in_time_decides_which_reports_are_current() -> None:
    plugged = START - timedelta(minutes=30)
    after = _plugged_observation(reported_at=START - timedelta(minutes=20), plugged_in_at=plugged)
    assert _first_step(after, last_plugged=False)
    before = _plugged_observation(reported_at=START - timedelta(minutes=40), plugged_in_at=plugged)
    assert not _first_step(before, last_plugged=False)
