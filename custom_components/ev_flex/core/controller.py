"""The per-vehicle smart charging and V2G controller.

`step()` is a pure function: given the time, what the car and charger report, the prices, the
user's settings, the controller's persisted state and what the executor has got confirmed, it
returns a `Decision`: the new state, the smart charging state (Enode's names), what the EV system
should do now, the plan and its numbers, and when the controller next needs to run.

The loop it closes:
- it plans with the planner, in-process: a `PlanRequest` in (prices as slot objects, built by
  `plan_request.PlanBasis`, as for the `plan_charging` action), a `Plan` out. It looks again at
  every slot boundary and re-plans when the prices, the SoC (by more than 0.1 point), the plug,
  the settings or the learned model moved; a re-plan with nothing changed would give the same
  plan. Beyond the last known price it plans on guessed prices (the same hour on earlier days);
- between the car's SoC reports it estimates SoC from the energy measured at the charger and
  the learned efficiency, with a pessimistic bound from that efficiency's uncertainty;
- it learns charge power, taper and efficiency from measurements (also of the car charging by
  itself while smart charging is off) and plans with them; where it only has a guess it charges
  a minute to measure the power, never at a price peak the plan avoids (see `_probe_affordable`);
- every step it checks, from the pessimistic SoC bound, whether full-power charging could still
  reach the target in time; when the car falls behind, it charges now, whatever the plan says, so
  neither a stale SoC nor a wrong model makes it miss a reachable target;
- it notices third parties starting or stopping the charge after a command was confirmed, and
  then keeps its hands off (`OVERRIDDEN`) until the car is unplugged or the user cancels;
- the user's charge-now charges at once (`CHARGING_NOW`) until the target or a cancel.

`VehicleController` wraps `step()` together with a `CommandExecutor` for the Home Assistant layer
and serialises everything (`to_dict`/`from_dict`) so a restart loses nothing.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
import hashlib
import math
from typing import Any

from .calendar_departures import next_departure
from .controller_data import (
    Considerations,
    ControllerEvent,
    ControllerSettings,
    ControllerState,
    Decision,
    DepartureOverride,
    DischargeRequest,
    EventKind,
    Observation,
    Override,
    OverrideKind,
    Session,
    SessionSummary,
    SmartChargingState,
    Totals,
    sanitized,
)
from .executor import (
    CHARGE,
    IDLE,
    CommandExecutor,
    DeviceMode,
    DeviceTarget,
    ExecutionStatus,
    ExecutorState,
)
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
from .planner import DischargeSettings, Plan, PlanRequest, PlanStatus, PriceSlot, plan as make_plan
from .soc_estimator import SocEstimate, SocReport
from .stored import read_fields

STORAGE_VERSION = 1

# Used when neither the accounts nor measurements say how fast the car charges.
DEFAULT_CHARGE_KW = 7.4
# Power at the charger above which the car counts as charging (and below minus it, discharging).
POWER_ON_KW = 0.2
# Ended plan states stay visible at least this long.
ENDED_HOLD = timedelta(minutes=1)
# After plug-in, wait this long for a SoC report newer than the plug-in before assuming the worst.
SOC_WAIT_MAX = timedelta(minutes=35)
# Clocks of accounts and Home Assistant differ a little; a report this much before the plug-in
# still counts as made after it.
REPORT_CLOCK_SLACK = timedelta(seconds=5)
# A SoC report from before the plug-in may be followed by driving: at most this much power on
# average (fast motorway driving), for the time between the report and the plug-in.
MAX_DRIVING_KW = 25.0
# Where the power was never measured, the safety check assumes only this share of the model's.
UNMEASURED_POWER_SHARE = 0.8
# How long a probe (a short charge to measure real power) may take at most.
PROBE_MAX = timedelta(minutes=5)
PROBE_SETTLE = timedelta(seconds=35)
# A car that reports only while not charging gets a short pause around its next report when
# its SoC is unknown: stop this long before the expected report, resume this long after it.
REPORT_PAUSE_BEFORE = timedelta(seconds=45)
REPORT_PAUSE_AFTER = timedelta(seconds=60)
# Only pause for a report expected within this time.
REPORT_PAUSE_HORIZON = timedelta(minutes=31)
# Readings right after a confirmed command may still show the old state (cloud accounts lag).
INTERFERENCE_GRACE = timedelta(minutes=3)
# A contradiction must last this long before it counts as interference.
INTERFERENCE_CONFIRM = timedelta(seconds=60)
# "Again and again": this many interferences within the window ask for a repair issue.
REPEATED_INTERFERENCE_COUNT = 3
REPEATED_INTERFERENCE_WINDOW = timedelta(days=14)
# A confirmed start that produces no power within this long means the charge was interrupted.
INTERRUPT_GRACE = timedelta(minutes=5)
MAX_REASSERTS_PER_SESSION = 2
REASSERT_SPACING = timedelta(minutes=10)
# Re-plan when the SoC strays this far from where the plan expected it.
REPLAN_SOC_DEVIATION_PCT = 0.1
# What is left of an interval shorter than this is not worth a command (a command takes longer).
MIN_SWITCH = timedelta(seconds=15)
# Safety margins of the "charge now if behind" check.
BEHIND_TIME_FACTOR = 1.03
BEHIND_FIXED_MARGIN = timedelta(minutes=3)
BEHIND_POWER_SHARE = 0.97
# A target counts as reached this close to it (cars report whole percent; this only keeps the
# last few watt-hours of a plan's rounding from starting another charge).
TARGET_TOLERANCE_PCT = 0.05
# The controller wants to run at least this often.
MAX_WAKE_PLUGGED = timedelta(minutes=15)
MAX_WAKE_UNPLUGGED = timedelta(hours=1)
# Demand-response discharges that may wait at once (each is a request of its own).
MAX_DISCHARGE_REQUESTS = 10

Planner = Callable[[PlanRequest], Plan]


def _slot_at(slots: Sequence[PriceSlot], moment: datetime) -> PriceSlot | None:
    for slot in slots:
        if slot.start <= moment < slot.end:
            return slot
    return None


# --------------------------------------------------------------------------------------------
# Departures


def resolve_departure(
    settings: ControllerSettings, reference: datetime, tz: tzinfo
) -> tuple[datetime | None, float]:
    """The departure and target that apply to a session resolved at `reference`."""
    override = settings.departure_override
    if override is not None and override.at > reference:
        target = settings.target_soc_pct
        if override.target_soc_pct is not None:
            target = override.target_soc_pct
        return override.at, target
    # A daily departure is a week with the same time every day.
    schedule = settings.weekly_departures
    if schedule is None:
        schedule = (settings.departure_time,) * 7
    return next_departure(
        schedule, settings.calendar_departures, reference, tz, settings.target_soc_pct
    )


# --------------------------------------------------------------------------------------------
# Plans


@dataclass(frozen=True, kw_only=True)
class _Interval:
    start: datetime
    end: datetime
    mode: DeviceMode
    kw: float


def _plan_intervals(plan: Plan | None) -> list[_Interval]:
    if plan is None:
        return []
    return [
        _Interval(
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


# --------------------------------------------------------------------------------------------
# The step


@dataclass(kw_only=True)
class _Work:
    """Scratch space of one step."""

    now: datetime
    settings: ControllerSettings
    state: ControllerState
    executor: ExecutorState
    observation: Observation
    model: ChargeModel
    past_slots: list[PriceSlot] = field(default_factory=list)
    events: list[ControllerEvent] = field(default_factory=list)
    wake: list[datetime] = field(default_factory=list)
    reassert: bool = False

    def event(self, kind: EventKind, detail: str | None = None) -> None:
        self.events.append(ControllerEvent(kind=kind, at=self.now, detail=detail))

    def wake_at(self, moment: datetime | None) -> None:
        if moment is not None and moment > self.now:
            self.wake.append(moment)


def _end_plan(work: _Work, outcome: SmartChargingState) -> None:
    session = work.state.session
    if session is None or not session.plan_active:
        return
    session.plan_active = False
    session.plan_finished = outcome is SmartChargingState.ENDED_FINISHED
    work.state.ended = (outcome, work.now)
    work.state.last_outcome = (outcome, work.now)
    work.event(EventKind.PLAN_ENDED, outcome.value)


def _start_session(work: _Work, tz: tzinfo) -> None:
    now, plugged_in_at = work.now, work.observation.plugged_in_at
    departure, target = resolve_departure(work.settings, now, tz)
    if plugged_in_at is not None and plugged_in_at <= now:
        # The account knows when the cable went in: reports since then are current.
        valid_from: datetime | None = plugged_in_at - REPORT_CLOCK_SLACK
    elif work.state.last_plugged is False:
        # We saw it unplugged: reports before now may predate a trip.
        valid_from = now - REPORT_CLOCK_SLACK
    else:
        # First sight (a fresh install or the car was unknown): nothing says it drove since.
        valid_from = None
    work.state.session = Session(
        started_at=now,
        departure=departure,
        target_soc_pct=target,
        resolved_at=now,
        reports_valid_from=valid_from,
    )
    # SoC changed while the car was away: an efficiency sample can't span the trip.
    work.state.estimator.restart_anchor()
    work.state.plan = None
    work.state.plan_key = None
    # What the devices were confirmed to do belongs to the last session: send afresh.
    work.reassert = True


def _end_session(work: _Work) -> None:
    state, now = work.state, work.now
    session = state.session
    if session is None:
        return
    _end_plan(work, SmartChargingState.ENDED_UNPLUGGED)
    summary = SessionSummary(
        started_at=session.started_at,
        ended_at=now,
        energy_in_kwh=session.energy_in_kwh,
        energy_out_kwh=session.energy_out_kwh,
        cost=session.cost,
        revenue=session.revenue,
        charge_now_cost=session.baseline_cost,
    )
    state.last_session = summary
    totals = state.totals
    totals.energy_in_kwh += summary.energy_in_kwh
    totals.energy_out_kwh += summary.energy_out_kwh
    totals.cost += summary.cost
    totals.revenue += summary.revenue
    totals.savings += summary.savings
    totals.sessions += 1
    state.session = None
    state.plan = None
    state.plan_key = None
    state.override = None
    state.contradiction_since = None
    requested = work.settings.charge_now_requested_at
    if requested is not None and requested <= now:
        state.charge_now_done_for = requested
    work.event(EventKind.SESSION_ENDED)


def _account_energy(
    work: _Work, slots: Sequence[PriceSlot], energy_in: float, energy_out: float
) -> None:
    """Add this step's energy and money to the session, and run the charge-at-once baseline."""
    state, session = work.state, work.state.session
    if session is None:
        return
    since = state.last_step_at or work.now
    slot = _slot_at(slots, since) or _slot_at(slots, work.now)
    session.energy_in_kwh += energy_in
    session.energy_out_kwh += energy_out
    if slot is None:
        return
    session.cost += energy_in * slot.import_price
    if slot.export_price is not None:
        session.revenue += energy_out * slot.export_price
    remaining = session.baseline_remaining_kwh
    if remaining is not None and remaining > 0:
        hours = max(0.0, (work.now - since).total_seconds() / 3600.0)
        bought = min(remaining, work.model.max_kw * hours)
        session.baseline_cost += bought * slot.import_price
        session.baseline_remaining_kwh = remaining - bought


