"""Restarts, late prices, departures, plugs, switches and bad input."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
import json
import math
import re
from typing import Any

import pytest

from custom_components.ev_flex.core.controller import (
    ControllerSettings,
    ControllerState,
    DepartureOverride,
    DischargeRequest,
    Observation,
    SmartChargingState,
    VehicleController,
    step,
)
from custom_components.ev_flex.core.executor import CommandExecutor, ExecutorState
from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.planner import PriceSlot

from .controller_rig import (
    DEPARTURE,
    START,
    Rig,
    current,
    make_rig,
    night_prices,
    quarter_prices,
    smart,
    statuses,
)


def restart(rig: Rig) -> None:
    """Home Assistant restarts: everything is rebuilt from what was stored as JSON."""
    stored = json.loads(json.dumps(rig.controller.to_dict()))
    old = rig.controller.executor
    executor = CommandExecutor(
        send_command=old.send_command,
        command_status=old.command_status,
        clock=old.clock,
        sleep=old.sleep,
    )
    controller = VehicleController(executor=executor, tz=rig.controller.tz)
    controller.restore(stored)
    rig.controller = controller


# Restart


async def test_a_restart_mid_plan_sends_no_command_twice() -> None:
    twin = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await twin.run_until(DEPARTURE)

    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 16, 2, 0, tzinfo=UTC))
    assert current(rig) is SmartChargingState.STARTED
    sent_before = len(rig.sent)
    restart(rig)
    decision = await rig.tick()
    assert decision.status is SmartChargingState.STARTED
    assert len(rig.sent) == sent_before
    await rig.run_until(DEPARTURE)
    # The plan carried on as if nothing happened.
    assert [kind for _, kind, _ in rig.sent] == [kind for _, kind, _ in twin.sent]
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(
        twin.sim.vehicle_state().battery_level_pct, abs=0.05
    )
    assert rig.controller.state.learner == twin.controller.state.learner


async def test_a_restart_while_a_command_is_in_flight_follows_it() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 16, 0, 55, tzinfo=UTC))
    rig.clock.now = datetime(2026, 1, 16, 1, 0, tzinfo=UTC)
    executor = rig.controller.executor

    async def shut_down(seconds: float) -> None:
        raise TimeoutError

    executor.sleep = shut_down
    rig.controller.update(rig.clock.now, rig.observe(), rig.prices(rig.clock.now))
    with pytest.raises(TimeoutError):
        await rig.controller.async_execute()
    assert executor.state.in_flight is not None
    assert rig.sent[-1][1] is CommandKind.START
    sent_before = len(rig.sent)
    executor.sleep = rig.clock.sleep
    rig.clock.now += timedelta(seconds=30)
    restart(rig)
    decision = await rig.tick()
    assert decision.status is SmartChargingState.STARTED
    assert len(rig.sent) == sent_before


def test_stored_state_round_trips() -> None:
    state = ControllerState()
    state.interference_times.append(START)
    data = json.loads(json.dumps(state.to_dict()))
    assert ControllerState.from_dict(data) == state
    settings = ControllerSettings(
        smart_charging=True,
        departure_time=time(6, 45),
        departure_override=DepartureOverride(at=DEPARTURE, target_soc_pct=90.0),
        discharge_requests=(DischargeRequest(power_kw=5.0, until=DEPARTURE, requested_at=START),),
        charge_now_requested_at=START,
        discharge_price_threshold=0.5,
    )
    assert ControllerSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings


async def test_a_full_run_round_trips_through_json() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 16, 3, 0, tzinfo=UTC))
    stored = rig.controller.to_dict()
    again = json.loads(json.dumps(stored))
    assert again["version"] == 1
    assert ControllerState.from_dict(again["state"]) == rig.controller.state
    assert ExecutorState.from_dict(again["executor"]) == rig.controller.executor.state


def test_an_unknown_storage_version_is_ignored() -> None:
    controller = VehicleController(
        executor=CommandExecutor(
            send_command=_never_send, command_status=_never_status, clock=lambda: START
        )
    )
    controller.restore({"version": 99, "settings": {"smart_charging": True}})
    assert controller.settings.smart_charging is False


async def _never_send(kind: CommandKind, value: float | None) -> Any:
    raise AssertionError("nothing should be sent")


async def _never_status(command_id: str) -> Any:
    raise AssertionError("nothing should be polled")


# Prices that come late


async def test_prices_arriving_after_the_horizon_replan_and_still_meet_the_target() -> None:
    """Until 20:00 only prices to midnight are known; then the night's arrive."""
    full = night_prices(cheap_from=3, cheap_to=6)
    midnight = datetime(2026, 1, 16, 0, 0, tzinfo=UTC)

    def published(now: datetime) -> list[PriceSlot]:
        if now < datetime(2026, 1, 15, 20, 0, tzinfo=UTC):
            return [p for p in full if p.end <= midnight]
        return full

    rig = make_rig(start=START, prices=published, settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 15, 19, 0, tzinfo=UTC))
    decision = rig.decisions[-1]
    assert decision.status is SmartChargingState.STOPPED_AWAITING_PRICES
    assert decision.prices_guessed_after == midnight
    await rig.run_until(DEPARTURE)
    assert SmartChargingState.STOPPED in statuses(rig)
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(80.0, abs=0.15)
    starts = [at for at, kind, _ in rig.sent if kind is CommandKind.START]
    assert any(at >= datetime(2026, 1, 16, 3, 0, tzinfo=UTC) for at in starts)


