"""Observe: what flowed since the last step, what the car reported, and the SoC now.

Energy is measured at the charger; the car's SoC reports teach the charge and discharge
efficiency, full-power readings the charge power and taper. Between reports the SoC is
estimated, with a pessimistic bound from the efficiency's uncertainty. After a plug-in the
controller waits a while for a report made since then; without one it assumes the worst
plausible trip, so a car is never left stranded.
"""

from datetime import timedelta
import math

from .controller_data import Observation, Session
from .controller_work import POWER_ON_KW, Work, report_is_current
from .executor import DeviceMode
from .soc_estimator import SocEstimate, SocReport

# Used when neither the accounts nor measurements say how fast the car charges.
DEFAULT_CHARGE_KW = 7.4
# After plug-in, wait this long for a SoC report newer than the plug-in before assuming the worst.
SOC_WAIT_MAX = timedelta(minutes=35)
# A SoC report from before the plug-in may be followed by driving: at most this much power on
# average (fast motorway driving), for the time between the report and the plug-in.
MAX_DRIVING_KW = 25.0
# Readings this long after a change count as the new power (not the ramp).
SETTLED = timedelta(seconds=30)


def advertised_kw(obs: Observation) -> float:
    """The power the accounts advertise, the learner's starting guess."""
    advertised = obs.advertised_charge_kw
    if advertised is None or not math.isfinite(advertised) or advertised <= 0:
        return DEFAULT_CHARGE_KW
    return advertised


def _relearn(work: Work) -> None:
    work.model = work.state.learner.model(advertised_kw=work.advertised_kw, now=work.now)


def observe_meters(work: Work) -> None:
    """Energy since the last step (split where a command took effect), and the SoC report with
    the efficiency sample it gives."""
    state, executor, obs, now = work.state, work.executor, work.observation, work.now
    change_at = executor.confirmed_at
    if change_at is not None and (state.last_step_at is None or change_at <= state.last_step_at):
        change_at = None
    power = obs.power_kw
    if power is None and obs.charging is False:
        power = 0.0
    work.power_kw = power
    estimator = state.estimator
    work.previous_kw, work.previous_at = estimator.last_power_kw, estimator.last_power_at
    before_in, before_out = estimator.energy_in_kwh, estimator.energy_out_kwh
    estimator.observe_power(now, power, meter_kwh=obs.energy_meter_kwh, change_at=change_at)
    work.energy_in_kwh = estimator.energy_in_kwh - before_in
    work.energy_out_kwh = estimator.energy_out_kwh - before_out
    sample = estimator.observe_report(now, obs.soc_pct, obs.soc_reported_at)
    capacity = obs.capacity_kwh if obs.capacity_kwh and obs.capacity_kwh > 0 else None
    work.capacity = capacity
    if sample is not None and capacity is not None:
        change_kwh = abs(sample.soc_change_pct) / 100.0 * capacity
        if sample.grid_in_kwh > 0:
            state.learner.add_charge_sample(grid_kwh=sample.grid_in_kwh, stored_kwh=change_kwh)
        else:
            state.learner.add_discharge_sample(grid_kwh=sample.grid_out_kwh, drawn_kwh=change_kwh)
    _relearn(work)


def learn_power(work: Work) -> None:
    """Full-power readings teach the charge power and the taper: of a charge we started, or,
    with smart charging off, of the car charging by itself (it then charges at full power), so
    turning smart charging on needs no charge to measure it."""
    state, executor, now, power = work.state, work.executor, work.now, work.power_kw
    confirmed = executor.confirmed
    ours = (
        confirmed is not None
        and confirmed.mode is DeviceMode.CHARGE
        and executor.confirmed_at is not None
        and now - executor.confirmed_at >= SETTLED
    )
    by_itself = (
        not work.settings.smart_charging
        and work.previous_kw is not None
        and work.previous_kw >= POWER_ON_KW
        and work.previous_at is not None
        and now - work.previous_at >= SETTLED
    )
    capacity = work.capacity
    if (
        (ours or by_itself)
        and power is not None
        and power >= POWER_ON_KW
        and capacity is not None
        and report_is_current(state)
    ):
        before = state.learner.model(advertised_kw=work.advertised_kw, now=now)
        preview = state.estimator.estimate(
            capacity_kwh=capacity,
            efficiency=before.efficiency,
            discharge_efficiency=before.discharge_efficiency,
            uncertainty=before.efficiency_uncertainty,
        )
        limit = work.observation.charge_limit_pct
        if preview is not None and preview.soc_pct < (100.0 if limit is None else limit) - 1.0:
            state.learner.add_power_sample(now=now, soc_pct=preview.soc_pct, power_kw=power)
            work.power_sampled = True
    _relearn(work)


def _estimate(work: Work, capacity: float) -> SocEstimate | None:
    model = work.model
    return work.state.estimator.estimate(
        capacity_kwh=capacity,
        efficiency=model.efficiency,
        discharge_efficiency=model.discharge_efficiency,
        uncertainty=model.efficiency_uncertainty,
    )


def estimate_soc(work: Work) -> None:
    """The SoC now; while a report from after the plug-in is awaited, none (and the lowest
    plausible SoC as the provisional one)."""
    capacity, session, now = work.capacity, work.state.session, work.now
    work.soc = None if capacity is None else _estimate(work, capacity)
    if session is None:
        return
    if work.power_sampled:
        session.probe_done = True
    if capacity is None or report_is_current(work.state):
        return
    # The last report is from before the plug-in: a trip may have used part of it.
    work.provisional_pct = provisional_soc(work, session, capacity)
    if now - session.started_at < SOC_WAIT_MAX:
        work.waiting_for_soc = True
        work.soc = None
        work.wake_at(session.started_at + SOC_WAIT_MAX)
    else:
        # No word from the car: assume the worst plausible trip, never leave it stranded.
        work.state.estimator.report = SocReport(soc_pct=work.provisional_pct, at=now)
        work.soc = _estimate(work, capacity)


def provisional_soc(work: Work, session: Session, capacity: float) -> float:
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
