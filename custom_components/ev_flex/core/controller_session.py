"""Session and departure: a plug-in starts a session, an unplug ends it with its summary.

A session remembers its departure and target, resolved when it starts: a one-off departure
while it lies ahead, else the weekly schedule or the daily time. When the departure passes the
next one applies; when the user changes it, the plan ends (DEADLINE_CHANGED) and a new one is
made. The session counts its energy and money, and what charging at once would have cost.
"""

from collections.abc import Sequence
from datetime import datetime, time, timedelta, tzinfo

from .calendar_departures import ALL_DAY_READY_BY, next_departure
from .controller_data import (
    ControllerSettings,
    EventKind,
    Session,
    SessionSummary,
    SmartChargingState,
)
from .controller_work import TARGET_TOLERANCE_PCT, Work, end_plan
from .planner import PriceSlot

# Clocks of accounts and Home Assistant differ a little; a report this much before the plug-in
# still counts as made after it.
REPORT_CLOCK_SLACK = timedelta(seconds=5)


def _slot_at(slots: Sequence[PriceSlot], moment: datetime) -> PriceSlot | None:
    for slot in slots:
        if slot.start <= moment < slot.end:
            return slot
    return None


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
    return next_departure(
        week_of(settings),
        settings.calendar_departures,
        reference,
        tz,
        settings.target_soc_pct,
        all_day_time=settings.departure_time or ALL_DAY_READY_BY,
    )


def week_of(settings: ControllerSettings) -> tuple[time | None, ...]:
    """The departure of each weekday, Monday first: the weekly schedule, or the daily time on
    every day while there is none."""
    if settings.weekly_departures is not None:
        return settings.weekly_departures
    return (settings.departure_time,) * 7


def calendar_event_at(settings: ControllerSettings, departure: datetime, tz: tzinfo) -> str | None:
    """The title of the calendar event that sets `departure`, if one does."""
    week = week_of(settings)
    all_day_time = settings.departure_time or ALL_DAY_READY_BY
    return next(
        (
            item.event
            for item in settings.calendar_departures
            if item.ready_by(week, tz, all_day_time) == departure
        ),
        None,
    )


def _start_session(work: Work) -> None:
    now, plugged_in_at = work.now, work.observation.plugged_in_at
    departure, target = resolve_departure(work.settings, now, work.tz)
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


def _end_session(work: Work) -> None:
    state, now = work.state, work.now
    session = state.session
    if session is None:
        return
    end_plan(work, SmartChargingState.ENDED_UNPLUGGED)
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


def _account_energy(work: Work) -> None:
    """Add this step's energy and money to the session, and run the charge-at-once baseline."""
    state, session = work.state, work.state.session
    if session is None:
        return
    since = state.last_step_at or work.now
    slots, energy_in, energy_out = work.slots, work.energy_in_kwh, work.energy_out_kwh
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


def follow_plug(work: Work) -> None:
    """A plug-in starts a session, an unplug ends it; the session counts this step's energy."""
    plugged, state = work.observation.plugged_in, work.state
    if plugged is True and state.session is None:
        _start_session(work)
    elif plugged is False and state.session is not None:
        _end_session(work)
    if plugged is not None:
        state.last_plugged = plugged
    _account_energy(work)


def follow_departure(work: Work, session: Session) -> None:
    """The departure passed (the next one applies) or the user changed it (the plan ends)."""
    state, settings, now, soc, tz = work.state, work.settings, work.now, work.soc, work.tz
    if session.departure is not None and now >= session.departure:
        if session.plan_active:
            met = soc is not None and soc.low_pct >= session.target_soc_pct - TARGET_TOLERANCE_PCT
            end_plan(
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
            end_plan(work, SmartChargingState.ENDED_DEADLINE_CHANGED)
            departure, target = resolve_departure(settings, now, tz)
            session.departure, session.resolved_at = departure, now
            state.plan = None
        session.target_soc_pct = target
    work.departure, work.target = session.departure, session.target_soc_pct
    if work.departure is not None:
        work.wake_at(work.departure)
