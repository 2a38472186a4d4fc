"""Prices and plan: the known prices from now, guessed up to the departure, and the plan.

The plan comes from the planner in-process: a `PlanRequest` built by `plan_request.PlanBasis`
(the same builder as the `plan_charging` action) in, a `Plan` out. The controller looks again at
every slot boundary and plans again when the prices, the SoC (by more than 0.1 point), the plug,
the settings or the learned model moved; planning again with nothing changed would give the
same plan. The plan is kept while overridden, so the user still sees it.
"""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
import hashlib

from .controller_data import (
    ControllerSettings,
    ControllerState,
    Observation,
    Session,
    SmartChargingState,
)
from .controller_observe import advertised_kw
from .controller_session import resolve_departure
from .controller_work import MAX_WAKE_PLUGGED, Interval, Outcome, Work
from .executor import DeviceMode
from .learning import ChargeModel
from .plan_request import (
    PlanBasis,
    PricedInterval,
    current_slots,
    export_used,
    extend_prices,
    learned_charge,
    quantise,
    until_departure,
)
from .planner import DischargeSettings, Plan, PlanRequest, PlanStatus, PriceSlot

Planner = Callable[[PlanRequest], Plan]


class PlanPendingError(Exception):
    """Raised by a planner whose plan is being made elsewhere (a house's joint plan, off the
    event loop): the controller keeps following its previous plan and asks again next step."""


# Plan again when the SoC strays this far from where the plan expected it.
REPLAN_SOC_DEVIATION_PCT = 0.1
# What is left of an interval shorter than this is not worth a command (a command takes longer).
MIN_SWITCH = timedelta(seconds=15)


def read_prices(work: Work, prices: Sequence[PricedInterval]) -> None:
    """The known slots from the one holding now; those that ended are kept for guesses."""
    work.slots = current_slots(prices, work.now, work.past_slots)


def plan_intervals(plan: Plan | None) -> list[Interval]:
    if plan is None:
        return []
    return [
        Interval(
            start=window.start,
            end=window.end,
            mode=DeviceMode.DISCHARGE if window.mode == "discharge" else DeviceMode.CHARGE,
            kw=window.kw,
        )
        for window in plan.switch_times
    ]


def _plan_soc_at(state: ControllerState, now: datetime) -> float | None:
    """Where the plan expected the SoC to be now."""
    plan, soc = state.plan, state.plan_soc_pct
    if plan is None or soc is None or state.plan_made_at is None:
        return None
    previous_end_soc = soc
    for slot in plan.slots:
        start, end = max(slot.start, state.plan_made_at), slot.end
        end_soc = slot.soc_pct_end
        if now < end:
            if now <= start or end <= start:
                return previous_end_soc
            share = (now - start) / (end - start)
            return previous_end_soc + share * (end_soc - previous_end_soc)
        previous_end_soc = end_soc
    return previous_end_soc


def plan_basis(
    settings: ControllerSettings,
    model: ChargeModel,
    obs: Observation,
    capacity: float,
    max_soc: float,
    departure: datetime | None,
    target: float,
) -> PlanBasis:
    """What the car's plan depends on apart from the time, the SoC and the prices."""
    discharge: DischargeSettings | None = None
    if settings.v2g and obs.max_discharge_kw > 0:
        discharge = DischargeSettings(
            max_kw=obs.max_discharge_kw,
            efficiency=quantise(model.discharge_efficiency, 0.002),
            min_soc_pct=settings.reserve_soc_pct,
            wear_cost_per_kwh=settings.discharge_wear_cost_per_kwh,
        )
    return PlanBasis(
        capacity_kwh=capacity,
        max_soc_pct=max_soc,
        charge=learned_charge(model),
        discharge=discharge,
        departure=departure,
        target_soc_pct=round(target, 2),
        protective_soc_pct=settings.protective_soc_pct,
        discharge_price_threshold=settings.discharge_price_threshold,
    )


def _plan_key(basis: PlanBasis, session_start: datetime) -> str:
    """What the plan depends on apart from time, SoC and prices (checked separately)."""
    text = repr((basis, session_start.isoformat()))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _prices_changed(plan: Plan, slots: Sequence[PriceSlot], basis: PlanBasis) -> bool:
    """Whether the prices from now on differ from those the plan was made with."""
    planned = plan.slots
    if not slots or not planned:
        return True
    now_end = slots[0].end
    index = next((i for i, item in enumerate(planned) if item.end >= now_end), None)
    if index is None or len(planned) - index != len(slots):
        return True
    allow_discharge = basis.discharge is not None
    threshold = basis.discharge_price_threshold
    for slot, item in zip(slots, planned[index:], strict=True):
        if (
            item.end != slot.end
            or item.import_price != slot.import_price
            or item.export_price != export_used(slot, allow_discharge, threshold)
        ):
            return True
    return False


def _needs_replan(
    work: Work, key: str, soc_pct: float, slots: Sequence[PriceSlot], basis: PlanBasis
) -> bool:
    state, now = work.state, work.now
    if state.plan_key != key or state.plan_made_at is None:
        return True
    if state.plan is None:
        # The planner refused these inputs; try again now and then, not at every step.
        return now - state.plan_made_at >= MAX_WAKE_PLUGGED
    if _prices_changed(state.plan, slots, basis):
        return True
    expected = _plan_soc_at(state, now)
    return expected is None or abs(expected - soc_pct) > REPLAN_SOC_DEVIATION_PCT


def interval_now(intervals: Sequence[Interval], now: datetime) -> Interval | None:
    for interval in intervals:
        if interval.start <= now < interval.end and interval.end - now >= MIN_SWITCH:
            return interval
    return None


