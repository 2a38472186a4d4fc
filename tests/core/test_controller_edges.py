"""The controller's less travelled paths: odd prices and planner replies, handing back, limits."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
import math
from typing import Any

import pytest

from custom_components.ev_flex.core.controller import (
    ControllerSettings,
    ControllerState,
    Decision,
    DepartureOverride,
    EventKind,
    Observation,
    OverrideKind,
    Planner,
    PlanPendingError,
    SmartChargingState,
    resolve_departure,
    step,
)
from custom_components.ev_flex.core.executor import (
    CHARGE,
    IDLE,
    DeviceMode,
    ExecutionStatus,
    ExecutorState,
)
from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.planner import Plan, PlanRequest, PlanStatus, PriceSlot, plan
from custom_components.ev_flex.core.simulator import VEHICLE_PRESETS

from .controller_rig import DEPARTURE, START, current, make_rig, night_prices, quarter_prices, smart


def plugged(**changes: Any) -> Observation:
    """A plugged-in car at 50 % that reported just now, not charging."""
    base = Observation(
        plugged_in=True, soc_pct=50.0, soc_reported_at=START, capacity_kwh=75.0, power_kw=0.0
    )
    return replace(base, **changes)


def run_step(
    now: datetime,
    observation: Observation,
    *,
    prices: list[PriceSlot] | None = None,
    settings: ControllerSettings | None = None,
    state: ControllerState | None = None,
    executor: ExecutorState | None = None,
    planner: Planner = plan,
) -> Decision:
    return step(
        now=now,
        observation=observation,
        prices=night_prices() if prices is None else prices,
        settings=settings or smart(),
        state=state or ControllerState(),
        executor=executor or ExecutorState(),
        tz=UTC,
        planner=planner,
    )


# Prices


def _spoil(index: int, **changes: Any) -> list[PriceSlot]:
    prices = night_prices()
    prices[index] = replace(prices[index], **changes)
    return prices


@pytest.mark.parametrize(
    "changes",
    [
        {"import_price": float("nan")},
        {"import_price": float("inf")},
        {"start": datetime(2026, 1, 15, 19, 0)},
        {"end": datetime(2026, 1, 15, 19, 0, tzinfo=UTC)},
        {"start": datetime(2026, 1, 15, 19, 5, tzinfo=UTC)},
    ],
    ids=["nan_price", "infinite_price", "naive_time", "empty_slot", "not_contiguous"],
)
def test_known_prices_end_at_the_first_slot_that_makes_no_sense(changes: dict[str, Any]) -> None:
    """Slot 8 (19:00) is broken: prices are known until it, guessed after (never misread)."""
    decision = run_step(START, plugged(), prices=_spoil(8, **changes))
    assert decision.considerations.has_prices
    assert decision.prices_guessed_after == START + timedelta(hours=2)


def test_past_prices_that_make_no_sense_are_not_used_for_guesses() -> None:
    """Slots that ended with a broken price or time are skipped, not taken for a guess: the
    guesses after 21:00 look at yesterday's 21:00 onwards."""
    earlier = quarter_prices(START - timedelta(days=1), [0.2] * 96)
    earlier[16] = replace(earlier[16], import_price=float("nan"))
    earlier[17] = replace(earlier[17], start=datetime(2026, 1, 14, 21, 15))
    decision = run_step(START, plugged(), prices=[*earlier, *night_prices(hours=4)])
    assert decision.plan is not None
    assert decision.prices_guessed_after == START + timedelta(hours=4)
    assert all(math.isfinite(slot.import_price) for slot in decision.plan.slots)


def test_prices_that_start_later_are_no_prices_now() -> None:
    later = quarter_prices(START + timedelta(hours=1), [0.1] * 40)
    decision = run_step(START, plugged(), prices=later)
    assert not decision.considerations.has_prices
    assert decision.plan is None
    assert decision.status is SmartChargingState.CONSIDERING


