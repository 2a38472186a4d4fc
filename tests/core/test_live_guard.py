"""The live guard: the plan's power as a current, the fuse, solar surplus and the rate limit."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_flex.core.live_guard import (
    GuardCar,
    GuardCommand,
    expected_solar_kw,
    guard,
    house_without_cars,
)
from custom_components.ev_flex.core.site import HouseSensorKind, SolarMode

NOW = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)
# 25 A on three phases.
FUSE_KW = 17.25
CAR = GuardCar(
    vehicle_id="car",
    can_set_current=True,
    phases=3,
    max_current_a=16.0,
    charging_kw=11.04,
    current_a=16.0,
    planned_kw=11.04,
)


def test_planned_power_becomes_a_current_per_phase() -> None:
    car = replace(CAR, planned_kw=5.0, charging_kw=0.0)
    result = guard(NOW, house_kw=1.0, import_limit_kw=FUSE_KW, cars=[car])
    # 5 kW on three phases at 230 V is 7.2 A: 7 A, never more than planned.
    assert result.commands == (GuardCommand("car", 7.0, protects_fuse=False),)
    assert result.stop_for_fuse == ()
    # Already there: nothing to send.
    assert (
        guard(
            NOW, house_kw=1.0, import_limit_kw=FUSE_KW, cars=[replace(car, current_a=7.0)]
        ).commands
        == ()
    )


def test_the_fuse_lowers_the_current_at_once() -> None:
    # The oven and the heat pump: 10 kW without the car leaves 6.95 kW under the margin.
    recent = replace(CAR, last_command_at=NOW - timedelta(seconds=5))
    result = guard(NOW, house_kw=10.0, import_limit_kw=FUSE_KW, cars=[recent])
    assert result.commands == (GuardCommand("car", 10.0, protects_fuse=True),)


def test_when_not_even_the_minimum_fits_the_car_must_stop() -> None:
    result = guard(NOW, house_kw=14.0, import_limit_kw=FUSE_KW, cars=[CAR])
    assert result.stop_for_fuse == ("car",)
    # Until its controller stops it, the charger goes as low as it can, at once.
    assert result.commands == (GuardCommand("car", 6.0, protects_fuse=True),)
    # A car that neither charges nor is planned to is left alone.
    idle = replace(CAR, charging_kw=0.0, planned_kw=0.0)
    assert guard(NOW, house_kw=14.0, import_limit_kw=FUSE_KW, cars=[idle]).stop_for_fuse == ()


def test_two_cars_share_the_fuse_first_come_first_served() -> None:
    first = replace(CAR, vehicle_id="first")
    second = replace(CAR, vehicle_id="second")
    result = guard(NOW, house_kw=2.0, import_limit_kw=FUSE_KW, cars=[first, second])
    # 14.95 kW free: the first keeps 16 A (11.04 kW); 3.91 kW is below 6 A: the second stops.
    assert result.commands == (GuardCommand("second", 6.0, protects_fuse=True),)
    assert result.stop_for_fuse == ("second",)
    result = guard(NOW, house_kw=0.5, import_limit_kw=FUSE_KW, cars=[first, second])
    # 16.45 kW free: 5.41 kW is left for the second, 7 A.
    assert result.commands == (GuardCommand("second", 7.0, protects_fuse=True),)


def test_more_current_waits_a_minute_after_the_last_command() -> None:
    car = replace(CAR, current_a=6.0, charging_kw=4.14, last_command_at=NOW - timedelta(seconds=30))
    assert guard(NOW, house_kw=1.0, import_limit_kw=FUSE_KW, cars=[car]).commands == ()
    later = NOW + timedelta(seconds=31)
    assert guard(later, house_kw=1.0, import_limit_kw=FUSE_KW, cars=[car]).commands == (
        GuardCommand("car", 16.0, protects_fuse=False),
    )


@pytest.mark.parametrize(
    ("mode", "surplus_kw", "current"),
    [
        # Cheapest: the plan says off, solar or not.
        (SolarMode.CHEAPEST, 8.0, None),
        # Solar first and solar only follow the surplus: 8 kW is 11 A.
        (SolarMode.SOLAR_FIRST, 8.0, 11.0),
        (SolarMode.SOLAR_ONLY, 8.0, 11.0),
        # 3 kW is below the 4.14 kW minimum: solar first tops up from the grid, solar only not.
        (SolarMode.SOLAR_FIRST, 3.0, 6.0),
        (SolarMode.SOLAR_ONLY, 3.0, None),
        (SolarMode.SOLAR_FIRST, 1.0, None),
    ],
)
def test_solar_modes_follow_the_surplus(
    mode: SolarMode, surplus_kw: float, current: float | None
) -> None:
    car = replace(CAR, planned_kw=0.0, charging_kw=0.0, current_a=None, mode=mode)
    result = guard(NOW, house_kw=-surplus_kw, import_limit_kw=FUSE_KW, cars=[car])
    expected = () if current is None else (GuardCommand("car", current, protects_fuse=False),)
    assert result.commands == expected


def test_without_a_meter_reading_the_plan_is_followed_and_never_raised() -> None:
    low = replace(CAR, current_a=8.0)
    assert guard(NOW, house_kw=None, import_limit_kw=FUSE_KW, cars=[low]).commands == ()
    high = replace(CAR, current_a=16.0, planned_kw=5.0)
    result = guard(NOW, house_kw=None, import_limit_kw=FUSE_KW, cars=[high])
    assert result.commands == (GuardCommand("car", 7.0, protects_fuse=False),)
    assert result.house_without_cars_kw is None


def test_a_charger_without_current_control_is_only_ever_stopped() -> None:
    on_off = replace(CAR, can_set_current=False)
    assert guard(NOW, house_kw=1.0, import_limit_kw=FUSE_KW, cars=[on_off]).commands == ()
    assert guard(NOW, house_kw=14.0, import_limit_kw=FUSE_KW, cars=[on_off]).stop_for_fuse == (
        "car",
    )
    # No fuse set: only the plan limits the current.
    assert guard(NOW, house_kw=40.0, import_limit_kw=None, cars=[CAR]).stop_for_fuse == ()


def test_house_without_cars() -> None:
    assert house_without_cars(HouseSensorKind.GRID, 12.0, 5.0, 11.0) == 1.0
    # Consumption of 12 kW with 5 kW of solar and an 11 kW car: the house takes 4 kW less.
    assert house_without_cars(HouseSensorKind.CONSUMPTION, 12.0, 5.0, 11.0) == -4.0
    assert house_without_cars(HouseSensorKind.CONSUMPTION, 12.0, None, 11.0) == 1.0
    assert house_without_cars(HouseSensorKind.GRID, None, 5.0, 11.0) is None


def test_solar_part_of_the_plan_follows_the_live_surplus() -> None:
    # Planned 6 kW, of which 4 kW from solar; a cloud leaves 1 kW of surplus.
    car = replace(CAR, planned_kw=6.0, planned_solar_kw=4.0, mode=SolarMode.SOLAR_ONLY)
    result = guard(NOW, house_kw=-1.0, import_limit_kw=FUSE_KW, cars=[car])
    # 2 kW from the grid (the target needs it) and 1 kW of surplus: 3 kW is below the minimum,
    # which the grid part justifies.
    assert result.commands == (GuardCommand("car", 6.0, protects_fuse=False),)
    sunny = guard(NOW, house_kw=-7.0, import_limit_kw=FUSE_KW, cars=[car])
    # 2 kW + 7 kW = 9 kW: 13 A.
    assert sunny.commands == (GuardCommand("car", 13.0, protects_fuse=False),)
    # All from solar and too little of it: as low as the charger goes until the plan stops it.
    only_solar = replace(car, planned_kw=4.0)
    assert guard(NOW, house_kw=-1.0, import_limit_kw=FUSE_KW, cars=[only_solar]).commands == (
        GuardCommand("car", 6.0, protects_fuse=False),
    )


def test_whole_amps_keep_the_plans_share_of_solar() -> None:
    # A slot planned at 5.04 kW with 4.032 kW of surplus expected: a fifth from the grid,
    # whether the charger runs at 8 A (5.52 kW) or 7 A (4.83 kW) in that slot.
    assert expected_solar_kw(5.52, 5.04, 4.032) == pytest.approx(5.52 * 0.8)
    assert expected_solar_kw(4.83, 5.04, 4.032) == pytest.approx(4.83 * 0.8)
    # All of it expected from the sun; none when no surplus is expected or nothing planned.
    assert expected_solar_kw(5.52, 5.04, 6.0) == pytest.approx(5.52)
    assert expected_solar_kw(5.52, 5.04, -1.0) == 0.0
    assert expected_solar_kw(11.04, 0.0, 3.0) == 0.0
