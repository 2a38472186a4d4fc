"""Site settings, the capacity tariff's peak, solar forecasts and the base-load profile."""

from datetime import UTC, datetime, timedelta
import math
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_flex.core.base_load import BaseLoadProfile, base_load_hours
from custom_components.ev_flex.core.planner import (
    Plan,
    PlannedSlot,
    PlanStatus,
    SiteSpec,
    SwitchInterval,
)
from custom_components.ev_flex.core.site import (
    HouseSensorKind,
    PeakCounting,
    SiteError,
    SiteSettings,
    current_switch_times,
    effective_peak,
    month_peak,
    site_for_slots,
)
from custom_components.ev_flex.core.solar_forecast import (
    parse_forecast_solar,
    parse_solcast,
    solcast_lists,
)

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)


# Settings


def test_fuse_in_amps_per_phase_or_kw() -> None:
    assert SiteSettings(fuse_a=25, phases=3).import_limit_kw == pytest.approx(17.25)
    assert SiteSettings(fuse_a=25, phases=1).import_limit_kw == pytest.approx(5.75)
    # A limit in kW wins (the operator's contract may be below the fuse).
    assert SiteSettings(fuse_a=25, fuse_kw=10).import_limit_kw == 10
    assert SiteSettings().import_limit_kw is None
    assert not SiteSettings().configured
    assert SiteSettings(fuse_a=25).configured


