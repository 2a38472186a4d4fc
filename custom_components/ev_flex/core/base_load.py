"""The house's expected consumption without the cars: a profile by weekday and hour.

It is learned from hourly averages of the house meter (Home Assistant's long-term statistics)
with the cars' own charging taken out, and for a grid meter the solar production added back:
what the house itself used. Each weekday and local hour averages the weeks it has seen; an hour
not seen yet takes the same hour of the other days, and a profile with nothing at all says 0.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
import math
from typing import Any

from .site import HouseSensorKind

HOURS = 24
DAYS = 7
# Hourly averages above this (kW) are misread units or corrupt data and are left out.
MAX_HOUSE_KW = 1000.0


def base_load_hours(
    kind: HouseSensorKind,
    house_kw: Mapping[datetime, float],
    solar_kw: Mapping[datetime, float] | None,
    cars_kw: Mapping[datetime, float],
) -> dict[datetime, float]:
    """The house's own consumption per hour, from the meters' hourly averages (kW).

    `solar_kw` is None without a solar sensor; hours it lacks then count no production. With a
    solar sensor, hours it lacks are left out rather than guessed.
    """
    hours: dict[datetime, float] = {}
    for start, house in house_kw.items():
        load = house - cars_kw.get(start, 0.0)
        if kind is HouseSensorKind.GRID and solar_kw is not None:
            if start not in solar_kw:
                continue
            load += solar_kw[start]
        if math.isfinite(load) and abs(load) <= MAX_HOUSE_KW:
            hours[start] = max(0.0, load)
    return hours


@dataclass(frozen=True, slots=True)
class BaseLoadProfile:
    """Average kW by local weekday (Monday first) and hour; None where nothing was seen."""

    by_weekday_hour: tuple[tuple[float | None, ...], ...] = ((None,) * HOURS,) * DAYS

    @classmethod
    def learn(cls, hours: Mapping[datetime, float], tz: tzinfo) -> BaseLoadProfile:
        """Average each weekday and local hour over the hours given."""
        sums = [[0.0] * HOURS for _ in range(DAYS)]
        counts = [[0] * HOURS for _ in range(DAYS)]
        for start, kw in hours.items():
            local = start.astimezone(tz)
            sums[local.weekday()][local.hour] += kw
            counts[local.weekday()][local.hour] += 1
        return cls(
            tuple(
                tuple(
                    round(sums[day][hour] / counts[day][hour], 4) if counts[day][hour] else None
                    for hour in range(HOURS)
                )
                for day in range(DAYS)
            )
        )

    @property
    def learned(self) -> bool:
        """Whether any hour has been seen."""
        return any(kw is not None for day in self.by_weekday_hour for kw in day)

    def _hour_kw(self, weekday: int, hour: int) -> float:
        own = self.by_weekday_hour[weekday][hour]
        if own is not None:
            return own
        others = [kw for day in self.by_weekday_hour if (kw := day[hour]) is not None]
        if others:
            return sum(others) / len(others)
        seen = [kw for day in self.by_weekday_hour for kw in day if kw is not None]
        return sum(seen) / len(seen) if seen else 0.0

    def expected_kw(self, at: datetime, tz: tzinfo) -> float:
        """The expected consumption at this moment (kW)."""
        local = at.astimezone(tz)
        return self._hour_kw(local.weekday(), local.hour)

    def average_kw(self, start: datetime, end: datetime, tz: tzinfo) -> float:
        """The expected average over [start, end), weighted by the hours it spans (kW)."""
        if end <= start:
            return 0.0
        total, moment = 0.0, start
        while moment < end:
            hour_end = moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            step_end = min(end, hour_end)
            total += self.expected_kw(moment, tz) * (step_end - moment).total_seconds()
            moment = step_end
        return total / (end - start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"by_weekday_hour": [list(day) for day in self.by_weekday_hour]}

    @classmethod
    def from_dict(cls, data: object) -> BaseLoadProfile:
        """Read a stored profile; anything unreadable gives an empty one (learned again)."""
        rows = data.get("by_weekday_hour") if isinstance(data, Mapping) else None
        if not isinstance(rows, list) or len(rows) != DAYS:
            return cls()
        days: list[tuple[float | None, ...]] = []
        for row in rows:
            if not isinstance(row, list) or len(row) != HOURS:
                return cls()
            days.append(tuple(_stored_kw(value) for value in row))
        return cls(tuple(days))


def _stored_kw(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_HOUSE_KW:
        return None
    return float(value)
