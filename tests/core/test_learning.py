"""Learning charge power, taper and efficiency from measurements."""

from datetime import UTC, datetime, timedelta
import json

import pytest

from custom_components.ev_flex.core.learning import (
    PRIOR_EFFICIENCY,
    ChargeLearner,
    ChargeModel,
)
from custom_components.ev_flex.core.planner import PlanRequest, plan
from custom_components.ev_flex.core.simulator import VehicleSpec

T0 = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)


def test_the_prior_is_used_until_something_is_measured() -> None:
    model = ChargeLearner().model(advertised_kw=11.0, now=T0)
    assert model.max_kw == 11.0
    assert model.efficiency == PRIOR_EFFICIENCY
    assert not model.measured_bands
    assert model.taper() == [[80.0, 11.0], [100.0, 3.3]]


def test_efficiency_converges_and_its_uncertainty_shrinks() -> None:
    learner = ChargeLearner()
    first = learner.efficiency_uncertainty()
    for _ in range(10):
        assert learner.add_charge_sample(grid_kwh=10.0, stored_kwh=8.6)
    assert learner.efficiency() == pytest.approx(0.86, abs=0.002)
    assert learner.efficiency_uncertainty() < first / 5


def test_an_efficiency_outlier_is_ignored_once_well_established() -> None:
    learner = ChargeLearner()
    for _ in range(5):
        learner.add_charge_sample(grid_kwh=10.0, stored_kwh=8.8)
    before = learner.efficiency()
    assert not learner.add_charge_sample(grid_kwh=5.0, stored_kwh=3.0)
    assert learner.efficiency() == before
    # Impossible samples never count.
    assert not learner.add_charge_sample(grid_kwh=5.0, stored_kwh=6.0)


def test_a_real_change_of_efficiency_is_accepted_after_a_few_samples() -> None:
    learner = ChargeLearner()
    for _ in range(5):
        learner.add_charge_sample(grid_kwh=10.0, stored_kwh=9.0)
    accepted = [learner.add_charge_sample(grid_kwh=10.0, stored_kwh=7.5) for _ in range(5)]
    assert accepted[:3] == [False, False, False]
    assert accepted[3]
    assert learner.efficiency() < 0.87


def test_measured_power_replaces_the_advertised_one() -> None:
    learner = ChargeLearner()
    learner.add_power_sample(now=T0, soc_pct=40.0, power_kw=3.6)
    model = learner.model(advertised_kw=11.0, now=T0)
    assert model.max_kw == 3.6
    assert model.is_measured_at(40.0)
    # Below the knee one measurement covers every SoC; above it each band needs its own.
    assert model.is_measured_at(20.0)
    assert not model.is_measured_at(90.0)


def test_the_taper_is_learned_from_a_real_charge() -> None:
    """Charge the simulated car's taper (75 % -> 2.5 kW at 100 %) and fit it."""
    spec = VehicleSpec(onboard_charger_kw=7.4, taper_start_pct=75.0, power_at_full_kw=2.5)
    learner = ChargeLearner()
    soc = 50.0
    moment = T0
    while soc < 99.0:
        learner.add_power_sample(now=moment, soc_pct=soc, power_kw=spec.accepted_power_kw(soc))
        soc += 0.5
        moment += timedelta(minutes=3)
    model = learner.model(advertised_kw=11.0, now=moment)
    assert model.max_kw == pytest.approx(7.4)
    assert model.taper_knee_pct == pytest.approx(75.0, abs=2.5)
    assert model.taper_end_kw == pytest.approx(2.5, abs=0.4)
    for probe in (60.0, 80.0, 90.0, 98.0):
        assert model.power_at(probe) == pytest.approx(spec.accepted_power_kw(probe), abs=0.5)


def test_a_learned_taper_is_accepted_by_the_planner() -> None:
    learner = ChargeLearner()
    for soc, power in ((60.0, 7.4), (86.0, 5.0), (91.0, 4.1), (96.0, 3.0)):
        learner.add_power_sample(now=T0, soc_pct=soc, power_kw=power)
    model = learner.model(advertised_kw=11.0, now=T0)
    (knee, top), (end, bottom) = model.taper()
    assert knee < end == 100.0
    assert bottom <= top
    request = {
        "now": "2026-01-15T22:00:00+00:00",
        "battery": {"capacity_kwh": 60.0, "soc_pct": 70.0},
        "charge": {"max_kw": model.max_kw, "efficiency": 0.9, "taper": model.taper()},
        "targets": [{"by": "2026-01-16T06:00:00+00:00", "soc_pct": 100.0}],
        "prices": [
            {
                "start": f"2026-01-{15 + (22 + h) // 24}T{(22 + h) % 24:02d}:00:00+00:00",
                "end": f"2026-01-{15 + (23 + h) // 24}T{(23 + h) % 24:02d}:00:00+00:00",
                "import": 0.1 + 0.01 * h,
            }
            for h in range(8)
        ],
    }
    result = plan(PlanRequest.from_dict(request)).to_dict()
    assert result["status"] == "ok"