def test_settings_round_trip() -> None:
    settings = SiteSettings(
        house_entity="sensor.grid",
        house_kind=HouseSensorKind.CONSUMPTION,
        solar_entity="sensor.pv",
        forecast_entity="sensor.solcast_forecast_today",
        fuse_a=25,
        phases=3,
        peak_price_per_kw=12.5,
        peak_counting=PeakCounting.TOP_THREE_DAYS,
    )
    assert SiteSettings.from_dict(settings.to_dict()) == settings
    assert SiteSettings.from_dict({}) == SiteSettings()


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"fuse_a": -5}, "fuse_a", "out_of_range"),
        ({"fuse_a": math.nan}, "fuse_a", "out_of_range"),
        ({"fuse_a": "25"}, "fuse_a", "not_a_number"),
        ({"fuse_kw": 1.0}, "fuse_kw", "fuse_too_low"),
        ({"fuse_kw": 1e9}, "fuse_kw", "out_of_range"),
        ({"phases": 2.5}, "phases", "invalid_phases"),
        ({"peak_price_per_kw": -1}, "peak_price_per_kw", "out_of_range"),
        ({"peak_counting": "weekly"}, "peak_counting", "invalid_choice"),
        ({"house_entity": "grid"}, "house_entity", "invalid_entity"),
    ],
)
def test_bad_settings_name_the_field(data: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(SiteError) as caught:
        SiteSettings.from_dict(data)
    assert (caught.value.field, caught.value.reason) == (field, reason)


# Capacity tariff


def test_highest_hour_peak() -> None:
    settings = SiteSettings(peak_price_per_kw=10.0)
    days = {"2026-06-01": 4.0, "2026-06-02": 7.5, "2026-06-03": 6.0}
    assert effective_peak(settings, days) == (10.0, 7.5)
    assert month_peak(settings, days) == 7.5
    assert month_peak(settings, {}) == 0.0


def test_three_day_peak_counts_from_the_third_day_at_a_third_of_the_price() -> None:
    settings = SiteSettings(peak_price_per_kw=30.0, peak_counting=PeakCounting.TOP_THREE_DAYS)
    days = {"a": 4.0, "b": 7.5, "c": 6.0, "d": 2.0}
    assert effective_peak(settings, days) == (10.0, 4.0)
    assert month_peak(settings, days) == pytest.approx((7.5 + 6.0 + 4.0) / 3)
    # Fewer than three days so far: any hour today counts.
    assert effective_peak(settings, {"a": 5.0}) == (10.0, 0.0)


def test_site_for_slots_has_one_value_per_slot() -> None:
    slots = [(NOW + timedelta(hours=h), NOW + timedelta(hours=h + 1)) for h in range(3)]
    site = site_for_slots(
        SiteSettings(fuse_a=25, peak_price_per_kw=10),
        slots,
        base_load_kw=lambda start, end: 1.0 if start == NOW else -3.0,
        solar_kw=lambda start, end: 2.5,
        daily_peaks_kw={"x": 6.0},
    )
    assert site == SiteSpec(
        # A negative expectation is no load.
        base_load_kw=(1.0, 0.0, 0.0),
        solar_kw=(2.5, 2.5, 2.5),
        import_limit_kw=17.25,
        peak_price_per_kw=10.0,
        current_peak_kw=6.0,
    )
    unlimited = site_for_slots(SiteSettings(), slots, lambda s, e: 0.0, lambda s, e: 0.0, {})
    assert unlimited.import_limit_kw is None


# Solar forecasts, in the shapes the integrations publish


def solcast_rows(day: datetime, peak_kw: float) -> list[dict[str, object]]:
    """A Solcast day sensor's detailedForecast: 48 half hours, local times with offset."""
    rows: list[dict[str, object]] = []
    for half_hour in range(48):
        start = day.astimezone(OSLO) + timedelta(minutes=30 * half_hour)
        kw = max(0.0, peak_kw * (1 - abs(half_hour - 26) / 14))
        rows.append(
            {
                "period_start": start.isoformat(),
                "pv_estimate": round(kw, 4),
                "pv_estimate10": round(kw * 0.6, 4),
                "pv_estimate90": round(kw * 1.1, 4),
            }
        )
    return rows


def test_solcast_forecast_averages_over_a_slot() -> None:
    midnight = datetime(2026, 6, 21, tzinfo=OSLO)
    today = solcast_rows(midnight, 5.0)
    tomorrow = solcast_rows(midnight + timedelta(days=1), 3.0)
    forecast = parse_solcast([*solcast_lists({"detailedForecast": today}), tomorrow])
    assert len(forecast.periods) == 96
    noon = midnight + timedelta(hours=13)
    assert forecast.average_kw(noon, noon + timedelta(minutes=30)) == pytest.approx(5.0)
    # A quarter-hour slot inside a half hour takes that half hour's average.
    assert forecast.average_kw(noon, noon + timedelta(minutes=15)) == pytest.approx(5.0)
    assert forecast.average_kw(midnight, midnight + timedelta(hours=1)) == 0.0
    assert forecast.usable_at(noon)
    # Stale: everything forecast lies in the past.
    assert not forecast.usable_at(midnight + timedelta(days=2))


def test_solcast_bad_rows_are_skipped() -> None:
    good = {"period_start": "2026-06-21T12:00:00+02:00", "pv_estimate": 2.0}
    forecast = parse_solcast(
        [
            [
                good,
                dict(good),  # the same period again
                {"period_start": "2026-06-21T12:30:00", "pv_estimate": 1.0},  # no offset
                {"period_start": "noon", "pv_estimate": 1.0},
                {"period_start": "2026-06-21T13:00:00+02:00", "pv_estimate": math.inf},
                {"period_start": "2026-06-21T13:30:00+02:00", "pv_estimate": -1},
                {"period_start": "2026-06-21T14:00:00+02:00", "pv_estimate": True},
                "row",
            ],
            None,
        ]
    )
    assert [p.kw for p in forecast.periods] == [2.0]
    assert solcast_lists({"detailedForecast": "none"}) == []
    assert not parse_solcast([]).usable_at(NOW)


def test_forecast_solar_wh_per_period() -> None:
    data = {
        "wh_hours": {
            "2026-06-21T05:00:00+02:00": 120,
            "2026-06-21T06:00:00+02:00": 900,
            "2026-06-21T07:00:00+02:00": 2100.5,
            "bad": 10,
            "2026-06-21T08:00:00+02:00": math.nan,
        }
    }
    forecast = parse_forecast_solar(data)
    assert [round(p.kw, 4) for p in forecast.periods] == [0.12, 0.9, 2.1005]
    seven = datetime(2026, 6, 21, 7, tzinfo=OSLO)
    assert forecast.average_kw(seven, seven + timedelta(minutes=15)) == pytest.approx(2.1005)
    assert forecast.average_kw(seven, seven) == 0.0
    # Quarter-hour values (paid plans) are periods of 15 minutes.
    quarter = parse_forecast_solar(
        {"wh_hours": {"2026-06-21T07:00:00+02:00": 500, "2026-06-21T07:15:00+02:00": 500}}
    )
    assert quarter.periods[0].kw == pytest.approx(2.0)
    assert parse_forecast_solar(None).periods == ()
    assert parse_forecast_solar({"wh_hours": []}).periods == ()


# Base load


def test_base_load_takes_out_the_cars_and_adds_back_solar() -> None:
    hour = datetime(2026, 6, 1, 10, tzinfo=UTC)
    later = hour + timedelta(hours=1)
    house = {hour: -2.0, later: 8.0}
    solar = {hour: 3.5}
    cars = {later: 7.0}
    grid = base_load_hours(HouseSensorKind.GRID, house, solar, cars)
    # Exporting 2 kW while producing 3.5 kW: the house used 1.5 kW. The next hour has no
    # solar reading and is left out.
    assert grid == {hour: 1.5}
    consumption = base_load_hours(HouseSensorKind.CONSUMPTION, house, None, cars)
    assert consumption == {hour: 0.0, later: 1.0}
    assert base_load_hours(HouseSensorKind.GRID, {hour: math.inf}, None, {}) == {}


def test_profile_by_weekday_and_hour() -> None:
    monday_six = datetime(2026, 6, 1, 6, tzinfo=OSLO)
    hours = {
        monday_six: 1.0,
        monday_six + timedelta(days=7): 2.0,
        monday_six + timedelta(hours=12): 3.0,
        monday_six + timedelta(days=1): 0.4,
    }
    profile = BaseLoadProfile.learn(hours, OSLO)
    assert profile.learned
    assert profile.expected_kw(monday_six + timedelta(minutes=30), OSLO) == 1.5
    assert profile.expected_kw(monday_six + timedelta(days=1), OSLO) == 0.4
    # Wednesday at six was never seen: the other days' six o'clock.
    assert profile.expected_kw(monday_six + timedelta(days=2), OSLO) == pytest.approx(0.95)
    # An hour never seen on any day: the average of everything.
    assert profile.expected_kw(monday_six.replace(hour=3), OSLO) == pytest.approx(4.9 / 3)
    start = monday_six + timedelta(minutes=30)
    assert profile.average_kw(start, start + timedelta(hours=1), OSLO) == pytest.approx(
        (1.5 + 4.9 / 3) / 2
    )
    assert profile.average_kw(start, start, OSLO) == 0.0


def test_empty_profile_says_zero_and_round_trips() -> None:
    empty = BaseLoadProfile()
    assert not empty.learned
    assert empty.expected_kw(NOW, OSLO) == 0.0
    learned = BaseLoadProfile.learn({NOW: 0.8}, OSLO)
    assert BaseLoadProfile.from_dict(learned.to_dict()) == learned
    for broken in (None, {"by_weekday_hour": [[1.0]]}, {"by_weekday_hour": [[]] * 7}):
        assert BaseLoadProfile.from_dict(broken) == BaseLoadProfile()
    stored = learned.to_dict()
    stored["by_weekday_hour"][0][0] = math.nan
    assert BaseLoadProfile.from_dict(stored).by_weekday_hour[0][0] is None


def at(minutes: float) -> datetime:
    """The moment this many minutes after NOW."""
    return NOW + timedelta(minutes=minutes)


def slot(start: float, kw: float) -> PlannedSlot:
    """A quarter-hour charging slot at this power, starting this many minutes after NOW."""
    return PlannedSlot(at(start), at(start + 15), kw, 0.0, 50.0, 0.1, None)


def test_current_control_charges_through_each_slot_at_its_power() -> None:
    plan = Plan(
        status=PlanStatus.OK,
        slots=(slot(0, 11.0), slot(15, 11.0), slot(30, 5.0), slot(45, 2.0), slot(60, 0.0)),
        switch_times=(
            SwitchInterval(at(0), at(30 + 15 * 5 / 11), "charge", 11.0),
            SwitchInterval(at(45), at(45 + 15 * 2 / 11), "charge", 11.0),
        ),
    )
    assert current_switch_times(plan, 4.14) == (
        # Full power, back to back: one window.
        SwitchInterval(at(0), at(30), "charge", 11.0),
        # 5 kW through the whole slot instead of 11 kW for 6.8 minutes.
        SwitchInterval(at(30), at(45), "charge", 5.0),
        # 2 kW is below the charger's minimum: part of the slot at full power, as planned.
        SwitchInterval(at(45), at(45 + 15 * 2 / 11), "charge", 11.0),
    )


def test_current_control_charges_in_whole_amps_with_at_least_the_planned_energy() -> None:
    # 5.04 kW is 7.3 A on three phases; 10.8 kW is the car's full power (15.7 A).
    plan = Plan(
        status=PlanStatus.OK,
        slots=(slot(0, 5.04), slot(15, 4.14), slot(30, 10.8), slot(60, 5.49)),
    )
    windows = current_switch_times(plan, 4.14, amp_kw=0.69, max_kw=10.8)
    assert windows == (
        # 8 A for 5 minutes (4.6 rounded up to whole minutes), then 7 A: 1.265 kWh >= 1.26.
        SwitchInterval(at(0), at(5), "charge", 5.52),
        SwitchInterval(at(5), at(15), "charge", 4.83),
        # Exactly 6 A.
        SwitchInterval(at(15), at(30), "charge", 4.14),
        # Full power: the amp above, so rounding never holds the car below it.
        SwitchInterval(at(30), at(45), "charge", 11.04),
        # 7.96 A: the amp above for 14.3 minutes rounds up to the whole slot.
        SwitchInterval(at(60), at(75), "charge", 5.52),
    )
