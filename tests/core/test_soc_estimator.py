"""SoC between the car's reports, from the energy measured at the charger."""

from datetime import UTC, datetime, timedelta
import json

import pytest

from custom_components.ev_flex.core.soc_estimator import SocEstimator

T0 = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)
CAPACITY = 60.0


def minutes(value: float) -> datetime:
    return T0 + timedelta(minutes=value)


def estimate(estimator: SocEstimator, *, uncertainty: float = 0.0) -> tuple[float, float, float]:
    result = estimator.estimate(
        capacity_kwh=CAPACITY, efficiency=0.9, discharge_efficiency=0.9, uncertainty=uncertainty
    )
    assert result is not None
    return result.soc_pct, result.low_pct, result.high_pct


def test_no_estimate_before_the_first_report() -> None:
    estimator = SocEstimator()
    estimator.observe_power(T0, 11.0)
    assert (
        estimator.estimate(
            capacity_kwh=CAPACITY, efficiency=0.9, discharge_efficiency=0.9, uncertainty=0.0
        )
        is None
    )


def test_energy_since_the_report_moves_the_estimate() -> None:
    """One hour at 10 kW with 90 % efficiency stores 9 kWh: 15 points of 60 kWh."""
    estimator = SocEstimator()
    estimator.observe_report(T0, 40.0, T0)
    estimator.observe_power(T0, 10.0)
    for minute in range(5, 65, 5):
        estimator.observe_power(minutes(minute), 10.0)
    soc, low, high = estimate(estimator, uncertainty=0.1)
    assert soc == pytest.approx(55.0)
    assert low == pytest.approx(40.0 + 15.0 * 0.9)
    assert high == pytest.approx(40.0 + 15.0 * 0.99 / 0.9)
    assert low < soc < high


def test_a_step_is_split_where_the_command_took_effect() -> None:
    estimator = SocEstimator()
    estimator.observe_report(T0, 50.0, T0)
    estimator.observe_power(T0, 0.0)
    # Charging began 1 minute after the last reading; the next reading is 10 minutes later.
    estimator.observe_power(minutes(10), 6.0, change_at=minutes(1))
    assert estimator.energy_in_kwh == pytest.approx(6.0 * 9 / 60)
    # Without the moment, the average of both readings is used.
    plain = SocEstimator()
    plain.observe_power(T0, 0.0)
    plain.observe_power(minutes(10), 6.0)
    assert plain.energy_in_kwh == pytest.approx(0.5)


def test_a_meter_beats_integrated_power() -> None:
    estimator = SocEstimator()
    estimator.observe_power(T0, 10.0, meter_kwh=100.0)
    estimator.observe_power(minutes(60), 10.0, meter_kwh=108.0)
    assert estimator.energy_in_kwh == pytest.approx(8.0)


def test_discharging_lowers_the_estimate() -> None:
    estimator = SocEstimator()
    estimator.observe_report(T0, 80.0, T0)
    estimator.observe_power(T0, -9.0)
    estimator.observe_power(minutes(60), -9.0)
    soc, low, _ = estimate(estimator, uncertainty=0.1)
    # 9 kWh delivered costs 10 kWh of battery.
    assert soc == pytest.approx(80.0 - 10.0 / CAPACITY * 100.0)
    assert low < soc


def test_a_new_report_snaps_the_estimate_and_yields_an_efficiency_sample() -> None:
    estimator = SocEstimator()
    estimator.observe_report(T0, 40.0, T0)
    estimator.observe_power(T0, 10.0)
    estimator.observe_power(minutes(60), 10.0)
    estimator.observe_power(minutes(70), 0.0, change_at=minutes(60))
    sample = estimator.observe_report(minutes(70), 54.0, minutes(70))
    assert sample is not None
    assert sample.grid_in_kwh == pytest.approx(10.0)
    assert sample.soc_change_pct == pytest.approx(14.0)
    soc, _, _ = estimate(estimator)
    assert soc == 54.0


def test_a_late_report_is_matched_with_the_energy_before_it() -> None:
    """A report measured 30 minutes ago, arriving now: only energy after it counts."""
    estimator = SocEstimator()
    estimator.observe_report(T0, 40.0, T0)
    estimator.observe_power(T0, 12.0)
    for minute in range(5, 65, 5):
        estimator.observe_power(minutes(minute), 12.0)
    estimator.observe_report(minutes(60), 46.0, minutes(30))
    soc, _, _ = estimate(estimator)
    # 30 minutes at 12 kW after the report: 5.4 kWh stored, 9 points.
    assert soc == pytest.approx(55.0)


def test_an_unchanged_value_without_timestamp_is_stale_while_energy_flows() -> None:
    estimator = SocEstimator()
    estimator.observe_report(T0, 40.0, None)
    estimator.observe_power(T0, 10.0)
    estimator.observe_power(minutes(30), 10.0)
    assert estimator.observe_report(minutes(30), 40.0, None) is None
    assert estimator.report is not None
    assert estimator.report.at == T0
    soc, _, _ = estimate(estimator)
    assert soc == pytest.approx(47.5)
    # A changed value is a new report.
    estimator.observe_report(minutes(31), 47.0, None)
    assert estimator.report.at == minutes(31)


def test_reports_not_newer_than_the_last_are_ignored() -> None:
    estimator = SocEstimator()
    estimator.observe_report(minutes(10), 50.0, minutes(10))
    estimator.observe_report(minutes(20), 30.0, minutes(5))
    assert estimator.report is not None
    assert estimator.report.soc_pct == 50.0


def test_the_reporting_rhythm_is_learned() -> None:
    estimator = SocEstimator()
    for at in (0, 30, 60, 150):  # a 90-minute gap while charging
        estimator.observe_report(minutes(at), 50.0 + at / 10, minutes(at))
    assert estimator.next_report_expected(minutes(151)) == minutes(180)
    irregular = SocEstimator()
    for at in (0, 30, 47):
        irregular.observe_report(minutes(at), 50.0 + at / 10, minutes(at))
    assert irregular.next_report_expected(minutes(50)) is None


def test_history_stays_small_and_exact_at_steady_power() -> None:
    estimator = SocEstimator()
    estimator.observe_report(T0, 20.0, T0)
    for minute in range(0, 12 * 60, 1):
        estimator.observe_power(minutes(minute), 7.0 if minute < 300 else 0.0)
    assert len(estimator.history) < 40
    energy_in, _ = estimator.energy_since(minutes(240))
    # 59 full minutes at 7 kW after minute 240, then the stop averaged over one minute.
    assert energy_in == pytest.approx(7.0 * 59 / 60 + 7.0 / 120, rel=1e-6)


def test_state_survives_json() -> None:
    estimator = SocEstimator()
    estimator.observe_report(T0, 40.0, T0)
    estimator.observe_power(T0, 10.0)
    estimator.observe_power(minutes(60), 10.0)
    restored = SocEstimator.from_dict(json.loads(json.dumps(estimator.to_dict())))
    assert restored == estimator
    assert estimate(restored) == estimate(estimator)