async def test_no_prices_at_all_still_meets_the_target_at_the_last_moment() -> None:
    rig = make_rig(start=START, prices=[], settings=smart(), soc_pct=50.0)
    await rig.run_until(START + timedelta(minutes=10))
    decision = rig.decisions[-1]
    assert decision.status is SmartChargingState.CONSIDERING
    assert not decision.considerations.has_prices
    assert rig.sim.charger_state().is_charging is False
    await rig.run_until(DEPARTURE)
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(80.0, abs=0.15)
    reasons = {d.reason for d in rig.decisions if d.action is not None}
    assert "behind" in reasons


async def test_prices_after_the_deadline_passed_plan_the_next_departure() -> None:
    """The car stays plugged past 07:00; tomorrow's prices come at 13:00 for a new target."""
    hours = 48
    full = night_prices(hours=hours)
    published_at = datetime(2026, 1, 16, 13, 0, tzinfo=UTC)
    tonight = datetime(2026, 1, 17, 0, 0, tzinfo=UTC)

    def published(now: datetime) -> list[PriceSlot]:
        if now < published_at:
            return [p for p in full if p.end <= tonight]
        return full

    rig = make_rig(start=START, prices=published, settings=smart(), soc_pct=40.0)
    await rig.run_until(DEPARTURE + timedelta(minutes=5))
    assert any(s is SmartChargingState.ENDED_FINISHED for s in statuses(rig))
    assert rig.decisions[-1].departure == DEPARTURE + timedelta(days=1)
    rig.controller.settings = replace(rig.controller.settings, target_soc_pct=90.0)
    await rig.run_until(datetime(2026, 1, 16, 12, 0, tzinfo=UTC))
    assert current(rig) is SmartChargingState.STOPPED_AWAITING_PRICES
    await rig.run_until(DEPARTURE + timedelta(days=1))
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(90.0, abs=0.15)


# Departures, plugs and switches


async def test_a_new_departure_ends_the_plan_and_starts_another() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 15, 22, 0, tzinfo=UTC))
    earlier = datetime(2026, 1, 16, 3, 0, tzinfo=UTC)
    rig.controller.set_departure(earlier, 70.0)
    decision = await rig.tick()
    assert any(s is SmartChargingState.ENDED_DEADLINE_CHANGED for s in statuses(rig))
    assert decision.departure == earlier
    assert decision.target_soc_pct == 70.0
    await rig.run_until(earlier)
    assert rig.sim.vehicle_state().battery_level_pct == pytest.approx(70.0, abs=0.15)


async def test_unplugging_mid_plan_ends_it_and_sums_up_the_session() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(datetime(2026, 1, 16, 2, 0, tzinfo=UTC))
    rig.sim.unplug()
    decision = await rig.tick()
    assert decision.status is SmartChargingState.ENDED_UNPLUGGED
    assert {e.kind.value for e in decision.events} >= {"plan_ended", "session_ended"}
    summary = decision.state.last_session
    assert summary is not None
    assert summary.energy_in_kwh == pytest.approx(rig.sim.energy_delivered_kwh, rel=0.02)
    assert summary.cost == pytest.approx(rig.energy_cost, rel=0.02)
    assert summary.charge_now_cost > summary.cost
    assert decision.state.totals.sessions == 1
    await rig.run_until(datetime(2026, 1, 16, 2, 10, tzinfo=UTC))
    assert current(rig) is SmartChargingState.CONSIDERING
    assert not rig.decisions[-1].considerations.plugged_in


async def test_smart_charging_off_lets_the_car_charge_when_plugged() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=ControllerSettings(), soc_pct=40.0)
    await rig.run_until(START + timedelta(hours=1))
    assert current(rig) is SmartChargingState.DISABLED
    assert rig.sent == []
    assert rig.sim.charger_state().is_charging is True


async def test_switching_smart_charging_off_mid_plan_hands_the_charge_back() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(START + timedelta(hours=1))
    assert rig.sim.charger_state().is_charging is False
    rig.controller.settings = replace(rig.controller.settings, smart_charging=False)
    decision = await rig.tick()
    assert decision.status is SmartChargingState.ENDED_DISABLED
    assert rig.sent[-1][1] is CommandKind.START
    assert rig.sim.charger_state().is_charging is True
    handed_back = len(rig.sent)
    await rig.run_until(START + timedelta(hours=2))
    assert current(rig) is SmartChargingState.DISABLED
    # Handing back happened once; nothing more is sent while smart charging is off.
    assert len(rig.sent) == handed_back


async def test_away_from_the_charging_location_it_keeps_its_hands_off() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    rig.at_charging_location = False
    await rig.run_until(START + timedelta(hours=1))
    decision = rig.decisions[-1]
    assert decision.status is SmartChargingState.CONSIDERING
    assert not decision.considerations.at_charging_location
    assert decision.considerations.plugged_in
    assert decision.action is None
    assert rig.sent == []