def _check_interference(work: _Work, soc: SocEstimate | None) -> bool:
    """Detect a third party's start or stop; returns True when the charge was interrupted."""
    state, executor, obs, now = work.state, work.executor, work.observation, work.now
    confirmed, confirmed_at = executor.confirmed, executor.confirmed_at
    power = obs.power_kw
    if power is None:
        power = 1.0 if obs.charging else 0.0
    charging = power >= POWER_ON_KW
    discharging = power <= -POWER_ON_KW
    if confirmed is None or confirmed_at is None or executor.in_flight is not None:
        state.contradiction_since = None
        return False
    if charging and confirmed.mode is DeviceMode.CHARGE:
        state.power_seen_for = confirmed_at
    if discharging and confirmed.mode is DeviceMode.DISCHARGE:
        state.power_seen_for = confirmed_at
    if now - confirmed_at < INTERFERENCE_GRACE:
        work.wake_at(confirmed_at + INTERFERENCE_GRACE)
        state.contradiction_since = None
        return False
    limit = obs.charge_limit_pct if obs.charge_limit_pct is not None else 100.0
    car_is_full = bool(obs.fully_charged) or (soc is not None and soc.soc_pct >= limit - 1.0)
    power_was_seen = state.power_seen_for == confirmed_at
    # Charging although we stopped it, or stopped after it had been charging for us.
    contradiction = (confirmed.mode is not DeviceMode.CHARGE and charging) or (
        confirmed.mode is DeviceMode.CHARGE and power_was_seen and not charging and not car_is_full
    )
    if state.last_action is not None and contradiction:
        # What we asked for last already matches what is seen: we are mid-change, not overruled.
        wanted = state.last_action.mode
        if (wanted is DeviceMode.CHARGE and charging) or (
            wanted is DeviceMode.IDLE and not charging and not discharging
        ):
            contradiction = False
    if not contradiction:
        state.contradiction_since = None
        interrupted = (
            confirmed.mode is DeviceMode.CHARGE
            and not power_was_seen
            and not charging
            and not car_is_full
            and now - confirmed_at >= INTERRUPT_GRACE
        )
        if confirmed.mode is DeviceMode.CHARGE and not power_was_seen:
            work.wake_at(confirmed_at + INTERRUPT_GRACE)
        return interrupted
    if executor.confirmed_without_command:
        # EV Flex sent nothing (the devices already were so) and they changed by themselves
        # (a charger back online, say): now a command is due, this is no one's override.
        state.contradiction_since = None
        work.reassert = True
        return False
    if state.contradiction_since is None:
        state.contradiction_since = now
    if now - state.contradiction_since >= INTERFERENCE_CONFIRM:
        state.override = Override(kind=OverrideKind.EXTERNAL, since=now)
        state.contradiction_since = None
        # What the devices do is no longer what we confirmed: forget it, so the first command
        # after the override is sent even if it looks like the last one.
        work.reassert = True
        state.interference_times = [
            *[t for t in state.interference_times if now - t <= REPEATED_INTERFERENCE_WINDOW],
            now,
        ][-20:]
        work.event(EventKind.INTERFERENCE, "started" if charging else "stopped")
    else:
        work.wake_at(state.contradiction_since + INTERFERENCE_CONFIRM)
    return False


