"""Solar production forecasts, read from what the forecast integrations publish.

- Forecast.Solar (Home Assistant core, `forecast_solar`; read at its energy platform, core
  2025.x): `async_get_solar_forecast` returns `{"wh_hours": {start ISO time: Wh}}`, the energy
  of each period from that start to the next one (hourly for the free plan).
- Solcast PV Forecast (BJReplay/ha-solcast-solar, v4.x): the forecast day sensors carry a
  `detailedForecast` attribute, a list of `{"period_start", "pv_estimate", "pv_estimate10",
  "pv_estimate90"}` with the average kW over each 30-minute period.

Parsers never raise on bad data: rows that cannot be read are skipped, and a forecast with
nothing ahead of now counts as no forecast (no solar), as does a missing one.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Any

SOLCAST_ATTRIBUTE = "detailedForecast"
SOLCAST_PERIOD = timedelta(minutes=30)
# Forecast.Solar's free plan gives hours; the last period of a day has no successor.
FORECAST_SOLAR_PERIOD = timedelta(hours=1)
# No rooftop array makes more than this (kW): larger values are misread units or corrupt data.
MAX_SOLAR_KW = 1000.0


@dataclass(frozen=True, slots=True)
class SolarPeriod:
    start: datetime
    end: datetime
    kw: float


@dataclass(frozen=True, slots=True)
class SolarForecast:
    """Average production per period, in time order, without overlaps."""

    periods: tuple[SolarPeriod, ...]

    def usable_at(self, now: datetime) -> bool:
        """Whether the forecast reaches past now (a stale one counts as none)."""
        return bool(self.periods) and self.periods[-1].end > now

    def average_kw(self, start: datetime, end: datetime) -> float:
        """The expected average production over [start, end); 0 where nothing is forecast."""
        total = 0.0
        for period in self.periods:
            overlap = (min(end, period.end) - max(start, period.start)).total_seconds()
            if overlap > 0:
                total += period.kw * overlap
        span = (end - start).total_seconds()
        return total / span if span > 0 else 0.0


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else None


def _amount(value: object, most: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not 0 <= value <= most:
        return None
    return float(value)


def _ordered(periods: Iterable[SolarPeriod]) -> SolarForecast:
    kept: list[SolarPeriod] = []
    for period in sorted(periods, key=lambda p: p.start):
        if kept and period.start < kept[-1].end:
            # Overlapping rows (a repeated period): the first one stays.
            continue
        kept.append(period)
    return SolarForecast(tuple(kept))


def parse_solcast(attribute_lists: Sequence[object]) -> SolarForecast:
    """Solcast's `detailedForecast` lists (today, tomorrow, ...) as one forecast."""
    periods: list[SolarPeriod] = []
    for rows in attribute_lists:
        if not isinstance(rows, list):
            continue
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            start, kw = (
                _time(row.get("period_start")),
                _amount(row.get("pv_estimate"), MAX_SOLAR_KW),
            )
            if start is not None and kw is not None:
                periods.append(SolarPeriod(start, start + SOLCAST_PERIOD, kw))
    return _ordered(periods)


def parse_forecast_solar(data: object) -> SolarForecast:
    """Forecast.Solar's energy-platform answer as a forecast."""
    if not isinstance(data, Mapping) or not isinstance(wh_hours := data.get("wh_hours"), Mapping):
        return SolarForecast(())
    points: list[tuple[datetime, float]] = []
    for key, value in wh_hours.items():
        start, wh = _time(key), _amount(value, MAX_SOLAR_KW * 1000.0)
        if start is not None and wh is not None:
            points.append((start, wh))
    points.sort()
    periods: list[SolarPeriod] = []
    for index, (start, wh) in enumerate(points):
        following = points[index + 1][0] if index + 1 < len(points) else None
        length = FORECAST_SOLAR_PERIOD
        if following is not None and timedelta(0) < following - start <= FORECAST_SOLAR_PERIOD:
            length = following - start
        kw = wh / 1000.0 / (length.total_seconds() / 3600.0)
        if kw <= MAX_SOLAR_KW:
            periods.append(SolarPeriod(start, start + length, kw))
    return _ordered(periods)


def solcast_lists(attributes: Mapping[str, Any]) -> list[object]:
    """The forecast lists a Solcast day sensor carries (empty if it carries none)."""
    rows = attributes.get(SOLCAST_ATTRIBUTE)
    return [rows] if isinstance(rows, list) else []
