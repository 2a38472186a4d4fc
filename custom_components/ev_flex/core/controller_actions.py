"""Overrides, demand response and the choice of the action.

- Overrides: the user's charge-now charges at once (`CHARGING_NOW`) until the target or a
  cancel; after someone else's start or stop the controller keeps its hands off (`OVERRIDDEN`)
  until the car is unplugged or the user cancels.
- Demand response and backup power discharge within the reserve, unless that would make the
  departure target unreachable; while the grid asks for power, the plan takes none.
- Otherwise the action is the plan's (or the guards'), with a probe where the power is a guess.
"""

from datetime import datetime, timedelta

from .controller_data import (
    ControllerSettings,
    DischargeRequest,
    EventKind,
    Override,
    OverrideKind,
    Session,
    SmartChargingState,
)
from .controller_guards import pause_for_report, probe, probe_affordable
from .controller_plan import interval_now
from .controller_work import (
    BEHIND_FIXED_MARGIN,
    BEHIND_POWER_SHARE,
    BEHIND_TIME_FACTOR,
    MAX_WAKE_PLUGGED,
    TARGET_TOLERANCE_PCT,
    Outcome,
    Work,
    activate_plan,
    end_plan,
    status_for_action,
)
from .executor import CHARGE, IDLE, DeviceMode, DeviceTarget, ExecutionStatus
from .interference import notice_interference
from .soc_estimator import SocEstimate

MAX_REASSERTS_PER_SESSION = 2
REASSERT_SPACING = timedelta(minutes=10)


def not_steering(work: Work) -> Outcome | None:
    """Hands off without readings, with smart charging off (handing the car back charging),
    unplugged or away from the charging location."""
    state, settings, obs, executor = work.state, work.settings, work.observation, work.executor
    if obs.plugged_in is None and obs.soc_pct is None and obs.power_kw is None:
        return Outcome(status=SmartChargingState.UNKNOWN, action=None, reason="no_readings")
    if not settings.smart_charging:
        end_plan(work, SmartChargingState.ENDED_DISABLED)
        state.override = None
        state.plan = None
        state.plan_key = None
        action: DeviceTarget | None = None
        if obs.plugged_in and executor.confirmed is not None and executor.confirmed != CHARGE:
            # We left it stopped (or discharging): hand it back charging, as if we were never here.
            action = CHARGE
        elif obs.plugged_in and executor.discharge_may_be_active:
            action = CHARGE
        return Outcome(status=SmartChargingState.DISABLED, action=action, reason="disabled")
    if state.session is None or not obs.plugged_in:
        return Outcome(status=SmartChargingState.CONSIDERING, action=None, reason="unplugged")
    if not obs.at_charging_location:
        return Outcome(status=SmartChargingState.CONSIDERING, action=None, reason="away")
    return None


def notice_overrides(work: Work) -> None:
    """A cancel ends an override; without one, notice someone else's start or stop."""
    state, cancelled = work.state, work.settings.override_cancelled_at
    if state.override is not None and cancelled is not None and cancelled >= state.override.since:
        state.override = None
        # Whatever the devices do now was not our doing: send the plan's wish again.
        work.reassert = True
    if state.override is None:
        work.interrupted = notice_interference(work, work.soc)


def follow_overrides(work: Work, session: Session) -> Outcome | None:
    """The user's charge-now, or someone else's start or stop, takes over from the plan."""
    state, settings, soc, now = work.state, work.settings, work.soc, work.now
    requested, cancelled = settings.charge_now_requested_at, settings.override_cancelled_at
    charge_now = (
        requested is not None
        and requested != state.charge_now_done_for
        and (cancelled is None or cancelled < requested)
        and requested <= now
    )
    if (
        charge_now
        and soc is not None
        and soc.low_pct >= work.reachable_target - TARGET_TOLERANCE_PCT
    ):
        state.charge_now_done_for = requested
        charge_now = False
    if charge_now and requested is not None:
        if state.override is None or state.override.kind is not OverrideKind.CHARGE_NOW:
            state.override = Override(kind=OverrideKind.CHARGE_NOW, since=requested)
    elif state.override is not None and state.override.kind is OverrideKind.CHARGE_NOW:
        state.override = None
    override = state.override
    if override is None:
        return None
    outcome = work.outcome
    if not session.plan_active:
        session.plan_active = True
        work.event(EventKind.PLAN_STARTED, override.kind.value)
    if override.kind is OverrideKind.CHARGE_NOW:
        _charge_now(work, outcome, soc, work.capacity, work.reachable_target)
    else:
        outcome.status, outcome.action, outcome.reason = (
            SmartChargingState.OVERRIDDEN,
            None,
            "external",
        )
    return outcome


