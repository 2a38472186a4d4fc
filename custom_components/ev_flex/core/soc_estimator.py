"""Know the state of charge between the car's own reports.

Many cars report their SoC only every 10-30 minutes, not at all while asleep, or never while
charging. The charger, though, measures power (and sometimes energy) all the time. The estimator
keeps the car's last report and counts the energy that flowed since, so

    SoC now = last report + (efficiency x energy in - energy out / discharge efficiency) / capacity

It also gives a low and a high bound, from the learned efficiency's uncertainty, so decisions
that must not fail (reaching the departure target, staying above the V2G reserve) can use the
pessimistic side. When the car reports again, the estimate snaps to the report and the energy
counted between the two reports becomes an efficiency sample for the learner.

Energy is integrated from power readings. Power changes mostly when a command takes effect, so
the caller may pass that moment (`change_at`) and the step is split there; otherwise the average
of the two readings is used.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

# Energy history kept for matching late reports with the energy that flowed before them.
HISTORY_SPAN = timedelta(hours=12)
# History points are merged while the power stays within this of a steady rate, for at most
# this long.
HISTORY_POWER_STEP_KW = 0.1
HISTORY_MAX_GAP = timedelta(minutes=30)
# Readings further apart than this are not integrated across (the gap is unknown).
MAX_INTEGRATION_GAP = timedelta(hours=2)
# Efficiency samples need this much energy so rounding of the SoC report doesn't dominate.
MIN_SAMPLE_GRID_KWH = 2.0
MIN_SAMPLE_SOC_GAIN_PCT = 2.0
# Report times kept for learning the car's reporting rhythm.
REPORT_TIMES_KEPT = 8
MIN_REPORT_PERIOD = timedelta(minutes=5)


@dataclass(frozen=True, kw_only=True)
class SocReport:
    """A SoC value the car reported, and when."""

    soc_pct: float
    at: datetime


@dataclass(frozen=True, kw_only=True)
class SocEstimate:
    """The SoC now: a best guess and a pessimistic and optimistic bound."""

    soc_pct: float
    low_pct: float
    high_pct: float
    # When the car last reported, and whether energy flowed since (the value is estimated).
    reported_at: datetime
    is_estimated: bool


@dataclass(frozen=True, kw_only=True)
class EnergySample:
    """Energy between two SoC reports, for learning efficiency."""

    grid_in_kwh: float
    grid_out_kwh: float
    soc_change_pct: float


@dataclass(kw_only=True)
class SocEstimator:
    """Tracks SoC reports and the energy measured at the charger."""

    report: SocReport | None = None
    # Monotonic totals of energy into the car and back to the grid, as integrated here.
    energy_in_kwh: float = 0.0
    energy_out_kwh: float = 0.0
    last_power_kw: float | None = None
    last_power_at: datetime | None = None
    last_meter_kwh: float | None = None
    # (time, energy in, energy out) points; linear between them.
    history: list[tuple[datetime, float, float]] = field(default_factory=list)
    # The report and energy totals that the next efficiency sample starts from.
    anchor: tuple[float, float, float] | None = None
    # When the car's recent reports were made, to learn its rhythm.
    report_times: list[datetime] = field(default_factory=list)

    # Energy

    def observe_power(
        self,
        now: datetime,
        power_kw: float | None,
        *,
        meter_kwh: float | None = None,
        change_at: datetime | None = None,
    ) -> float:
        """Integrate energy up to `now`; returns the net kWh into the car in this step."""
        before_in, before_out = self.energy_in_kwh, self.energy_out_kwh
        previous_at, previous_kw = self.last_power_at, self.last_power_kw
        if previous_at is not None and previous_kw is not None and power_kw is not None:
            elapsed = now - previous_at
            if timedelta(0) < elapsed <= MAX_INTEGRATION_GAP:
                if change_at is not None and previous_at <= change_at < now:
                    pieces = [
                        ((change_at - previous_at).total_seconds(), previous_kw),
                        ((now - change_at).total_seconds(), power_kw),
                    ]
                else:
                    half = elapsed.total_seconds() / 2.0
                    pieces = [(half, previous_kw), (half, power_kw)]
                for seconds, kw in pieces:
                    if kw > 0:
                        self.energy_in_kwh += kw * seconds / 3600.0
                    else:
                        self.energy_out_kwh += -kw * seconds / 3600.0
        if meter_kwh is not None:
            if self.last_meter_kwh is not None and meter_kwh >= self.last_meter_kwh:
                # A real meter beats integrated power for the energy going in.
                self.energy_in_kwh = before_in + (meter_kwh - self.last_meter_kwh)
            self.last_meter_kwh = meter_kwh
        if power_kw is not None and (previous_at is None or now >= previous_at):
            self.last_power_kw = power_kw
            self.last_power_at = now
        self._remember(now)
        return (self.energy_in_kwh - before_in) - (self.energy_out_kwh - before_out)

    def _remember(self, now: datetime) -> None:
        """Add a history point; drop the previous one when energy ran at a steady rate."""
        history = self.history
        if history and now <= history[-1][0]:
            return
        history.append((now, self.energy_in_kwh, self.energy_out_kwh))
        if len(history) >= 3:
            (t0, in0, out0), (t1, in1, out1), (t2, in2, out2) = history[-3:]
            first_h = (t1 - t0).total_seconds() / 3600.0
            second_h = (t2 - t1).total_seconds() / 3600.0
            if (
                first_h > 0
                and second_h > 0
                and t2 - t0 <= HISTORY_MAX_GAP
                and abs((in1 - in0) / first_h - (in2 - in1) / second_h) < HISTORY_POWER_STEP_KW
                and abs((out1 - out0) / first_h - (out2 - out1) / second_h) < HISTORY_POWER_STEP_KW
            ):
                # Linear interpolation across the middle point loses nothing.
                del history[-2]
        cutoff = now - HISTORY_SPAN
        while len(history) > 2 and history[1][0] <= cutoff:
            history.pop(0)

    def _energy_at(self, when: datetime) -> tuple[float, float]:
        """The energy totals at a past moment (the oldest known before the history starts)."""
        history = self.history
        if not history:
            return self.energy_in_kwh, self.energy_out_kwh
        if when <= history[0][0]:
            return history[0][1], history[0][2]
        if when >= history[-1][0]:
            return history[-1][1], history[-1][2]
        for (t0, in0, out0), (t1, in1, out1) in pairwise(history):
            if t0 <= when <= t1:
                share = (when - t0) / (t1 - t0) if t1 > t0 else 1.0
                return in0 + share * (in1 - in0), out0 + share * (out1 - out0)
        return history[-1][1], history[-1][2]

    def energy_since(self, moment: datetime) -> tuple[float, float]:
        """Energy into the car and back to the grid since a past moment."""
        energy_in, energy_out = self._energy_at(moment)
        return max(0.0, self.energy_in_kwh - energy_in), max(0.0, self.energy_out_kwh - energy_out)

    # Reports

    def observe_report(
        self, now: datetime, soc_pct: float | None, reported_at: datetime | None
    ) -> EnergySample | None:
        """Take a SoC reading; returns an efficiency sample when a new report closes one."""
        if soc_pct is None:
            return None
        previous = self.report
        if reported_at is None:
            # No timestamp: a changed value is new; an unchanged one is only current if no
            # energy flowed since (otherwise the car is simply not updating it).
            if previous is not None and soc_pct == previous.soc_pct:
                energy_in, energy_out = self._energy_at(previous.at)
                moved = (self.energy_in_kwh - energy_in) + (self.energy_out_kwh - energy_out)
                if moved > 0.05:
                    return None
            reported_at = now
        reported_at = min(reported_at, now)
        if previous is not None and reported_at <= previous.at:
            return None
        report = SocReport(soc_pct=soc_pct, at=reported_at)
        self.report = report
        self.report_times = [*self.report_times, reported_at][-REPORT_TIMES_KEPT:]
        energy_in, energy_out = self._energy_at(reported_at)
        sample: EnergySample | None = None
        if self.anchor is not None:
            anchor_soc, anchor_in, anchor_out = self.anchor
            grid_in, grid_out = energy_in - anchor_in, energy_out - anchor_out
            change = soc_pct - anchor_soc
            if grid_in > 0.05 and grid_out > 0.05:
                # Mixed charging and discharging can't be split: start afresh.
                self.anchor = (soc_pct, energy_in, energy_out)
            elif grid_in >= MIN_SAMPLE_GRID_KWH and change >= MIN_SAMPLE_SOC_GAIN_PCT:
                sample = EnergySample(grid_in_kwh=grid_in, grid_out_kwh=0.0, soc_change_pct=change)
                self.anchor = (soc_pct, energy_in, energy_out)
            elif grid_out >= MIN_SAMPLE_GRID_KWH and change <= -MIN_SAMPLE_SOC_GAIN_PCT:
                sample = EnergySample(grid_in_kwh=0.0, grid_out_kwh=grid_out, soc_change_pct=change)
                self.anchor = (soc_pct, energy_in, energy_out)
            elif grid_in <= 0.05 and grid_out <= 0.05:
                # Nothing flowed (parked, driving): the new report is the new start.
                self.anchor = (soc_pct, energy_in, energy_out)
        else:
            self.anchor = (soc_pct, energy_in, energy_out)
        return sample

    def next_report_expected(self, now: datetime) -> datetime | None:
        """When the car will next report, if it reports on a steady rhythm (e.g. every 30 min).

        The rhythm is the shortest gap between recent reports; every other gap must be a whole
        multiple of it (gaps while charging are long). None when there is no such rhythm.
        """
        times = self.report_times
        if len(times) < 3:
            return None
        gaps = [later - earlier for earlier, later in pairwise(times)]
        period = min(gaps)
        if period < MIN_REPORT_PERIOD:
            return None
        for gap in gaps:
            ratio = gap / period
            if abs(ratio - round(ratio)) > 0.05:
                return None
        steps = (now - times[-1]) // period + 1
        return times[-1] + steps * period

    def restart_anchor(self) -> None:
        """Forget the efficiency sample in progress (the car was away; SoC changed by driving)."""
        self.anchor = None

    def estimate(
        self,
        *,
        capacity_kwh: float,
        efficiency: float,
        discharge_efficiency: float,
        uncertainty: float,
    ) -> SocEstimate | None:
        """SoC now from the last report and the energy since; None before any report."""
        report = self.report
        if report is None or capacity_kwh <= 0:
            return None
        energy_in, energy_out = self._energy_at(report.at)
        grid_in = max(0.0, self.energy_in_kwh - energy_in)
        grid_out = max(0.0, self.energy_out_kwh - energy_out)

        def soc_with(eta_in: float, eta_out: float) -> float:
            stored = eta_in * grid_in - grid_out / eta_out
            return min(100.0, max(0.0, report.soc_pct + stored / capacity_kwh * 100.0))

        low_factor = max(0.5, 1.0 - uncertainty)
        high_factor = 1.0 + uncertainty
        return SocEstimate(
            soc_pct=soc_with(efficiency, discharge_efficiency),
            low_pct=soc_with(efficiency * low_factor, min(1.0, discharge_efficiency * low_factor)),
            high_pct=soc_with(
                min(1.0, efficiency * high_factor), min(1.0, discharge_efficiency * high_factor)
            ),
            reported_at=report.at,
            is_estimated=grid_in + grid_out > 0.01,
        )

    # Persistence

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "report": None
            if self.report is None
            else {"soc_pct": self.report.soc_pct, "at": self.report.at.isoformat()},
            "energy_in_kwh": self.energy_in_kwh,
            "energy_out_kwh": self.energy_out_kwh,
            "last_power_kw": self.last_power_kw,
            "last_power_at": None if self.last_power_at is None else self.last_power_at.isoformat(),
            "last_meter_kwh": self.last_meter_kwh,
            "history": [[t.isoformat(), e_in, e_out] for t, e_in, e_out in self.history],
            "anchor": None if self.anchor is None else list(self.anchor),
            "report_times": [moment.isoformat() for moment in self.report_times],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SocEstimator:
        """Read what `to_dict` wrote."""
        report = data.get("report")
        last_power_at = data.get("last_power_at")
        last_power_kw = data.get("last_power_kw")
        last_meter = data.get("last_meter_kwh")
        anchor = data.get("anchor")
        return cls(
            report=None
            if report is None
            else SocReport(
                soc_pct=float(report["soc_pct"]), at=datetime.fromisoformat(report["at"])
            ),
            energy_in_kwh=float(data.get("energy_in_kwh", 0.0)),
            energy_out_kwh=float(data.get("energy_out_kwh", 0.0)),
            last_power_kw=None if last_power_kw is None else float(last_power_kw),
            last_power_at=None if last_power_at is None else datetime.fromisoformat(last_power_at),
            last_meter_kwh=None if last_meter is None else float(last_meter),
            history=[
                (datetime.fromisoformat(t), float(e_in), float(e_out))
                for t, e_in, e_out in data.get("history", [])
            ],
            anchor=None
            if anchor is None
            else (float(anchor[0]), float(anchor[1]), float(anchor[2])),
            report_times=[datetime.fromisoformat(t) for t in data.get("report_times", [])],
        )

    def copy(self) -> SocEstimator:
        """An independent copy."""
        return SocEstimator(
            report=self.report,
            energy_in_kwh=self.energy_in_kwh,
            energy_out_kwh=self.energy_out_kwh,
            last_power_kw=self.last_power_kw,
            last_power_at=self.last_power_at,
            last_meter_kwh=self.last_meter_kwh,
            history=list(self.history),
            anchor=self.anchor,
            report_times=list(self.report_times),
        )