async def test_a_fully_charged_car_needs_no_plan() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=85.0)
    await rig.run_until(START + timedelta(minutes=30))
    assert current(rig) is SmartChargingState.FULLY_CHARGED
    assert rig.sim.charger_state().is_charging is False


def test_no_readings_at_all_is_unknown() -> None:
    decision = step(
        now=START,
        observation=Observation(),
        prices=[],
        settings=smart(),
        state=ControllerState(),
        executor=ExecutorState(),
        tz=UTC,
    )
    assert decision.status is SmartChargingState.UNKNOWN
    assert decision.action is None


def test_step_leaves_its_inputs_alone() -> None:
    state = ControllerState()
    before = json.dumps(state.to_dict())
    step(
        now=START,
        observation=Observation(plugged_in=True, soc_pct=40.0, capacity_kwh=75.0, power_kw=0.0),
        prices=night_prices(),
        settings=smart(),
        state=state,
        executor=ExecutorState(),
        tz=UTC,
    )
    assert json.dumps(state.to_dict()) == before


@pytest.mark.parametrize(
    "changes",
    [
        {"target_soc_pct": math.nan},
        {"target_soc_pct": 250.0, "protective_soc_pct": -20.0},
        {"reserve_soc_pct": math.inf, "v2g": True, "discharge_price_threshold": math.nan},
        {"discharge_wear_cost_per_kwh": -1.0, "v2g": True},
        {"departure_time": None},
    ],
)
def test_nothing_a_user_enters_breaks_a_step(changes: dict[str, Any]) -> None:
    settings = ControllerSettings.from_dict({**smart().to_dict(), **changes})
    settings = ControllerSettings(**{**settings.__dict__, "discharge_requests": (_nan_request(),)})
    state, executor = ControllerState(), ExecutorState()
    observation = Observation(
        plugged_in=True,
        soc_pct=40.0,
        soc_reported_at=START,
        capacity_kwh=75.0,
        power_kw=0.0,
        max_discharge_kw=7.0,
    )
    prices = quarter_prices(START, [0.2] * 96, export=[0.1] * 96)
    for minute in range(0, 120, 15):
        decision = step(
            now=START + timedelta(minutes=minute),
            observation=observation,
            prices=prices,
            settings=settings,
            state=state,
            executor=executor,
            tz=UTC,
        )
        state = decision.state
        assert decision.wake_at > START + timedelta(minutes=minute)
        assert decision.target_soc_pct is None or 0.0 <= decision.target_soc_pct <= 100.0


def _nan_request() -> DischargeRequest:
    return DischargeRequest(power_kw=math.nan, until=DEPARTURE, requested_at=START)


def test_states_have_home_assistant_translation_keys() -> None:
    keys = [state.translation_key for state in SmartChargingState]
    assert len(set(keys)) == len(keys) == 20
    assert all(re.fullmatch(r"[a-z0-9_]+", key) for key in keys)
    assert SmartChargingState.STOPPED_AWAITING_PRICES.translation_key == (
        "plan_executing_stopped_awaiting_prices"
    )


async def test_commands_that_keep_failing_show_as_start_and_stop_failed() -> None:
    from custom_components.ev_flex.core.simulator import FaultSettings

    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    rig.sim.set_faults(FaultSettings(command_failure_rate=1.0))
    await rig.run_until(START + timedelta(minutes=10))
    assert current(rig) is SmartChargingState.STOP_FAILED
    # Retries come in runs of three with growing pauses (5, 15, 30 minutes), not in a loop.
    await rig.run_until(START + timedelta(hours=1))
    assert current(rig) is SmartChargingState.STOP_FAILED
    assert len(rig.sent) <= 15
    rig.sim.set_faults(FaultSettings())
    rig.controller.cancel_override(rig.clock.now)  # the user asks it to try again now
    await rig.run_until(START + timedelta(hours=1, minutes=10))
    assert current(rig) is SmartChargingState.STOPPED
    rig.sim.set_faults(FaultSettings(command_failure_rate=1.0))
    await rig.run_until(datetime(2026, 1, 16, 1, 10, tzinfo=UTC))
    assert current(rig) is SmartChargingState.START_FAILED


async def test_charge_now_when_already_at_the_target_does_nothing() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=85.0)
    await rig.run_until(START + timedelta(minutes=10))
    rig.controller.charge_now(rig.clock.now)
    decision = await rig.tick()
    assert decision.override is None
    assert decision.status is SmartChargingState.FULLY_CHARGED
    assert rig.sim.charger_state().is_charging is False


async def test_without_a_departure_it_only_keeps_the_protective_minimum() -> None:
    rig = make_rig(
        start=START,
        prices=night_prices(),
        settings=smart(departure_time=None, protective_soc_pct=20.0),
        soc_pct=15.0,
    )
    await rig.run_until(DEPARTURE)
    assert rig.decisions[-1].departure is None
    soc = rig.sim.vehicle_state().battery_level_pct
    assert soc is not None
    assert 20.0 <= soc < 21.0