def demand_response(work: Work, session: Session) -> Outcome | None:
    """Demand response and backup power: discharge within the reserve, unless that would make
    the departure target unreachable."""
    settings, obs, soc, capacity, outcome = (
        work.settings,
        work.observation,
        work.soc,
        work.capacity,
        work.outcome,
    )
    discharge_kw = 0.0
    request_dr = _active_discharge_request(settings, work.now)
    if settings.v2g and obs.max_discharge_kw > 0:
        if request_dr is not None:
            discharge_kw = min(request_dr.power_kw, obs.max_discharge_kw)
            work.wake_at(request_dr.until)
        elif settings.backup_on_outage and obs.grid_outage:
            discharge_kw = obs.max_discharge_kw
    if discharge_kw <= 0 or soc is None or capacity is None:
        return None
    exhausted = request_dr is not None and session.demand_response_done == request_dr.requested_at
    urgent = work.behind or work.below_protective
    allowed = (
        not exhausted
        and not urgent
        and _may_discharge(work, soc, capacity, discharge_kw, work.departure, work.reachable_target)
    )
    activate_plan(work, session)
    if allowed:
        action = DeviceTarget(mode=DeviceMode.DISCHARGE, power_kw=round(discharge_kw, 3))
        outcome.action, outcome.reason = action, "demand_response"
        outcome.status = status_for_action(action, work.executor, False, False)
        return outcome
    if request_dr is not None:
        # Done for this request (reserve reached): don't start again when the SoC wobbles.
        session.demand_response_done = request_dr.requested_at
    if urgent:
        return None
    # While the grid asks for power, don't take any for the plan.
    outcome.action, outcome.reason = IDLE, "demand_response_reserve"
    outcome.status = status_for_action(IDLE, work.executor, False, False)
    return outcome


def _wanted(work: Work) -> tuple[DeviceTarget, str]:
    """What the guards or the plan want now, and why."""
    soc, capacity, now = work.soc, work.capacity, work.now
    if work.behind or work.below_protective:
        if capacity is not None:
            # Look again when the cautious SoC should have reached what it is charging for.
            goal = (
                work.settings.protective_soc_pct if work.below_protective else work.reachable_target
            )
            hours = work.model.hours_to_charge(
                work.cautious_soc,
                goal,
                capacity,
                efficiency=work.model.efficiency * (1.0 - work.model.efficiency_uncertainty),
            )
            work.wake_at(now + timedelta(hours=hours) + timedelta(seconds=5))
        return CHARGE, ("protective" if work.below_protective else "behind")
    if capacity is None:
        # Without the battery's size nothing can be estimated, planned or guarded: never hold
        # the car back.
        return CHARGE, "no_capacity"
    current = interval_now(work.intervals, now)
    if current is not None:
        if current.mode is DeviceMode.CHARGE:
            return CHARGE, "plan"
        if soc is not None and soc.low_pct > work.settings.reserve_soc_pct:
            return DeviceTarget(mode=DeviceMode.DISCHARGE, power_kw=round(current.kw, 3)), "plan"
        return IDLE, "plan"
    if not work.slots:
        return IDLE, "no_prices"
    return IDLE, "plan"


def choose_action(work: Work, session: Session) -> Outcome:
    """The action now: the guards' or the plan's, a probe, or a pause for the car's report."""
    outcome, slots = work.outcome, work.slots
    wanted, reason = _wanted(work)
    if (
        wanted == IDLE
        and work.probe
        and (bool(slots) or work.need_more)
        and probe_affordable(work, slots, work.departure, work.charge_hours)
    ):
        return probe(work, session, outcome)
    if work.waiting_for_soc and wanted == CHARGE and pause_for_report(work):
        wanted, reason = IDLE, "pause_for_soc"
    future = [interval for interval in work.intervals if interval.end > work.now]
    active = (
        wanted != IDLE
        or bool(future)
        or (work.need_more and (bool(slots) or session.plan_active))
        or (session.plan_active and work.soc is None)
    )
    if not active:
        return _nothing_to_do(work, session)
    if not slots and wanted == IDLE and not session.plan_active:
        # No prices yet and no need to act: keep considering (the behind-check still guards).
        outcome.status, outcome.action, outcome.reason = (
            SmartChargingState.CONSIDERING,
            IDLE,
            "no_prices",
        )
        return outcome
    activate_plan(work, session)
    if work.interrupted and wanted == CHARGE:
        _reassert(work, session)
    outcome.action, outcome.reason = wanted, reason
    outcome.status = status_for_action(
        wanted, work.executor, work.awaiting_prices, work.interrupted
    )
    return outcome


def _nothing_to_do(work: Work, session: Session) -> Outcome:
    if session.plan_active:
        end_plan(work, SmartChargingState.ENDED_FINISHED)
    status = (
        SmartChargingState.ENDED_FINISHED
        if session.plan_finished
        else SmartChargingState.FULLY_CHARGED
    )
    if work.need_more:
        # Short of the target but nothing to plan with (no prices): still considering.
        status = SmartChargingState.CONSIDERING
    outcome = work.outcome
    outcome.status, outcome.action, outcome.reason = status, IDLE, "nothing_to_do"
    return outcome


def _reassert(work: Work, session: Session) -> None:
    """A started charge that gives no power: send the start again (a few times, spaced)."""
    last, now = session.last_reassert_at, work.now
    if session.reasserts < MAX_REASSERTS_PER_SESSION and (
        last is None or now - last >= REASSERT_SPACING
    ):
        session.reasserts += 1
        session.last_reassert_at = now
        work.reassert = True


def _charge_now(
    work: Work,
    outcome: Outcome,
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


def _may_discharge(
    work: Work,
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