def test_a_non_finite_export_price_allows_no_discharge_in_that_slot() -> None:
    exports = [0.05] * 36 * 4
    imports = [0.20] * 36 * 4
    prices = quarter_prices(START, imports, export=exports)
    prices[0] = replace(prices[0], export_price=float("inf"))
    decision = run_step(
        START,
        plugged(soc_pct=80.0, max_discharge_kw=7.0),
        prices=prices,
        settings=smart(v2g=True),
    )
    assert decision.plan is not None
    slots = decision.plan.slots
    assert slots[0].export_price is None
    assert slots[1].export_price == 0.05
    assert decision.prices_guessed_after is None


# Departures


def test_a_one_off_departure_without_its_own_target_uses_the_usual_one() -> None:
    at = datetime(2026, 1, 16, 5, 0, tzinfo=UTC)
    settings = replace(smart(), departure_override=DepartureOverride(at=at, target_soc_pct=None))
    assert resolve_departure(settings, START, UTC) == (at, 80.0)
    # Once it has passed, the daily departure applies again.
    assert resolve_departure(settings, at, UTC) == (DEPARTURE, 80.0)
    without = replace(smart(), departure_time=None)
    assert resolve_departure(without, START, UTC) == (None, 80.0)


def test_a_weekly_schedule_picks_the_next_day_that_has_a_departure() -> None:
    """START is Thursday 15 January 2026, 15:00 UTC; Friday has 06:30, the weekend none."""
    assert START.weekday() == 3
    schedule = (time(7, 0), time(7, 0), time(7, 0), time(7, 0), time(6, 30), None, None)
    settings = replace(smart(), weekly_departures=schedule)
    friday = datetime(2026, 1, 16, 6, 30, tzinfo=UTC)
    assert resolve_departure(settings, START, UTC) == (friday, 80.0)
    # After Friday's departure the weekend is skipped: Monday 07:00.
    monday = datetime(2026, 1, 19, 7, 0, tzinfo=UTC)
    assert resolve_departure(settings, friday, UTC) == (monday, 80.0)
    # A one-off departure still wins while it lies ahead.
    at = datetime(2026, 1, 17, 9, 0, tzinfo=UTC)
    one_off = replace(settings, departure_override=DepartureOverride(at=at, target_soc_pct=90))
    assert resolve_departure(one_off, friday, UTC) == (at, 90)
    # A week without departures has none at all.
    empty = replace(smart(), weekly_departures=(None,) * 7)
    assert resolve_departure(empty, START, UTC) == (None, 80.0)


def test_a_weekly_schedule_is_stored_and_checked() -> None:
    schedule = (time(7, 0), None, None, None, None, time(10, 30), None)
    settings = replace(smart(), weekly_departures=schedule)
    data = settings.to_dict()
    assert data["weekly_departures"] == ["07:00", None, None, None, None, "10:30", None]
    assert ControllerSettings.from_dict(data) == settings
    with pytest.raises(ValueError, match="one entry per weekday"):
        ControllerSettings.from_dict({**data, "weekly_departures": ["07:00"]})
    controller = make_rig(start=START, prices=night_prices(), settings=smart()).controller
    with pytest.raises(ValueError, match="seven days"):
        controller.set_weekly_departures([time(7, 0)])
    controller.set_weekly_departures(schedule)
    assert controller.settings.weekly_departures == schedule
    controller.set_weekly_departures(None)
    assert controller.settings.weekly_departures is None


def test_a_new_session_forgets_what_the_last_one_confirmed() -> None:
    """A start confirmed (and seen charging) a day ago says nothing about a car plugged in now:
    the first step of the session has the executor send afresh, so an old command is neither
    skipped as already done nor taken as proof that another app stopped the car."""
    old = START - timedelta(days=1)
    executor = ExecutorState(confirmed=CHARGE, confirmed_at=old)
    state = ControllerState(power_seen_for=old, last_plugged=False)
    decision = run_step(START, plugged(), state=state, executor=executor)
    assert decision.reassert
    assert decision.state.session is not None
    # Later steps of the same session leave the executor's knowledge alone.
    later = run_step(
        START + timedelta(minutes=1), plugged(), state=decision.state, executor=ExecutorState()
    )
    assert not later.reassert


# Planner replies