def _follow_plan(work: Work, plan: Plan) -> None:
    """The plan's intervals and numbers."""
    outcome = work.outcome
    work.intervals = plan_intervals(plan)
    work.awaiting_prices = (
        plan.status is PlanStatus.AWAITING_PRICES or outcome.prices_guessed_after is not None
    )
    outcome.estimated_cost = plan.cost
    outcome.charge_now_cost = plan.charge_now_cost
    if plan.targets:
        expected = plan.targets[0].expected_soc_pct
        outcome.expected_soc = expected
        outcome.shortfall = max(0.0, round(work.target - expected, 2))


def make_plan(work: Work, session: Session, planner: Planner) -> None:
    """Plan on the prices up to the departure (guessed beyond the last known one) when the
    inputs moved; then wake at the plan's switch times and at the next slot boundary."""
    state, now, soc, capacity, slots = work.state, work.now, work.soc, work.capacity, work.slots
    work.awaiting_prices = not slots
    if slots:
        # Look again at every slot boundary.
        work.wake_at(slots[0].end)
    departure = work.departure
    plan_slots, work.outcome.prices_guessed_after = extend_prices(slots, departure, work.past_slots)
    plan_slots = until_departure(plan_slots, departure)
    if soc is None or capacity is None or not slots:
        state.plan = None
        state.plan_key = None
    else:
        # The plan follows the best estimate; the behind-check guards the pessimistic bound,
        # and a report after charging (most cars report once idle) settles the rest.
        soc_for_plan = min(100.0, max(0.0, soc.soc_pct))
        basis = plan_basis(
            work.settings,
            work.model,
            work.observation,
            capacity,
            min(100.0, max(work.max_soc, soc_for_plan)),
            departure,
            work.target,
        )
        key = _plan_key(basis, session.started_at)
        if _needs_replan(work, key, soc_for_plan, plan_slots, basis):
            request = basis.request(now, round(soc_for_plan, 3), plan_slots)
            _ask_planner(work, planner, request, key, soc_for_plan)
        if state.plan is not None:
            _follow_plan(work, state.plan)
    _wake_at_switch_times(work)


def _ask_planner(
    work: Work, planner: Planner, request: PlanRequest, key: str, soc_pct: float
) -> None:
    """The new plan; while it is being made elsewhere, nothing changes but a note of that."""
    state = work.state
    try:
        state.plan = planner(request)
    except PlanPendingError:
        work.plan_pending = True
        return
    except ValueError, ArithmeticError:
        state.plan = None
    state.plan_request = replace(request, prices=())
    state.plan_key = key
    state.plan_soc_pct = soc_pct
    state.plan_made_at = work.now


def wait_for_plan(work: Work, _session: Session) -> Outcome | None:
    """Hands off while the first plan is being made elsewhere (a moment): no command that the
    plan might take back at once. The guards still charge a car that is behind or too low."""
    if work.plan_pending and work.state.plan is None and not (work.behind or work.below_protective):
        return Outcome(status=SmartChargingState.CONSIDERING, action=None, reason="planning")
    return None


def _wake_at_switch_times(work: Work) -> None:
    """Wake at every switch time ahead; the next start and stop of charging."""
    now, outcome = work.now, work.outcome
    future = [interval for interval in work.intervals if interval.end > now]
    for interval in future:
        if interval.start > now:
            work.wake_at(interval.start)
        work.wake_at(interval.end)
    upcoming_charges = [i for i in future if i.mode is DeviceMode.CHARGE]
    if upcoming_charges:
        first = upcoming_charges[0]
        if first.start <= now:
            outcome.next_stop = first.end
            later = [i for i in upcoming_charges if i.start > first.end]
            outcome.next_start = later[0].start if later else None
        else:
            outcome.next_start = first.start
            outcome.next_stop = first.end


def _soc_now(observation: Observation, state: ControllerState, model: ChargeModel) -> float | None:
    """The car's SoC, or the estimate from its latest report and what went in since."""
    capacity = observation.capacity_kwh
    if not capacity or capacity <= 0:
        return None
    estimate = state.estimator.estimate(
        capacity_kwh=capacity,
        efficiency=model.efficiency,
        discharge_efficiency=model.discharge_efficiency,
        uncertainty=model.efficiency_uncertainty,
    )
    soc_pct = observation.soc_pct
    report = state.estimator.report
    if estimate is not None and (
        soc_pct is None or (report is not None and report.soc_pct == soc_pct)
    ):
        soc_pct = estimate.soc_pct
    return soc_pct


def display_request(
    now: datetime,
    observation: Observation,
    prices: Sequence[PricedInterval],
    settings: ControllerSettings,
    state: ControllerState,
    tz: tzinfo,
) -> PlanRequest | None:
    """The request (with its prices) a car that follows no plan would plan with now: learned
    power and efficiency, the estimated SoC, the departure, the prices up to it. None without
    a battery size, a SoC or prices."""
    capacity = observation.capacity_kwh
    model = state.learner.model(advertised_kw=advertised_kw(observation), now=now)
    soc_pct = _soc_now(observation, state, model)
    past: list[PriceSlot] = []
    slots = current_slots(prices, now, past)
    if capacity is None or soc_pct is None or not slots:
        return None
    soc_pct = min(100.0, max(0.0, soc_pct))
    departure, target = resolve_departure(settings, now, tz)
    plan_slots, _guessed_after = extend_prices(slots, departure, past)
    limit = observation.charge_limit_pct
    basis = plan_basis(
        settings,
        model,
        observation,
        capacity,
        min(100.0, max(100.0 if limit is None else limit, soc_pct)),
        departure,
        target,
    )
    return basis.request(now, round(soc_pct, 3), until_departure(plan_slots, departure))
