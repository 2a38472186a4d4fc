"""The record of finished charging sessions: what each cost and saved, and whether the car was
ready for its departure. Kept for two years; read back from storage without trusting it."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Any

from .stored import READ_ERRORS, sound, written_back

# Two years of sessions, and a day for leap years.
RETENTION = timedelta(days=731)
# Far more than two years of charging holds (several sessions a day); a store beyond it is junk.
MAX_RECORDS = 10_000
# The charge a departure may miss by and still count as met.
MET_TOLERANCE_PCT = 1.0


def _moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, kw_only=True)
class SessionRecord:
    """One finished plug-in session of one vehicle."""

    vehicle_id: str
    started_at: datetime
    ended_at: datetime
    energy_kwh: float
    energy_out_kwh: float
    # Net of what vehicle-to-grid earned, in the prices' currency.
    cost: float
    # Against charging at once to the same target.
    savings: float
    # The share of the energy that came from the home's solar panels (None: not known).
    solar_share: float | None
    departure: datetime | None
    target_soc_pct: float | None
    soc_at_end_pct: float | None

    @property
    def departure_met(self) -> bool | None:
        """Whether the car had its target when it left (None: not known)."""
        if self.target_soc_pct is None or self.soc_at_end_pct is None:
            return None
        return self.soc_at_end_pct >= self.target_soc_pct - MET_TOLERANCE_PCT

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, as stored."""
        return {
            "vehicle_id": self.vehicle_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "energy_kwh": self.energy_kwh,
            "energy_out_kwh": self.energy_out_kwh,
            "cost": self.cost,
            "savings": self.savings,
            "solar_share": self.solar_share,
            "departure": None if self.departure is None else self.departure.isoformat(),
            "target_soc_pct": self.target_soc_pct,
            "soc_at_end_pct": self.soc_at_end_pct,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionRecord:
        """Read what `to_dict` wrote."""
        return cls(
            vehicle_id=str(data["vehicle_id"]),
            started_at=datetime.fromisoformat(str(data["started_at"])),
            ended_at=datetime.fromisoformat(str(data["ended_at"])),
            energy_kwh=float(data["energy_kwh"]),
            energy_out_kwh=float(data["energy_out_kwh"]),
            cost=float(data["cost"]),
            savings=float(data["savings"]),
            solar_share=_number(data.get("solar_share")),
            departure=_moment(data.get("departure")),
            target_soc_pct=_number(data.get("target_soc_pct")),
            soc_at_end_pct=_number(data.get("soc_at_end_pct")),
        )


def read_records(data: object) -> tuple[list[SessionRecord], int]:
    """The stored records that read back exactly, and how many did not."""
    items = data.get("sessions") if isinstance(data, Mapping) else None
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        return [], 0 if data is None else 1
    records: list[SessionRecord] = []
    dropped = max(0, len(items) - MAX_RECORDS)
    for item in items[-MAX_RECORDS:]:
        try:
            record = SessionRecord.from_dict(item)
            if sound(record) and written_back(item, record.to_dict()):
                records.append(record)
                continue
        except READ_ERRORS:
            pass
        dropped += 1
    records.sort(key=lambda record: record.ended_at)
    return records, dropped


def pruned(records: Iterable[SessionRecord], now: datetime) -> list[SessionRecord]:
    """The records of the last two years."""
    oldest = now - RETENTION
    return [record for record in records if record.ended_at >= oldest]


def between(
    records: Iterable[SessionRecord], start: datetime, end: datetime
) -> list[SessionRecord]:
    """The records of sessions that started in [start, end)."""
    return [record for record in records if start <= record.started_at < end]


# A gap between two readings longer than this counts only this long (Home Assistant was down).
MAX_TALLY_GAP_HOURS = 1.0


@dataclass(kw_only=True)
class SolarTally:
    """How much of a session's charge came from solar surplus, reading by reading.

    Each reading (power into the car, and the house's solar surplus beyond its own load) holds
    until the next. One reading without a known surplus makes the share unknown.
    """

    car_kwh: float = 0.0
    solar_kwh: float = 0.0
    known: bool = True
    last_at: datetime | None = None
    last_car_kw: float = 0.0
    last_solar_kw: float = 0.0

    def add(self, at: datetime, car_kw: float | None, surplus_kw: float | None) -> None:
        """A reading: what went into the car and what surplus there was now."""
        if self.last_at is not None and at > self.last_at:
            hours = min((at - self.last_at).total_seconds() / 3600.0, MAX_TALLY_GAP_HOURS)
            self.car_kwh += self.last_car_kw * hours
            self.solar_kwh += self.last_solar_kw * hours
        car = max(0.0, car_kw) if car_kw is not None and math.isfinite(car_kw) else 0.0
        if surplus_kw is None or not math.isfinite(surplus_kw):
            self.known = self.known and car == 0.0
            surplus = 0.0
        else:
            surplus = max(0.0, surplus_kw)
        self.last_at, self.last_car_kw, self.last_solar_kw = at, car, min(car, surplus)

    @property
    def share(self) -> float | None:
        """The solar share of what went into the car (None: not known, or nothing went in)."""
        if not self.known or self.car_kwh <= 0:
            return None
        return round(self.solar_kwh / self.car_kwh, 4)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "car_kwh": self.car_kwh,
            "solar_kwh": self.solar_kwh,
            "known": self.known,
            "last_at": None if self.last_at is None else self.last_at.isoformat(),
            "last_car_kw": self.last_car_kw,
            "last_solar_kw": self.last_solar_kw,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SolarTally:
        """Read what `to_dict` wrote."""
        return cls(
            car_kwh=float(data["car_kwh"]),
            solar_kwh=float(data["solar_kwh"]),
            known=bool(data["known"]),
            last_at=_moment(data.get("last_at")),
            last_car_kw=float(data["last_car_kw"]),
            last_solar_kw=float(data["last_solar_kw"]),
        )


def read_tallies(data: object) -> dict[str, SolarTally]:
    """The stored tallies of sessions in progress that read back exactly; others start anew."""
    tallies: dict[str, SolarTally] = {}
    if not isinstance(data, Mapping):
        return tallies
    for vehicle_id, item in data.items():
        try:
            tally = SolarTally.from_dict(item)
            if isinstance(vehicle_id, str) and sound(tally) and written_back(item, tally.to_dict()):
                tallies[vehicle_id] = tally
        except READ_ERRORS:
            continue
    return tallies