def test_a_planner_that_refuses_is_asked_again_only_now_and_then() -> None:
    calls: list[datetime] = []

    def refusing(request: PlanRequest) -> Plan:
        calls.append(request.now)
        raise ValueError("infeasible")

    first = run_step(START, plugged(), planner=refusing)
    assert first.plan is None
    assert first.estimated_cost is None
    # No plan, so no charge window (the behind-check still guards the target).
    assert first.next_start is None
    later = run_step(START + timedelta(minutes=5), plugged(), planner=refusing, state=first.state)
    assert later.plan is None
    assert len(calls) == 1
    run_step(START + timedelta(minutes=15), plugged(), planner=refusing, state=later.state)
    assert len(calls) == 2


def test_a_plan_made_elsewhere_keeps_the_previous_one_until_it_arrives() -> None:
    """While the plan is being made off the event loop: hands off without a plan (no command
    the plan might take back), the previous plan followed with one; asked again next step."""
    calls: list[PlanRequest] = []

    def pending(request: PlanRequest) -> Plan:
        calls.append(request)
        raise PlanPendingError

    waiting = run_step(START, plugged(), planner=pending)
    assert waiting.action is None
    assert waiting.reason == "planning"
    assert waiting.plan is None
    made = run_step(START, plugged(), planner=plan, state=waiting.state)
    assert made.plan is not None
    assert made.action is not None
    # Something changed (a lower SoC): the new plan is pending, the old one is followed.
    still = run_step(
        START + timedelta(minutes=1),
        plugged(soc_pct=40.0, soc_reported_at=START + timedelta(minutes=1)),
        planner=pending,
        state=made.state,
    )
    assert still.plan is made.plan
    assert still.action == made.action
    assert len(calls) == 2


def test_a_plan_without_slots_is_made_again_and_switches_nothing() -> None:
    calls: list[PlanRequest] = []

    def empty(request: PlanRequest) -> Plan:
        calls.append(request)
        return Plan(status=PlanStatus.NO_PRICES)

    first = run_step(START, plugged(), planner=empty)
    # Without slots the plan can't be checked against the prices: it is made again.
    decision = run_step(START + timedelta(minutes=1), plugged(), planner=empty, state=first.state)
    assert len(calls) == 2
    assert decision.expected_soc_at_departure_pct is None
    assert decision.shortfall_pct is None
    # Nothing to switch on: no charge window comes from such a plan.
    assert decision.next_start is None
    assert decision.next_stop is None


# Readings


def test_without_a_power_reading_the_charging_flag_tells_interference() -> None:
    """A charger that reports only whether it charges: someone stopping it is still noticed."""
    confirmed_at = START - timedelta(hours=1)
    executor = ExecutorState(confirmed=CHARGE, confirmed_at=confirmed_at)
    # Below the protective minimum: the controller wants the charge to go on.
    settings = smart(protective_soc_pct=60.0)
    first = run_step(
        START, plugged(power_kw=None, charging=True), settings=settings, executor=executor
    )
    assert first.override is None
    assert first.action == CHARGE
    assert first.state.power_seen_for == confirmed_at
    stopped = plugged(power_kw=None, charging=False)

    def stopped_after(seconds: int, state: ControllerState) -> Decision:
        moment = START + timedelta(seconds=seconds)
        return run_step(moment, stopped, settings=settings, state=state, executor=executor)

    later = stopped_after(30, first.state)
    assert later.override is None
    confirmed = stopped_after(95, later.state)
    assert confirmed.override is OverrideKind.EXTERNAL
    assert any(event.detail == "stopped" for event in confirmed.events)


def test_a_start_that_took_effect_unconfirmed_is_not_interference() -> None:
    """We asked to charge; the account never confirmed, but the car charges: that's us."""
    executor = ExecutorState(confirmed=IDLE, confirmed_at=START - timedelta(hours=1))
    # Below the protective minimum: the controller wants to charge at once.
    settings = smart(protective_soc_pct=20.0)
    first = run_step(START, plugged(soc_pct=10.0), settings=settings, executor=executor)
    assert (first.action, first.reason) == (CHARGE, "protective")
    charging = plugged(soc_pct=10.0, power_kw=7.0)
    state = first.state
    for seconds in (30, 120, 300):
        decision = run_step(
            START + timedelta(seconds=seconds),
            charging,
            settings=settings,
            state=state,
            executor=executor,
        )
        state = decision.state
        assert decision.override is None
        assert decision.state.contradiction_since is None
    assert decision.action == CHARGE


