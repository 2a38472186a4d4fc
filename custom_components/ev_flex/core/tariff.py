"""What the user really pays and earns: spot prices plus fees, grid tariffs and VAT.

Import price = (spot x multiplier + fixed adders per kWh + time-of-use grid fee) x (1 + VAT).
Export price is one of: spot x factor - fee, a fixed price, another price series, or none.

Everything here is plain data with `to_dict`/`from_dict`, so a tariff can live in config entry
options. `from_dict` validates and raises `TariffError`, which names the offending field (for
example "import.grid_fees.periods[1].start") and a short reason code the options flow can
translate.

Grid-fee periods are matched on the user's local wall clock. A period whose end is not after its
start runs past midnight; that part still belongs to the weekday and month on which it started
(a "Friday 22:00-06:00" period covers Saturday 00:00-06:00). Equal start and end mean a full day.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import pairwise
import math
from typing import Any

from .prices import PriceSeries, iter_slots_between

ALL_WEEKDAYS = frozenset(range(7))
ALL_MONTHS = frozenset(range(1, 13))
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# For messages people read (the overlap error is shown in the options form).
_WEEKDAYS_PLURAL = (
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
)
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MINUTES_PER_DAY = 24 * 60


class TariffError(ValueError):
    """A tariff setting is invalid. `field` is a dotted path, `reason` a short code.

    The English message is for the log; `facts` hold what a message in the user's language names
    (the limit broken, the period overlapped).
    """

    def __init__(self, field: str, reason: str, message: str, **facts: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = reason
        self.facts = facts


# --------------------------------------------------------------------------------------------
# Reading and checking plain values


def _number(
    data: Mapping[str, Any],
    key: str,
    path: str,
    *,
    default: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    field_path = f"{path}.{key}" if path else key
    value = data.get(key)
    if value is None:
        value = default
    if value is None:
        raise TariffError(field_path, "required", "a number is required")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TariffError(field_path, "not_a_number", f"not a number: {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise TariffError(field_path, "not_a_number", f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise TariffError(field_path, "not_a_number", f"not a finite number: {value!r}")
    if minimum is not None and number < minimum:
        message = f"must be at least {minimum}"
        raise TariffError(field_path, "out_of_range", message, minimum=f"{minimum:g}")
    if maximum is not None and number > maximum:
        message = f"must be at most {maximum}"
        raise TariffError(field_path, "out_of_range", message, maximum=f"{maximum:g}")
    return number


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TariffError(path, "not_a_mapping", f"expected a mapping, got {value!r}")
    return value


def _sequence(value: Any, path: str) -> Sequence[Any]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TariffError(path, "not_a_list", f"expected a list, got {value!r}")
    return list(value)


def _name(data: Mapping[str, Any], path: str) -> str:
    value = data.get("name")
    if not isinstance(value, str) or not value.strip():
        raise TariffError(f"{path}.name", "empty_name", "a name is required")
    return value.strip()


def _clock(value: Any, path: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                return parsed
    raise TariffError(path, "invalid_time", f"expected a local time like '17:00', got {value!r}")


def _format_clock(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _weekdays(value: Any, path: str) -> frozenset[int]:
    if value is None:
        return ALL_WEEKDAYS
    days: set[int] = set()
    for index, item in enumerate(_sequence(value, path)):
        if isinstance(item, str) and item.strip().lower()[:3] in WEEKDAY_NAMES:
            days.add(WEEKDAY_NAMES.index(item.strip().lower()[:3]))
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            days.add(item)
        else:
            raise TariffError(
                f"{path}[{index}]", "invalid_weekday", f"expected mon..sun or 0..6, got {item!r}"
            )
    if not days:
        raise TariffError(path, "invalid_weekday", "choose at least one weekday")
    return frozenset(days)


def _months(value: Any, path: str) -> frozenset[int]:
    if value is None:
        return ALL_MONTHS
    months: set[int] = set()
    for index, item in enumerate(_sequence(value, path)):
        if isinstance(item, int) and not isinstance(item, bool) and 1 <= item <= 12:
            months.add(item)
        else:
            raise TariffError(f"{path}[{index}]", "invalid_month", f"expected 1..12, got {item!r}")
    if not months:
        raise TariffError(path, "invalid_month", "choose at least one month")
    return frozenset(months)


# --------------------------------------------------------------------------------------------
# Import tariff


@dataclass(frozen=True, kw_only=True)
class FixedAdder:
    """A constant amount per kWh on top of spot, such as an energy tax or a retailer margin."""

    name: str
    per_kwh: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "per_kwh": self.per_kwh}

    @classmethod
    def from_dict(cls, data: Any, path: str = "adder") -> FixedAdder:
        mapping = _mapping(data, path)
        return cls(name=_name(mapping, path), per_kwh=_number(mapping, "per_kwh", path))


@dataclass(frozen=True, kw_only=True)
class GridFeePeriod:
    """A named grid-fee period on given weekdays and months, between two local wall-clock times."""

    name: str
    per_kwh: float
    start: time
    end: time
    weekdays: frozenset[int] = ALL_WEEKDAYS
    months: frozenset[int] = ALL_MONTHS

    @property
    def start_minute(self) -> float:
        return self.start.hour * 60 + self.start.minute + self.start.second / 60

    @property
    def length_minutes(self) -> float:
        end_minute = self.end.hour * 60 + self.end.minute + self.end.second / 60
        length = (end_minute - self.start_minute) % _MINUTES_PER_DAY
        return length or _MINUTES_PER_DAY

    def applies_on(self, day: date) -> bool:
        """Whether the period starts on this local date."""
        return day.weekday() in self.weekdays and day.month in self.months

    def covers(self, local: datetime) -> bool:
        """Whether this local wall-clock moment falls in the period."""
        minute = local.hour * 60 + local.minute + local.second / 60
        start, stop = self.start_minute, self.start_minute + self.length_minutes
        if self.applies_on(local.date()) and start <= minute < stop:
            return True
        spill = stop - _MINUTES_PER_DAY
        return spill > 0 and minute < spill and self.applies_on(local.date() - timedelta(days=1))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "per_kwh": self.per_kwh,
            "start": _format_clock(self.start),
            "end": _format_clock(self.end),
        }
        # Leaving out "every day" / "every month" keeps stored options short and readable.
        if self.weekdays != ALL_WEEKDAYS:
            data["weekdays"] = [WEEKDAY_NAMES[d] for d in sorted(self.weekdays)]
        if self.months != ALL_MONTHS:
            data["months"] = sorted(self.months)
        return data

    @classmethod
    def from_dict(cls, data: Any, path: str = "period") -> GridFeePeriod:
        mapping = _mapping(data, path)
        return cls(
            name=_name(mapping, path),
            per_kwh=_number(mapping, "per_kwh", path),
            start=_clock(mapping.get("start"), f"{path}.start"),
            end=_clock(mapping.get("end"), f"{path}.end"),
            weekdays=_weekdays(mapping.get("weekdays"), f"{path}.weekdays"),
            months=_months(mapping.get("months"), f"{path}.months"),
        )


def _day_coverage(
    period: GridFeePeriod, weekday: int, month: int, previous_month: int
) -> list[tuple[float, float]]:
    """Minute ranges of one local day that the period covers, for overlap checks."""
    ranges: list[tuple[float, float]] = []
    start, stop = period.start_minute, period.start_minute + period.length_minutes
    if weekday in period.weekdays and month in period.months:
        ranges.append((start, min(stop, _MINUTES_PER_DAY)))
    previous_weekday = (weekday - 1) % 7
    if (
        stop > _MINUTES_PER_DAY
        and previous_weekday in period.weekdays
        and previous_month in period.months
    ):
        ranges.append((0.0, stop - _MINUTES_PER_DAY))
    return ranges


def _check_no_overlap(periods: Sequence[GridFeePeriod], path: str) -> None:
    for weekday in range(7):
        for month in range(1, 13):
            # The day before may lie in the same month or (on the 1st) in the previous one.
            for previous_month in {month, (month - 2) % 12 + 1}:
                covered: list[tuple[float, float, int]] = []
                for index, period in enumerate(periods):
                    for lo, hi in _day_coverage(period, weekday, month, previous_month):
                        for other_lo, other_hi, other in covered:
                            if other != index and lo < other_hi and other_lo < hi:
                                raise TariffError(
                                    f"{path}[{index}]",
                                    "overlap",
                                    f"period {period.name!r} overlaps {periods[other].name!r} "
                                    f"on {_WEEKDAYS_PLURAL[weekday]} in {_MONTH_NAMES[month - 1]}",
                                    other=periods[other].name,
                                    weekday=WEEKDAY_NAMES[weekday],
                                    month=str(month),
                                )
                        covered.append((lo, hi, index))


@dataclass(frozen=True, kw_only=True)
class GridFeeSchedule:
    """Time-of-use grid fees: named periods, and a default fee for every other moment."""

    default_per_kwh: float = 0.0
    periods: tuple[GridFeePeriod, ...] = ()

    def period_at(self, local: datetime) -> GridFeePeriod | None:
        return next((p for p in self.periods if p.covers(local)), None)

    def fee_at(self, local: datetime) -> float:
        period = self.period_at(local)
        return period.per_kwh if period is not None else self.default_per_kwh

    def average_fee(self, start: datetime, end: datetime, tz: tzinfo) -> float:
        """The time-weighted fee over [start, end), for slots that straddle a period boundary."""
        if not self.periods:
            return self.default_per_kwh
        if end <= start:
            return self.fee_at(start.astimezone(tz))
        clocks = {time(0)} | {p.start for p in self.periods} | {p.end for p in self.periods}
        cuts = {start, end}
        day = start.astimezone(tz).date() - timedelta(days=1)
        last_day = end.astimezone(tz).date()
        while day <= last_day:
            for clock in clocks:
                moment = datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)
                if start < moment < end:
                    cuts.add(moment)
            day += timedelta(days=1)
        total = 0.0
        for a, b in pairwise(sorted(cuts)):
            middle = a + (b - a) / 2
            total += self.fee_at(middle.astimezone(tz)) * (b - a).total_seconds()
        return total / (end - start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "default_per_kwh": self.default_per_kwh,
            "periods": [p.to_dict() for p in self.periods],
        }

    @classmethod
    def from_dict(cls, data: Any, path: str = "grid_fees") -> GridFeeSchedule:
        mapping = _mapping(data, path)
        periods = tuple(
            GridFeePeriod.from_dict(item, f"{path}.periods[{index}]")
            for index, item in enumerate(_sequence(mapping.get("periods"), f"{path}.periods"))
        )
        names = [p.name for p in periods]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise TariffError(
                    f"{path}.periods[{index}].name", "duplicate_name", f"{name!r} is used twice"
                )
        _check_no_overlap(periods, f"{path}.periods")
        return cls(
            default_per_kwh=_number(mapping, "default_per_kwh", path, default=0.0),
            periods=periods,
        )


@dataclass(frozen=True, kw_only=True)
class ImportTariff:
    """How a spot price becomes the price the user pays per imported kWh."""

    spot_multiplier: float = 1.0
    adders: tuple[FixedAdder, ...] = ()
    grid_fees: GridFeeSchedule = field(default_factory=GridFeeSchedule)
    vat_percent: float = 0.0

    @property
    def adders_per_kwh(self) -> float:
        return sum(a.per_kwh for a in self.adders)

    def price(self, spot: float, grid_fee: float) -> float:
        before_vat = spot * self.spot_multiplier + self.adders_per_kwh + grid_fee
        return before_vat * (1 + self.vat_percent / 100)

    def to_dict(self) -> dict[str, Any]:
        return {
            "spot_multiplier": self.spot_multiplier,
            "adders": [a.to_dict() for a in self.adders],
            "grid_fees": self.grid_fees.to_dict(),
            "vat_percent": self.vat_percent,
        }

    @classmethod
    def from_dict(cls, data: Any, path: str = "import") -> ImportTariff:
        mapping = _mapping(data, path)
        return cls(
            spot_multiplier=_number(mapping, "spot_multiplier", path, default=1.0, minimum=0.0),
            adders=tuple(
                FixedAdder.from_dict(item, f"{path}.adders[{index}]")
                for index, item in enumerate(_sequence(mapping.get("adders"), f"{path}.adders"))
            ),
            grid_fees=GridFeeSchedule.from_dict(mapping.get("grid_fees"), f"{path}.grid_fees"),
            vat_percent=_number(
                mapping, "vat_percent", path, default=0.0, minimum=0.0, maximum=100.0
            ),
        )


# --------------------------------------------------------------------------------------------
# Export tariff


class ExportKind(StrEnum):
    """Where the export (V2G) price comes from."""

    NONE = "none"
    SPOT = "spot"  # spot x factor - fee
    FIXED = "fixed"
    ENTITY = "entity"  # another price entity, normalised like the import source


@dataclass(frozen=True, kw_only=True)
class ExportTariff:
    """How much the user earns per exported kWh. Only the fields of `kind` matter."""

    kind: ExportKind = ExportKind.NONE
    factor: float = 1.0
    fee_per_kwh: float = 0.0
    fixed_per_kwh: float = 0.0
    entity_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        match self.kind:
            case ExportKind.SPOT:
                return {"kind": "spot", "factor": self.factor, "fee_per_kwh": self.fee_per_kwh}
            case ExportKind.FIXED:
                return {"kind": "fixed", "fixed_per_kwh": self.fixed_per_kwh}
            case ExportKind.ENTITY:
                return {"kind": "entity", "entity_id": self.entity_id}
            case ExportKind.NONE:
                return {"kind": "none"}

    @classmethod
    def from_dict(cls, data: Any, path: str = "export") -> ExportTariff:
        mapping = _mapping(data, path)
        raw_kind = mapping.get("kind", ExportKind.NONE.value)
        try:
            kind = ExportKind(raw_kind)
        except ValueError:
            choices = ", ".join(k.value for k in ExportKind)
            raise TariffError(
                f"{path}.kind", "unknown_kind", f"expected one of {choices}, got {raw_kind!r}"
            ) from None
        match kind:
            case ExportKind.SPOT:
                return cls(
                    kind=kind,
                    factor=_number(mapping, "factor", path, default=1.0, minimum=0.0),
                    fee_per_kwh=_number(mapping, "fee_per_kwh", path, default=0.0),
                )
            case ExportKind.FIXED:
                return cls(kind=kind, fixed_per_kwh=_number(mapping, "fixed_per_kwh", path))
            case ExportKind.ENTITY:
                entity_id = mapping.get("entity_id")
                if not isinstance(entity_id, str) or "." not in entity_id.strip():
                    raise TariffError(
                        f"{path}.entity_id", "required", "choose the entity with export prices"
                    )
                return cls(kind=kind, entity_id=entity_id.strip())
            case ExportKind.NONE:
                return cls()


@dataclass(frozen=True, kw_only=True)
class Tariff:
    """The whole tariff, as stored in the config entry options."""

    import_tariff: ImportTariff = field(default_factory=ImportTariff)
    export_tariff: ExportTariff = field(default_factory=ExportTariff)

    def to_dict(self) -> dict[str, Any]:
        return {"import": self.import_tariff.to_dict(), "export": self.export_tariff.to_dict()}

    @classmethod
    def from_dict(cls, data: Any) -> Tariff:
        mapping = _mapping(data, "tariff")
        return cls(
            import_tariff=ImportTariff.from_dict(mapping.get("import"), "import"),
            export_tariff=ExportTariff.from_dict(mapping.get("export"), "export"),
        )


# --------------------------------------------------------------------------------------------
# Applying a tariff to a price series


@dataclass(frozen=True, slots=True)
class PricedSlot:
    """One slot with the spot price and what the user pays (import) and earns (export)."""

    start: datetime
    end: datetime
    spot: float
    grid_fee: float
    import_price: float
    # None: no export price for this slot (export disabled, or the export source has no data).
    export_price: float | None


def _export_from_series(series: PriceSeries, start: datetime, end: datetime) -> float | None:
    """The time-weighted export price over [start, end), or None unless fully covered."""
    covered = timedelta()
    weighted = 0.0
    for slot in iter_slots_between(series, start, end):
        overlap = min(slot.end, end) - max(slot.start, start)
        covered += overlap
        weighted += slot.price_per_kwh * overlap.total_seconds()
    if covered < end - start:
        return None
    return weighted / (end - start).total_seconds()


def apply_tariff(
    series: PriceSeries,
    tariff: Tariff,
    tz: tzinfo,
    export_series: PriceSeries | None = None,
) -> tuple[PricedSlot, ...]:
    """Price every slot of `series`. `export_series` is used when the export kind is ENTITY."""
    imp, exp = tariff.import_tariff, tariff.export_tariff
    priced: list[PricedSlot] = []
    for slot in series.slots:
        spot = slot.price_per_kwh
        fee = imp.grid_fees.average_fee(slot.start, slot.end, tz)
        export: float | None
        match exp.kind:
            case ExportKind.SPOT:
                export = spot * exp.factor - exp.fee_per_kwh
            case ExportKind.FIXED:
                export = exp.fixed_per_kwh
            case ExportKind.ENTITY:
                export = (
                    _export_from_series(export_series, slot.start, slot.end)
                    if export_series is not None
                    else None
                )
            case ExportKind.NONE:
                export = None
        priced.append(PricedSlot(slot.start, slot.end, spot, fee, imp.price(spot, fee), export))
    return tuple(priced)


def chart_slots(priced: Sequence[PricedSlot], now: datetime, tz: tzinfo) -> Sequence[PricedSlot]:
    """The slots a price chart shows: the user's local today and tomorrow."""
    today = now.astimezone(tz).date()
    start = datetime.combine(today, time(0), tzinfo=tz)
    end = datetime.combine(today + timedelta(days=2), time(0), tzinfo=tz)
    return [slot for slot in priced if slot.end > start and slot.start < end]


def priced_slot_at(priced: Sequence[PricedSlot], moment: datetime) -> PricedSlot | None:
    """The priced slot containing `moment`, or None."""
    return next((p for p in priced if p.start <= moment < p.end), None)


def effective_prices_at(
    series: PriceSeries,
    tariff: Tariff,
    tz: tzinfo,
    now: datetime,
    export_series: PriceSeries | None = None,
) -> tuple[float | None, float | None]:
    """(import, export) now, e.g. for the options-flow preview; None where unknown."""
    current = [s for s in series.slots if s.start <= now < s.end]
    if not current:
        return None, None
    only = PriceSeries(
        entity_id=series.entity_id,
        source_format=series.source_format,
        currency=series.currency,
        slots=tuple(current),
    )
    slot = apply_tariff(only, tariff, tz, export_series)[0]
    return slot.import_price, slot.export_price