def test_hours_to_charge_follow_the_taper_and_caution() -> None:
    model = ChargeModel(
        max_kw=10.0,
        efficiency=1.0,
        efficiency_uncertainty=0.0,
        discharge_efficiency=1.0,
        taper_knee_pct=80.0,
        taper_end_kw=2.0,
    )
    # Flat part: 20 points of 50 kWh at 10 kW is one hour.
    assert model.hours_to_charge(40.0, 60.0, 50.0) == pytest.approx(1.0)
    assert model.hours_to_charge(60.0, 40.0, 50.0) == 0.0
    slow = model.hours_to_charge(80.0, 100.0, 50.0)
    assert slow > 2.0
    # Where nothing was measured, caution makes it take longer.
    assert model.hours_to_charge(40.0, 60.0, 50.0, unmeasured_share=0.5) == pytest.approx(2.0)


def test_state_survives_json() -> None:
    learner = ChargeLearner()
    learner.add_charge_sample(grid_kwh=10.0, stored_kwh=8.8)
    learner.add_power_sample(now=T0, soc_pct=40.0, power_kw=7.2)
    restored = ChargeLearner.from_dict(json.loads(json.dumps(learner.to_dict())))
    assert restored == learner
    assert restored.model(advertised_kw=11.0, now=T0) == learner.model(advertised_kw=11.0, now=T0)
    copy = learner.copy()
    copy.add_power_sample(now=T0, soc_pct=40.0, power_kw=1.0)
    assert learner.bands != copy.bands


def test_samples_that_measure_nothing_are_ignored() -> None:
    learner = ChargeLearner()
    before = learner.copy()
    assert not learner.add_charge_sample(grid_kwh=0.0, stored_kwh=1.0)
    assert not learner.add_charge_sample(grid_kwh=2.0, stored_kwh=-1.0)
    assert not learner.add_discharge_sample(grid_kwh=0.0, drawn_kwh=1.0)
    assert not learner.add_discharge_sample(grid_kwh=1.0, drawn_kwh=0.0)
    # No power (or a SoC that can't be) teaches nothing about power.
    learner.add_power_sample(now=T0, soc_pct=40.0, power_kw=0.0)
    learner.add_power_sample(now=T0, soc_pct=101.0, power_kw=7.0)
    learner.add_power_sample(now=T0, soc_pct=-1.0, power_kw=7.0)
    assert learner == before
    assert not learner.model(advertised_kw=11.0, now=T0).measured_bands


def test_discharge_efficiency_is_learned_and_impossible_samples_are_ignored() -> None:
    learner = ChargeLearner()
    # More energy out of the charger than left the battery (a misread SoC): not a sample.
    assert not learner.add_discharge_sample(grid_kwh=6.0, drawn_kwh=5.0)
    # Less than half of it reaching the grid is implausible too.
    assert not learner.add_discharge_sample(grid_kwh=2.0, drawn_kwh=5.0)
    assert learner.discharge_efficiency() == pytest.approx(0.9)
    for _ in range(20):
        assert learner.add_discharge_sample(grid_kwh=8.0, drawn_kwh=10.0)
    assert learner.discharge_efficiency() == pytest.approx(0.8, abs=0.01)
    # Charging efficiency is a separate figure.
    assert learner.efficiency() == PRIOR_EFFICIENCY


def test_a_rising_taper_reading_is_not_fitted_as_a_line() -> None:
    """Two bands above full power that rise (noise) give no slope; the first one decides."""
    both = ChargeLearner()
    first_only = ChargeLearner()
    for learner in (both, first_only):
        learner.add_power_sample(now=T0, soc_pct=60.0, power_kw=10.0)
        learner.add_power_sample(now=T0, soc_pct=86.0, power_kw=5.0)
    both.add_power_sample(now=T0, soc_pct=96.0, power_kw=6.0)
    rising = both.model(advertised_kw=11.0, now=T0)
    assert rising.taper() == first_only.model(advertised_kw=11.0, now=T0).taper()
    # Still a valid taper for the planner: full power up to a knee, then falling.
    (knee, top), (end, bottom) = rising.taper()
    assert 60.0 < knee < 86.0
    assert end == 100.0
    assert bottom < top == 10.0


def test_a_weak_band_near_full_puts_the_knee_just_below_it() -> None:
    """A band at or below the prior's end power: the taper falls just before it, to it."""
    learner = ChargeLearner()
    learner.add_power_sample(now=T0, soc_pct=40.0, power_kw=10.0)
    learner.add_power_sample(now=T0, soc_pct=96.0, power_kw=2.0)
    model = learner.model(advertised_kw=11.0, now=T0)
    # The band's centre is 96.25 %; the knee is one band width below it.
    assert model.taper() == [[93.75, 10.0], [100.0, 2.0]]