def test_no_power_is_learned_near_the_cars_own_limit() -> None:
    """Close to its charge limit the car slows down on its own: that is not its taper."""

    def charged_for_a_while(limit: float) -> Decision:
        observation = plugged(soc_pct=89.5, charge_limit_pct=limit)
        first = run_step(START, observation, settings=smart(target_soc_pct=100.0))
        executor = ExecutorState(confirmed=CHARGE, confirmed_at=START + timedelta(seconds=10))
        return run_step(
            START + timedelta(minutes=1),
            replace(observation, power_kw=2.0),
            settings=smart(target_soc_pct=100.0),
            state=first.state,
            executor=executor,
        )

    assert not charged_for_a_while(90.0).model.measured_bands
    assert charged_for_a_while(100.0).model.measured_bands


# Smart charging off


@pytest.mark.parametrize(
    ("executor", "expected"),
    [
        (ExecutorState(discharge_may_be_active=True), CHARGE),
        (ExecutorState(confirmed=IDLE, confirmed_at=START), CHARGE),
        (ExecutorState(confirmed=CHARGE, confirmed_at=START), None),
        (ExecutorState(), None),
    ],
    ids=["discharge_may_run", "left_stopped", "left_charging", "never_acted"],
)
def test_switching_off_hands_the_car_back_charging_only_when_we_held_it(
    executor: ExecutorState, expected: Any
) -> None:
    decision = run_step(START, plugged(), settings=ControllerSettings(), executor=executor)
    assert decision.status is SmartChargingState.DISABLED
    assert decision.action == expected


# Sessions and overrides (on the simulator)

SUV = VEHICLE_PRESETS["suv_v2g"]  # 99 kWh, 11 kW both ways


async def test_charge_now_ends_with_the_session_and_is_not_resumed_at_the_next_plug_in() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    await rig.run_until(START + timedelta(minutes=30))
    requested = rig.clock.now
    rig.controller.charge_now(requested)
    decision = await rig.tick()
    assert decision.override is OverrideKind.CHARGE_NOW
    await rig.run_until(START + timedelta(hours=1))
    rig.sim.unplug()
    decision = await rig.tick()
    assert decision.state.charge_now_done_for == requested
    await rig.run_until(START + timedelta(hours=2))
    rig.sim.plug_in()
    await rig.run_until(START + timedelta(hours=2, minutes=30))
    # Back on the plan: the old request is done, the evening is expensive, so it waits.
    assert rig.decisions[-1].override is None
    assert all(d.reason != "charge_now" for d in rig.decisions[-3:])
    assert rig.sim.charger_state().is_charging is False


async def test_charge_now_without_prices_starts_a_plan_and_charges() -> None:
    rig = make_rig(start=START, prices=[], settings=smart(), soc_pct=50.0)
    await rig.run_until(START + timedelta(minutes=10))
    assert current(rig) is SmartChargingState.CONSIDERING
    rig.controller.charge_now(rig.clock.now)
    decision = await rig.tick()
    started = [e for d in rig.decisions[-2:] for e in d.events if e.kind is EventKind.PLAN_STARTED]
    assert [e.detail for e in started] == ["charge_now"]
    assert decision.status is SmartChargingState.CHARGING_NOW
    assert rig.sim.charger_state().is_charging is True
    # 30 points of 75 kWh at 11 kW (90 %) take well over two hours; it looks again then.
    assert decision.wake_at > rig.clock.now


