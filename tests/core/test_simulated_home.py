"""The simulated home: a plausible daily load, solar that follows the sun and the clouds, and a
grid meter that adds the car."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from custom_components.ev_flex.core.simulated_home import HomeSpec, SimulatedHome

OSLO = ZoneInfo("Europe/Oslo")


def home(seed: int = 0, **spec: float) -> SimulatedHome:
    return SimulatedHome(tz=OSLO, spec=HomeSpec(seed=seed, **spec))


def _hourly_load(sim: SimulatedHome, day: datetime) -> list[float]:
    return [
        sim.average_kw("load", day + timedelta(hours=h), day + timedelta(hours=h + 1))
        for h in range(24)
    ]


def test_house_load_has_an_evening_peak_and_a_quiet_night() -> None:
    sim = home()
    # A Wednesday in local time.
    day = datetime(2026, 3, 11, tzinfo=OSLO)
    hourly = _hourly_load(sim, day)
    assert max(hourly[17:20]) > 2 * max(hourly[1:5])
    assert 0.2 < min(hourly) < 1.0
    # A household of this shape uses 10-25 kWh a day.
    assert 10 < sum(hourly) < 25


def test_weekend_mornings_start_later() -> None:
    sim = home()
    weekday = _hourly_load(sim, datetime(2026, 3, 11, tzinfo=OSLO))
    saturday = _hourly_load(sim, datetime(2026, 3, 14, tzinfo=OSLO))
    assert weekday[7] > saturday[7]
    assert saturday[10] > weekday[10]


def test_solar_is_zero_at_night_and_peaks_around_noon_in_summer() -> None:
    sim = home(solar_peak_kw=6.0)
    midnight = datetime(2026, 6, 21, 0, 0, tzinfo=OSLO)
    noon = datetime(2026, 6, 21, 13, 0, tzinfo=OSLO)
    assert sim.clear_sky_kw(midnight) == 0.0
    assert 4.5 < sim.clear_sky_kw(noon) <= 6.0
    # Oslo in December: a short, low sun.
    assert sim.clear_sky_kw(datetime(2026, 12, 21, 12, 30, tzinfo=OSLO)) < 1.5
    assert sim.clear_sky_kw(datetime(2026, 12, 21, 16, 30, tzinfo=OSLO)) == 0.0


def test_passing_clouds_vary_production_within_an_hour() -> None:
    # Over a summer month some day must have broken clouds: production jumps within the hour.
    sim = home(seed=3)
    jumps = 0
    for day in range(30):
        start = datetime(2026, 6, 1, 12, tzinfo=UTC) + timedelta(days=day)
        readings = [sim.solar_kw(start + timedelta(minutes=5 * i)) for i in range(12)]
        if max(readings) - min(readings) > 2.0:
            jumps += 1
    assert jumps >= 3
    # Clouds never produce more than the clear sky.
    moment = datetime(2026, 6, 10, 11, 7, tzinfo=UTC)
    assert sim.solar_kw(moment) <= sim.clear_sky_kw(moment)


def test_the_same_seed_gives_the_same_home_and_another_seed_another() -> None:
    moment = datetime(2026, 5, 4, 10, 3, tzinfo=UTC)
    assert home(seed=7).house_load_kw(moment) == home(seed=7).house_load_kw(moment)
    days = [datetime(2026, 5, 1, 11, tzinfo=UTC) + timedelta(days=d) for d in range(20)]
    assert [home(seed=1).solar_kw(d) for d in days] != [home(seed=2).solar_kw(d) for d in days]


def test_grid_meter_is_load_minus_solar_plus_car() -> None:
    sim = home()
    moment = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
    load, solar = sim.house_load_kw(moment), sim.solar_kw(moment)
    assert sim.grid_kw(moment, 0.0) == round(load - solar, 3)
    assert sim.grid_kw(moment, 7.4) == round(load - solar + 7.4, 3)


def test_expected_solar_follows_the_day_not_each_cloud() -> None:
    sim = home(seed=5)
    start = datetime(2026, 6, 15, 8, tzinfo=UTC)
    end = start + timedelta(hours=8)
    expected = sim.average_kw("expected_solar", start, end)
    actual = sim.average_kw("solar", start, end)
    # Same day's weather: the forecast is close over hours, though not minute by minute.
    assert abs(expected - actual) < 0.35 * sim.average_kw("solar", start, end) + 0.5
    assert sim.average_kw("load", start, start) == 0.0
