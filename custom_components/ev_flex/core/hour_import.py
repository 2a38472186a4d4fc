"""What the house imported from the grid since the clock hour began, from the meter's readings.

The capacity tariff averages each clock hour's import over the whole hour, so a plan made in the
middle of an hour must know what the hour already took. A meter reading holds until the next
one (as a power meter reports on change); a reading that can't be trusted counts for nothing
and leaves that stretch unobserved, to be estimated by the caller. What the hour took so far is
kept over a restart; the time the house was not watched is unobserved too.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
import math
from typing import Any

_SECONDS_PER_HOUR = 3600.0
# More than any house imports in an hour (kWh): a stored value above it is damaged.
MAX_HOUR_IMPORT_KWH = 10_000.0


def hour_began(moment: datetime, tz: tzinfo) -> datetime:
    """The start of the clock hour (in `tz`) that holds `moment`."""
    return moment.astimezone(tz).replace(minute=0, second=0, microsecond=0)


@dataclass(slots=True)
class HourImport:
    """The grid import of the current clock hour, summed from the readings seen so far."""

    tz: tzinfo
    began: datetime | None = None
    kwh: float = 0.0
    # How much of the hour (h) a trusted reading covered.
    observed_h: float = 0.0
    last_kw: float | None = None
    last_at: datetime | None = None

    def reading(self, at: datetime, grid_kw: float | None) -> None:
        """A new meter reading (import positive); None or a non-finite value: no reading. One
        older than the last is out of date and changes nothing."""
        if self.last_at is not None and at < self.last_at:
            return
        self.advance(at)
        usable = grid_kw is not None and math.isfinite(grid_kw)
        self.last_kw = max(grid_kw, 0.0) if usable and grid_kw is not None else None

    def revise(self, grid_kw: float) -> None:
        """What the house drew since the last reading, once known (kW; import positive)."""
        self.last_kw = max(grid_kw, 0.0) if math.isfinite(grid_kw) else None

    def advance(self, at: datetime) -> None:
        """Count the held reading up to `at`; a new hour starts from nothing."""
        began = hour_began(at, self.tz)
        if self.began != began:
            self.began, self.kwh, self.observed_h = began, 0.0, 0.0
            if self.last_at is not None:
                self.last_at = max(self.last_at, began)
        if self.last_at is not None and at > self.last_at and self.last_kw is not None:
            hours = (at - self.last_at).total_seconds() / _SECONDS_PER_HOUR
            self.kwh += self.last_kw * hours
            self.observed_h += hours
        if self.last_at is None or at > self.last_at:
            self.last_at = at

    def so_far(self, at: datetime, unobserved_kw: float) -> float:
        """The hour's import up to `at` (kWh); `unobserved_kw` fills what no reading covered."""
        self.advance(at)
        began = hour_began(at, self.tz)
        passed = (at - began) / timedelta(hours=1)
        missing = max(0.0, passed - self.observed_h)
        fill = unobserved_kw if math.isfinite(unobserved_kw) and unobserved_kw > 0.0 else 0.0
        return self.kwh + fill * missing

    def to_dict(self) -> dict[str, Any]:
        """What a restart keeps: the hour, what it imported so far and how much of it was
        observed, up to when."""
        return {
            "began": None if self.began is None else self.began.isoformat(),
            "kwh": self.kwh,
            "observed_h": self.observed_h,
            "last_at": None if self.last_at is None else self.last_at.isoformat(),
        }

    @classmethod
    def restored(cls, tz: tzinfo, saved: object, now: datetime) -> HourImport:
        """The stored hour's import when it is the clock hour holding `now`; otherwise, or when
        anything stored is unreadable or impossible, a new hour. The held reading is not kept:
        what the house drew while no one watched is unobserved."""
        fresh = cls(tz)
        if not isinstance(saved, Mapping):
            return fresh
        began, last_at = _moment(saved.get("began")), _moment(saved.get("last_at"))
        kwh, observed_h = _number(saved.get("kwh")), _number(saved.get("observed_h"))
        if (
            began is None
            or last_at is None
            or kwh is None
            or observed_h is None
            or began != hour_began(now, tz)
            or not began <= last_at <= now
            or not 0.0 <= kwh <= MAX_HOUR_IMPORT_KWH
            or not 0.0 <= observed_h <= (last_at - began) / timedelta(hours=1) + 1e-9
        ):
            return fresh
        return cls(tz, began=began, kwh=kwh, observed_h=observed_h, last_at=last_at)


def _moment(value: object) -> datetime | None:
    """An ISO time with its offset; None for anything else."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _number(value: object) -> float | None:
    """A finite number; None for anything else (a bool is no number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