async def test_a_discharge_the_account_refuses_shows_as_start_failed() -> None:
    """The hardware claims V2G but the account rejects discharging."""
    flat = quarter_prices(START, [0.20] * 36 * 4, export=[0.05] * 36 * 4)
    rig = make_rig(
        start=START,
        prices=flat,
        settings=smart(v2g=True, reserve_soc_pct=30.0),
        soc_pct=80.0,
        charger_can_discharge=False,
    )
    claims_v2g = rig.observe

    def observe() -> Observation:
        return replace(claims_v2g(), max_discharge_kw=7.0)

    rig.observe = observe  # type: ignore[method-assign]
    await rig.run_until(START + timedelta(minutes=30))
    rig.controller.request_discharge(rig.clock.now, 5.0, timedelta(hours=1))
    decision = await rig.tick()
    assert decision.action is not None
    assert decision.action.mode is DeviceMode.DISCHARGE
    assert decision.status is SmartChargingState.START_FAILED
    assert rig.sent[-1][1] is CommandKind.DISCHARGE
    assert rig.sim.charger_state().charge_rate_kw == 0.0


async def test_demand_response_without_a_departure_discharges_to_the_reserve() -> None:
    flat = quarter_prices(START, [0.20] * 36 * 4, export=[0.05] * 36 * 4)
    rig = make_rig(
        start=START,
        prices=flat,
        settings=smart(v2g=True, reserve_soc_pct=70.0, departure_time=None),
        soc_pct=75.0,
        charger_can_discharge=True,
        vehicle=SUV,
    )
    await rig.run_until(START + timedelta(minutes=30))
    rig.controller.request_discharge(rig.clock.now, 5.0, timedelta(hours=3))
    decision = await rig.tick()
    assert decision.departure is None
    assert decision.status is SmartChargingState.DISCHARGING
    assert rig.sim.charger_state().charge_rate_kw == pytest.approx(-5.0)
    await rig.run_until(START + timedelta(hours=3))
    soc = rig.sim.vehicle_state().battery_level_pct
    assert soc is not None
    assert 69.9 <= soc <= 70.6
    assert rig.sim.charger_state().charge_rate_kw == 0.0


async def test_a_plan_starting_right_after_one_ended_shows_at_once() -> None:
    """The target was just reached; a higher one seconds later starts a new plan at once."""
    twin = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=70.0)
    await twin.run_until(DEPARTURE)
    ended_at = next(
        e.at for d in twin.decisions for e in d.events if e.kind is EventKind.PLAN_ENDED
    )

    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=70.0)
    await rig.run_until(ended_at)
    assert current(rig) is SmartChargingState.ENDED_FINISHED
    assert rig.decisions[-1].state.ended is not None
    rig.controller.settings = replace(rig.controller.settings, target_soc_pct=95.0)
    rig.clock.now += timedelta(seconds=20)
    decision = await rig.tick()
    # Not held at "ended" for the rest of the minute: the new plan's own state shows.
    assert decision.status in {SmartChargingState.STOPPED, SmartChargingState.STARTED}
    assert decision.state.ended is None
    assert any(e.kind is EventKind.PLAN_STARTED for d in rig.decisions[-2:] for e in d.events)


async def test_nothing_is_executed_before_the_first_update() -> None:
    rig = make_rig(start=START, prices=night_prices(), settings=smart(), soc_pct=40.0)
    assert await rig.controller.async_execute() is ExecutionStatus.NOT_SENT
    assert rig.sent == []


def test_charge_now_does_not_wait_for_the_cars_first_report() -> None:
    """Just plugged in after a trip, SoC unknown: the user's charge-now still starts at once."""
    old_report = plugged(soc_reported_at=START - timedelta(hours=2))
    settings = smart(charge_now_requested_at=START.isoformat())
    decision = run_step(
        START, old_report, settings=settings, state=ControllerState(last_plugged=False)
    )
    assert decision.soc is None
    assert not decision.considerations.has_time_estimate
    assert (decision.status, decision.action, decision.reason) == (
        SmartChargingState.CHARGING_NOW,
        CHARGE,
        "charge_now",
    )


def test_a_car_that_does_not_tell_its_battery_size_is_never_held_back() -> None:
    """No capacity: no estimate, no plan, no behind-check, so it charges rather than waits."""
    decision = run_step(START, plugged(capacity_kwh=None))
    assert decision.action == CHARGE
    assert decision.reason == "no_capacity"
    assert decision.status is SmartChargingState.STARTING
