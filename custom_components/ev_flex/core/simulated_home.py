"""A simulated home: a house load with a daily shape, rooftop solar with passing clouds, and the
grid meter between them and the car.

Everything is a pure function of time and the seed, so the home needs no state to store, a
restart continues where it was, and a benchmark can replay any month. Local times follow the
injected time zone; the sun follows the home's latitude and longitude.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
import math
import random

# A whole day's weather and each block's clouds are drawn once per this length of time.
CLOUD_BLOCK = timedelta(minutes=10)
LOAD_BLOCK = timedelta(minutes=5)
# Share of clear-sky production a passing cloud lets through.
CLOUD_TRANSMISSION = 0.25
# Averages over a period are taken from samples this far apart.
AVERAGE_STEP = timedelta(minutes=5)


@dataclass(frozen=True, kw_only=True)
class HomeSpec:
    """The fixed properties of a simulated home."""

    latitude: float = 59.91
    longitude: float = 10.75
    # Peak production of the rooftop array in full sun (kW).
    solar_peak_kw: float = 6.0
    # Always on: fridge, ventilation, standby (kW).
    standby_kw: float = 0.35
    seed: int = 0


def _draw(seed: int, *parts: object) -> float:
    """A deterministic number in [0, 1) for this seed and these parts."""
    return random.Random(":".join(str(part) for part in (seed, *parts))).random()


def _bump(hour: float, centre: float, width: float) -> float:
    """A smooth bump of height 1 around `centre` (hours), about `width` hours wide."""
    return math.exp(-(((hour - centre) / (width / 2.0)) ** 2))


# (centre hour, width in hours, kW) of the household's routines.
_WEEKDAY_ROUTINES = ((7.0, 1.8, 1.3), (12.5, 3.0, 0.25), (18.0, 3.0, 1.8), (21.0, 2.0, 0.7))
_WEEKEND_ROUTINES = ((9.0, 2.5, 1.1), (13.0, 2.5, 0.9), (18.0, 3.0, 1.9), (21.5, 2.0, 0.6))


class SimulatedHome:
    """House load, solar production and the grid meter of one simulated home."""

    def __init__(self, *, tz: tzinfo, spec: HomeSpec | None = None) -> None:
        self.spec = spec or HomeSpec()
        self.tz = tz

    # House load

    def house_load_kw(self, at: datetime) -> float:
        """What the house draws without the car, at this moment (kW)."""
        local = at.astimezone(self.tz)
        hour = local.hour + local.minute / 60.0 + local.second / 3600.0
        routines = _WEEKEND_ROUTINES if local.weekday() >= 5 else _WEEKDAY_ROUTINES
        load = self.spec.standby_kw + sum(kw * _bump(hour, c, w) for c, w, kw in routines)
        block = int(at.timestamp() // LOAD_BLOCK.total_seconds())
        # Appliances switching: +-30 % around the routine, and now and then a kettle or oven.
        load *= 0.7 + 0.6 * _draw(self.spec.seed, "load", block)
        if _draw(self.spec.seed, "appliance", block) < 0.06:
            load += 2.0
        return round(load, 3)

    # Solar

    def clear_sky_kw(self, at: datetime) -> float:
        """Production under a clear sky (kW): follows the sun's height over the horizon."""
        day = at.timetuple().tm_yday
        declination = math.radians(23.44) * math.sin(2 * math.pi * (284 + day) / 365.0)
        utc_hours = at.timestamp() / 3600.0 % 24.0
        solar_hours = utc_hours + self.spec.longitude / 15.0
        hour_angle = math.radians(15.0 * (solar_hours - 12.0))
        latitude = math.radians(self.spec.latitude)
        sin_height = math.sin(latitude) * math.sin(declination) + math.cos(latitude) * math.cos(
            declination
        ) * math.cos(hour_angle)
        if sin_height <= 0:
            return 0.0
        # Panels tilted toward the sun catch more than the flat share; air mass takes some.
        return self.spec.solar_peak_kw * min(1.0, math.pow(sin_height, 0.8) * 1.25)

    def cloudiness(self, at: datetime) -> float:
        """The day's share of time under cloud, 0 (clear) to 1 (overcast)."""
        date = at.astimezone(self.tz).date()
        return math.pow(_draw(self.spec.seed, "weather", date.isoformat()), 1.5)

    def _cloud_factor(self, at: datetime) -> float:
        block = int(at.timestamp() // CLOUD_BLOCK.total_seconds())
        position = at.timestamp() / CLOUD_BLOCK.total_seconds() - block
        # Clouds drift in and out: each block's cover blends into the next.
        here = self._block_cover(at, block)
        after = self._block_cover(at, block + 1)
        cover = here + (after - here) * position
        return 1.0 - (1.0 - CLOUD_TRANSMISSION) * cover

    def _block_cover(self, at: datetime, block: int) -> float:
        return 1.0 if _draw(self.spec.seed, "cloud", block) < self.cloudiness(at) else 0.0

    def solar_kw(self, at: datetime) -> float:
        """Production at this moment, with passing clouds (kW)."""
        return round(self.clear_sky_kw(at) * self._cloud_factor(at), 3)

    def expected_solar_kw(self, at: datetime) -> float:
        """What a forecast made the day before says (kW): the day's clouds, not each cloud."""
        share = 1.0 - (1.0 - CLOUD_TRANSMISSION) * self.cloudiness(at)
        return round(self.clear_sky_kw(at) * share, 3)

    # Grid meter

    def grid_kw(self, at: datetime, car_kw: float) -> float:
        """The meter: import positive, export negative (kW)."""
        return round(self.house_load_kw(at) - self.solar_kw(at) + car_kw, 3)

    def average_kw(self, series: str, start: datetime, end: datetime) -> float:
        """The average of "load", "solar" or "expected_solar" over [start, end) (kW)."""
        read = {
            "load": self.house_load_kw,
            "solar": self.solar_kw,
            "expected_solar": self.expected_solar_kw,
        }[series]
        total_kwh = hours = 0.0
        moment = start
        while moment < end:
            step = min(AVERAGE_STEP, end - moment)
            step_hours = step.total_seconds() / 3600.0
            total_kwh += read(moment + step / 2) * step_hours
            hours += step_hours
            moment += step
        return total_kwh / hours if hours else 0.0