def _plan_basis(
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
    work: _Work, key: str, soc_pct: float, slots: Sequence[PriceSlot], basis: PlanBasis
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


def _interval_now(intervals: Sequence[_Interval], now: datetime) -> _Interval | None:
    for interval in intervals:
        if interval.start <= now < interval.end and interval.end - now >= MIN_SWITCH:
            return interval
    return None


# The reason while the devices have not yet confirmed the command for the current action.
AWAITING_CONFIRMATION = "awaiting_confirmation"


def _status_for_action(
    action: DeviceTarget, executor: ExecutorState, awaiting_prices: bool, interrupted: bool
) -> SmartChargingState:
    status = executor.status_for(action)
    if action.mode is DeviceMode.DISCHARGE:
        if status is ExecutionStatus.FAILED:
            return SmartChargingState.START_FAILED
        return SmartChargingState.DISCHARGING
    if action.mode is DeviceMode.CHARGE:
        if status is ExecutionStatus.CONFIRMED:
            if interrupted:
                return SmartChargingState.CHARGE_INTERRUPTED
            return SmartChargingState.STARTED
        if status is ExecutionStatus.FAILED:
            return SmartChargingState.START_FAILED
        return SmartChargingState.STARTING
    if status is ExecutionStatus.CONFIRMED:
        if awaiting_prices:
            return SmartChargingState.STOPPED_AWAITING_PRICES
        return SmartChargingState.STOPPED
    if status is ExecutionStatus.FAILED:
        return SmartChargingState.STOP_FAILED
    return SmartChargingState.STOPPING


def _active_discharge_request(
    settings: ControllerSettings, now: datetime
) -> DischargeRequest | None:
    cancelled = settings.override_cancelled_at
    for request in settings.discharge_requests:
        if cancelled is not None and request.requested_at <= cancelled:
            continue
        if request.requested_at <= now < request.until:
            return request
    return None


def _advertised_kw(obs: Observation) -> float:
    """The power the accounts advertise, the learner's starting guess."""
    advertised = obs.advertised_charge_kw
    if advertised is None or not math.isfinite(advertised) or advertised <= 0:
        return DEFAULT_CHARGE_KW
    return advertised


def step(
    *,
    now: datetime,
    observation: Observation,
    prices: Sequence[PricedInterval],
    settings: ControllerSettings,
    state: ControllerState,
    executor: ExecutorState,
    tz: tzinfo,
    planner: Planner = make_plan,
) -> Decision:
    """One pass of the controller; pure: `state` and `executor` are not changed."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    settings = sanitized(settings)
    new_state = state.copy()
    obs = observation
    advertised = _advertised_kw(obs)
    model = new_state.learner.model(advertised_kw=advertised, now=now)
    work = _Work(
        now=now,
        settings=settings,
        state=new_state,
        executor=executor,
        observation=obs,
        model=model,
    )
    slots = current_slots(prices, now, work.past_slots)

    # Energy since the last step, split where a command took effect.
    change_at = executor.confirmed_at
    if change_at is not None and (
        new_state.last_step_at is None or change_at <= new_state.last_step_at
    ):
        change_at = None
    power = obs.power_kw
    if power is None and obs.charging is False:
        power = 0.0
    estimator = new_state.estimator
    previous_kw, previous_at = estimator.last_power_kw, estimator.last_power_at
    before_in, before_out = estimator.energy_in_kwh, estimator.energy_out_kwh
    estimator.observe_power(now, power, meter_kwh=obs.energy_meter_kwh, change_at=change_at)
    energy_in = estimator.energy_in_kwh - before_in
    energy_out = estimator.energy_out_kwh - before_out
    sample = estimator.observe_report(now, obs.soc_pct, obs.soc_reported_at)
    capacity = obs.capacity_kwh if obs.capacity_kwh and obs.capacity_kwh > 0 else None
    if sample is not None and capacity is not None:
        change_kwh = abs(sample.soc_change_pct) / 100.0 * capacity
        if sample.grid_in_kwh > 0:
            new_state.learner.add_charge_sample(grid_kwh=sample.grid_in_kwh, stored_kwh=change_kwh)
        else:
            new_state.learner.add_discharge_sample(
                grid_kwh=sample.grid_out_kwh, drawn_kwh=change_kwh
            )
    model = new_state.learner.model(advertised_kw=advertised, now=now)
    work.model = model

    # Plug transitions.
    plugged = obs.plugged_in
    if plugged is True and new_state.session is None:
        _start_session(work, tz)
    elif plugged is False and new_state.session is not None:
        _end_session(work)
    if plugged is not None:
        new_state.last_plugged = plugged
    _account_energy(work, slots, energy_in, energy_out)

    # Full-power readings teach the charge power and the taper: of a charge we started, or,
    # with smart charging off, of the car charging by itself (it then charges at full power),
    # so turning smart charging on needs no charge to measure it.
    power_sampled = False
    confirmed = executor.confirmed
    ours = (
        confirmed is not None
        and confirmed.mode is DeviceMode.CHARGE
        and executor.confirmed_at is not None
        and now - executor.confirmed_at >= timedelta(seconds=30)
    )
    by_itself = (
        not settings.smart_charging
        and previous_kw is not None
        and previous_kw >= POWER_ON_KW
        and previous_at is not None
        and now - previous_at >= timedelta(seconds=30)
    )
    if (
        (ours or by_itself)
        and power is not None
        and power >= POWER_ON_KW
        and capacity is not None
        and _report_is_current(new_state)
    ):
        before = new_state.learner.model(advertised_kw=advertised, now=now)
        preview = estimator.estimate(
            capacity_kwh=capacity,
            efficiency=before.efficiency,
            discharge_efficiency=before.discharge_efficiency,
            uncertainty=before.efficiency_uncertainty,
        )
        if preview is not None:
            limit = obs.charge_limit_pct if obs.charge_limit_pct is not None else 100.0
            if preview.soc_pct < limit - 1.0:
                new_state.learner.add_power_sample(now=now, soc_pct=preview.soc_pct, power_kw=power)
                power_sampled = True
    model = new_state.learner.model(advertised_kw=advertised, now=now)
    work.model = model

    session = new_state.session
    soc = (
        None
        if capacity is None
        else estimator.estimate(
            capacity_kwh=capacity,
            efficiency=model.efficiency,
            discharge_efficiency=model.discharge_efficiency,
            uncertainty=model.efficiency_uncertainty,
        )
    )
    waiting_for_soc = False
    provisional_pct = 0.0
    if session is not None:
        if power_sampled:
            session.probe_done = True
        fresh = _report_is_current(new_state)
        if capacity is not None and not fresh:
            # The last report is from before the plug-in: a trip may have used part of it.
            provisional_pct = _provisional_soc(work, session, capacity)
            if now - session.started_at < SOC_WAIT_MAX:
                waiting_for_soc = True
                soc = None
                work.wake_at(session.started_at + SOC_WAIT_MAX)
            else:
                # No word from the car: assume the worst plausible trip, never leave it stranded.
                estimator.report = SocReport(soc_pct=provisional_pct, at=now)
                soc = estimator.estimate(
                    capacity_kwh=capacity,
                    efficiency=model.efficiency,
                    discharge_efficiency=model.discharge_efficiency,
                    uncertainty=model.efficiency_uncertainty,
                )
    has_estimate = soc is not None and not waiting_for_soc
    considerations = Considerations(
        plugged_in=plugged is True,
        at_charging_location=obs.at_charging_location,
        has_time_estimate=has_estimate,
        has_prices=bool(slots),
    )

    outcome = _decide(work, tz, slots, soc, capacity, waiting_for_soc, provisional_pct, planner)
    status, action, reason = outcome.status, outcome.action, outcome.reason
    in_flight = executor.in_flight
    if in_flight is not None:
        # A command is on its way (some vendors take half an hour): say so, and look again
        # when it is due to be checked.
        if in_flight.target == action:
            reason = AWAITING_CONFIRMATION
        if in_flight.next_check_at is not None:
            work.wake_at(in_flight.next_check_at)

    # Ended plan states stay visible for a moment.
    if new_state.ended is not None:
        ended_state, ended_at = new_state.ended
        if now < ended_at + ENDED_HOLD:
            status = ended_state
            work.wake_at(ended_at + ENDED_HOLD)
        else:
            new_state.ended = None
    if status is not new_state.status or new_state.status_changed_at is None:
        new_state.status = status
        new_state.status_changed_at = now
    previous_mode = None if new_state.last_action is None else new_state.last_action.mode
    if (
        action is not None
        and action.mode is DeviceMode.DISCHARGE
        and previous_mode is not DeviceMode.DISCHARGE
    ):
        work.event(EventKind.DISCHARGE_STARTED, f"{action.power_kw:g}")
    if action is not None:
        new_state.last_action = action
    new_state.last_step_at = now
    if executor.retry_not_before is not None:
        work.wake_at(executor.retry_not_before)
    longest_sleep = MAX_WAKE_PLUGGED if plugged else MAX_WAKE_UNPLUGGED
    wake = min([now + longest_sleep, *work.wake])
    recent = [t for t in new_state.interference_times if now - t <= REPEATED_INTERFERENCE_WINDOW]
    session = new_state.session
    return Decision(
        state=new_state,
        status=status,
        status_changed_at=new_state.status_changed_at or now,
        considerations=considerations,
        action=action,
        reason=reason,
        soc=soc,
        departure=None if session is None else session.departure,
        target_soc_pct=None if session is None else session.target_soc_pct,
        next_start=outcome.next_start,
        next_stop=outcome.next_stop,
        estimated_cost=outcome.estimated_cost,
        charge_now_cost=outcome.charge_now_cost,
        expected_soc_at_departure_pct=outcome.expected_soc,
        shortfall_pct=outcome.shortfall,
        plan=new_state.plan,
        prices_guessed_after=outcome.prices_guessed_after,
        override=None if new_state.override is None else new_state.override.kind,
        model=model,
        wake_at=wake,
        events=tuple(work.events),
        reassert=work.reassert,
        repeated_interference=len(recent) >= REPEATED_INTERFERENCE_COUNT,
        interference_count=len(recent),
    )


@dataclass(kw_only=True)
class _Outcome:
    status: SmartChargingState
    action: DeviceTarget | None
    reason: str
    next_start: datetime | None = None
    next_stop: datetime | None = None
    estimated_cost: float | None = None
    charge_now_cost: float | None = None
    expected_soc: float | None = None
    shortfall: float | None = None
    prices_guessed_after: datetime | None = None


def _decide(
    work: _Work,
    tz: tzinfo,
    slots: Sequence[PriceSlot],
    soc: SocEstimate | None,
    capacity: float | None,
    waiting_for_soc: bool,
    provisional_pct: float,
    planner: Planner,
) -> _Outcome:
    state, settings, obs, now = work.state, work.settings, work.observation, work.now
    executor = work.executor
    session = state.session

    if obs.plugged_in is None and obs.soc_pct is None and obs.power_kw is None:
        return _Outcome(status=SmartChargingState.UNKNOWN, action=None, reason="no_readings")

    if not settings.smart_charging:
        _end_plan(work, SmartChargingState.ENDED_DISABLED)
        state.override = None
        state.plan = None
        state.plan_key = None
        action: DeviceTarget | None = None
        if obs.plugged_in and executor.confirmed is not None and executor.confirmed != CHARGE:
            # We left it stopped (or discharging): hand it back charging, as if we were never here.
            action = CHARGE
        elif obs.plugged_in and executor.discharge_may_be_active:
            action = CHARGE
        return _Outcome(status=SmartChargingState.DISABLED, action=action, reason="disabled")

    if session is None or not obs.plugged_in:
        return _Outcome(status=SmartChargingState.CONSIDERING, action=None, reason="unplugged")
    if not obs.at_charging_location:
        return _Outcome(status=SmartChargingState.CONSIDERING, action=None, reason="away")

    # Departure: passed, or changed by the user.
    if session.departure is not None and now >= session.departure:
        if session.plan_active:
            met = soc is not None and soc.low_pct >= session.target_soc_pct - TARGET_TOLERANCE_PCT
            _end_plan(
                work,
                SmartChargingState.ENDED_FINISHED if met else SmartChargingState.ENDED_FAILED,
            )
        departure, target = resolve_departure(settings, now, tz)
        session.departure, session.target_soc_pct, session.resolved_at = departure, target, now
        session.catching_up = False
        state.plan = None
    else:
        departure, target = resolve_departure(settings, session.resolved_at or now, tz)
        if departure != session.departure:
            _end_plan(work, SmartChargingState.ENDED_DEADLINE_CHANGED)
            departure, target = resolve_departure(settings, now, tz)
            session.departure, session.resolved_at = departure, now
            state.plan = None
        session.target_soc_pct = target
    departure, target = session.departure, session.target_soc_pct
    if departure is not None:
        work.wake_at(departure)

    # Overrides.
    cancelled = settings.override_cancelled_at
    if state.override is not None and cancelled is not None and cancelled >= state.override.since:
        state.override = None
        # Whatever the devices do now was not our doing: send the plan's wish again.
        work.reassert = True
    interrupted = False
    if state.override is None:
        interrupted = _check_interference(work, soc)

    # Waiting for the first report of a car with a known rhythm: plan from the worst plausible
    # SoC meanwhile, and pause charging around the expected report (see _pause_for_report).
    rhythm_known = (
        waiting_for_soc
        and work.state.estimator.next_report_expected(now - REPORT_PAUSE_AFTER) is not None
    )
    if rhythm_known and soc is None and capacity is not None:
        soc = SocEstimate(
            soc_pct=provisional_pct,
            low_pct=provisional_pct,
            high_pct=provisional_pct,
            reported_at=session.started_at,
            is_estimated=True,
        )

    limit = obs.charge_limit_pct if obs.charge_limit_pct is not None else 100.0
    max_soc = max(limit, soc.soc_pct if soc is not None else 0.0)
    reachable_target = min(target, limit)
    if (
        session.baseline_remaining_kwh is None
        and soc is not None
        and capacity is not None
        and not waiting_for_soc
    ):
        session.baseline_remaining_kwh = (
            max(0.0, reachable_target - soc.soc_pct) / 100.0 * capacity / work.model.efficiency
        )

    # The plan (also while overridden, so the user still sees it).
    outcome = _Outcome(status=SmartChargingState.CONSIDERING, action=IDLE, reason="considering")
    intervals: list[_Interval] = []
    awaiting_prices = not slots
    if slots:
        # Look again at every slot boundary.
        work.wake_at(slots[0].end)
    plan_slots, outcome.prices_guessed_after = extend_prices(slots, departure, work.past_slots)
    plan_slots = until_departure(plan_slots, departure)
    if soc is not None and capacity is not None and slots:
        # The plan follows the best estimate; the behind-check below guards the pessimistic
        # bound, and a report after charging (most cars report once idle) settles the rest.
        soc_for_plan = min(100.0, max(0.0, soc.soc_pct))
        basis = _plan_basis(
            settings,
            work.model,
            obs,
            capacity,
            min(100.0, max(max_soc, soc_for_plan)),
            departure,
            target,
        )
        key = _plan_key(basis, session.started_at)
        if _needs_replan(work, key, soc_for_plan, plan_slots, basis):
            request = basis.request(now, round(soc_for_plan, 3), plan_slots)
            try:
                state.plan = planner(request)
            except (ValueError, ArithmeticError):
                state.plan = None
            state.plan_request = replace(request, prices=())
            state.plan_key = key
            state.plan_soc_pct = soc_for_plan
            state.plan_made_at = now
        plan = state.plan
        if plan is not None:
            intervals = _plan_intervals(plan)
            awaiting_prices = (
                plan.status is PlanStatus.AWAITING_PRICES
                or outcome.prices_guessed_after is not None
            )
            outcome.estimated_cost = plan.cost
            outcome.charge_now_cost = plan.charge_now_cost
            if plan.targets:
                expected = plan.targets[0].expected_soc_pct
                outcome.expected_soc = expected
                outcome.shortfall = max(0.0, round(target - expected, 2))

    else:
        state.plan = None
        state.plan_key = None

    future = [interval for interval in intervals if interval.end > now]
    for interval in future:
        if interval.start > now:
            work.wake_at(interval.start)
        work.wake_at(interval.end)
    current = _interval_now(intervals, now)
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

    # Is the car behind? Then it charges now, whatever the plan says.
    behind = False
    below_protective = False
    latest_start: datetime | None = None
    charge_hours: float | None = None
    # While waiting for the car's first report, judge by the worst plausible trip.
    cautious_soc = soc.low_pct if soc is not None else provisional_pct
    if capacity is not None and (soc is not None or waiting_for_soc):
        below_protective = cautious_soc < settings.protective_soc_pct - TARGET_TOLERANCE_PCT
        if departure is not None:
            latest_start = _latest_start(work, cautious_soc, reachable_target, capacity, departure)
            charge_hours = work.model.hours_to_charge(cautious_soc, reachable_target, capacity)
            if latest_start is None:
                session.catching_up = False
            else:
                behind = session.catching_up or now >= latest_start
                session.catching_up = behind
                work.wake_at(latest_start)
    need_more = soc is None or (
        departure is not None and soc.low_pct < reachable_target - TARGET_TOLERANCE_PCT
    )

    # The user's charge-now.
    requested = settings.charge_now_requested_at
    charge_now = (
        requested is not None
        and requested != state.charge_now_done_for
        and (cancelled is None or cancelled < requested)
        and requested <= now
    )
    if charge_now and soc is not None and soc.low_pct >= reachable_target - TARGET_TOLERANCE_PCT:
        state.charge_now_done_for = requested
        charge_now = False
    if charge_now and requested is not None:
        if state.override is None or state.override.kind is not OverrideKind.CHARGE_NOW:
            state.override = Override(kind=OverrideKind.CHARGE_NOW, since=requested)
    elif state.override is not None and state.override.kind is OverrideKind.CHARGE_NOW:
        state.override = None

    override = state.override
    if override is not None:
        if not session.plan_active:
            session.plan_active = True
            work.event(EventKind.PLAN_STARTED, override.kind.value)
        if override.kind is OverrideKind.CHARGE_NOW:
            _charge_now(work, outcome, soc, capacity, reachable_target)
        else:
            outcome.status, outcome.action, outcome.reason = (
                SmartChargingState.OVERRIDDEN,
                None,
                "external",
            )
        return outcome

    probe = not waiting_for_soc and _wants_probe(
        work, session, None if soc is None else soc.low_pct
    )
    if waiting_for_soc and not rhythm_known and not (behind or below_protective):
        # Keep the car from charging so it reports (many don't while charging).
        return _Outcome(
            status=SmartChargingState.CONSIDERING, action=IDLE, reason="waiting_for_soc"
        )

    # Demand response and backup power: discharge within the reserve, unless that would make
    # the departure target unreachable.
    discharge_kw = 0.0
    request_dr = _active_discharge_request(settings, now)
    if settings.v2g and obs.max_discharge_kw > 0:
        if request_dr is not None:
            discharge_kw = min(request_dr.power_kw, obs.max_discharge_kw)
            work.wake_at(request_dr.until)
        elif settings.backup_on_outage and obs.grid_outage:
            discharge_kw = obs.max_discharge_kw
    if discharge_kw > 0 and soc is not None and capacity is not None:
        exhausted = (
            request_dr is not None and session.demand_response_done == request_dr.requested_at
        )
        allowed = (
            not exhausted
            and not behind
            and not below_protective
            and _may_discharge(work, soc, capacity, discharge_kw, departure, reachable_target)
        )
        _activate_plan(work, session)
        if allowed:
            action = DeviceTarget(mode=DeviceMode.DISCHARGE, power_kw=round(discharge_kw, 3))
            outcome.action, outcome.reason = action, "demand_response"
            outcome.status = _status_for_action(action, executor, False, False)
            return outcome
        if request_dr is not None:
            # Done for this request (reserve reached): don't start again when the SoC wobbles.
            session.demand_response_done = request_dr.requested_at
        if not (behind or below_protective):
            # While the grid asks for power, don't take any for the plan.
            outcome.action, outcome.reason = IDLE, "demand_response_reserve"
            outcome.status = _status_for_action(IDLE, executor, False, False)
            return outcome

    wanted: DeviceTarget = IDLE
    reason = "plan"
    if behind or below_protective:
        wanted, reason = CHARGE, ("protective" if below_protective else "behind")
        if capacity is not None:
            # Look again when the cautious SoC should have reached what it is charging for.
            goal = settings.protective_soc_pct if below_protective else reachable_target
            hours = work.model.hours_to_charge(
                cautious_soc,
                goal,
                capacity,
                efficiency=work.model.efficiency * (1.0 - work.model.efficiency_uncertainty),
            )
            work.wake_at(now + timedelta(hours=hours) + timedelta(seconds=5))
    elif capacity is None:
        # Without the battery's size nothing can be estimated, planned or guarded: never hold
        # the car back.
        wanted, reason = CHARGE, "no_capacity"
    elif current is not None:
        if current.mode is DeviceMode.CHARGE:
            wanted = CHARGE
        elif soc is not None and soc.low_pct > work.settings.reserve_soc_pct:
            wanted = DeviceTarget(mode=DeviceMode.DISCHARGE, power_kw=round(current.kw, 3))
    elif not slots:
        reason = "no_prices"
    if (
        wanted == IDLE
        and probe
        and (bool(slots) or need_more)
        and _probe_affordable(work, slots, departure, charge_hours)
    ):
        return _probe(work, session, outcome)
    if waiting_for_soc and wanted == CHARGE and _pause_for_report(work):
        wanted, reason = IDLE, "pause_for_soc"

    active = (
        wanted != IDLE
        or bool(future)
        or (need_more and (bool(slots) or session.plan_active))
        or (session.plan_active and soc is None)
    )
    if not active:
        if session.plan_active:
            _end_plan(work, SmartChargingState.ENDED_FINISHED)
        status = (
            SmartChargingState.ENDED_FINISHED
            if session.plan_finished
            else SmartChargingState.FULLY_CHARGED
        )
        if need_more:
            # Short of the target but nothing to plan with (no prices): still considering.
            status = SmartChargingState.CONSIDERING
        outcome.status, outcome.action, outcome.reason = status, IDLE, "nothing_to_do"
        return outcome

    if not slots and wanted == IDLE and not session.plan_active:
        # No prices yet and no need to act: keep considering (the behind-check still guards).
        outcome.status, outcome.action, outcome.reason = (
            SmartChargingState.CONSIDERING,
            IDLE,
            "no_prices",
        )
        return outcome

    _activate_plan(work, session)
    if interrupted and wanted == CHARGE:
        last = session.last_reassert_at
        if session.reasserts < MAX_REASSERTS_PER_SESSION and (
            last is None or now - last >= REASSERT_SPACING
        ):
            session.reasserts += 1
            session.last_reassert_at = now
            work.reassert = True
    outcome.action, outcome.reason = wanted, reason
    outcome.status = _status_for_action(wanted, executor, awaiting_prices, interrupted)
    return outcome


def _charge_now(
    work: _Work,
    outcome: _Outcome,
    soc: SocEstimate | None,
    capacity: float | None,
    target: float,
) -> None:
    """The user's charge-now: charge at once until the target; the plan's numbers become those
    of charging at once (charging now, stopping when full, costing what charging at once does)."""
    now = work.now
    outcome.next_start = None
    outcome.next_stop = None
    if soc is not None and capacity is not None:
        hours = work.model.hours_to_charge(soc.low_pct, target, capacity)
        outcome.next_stop = now + timedelta(hours=hours)
        work.wake_at(outcome.next_stop + timedelta(seconds=30))
    outcome.estimated_cost = outcome.charge_now_cost
    outcome.action, outcome.reason = CHARGE, "charge_now"
    failed = work.executor.status_for(CHARGE) is ExecutionStatus.FAILED
    outcome.status = SmartChargingState.START_FAILED if failed else SmartChargingState.CHARGING_NOW


def _pause_for_report(work: _Work) -> bool:
    """Whether to pause charging now so the car can report its SoC (see REPORT_PAUSE_*)."""
    now = work.now
    expected = work.state.estimator.next_report_expected(now - REPORT_PAUSE_AFTER)
    if expected is None or expected - now > REPORT_PAUSE_HORIZON:
        return False
    pause_start, pause_end = expected - REPORT_PAUSE_BEFORE, expected + REPORT_PAUSE_AFTER
    work.wake_at(pause_start)
    work.wake_at(pause_end)
    return pause_start <= now < pause_end


def _report_is_current(state: ControllerState) -> bool:
    """Whether the SoC report belongs to this session (not from before a trip)."""
    report, session = state.estimator.report, state.session
    if report is None:
        return False
    return (
        session is None
        or session.reports_valid_from is None
        or (report.at >= session.reports_valid_from)
    )


def _provisional_soc(work: _Work, session: Session, capacity: float) -> float:
    """The lowest SoC the car can plausibly have now, before it reports after the plug-in.

    The last report is from before the plug-in; the car may have driven hard since. Energy
    that went in since the plug-in counts with the pessimistic efficiency.
    """
    estimator, model = work.state.estimator, work.model
    report = estimator.report
    if report is None:
        base = 0.0
    else:
        hours = max(0.0, (session.started_at - report.at).total_seconds() / 3600.0)
        base = max(0.0, report.soc_pct - hours * MAX_DRIVING_KW / capacity * 100.0)
    energy_in, energy_out = estimator.energy_since(session.started_at)
    stored = energy_in * model.efficiency * (1.0 - model.efficiency_uncertainty)
    stored -= energy_out / model.discharge_efficiency
    return min(100.0, max(0.0, base + stored / capacity * 100.0))


def _latest_start(
    work: _Work, soc_pct: float, target: float, capacity: float, departure: datetime
) -> datetime | None:
    """The last moment full-power charging can still reach the target, with margins."""
    if soc_pct >= target - TARGET_TOLERANCE_PCT:
        return None
    model = work.model
    hours = model.hours_to_charge(
        soc_pct,
        target,
        capacity,
        efficiency=model.efficiency * (1.0 - model.efficiency_uncertainty),
        power_share=BEHIND_POWER_SHARE,
        unmeasured_share=UNMEASURED_POWER_SHARE,
    )
    return departure - timedelta(hours=hours * BEHIND_TIME_FACTOR) - BEHIND_FIXED_MARGIN


def _wants_probe(work: _Work, session: Session, soc_pct: float | None) -> bool:
    """Whether to charge briefly to measure the power where the model only guesses.

    The advertised power can be far off (a car that takes 7 kW on an 11 kW charger), and so can
    the generic taper; a minute of charging settles it before it matters (when: see
    `_probe_affordable`).
    """
    if session.probe_done or soc_pct is None or session.departure is None:
        return False
    if session.probe_started_at is not None and work.now - session.probe_started_at >= PROBE_MAX:
        session.probe_done = True
        return False
    if soc_pct >= session.target_soc_pct - TARGET_TOLERANCE_PCT:
        return False
    return not work.model.is_measured_at(soc_pct)


def _probe_affordable(
    work: _Work,
    slots: Sequence[PriceSlot],
    departure: datetime | None,
    charge_hours: float | None,
) -> bool:
    """Whether a probe may start now.

    Only at a price the plan pays for charging anyway, or at the cheapest moment before the plan
    first charges, so turning smart charging on at the evening peak buys no minute of the peak.
    A tight session probes at once: when less time is left than twice what the charge takes, a
    car charging at half the guessed power would already be late. Without prices nothing says now is
    dear; a probe that started runs to its end.
    """
    session = work.state.session
    if not slots or (session is not None and session.probe_started_at is not None):
        return True
    # Twice the charge at the model's own power, not at the safety check's cautious one: that
    # already assumes a slow car, and doubling it made ordinary overnight sessions "tight".
    if (
        departure is not None
        and charge_hours is not None
        and departure - work.now < timedelta(hours=2.0 * charge_hours)
    ):
        return True
    plan = work.state.plan
    charging = [
        (slot.start, slot.import_price)
        for slot in (() if plan is None else plan.slots)
        if slot.charge_kw > 0.0 and slot.end > work.now
    ]
    if not charging:
        return False
    price_now = slots[0].import_price
    first_charge = charging[0][0]
    before = [slot.import_price for slot in slots if slot.start < first_charge]
    return price_now <= max(price for _, price in charging) or price_now <= min(
        before, default=price_now
    )


def _probe(work: _Work, session: Session, outcome: _Outcome) -> _Outcome:
    if session.probe_started_at is None:
        session.probe_started_at = work.now
    executor = work.executor
    if executor.confirmed == CHARGE and executor.confirmed_at is not None:
        work.wake_at(executor.confirmed_at + PROBE_SETTLE)
    else:
        work.wake_at(work.now + PROBE_SETTLE)
    work.wake_at(session.probe_started_at + PROBE_MAX)
    outcome.action, outcome.reason = CHARGE, "probe"
    # A probe is a measurement, not a plan: before one exists the state stays CONSIDERING.
    outcome.status = (
        _status_for_action(CHARGE, executor, False, False)
        if session.plan_active
        else SmartChargingState.CONSIDERING
    )
    return outcome


def _activate_plan(work: _Work, session: Session) -> None:
    if not session.plan_active:
        session.plan_active = True
        session.plan_finished = False
        ended = work.state.ended
        if ended is not None and ended[1] < work.now:
            work.state.ended = None
        work.event(EventKind.PLAN_STARTED)


def _may_discharge(
    work: _Work,
    soc: SocEstimate,
    capacity: float,
    power_kw: float,
    departure: datetime | None,
    target: float,
) -> bool:
    """Discharge is fine if the reserve holds and the target stays reachable a while longer."""
    look_ahead = MAX_WAKE_PLUGGED
    drop = power_kw * look_ahead.total_seconds() / 3600.0 / work.model.discharge_efficiency
    after = soc.low_pct - drop / capacity * 100.0
    if soc.low_pct <= work.settings.reserve_soc_pct:
        return False
    work.wake_at(
        work.now
        + timedelta(
            hours=max(0.0, soc.low_pct - work.settings.reserve_soc_pct)
            / 100.0
            * capacity
            * work.model.discharge_efficiency
            / power_kw
        )
    )
    if departure is None or after >= target:
        return True
    hours = work.model.hours_to_charge(
        max(0.0, after),
        target,
        capacity,
        efficiency=work.model.efficiency * (1.0 - work.model.efficiency_uncertainty),
        power_share=BEHIND_POWER_SHARE,
    )
    latest_start = departure - timedelta(hours=hours * BEHIND_TIME_FACTOR) - BEHIND_FIXED_MARGIN
    return work.now + look_ahead < latest_start


# --------------------------------------------------------------------------------------------
# The controller with its executor, for the Home Assistant layer


class VehicleController:
    """One vehicle's controller: settings, state, executor, and the latest decision."""

    def __init__(
        self,
        *,
        executor: CommandExecutor,
        tz: tzinfo = UTC,
        settings: ControllerSettings | None = None,
        state: ControllerState | None = None,
        planner: Planner = make_plan,
    ) -> None:
        self.executor = executor
        self.tz = tz
        self.settings = settings or ControllerSettings()
        self.state = state or ControllerState()
        self.planner = planner
        self.decision: Decision | None = None

    # Settings changes (the HA layer's entities and actions)

    def update_settings(self, **changes: Any) -> None:
        """Change settings; takes effect at the next `update`."""
        self.settings = replace(self.settings, **changes)

    def set_departure(self, at: datetime, target_soc_pct: float | None = None) -> None:
        """A one-off departure (and target) for the next session."""
        self.settings = replace(
            self.settings,
            departure_override=DepartureOverride(at=at, target_soc_pct=target_soc_pct),
        )

    def set_weekly_departures(self, schedule: Sequence[time | None] | None) -> None:
        """Departures by weekday (Monday first), or None to go back to the daily time."""
        if schedule is not None and len(schedule) != 7:
            raise ValueError("a weekly schedule has seven days")
        self.settings = replace(
            self.settings, weekly_departures=None if schedule is None else tuple(schedule)
        )

    def charge_now(self, now: datetime) -> None:
        """Charge at once until the target is reached or the car is unplugged."""
        self.settings = replace(self.settings, charge_now_requested_at=now)

    def cancel_override(self, now: datetime) -> None:
        """End charge-now, a third party's override and demand-response discharges."""
        self.settings = replace(
            self.settings, override_cancelled_at=now, charge_now_requested_at=None
        )
        self.executor.clear_failure()

    def _live_discharge_requests(self, now: datetime) -> tuple[DischargeRequest, ...]:
        cancelled_at = self.settings.override_cancelled_at
        return tuple(
            request
            for request in self.settings.discharge_requests
            if request.until > now and (cancelled_at is None or request.requested_at > cancelled_at)
        )

    def pending_discharge_requests(self, now: datetime) -> int:
        """How many demand-response discharges have neither ended nor been cancelled."""
        return len(self._live_discharge_requests(now))

    def request_discharge(self, now: datetime, power_kw: float, duration: timedelta) -> None:
        """A demand-response discharge; ended and cancelled requests are dropped, and beyond
        MAX_DISCHARGE_REQUESTS the oldest."""
        live = self._live_discharge_requests(now)
        request = DischargeRequest(power_kw=power_kw, until=now + duration, requested_at=now)
        kept = (*live, request)[-MAX_DISCHARGE_REQUESTS:]
        self.settings = replace(self.settings, discharge_requests=kept)

    # The loop

    def update(
        self, now: datetime, observation: Observation, prices: Sequence[PricedInterval]
    ) -> Decision:
        """Run one step with fresh readings and prices."""
        decision = step(
            now=now,
            observation=observation,
            prices=prices,
            settings=self.settings,
            state=self.state,
            executor=self.executor.state,
            tz=self.tz,
            planner=self.planner,
        )
        self.state = decision.state
        if decision.reassert:
            self.executor.invalidate()
        self.decision = decision
        return decision

    def plan_for_display(
        self, now: datetime, observation: Observation, prices: Sequence[PricedInterval]
    ) -> tuple[PlanRequest, Plan] | None:
        """The request (without prices) and plan the car follows now.

        When it follows none (smart charging off, unplugged, no reading yet), the plan the same
        inputs give now: learned power and efficiency, the estimated SoC, the departure, the
        prices up to it. None without a battery size, a SoC or prices.
        """
        if self.state.plan is not None and self.state.plan_request is not None:
            return self.state.plan_request, self.state.plan
        settings, state = sanitized(self.settings), self.state
        capacity = observation.capacity_kwh
        if not capacity or capacity <= 0:
            return None
        model = state.learner.model(advertised_kw=_advertised_kw(observation), now=now)
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
            # The estimate starts from the car's latest report and counts what went in since.
            soc_pct = estimate.soc_pct
        past: list[PriceSlot] = []
        slots = current_slots(prices, now, past)
        if soc_pct is None or not slots:
            return None
        soc_pct = min(100.0, max(0.0, soc_pct))
        departure, target = resolve_departure(settings, now, self.tz)
        plan_slots, _guessed_after = extend_prices(slots, departure, past)
        limit = observation.charge_limit_pct
        basis = _plan_basis(
            settings,
            model,
            observation,
            capacity,
            min(100.0, max(100.0 if limit is None else limit, soc_pct)),
            departure,
            target,
        )
        request = basis.request(now, round(soc_pct, 3), until_departure(plan_slots, departure))
        return replace(request, prices=()), self.planner(request)

    async def async_execute(self) -> ExecutionStatus:
        """Carry out the latest decision's action (hands off when it is None)."""
        if self.decision is None:
            return ExecutionStatus.NOT_SENT
        return await self.executor.async_apply(self.decision.action)

    # Persistence

    def to_dict(self) -> dict[str, Any]:
        """Everything to store: settings, state and the executor's knowledge."""
        return {
            "version": STORAGE_VERSION,
            "settings": self.settings.to_dict(),
            "state": self.state.to_dict(),
            "executor": self.executor.state.to_dict(),
        }

    def restore(self, data: object) -> list[str]:
        """Continue from what `to_dict` wrote (settings, state and executor).

        Parts that cannot be read start afresh; returns their names ("settings.v2g",
        "state.*"), or ["*"] for a store of another version or shape.
        """
        if not isinstance(data, Mapping) or data.get("version") != STORAGE_VERSION:
            return ["*"]
        self.settings, settings_reset = read_fields(
            data.get("settings", {}), ControllerSettings.from_dict, ControllerSettings.to_dict
        )
        self.state, state_reset = read_fields(
            data.get("state", {}),
            ControllerState.from_dict,
            ControllerState.to_dict,
        )
        self.executor.state, executor_reset = read_fields(
            data.get("executor", {}), ExecutorState.from_dict, ExecutorState.to_dict
        )
        return [
            f"{section}.{name}"
            for section, names in (
                ("settings", settings_reset),
                ("state", state_reset),
                ("executor", executor_reset),
            )
            for name in names
        ]


__all__ = [
    "Considerations",
    "ControllerEvent",
    "ControllerSettings",
    "ControllerState",
    "Decision",
    "DepartureOverride",
    "DischargeRequest",
    "EventKind",
    "Observation",
    "Override",
    "OverrideKind",
    "Session",
    "SessionSummary",
    "SmartChargingState",
    "Totals",
    "VehicleController",
    "resolve_departure",
    "step",
]
