"""The optimal charge and discharge planner: prices, battery and targets in, cheapest plan out.

`plan(request)` returns the optimum of this model, exactly (tests compare it with a MILP):

- The horizon runs from `now` to the end of the last price slot; the slot holding `now` is cut
  to start at `now`. `E` is the battery energy (kWh), `pc`/`pd` the charge/discharge power at
  the grid, and each slot of length dt moves `E` by `dt * (eta_c * pc - pd / eta_d)`.
- `0 <= pc <= min(max_kw, taper(SoC at the slot's start))`; `0 <= pd <= discharge.max_kw`, only
  in slots with an export price; never both in one slot.
- `E` never exceeds `max(max_soc, SoC now)`; discharging never takes `E` below
  `min(E now, min_soc)`.
- A target applies at the end of the last slot ending at or before its `by` (at `now` if none
  does). A target beyond the last price must be reachable by full-power charging after the
  horizon (continuous in time, following the taper); the plan's last energy must allow that.
- Targets out of reach: the total shortfall is minimised first, then the cost. Because
  full-power charging reaches the highest energy at every boundary at once (the taper is
  concave), that is the same as lowering each target to the highest reachable energy.
- Below `protective_soc_pct` the car charges at full power from `now` until it reaches that
  level. Once there (or when it starts above it) it is never discharged below it again, so the
  next plan does not undo this one.
- The cost is `sum dt * (import * pc - export * pd + wear * pd / eta_d)`.

The solver is exact dynamic programming over piecewise-linear value functions
(`dp.py`), in pure Python.

Optional, with the same model otherwise (`site.py` states it in full):

- `charge.min_kw`: a charging slot runs at least at `min(min_kw, the slot's maximum)`; the
  maximum counts the taper and what fills the battery, the fuse can't lower it.
- `site`: the house around the car. With `house = base_load_kw - solar_kw` per slot the grid
  sees `net = house + pc - pd`: import paid at the import price, export earning the export
  price (0 without one), `net <= max(import_limit_kw, house)`, `-net <= max(export_limit_kw,
  -house)`, and a capacity tariff `peak_price_per_kw * max(0, P - current_peak_kw)` on the
  highest clock-hour average import `P`; the hour holding `now` averages over the whole clock
  hour, `hour_import_kwh` (imported since it began) included. The cost is the house's cost
  with the plan minus without it. Exact without the tariff (and with it, on hourly slots).
- Several cars on one house: `SiteRequest` and `plan_site` (`multi.py`).
- With a minimum power or several cars the model is a MILP: every plan keeps every limit,
  minimum and reachable target, and comes close to the optimum without a promise of it
  (`site.py`, `multi.py`, `exchange.py`, `patterns.py`); `scripts/bench planner` prints the
  gap to HiGHS.

Run `scripts/plan` with a request as JSON on stdin to get the plan as JSON on stdout (a site
request, with "vehicles", gets the site plan); invalid input exits with status 2 and the
validation message. It runs this package by itself
(`python -m planner` from custom_components/ev_flex/core): the package imports nothing outside
itself, so Home Assistant is never loaded.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import json
import math
import sys
from typing import Any

from .curve import ChargeCurve, SlotReach
from .dp import DpSlot, optimal_path

# Lower bounds sit this far (kWh) under the highest reachable energy, so rounding can never make
# a reachable target look unreachable. Far below anything a charger can measure.
_REACH_MARGIN_KWH = 1e-9
# A target counts as met within this many kWh.
_MET_TOLERANCE_KWH = 1e-6
# Powers below this (kW) are rounding noise and planned as zero.
_NOISE_KW = 1e-9
# A path's charging step this small (kWh) is rounding: the planners meet a target to within
# `_REACH_MARGIN_KWH`, and a later bound may ask that back.
_STEP_NOISE_KWH = 10 * _REACH_MARGIN_KWH
_SECONDS_PER_HOUR = 3600.0


class PlanProblem(StrEnum):
    """What is wrong with a field of a request; the Home Assistant layer words each in the
    user's language with `PlanValidationError.facts`."""

    NOT_OBJECT = "not_object"
    NOT_LIST = "not_list"
    NOT_NUMBER = "not_number"
    NOT_FINITE = "not_finite"
    REQUIRED = "required"
    NOT_TIME = "not_time"
    NO_UTC_OFFSET = "no_utc_offset"
    NOT_PAIR = "not_pair"
    OUT_OF_RANGE = "out_of_range"
    NOT_EFFICIENCY = "not_efficiency"
    NEGATIVE = "negative"
    NOT_POSITIVE = "not_positive"
    SOC_NOT_RISING = "soc_not_rising"
    TAPER_RISES = "taper_rises"
    TAPER_NOT_CONCAVE = "taper_not_concave"
    TAPER_ENDS_FALLING = "taper_ends_falling"
    BEFORE_NOW = "before_now"
    END_NOT_AFTER_START = "end_not_after_start"
    NOT_SORTED = "not_sorted"
    OVERLAP = "overlap"
    GAP = "gap"
    PER_SLOT = "per_slot"
    BELOW_MIN_POWER = "below_min_power"
    NOT_ID = "not_id"
    REPEATED_ID = "repeated_id"
    NO_VEHICLES = "no_vehicles"


# Each problem in English, for the command line and the log.
_PROBLEM_WORDS = {
    PlanProblem.NOT_OBJECT: "must be an object",
    PlanProblem.NOT_LIST: "must be a list",
    PlanProblem.NOT_NUMBER: "must be a number, got {value}",
    PlanProblem.NOT_FINITE: "must be a finite number, got {value}",
    PlanProblem.REQUIRED: "is required",
    PlanProblem.NOT_TIME: "must be an ISO 8601 time with a UTC offset, got {value}",
    PlanProblem.NO_UTC_OFFSET: "needs a UTC offset, got {value}",
    PlanProblem.NOT_PAIR: "must be a pair [SoC %, kW]",
    PlanProblem.OUT_OF_RANGE: "must be between {low} and {high}, got {value}",
    PlanProblem.NOT_EFFICIENCY: "must be in (0, 1], got {value}",
    PlanProblem.NEGATIVE: "must not be negative, got {value}",
    PlanProblem.NOT_POSITIVE: "must be positive, got {value}",
    PlanProblem.SOC_NOT_RISING: "SoC points must increase",
    PlanProblem.TAPER_RISES: "the taper must not increase",
    PlanProblem.TAPER_NOT_CONCAVE: "the taper must be concave (its slope must not increase)",
    PlanProblem.TAPER_ENDS_FALLING: (
        "the taper must be concave: it stays constant after its last point, "
        "so a falling curve must run to 100 %"
    ),
    PlanProblem.BEFORE_NOW: "is before now ({time} < {now})",
    PlanProblem.END_NOT_AFTER_START: "must be after start",
    PlanProblem.NOT_SORTED: "prices are not sorted by start",
    PlanProblem.OVERLAP: "overlaps the previous slot",
    PlanProblem.GAP: "gap after the previous slot, which ends {previous_end}",
    PlanProblem.PER_SLOT: "needs one value per price slot ({slots}), got {count}",
    PlanProblem.BELOW_MIN_POWER: "is below the minimum charging power ({limit} kW < {min_kw} kW)",
    PlanProblem.NOT_ID: "must be a non-empty string",
    PlanProblem.REPEATED_ID: "repeats {id}",
    PlanProblem.NO_VEHICLES: "must be a list of at least one vehicle",
}


class PlanValidationError(ValueError):
    """The request is invalid. `field` names the offending field, e.g. "prices[3].start";
    `code` says what is wrong, `facts` the values its words name; `problem` is English."""

    def __init__(self, field: str, code: PlanProblem, **facts: str) -> None:
        self.problem = _PROBLEM_WORDS[code].format(**facts)
        super().__init__(f"{field}: {self.problem}")
        self.field = field
        self.code = code
        self.facts = facts

    def within(self, path: str) -> PlanValidationError:
        """The same problem, its field named inside `path` (a car of a site request)."""
        return PlanValidationError(f"{path}.{self.field}", self.code, **self.facts)


class PlanStatus(StrEnum):
    """How far the plan can be trusted."""

    OK = "ok"
    # Some target can't be reached; the plan gets as close as possible, then is cheapest.
    SHORTFALL = "shortfall"
    # A target lies beyond the last known price, and what it needs now shapes the plan.
    AWAITING_PRICES = "awaiting_prices"
    # No price covers now: nothing can be planned.
    NO_PRICES = "no_prices"


# --------------------------------------------------------------------------------------------
# Request


@dataclass(frozen=True, slots=True)
class Battery:
    capacity_kwh: float
    soc_pct: float
    max_soc_pct: float = 100.0


@dataclass(frozen=True, slots=True)
class ChargeSettings:
    max_kw: float
    efficiency: float
    # Points of (SoC %, max kW): linear in between, constant beyond the ends.
    taper: tuple[tuple[float, float], ...] = ()
    # When charging, at least min(min_kw, the slot's maximum): e.g. 6 A on three phases.
    min_kw: float = 0.0


@dataclass(frozen=True, slots=True)
class DischargeSettings:
    max_kw: float
    efficiency: float
    min_soc_pct: float = 0.0
    wear_cost_per_kwh: float = 0.0


@dataclass(frozen=True, slots=True)
class Target:
    by: datetime
    soc_pct: float


@dataclass(frozen=True, slots=True)
class PriceSlot:
    start: datetime
    end: datetime
    import_price: float
    # None: no export price, so no discharging in this slot.
    export_price: float | None = None


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """The house around the car: its own load and solar, its grid limits and capacity tariff.

    `base_load_kw` and `solar_kw` hold one average per price slot (empty: 0 throughout).
    """

    base_load_kw: tuple[float, ...] = ()
    solar_kw: tuple[float, ...] = ()
    # The most the house may draw from the grid (the fuse); None: no limit.
    import_limit_kw: float | None = None
    # The most the house may feed in; None: no limit.
    export_limit_kw: float | None = None
    peak_price_per_kw: float = 0.0
    # The highest clock-hour average import so far in the tariff's period (e.g. this month).
    current_peak_kw: float = 0.0
    # What the house imported (kWh) since the clock hour holding `now` began: that hour's
    # average counts it over the whole hour, so replans within an hour keep to one peak.
    hour_import_kwh: float = 0.0

    @property
    def import_cap_kw(self) -> float:
        """The import limit as a number: infinite where there is none."""
        return math.inf if self.import_limit_kw is None else self.import_limit_kw

    @property
    def export_cap_kw(self) -> float:
        """The export limit as a number: infinite where there is none."""
        return math.inf if self.export_limit_kw is None else self.export_limit_kw

    def to_dict(self) -> dict[str, Any]:
        """The JSON form that `PlanRequest.from_dict` reads under "site"."""
        data: dict[str, Any] = {
            "base_load_kw": list(self.base_load_kw),
            "solar_kw": list(self.solar_kw),
            "peak_price_per_kw": self.peak_price_per_kw,
            "current_peak_kw": self.current_peak_kw,
        }
        if self.hour_import_kwh:
            data["hour_import_kwh"] = self.hour_import_kwh
        if self.import_limit_kw is not None:
            data["import_limit_kw"] = self.import_limit_kw
        if self.export_limit_kw is not None:
            data["export_limit_kw"] = self.export_limit_kw
        return data


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Everything the planner needs. Times are timezone-aware; any zone, mixed zones allowed."""

    now: datetime
    battery: Battery
    charge: ChargeSettings
    prices: tuple[PriceSlot, ...]
    discharge: DischargeSettings | None = None
    targets: tuple[Target, ...] = ()
    protective_soc_pct: float = 0.0
    site: SiteSpec | None = None

    @classmethod
    def from_dict(cls, data: Any) -> PlanRequest:
        """Read the JSON request; raises PlanValidationError naming the field and the problem."""
        root = _mapping(data, "request")
        battery = _mapping(root.get("battery"), "battery", required=True)
        charge = _mapping(root.get("charge"), "charge", required=True)
        discharge_data = root.get("discharge")
        discharge = None
        if discharge_data is not None:
            mapping = _mapping(discharge_data, "discharge")
            discharge = DischargeSettings(
                max_kw=_number(mapping, "max_kw", "discharge"),
                efficiency=_number(mapping, "efficiency", "discharge"),
                min_soc_pct=_number(mapping, "min_soc_pct", "discharge", default=0.0),
                wear_cost_per_kwh=_number(mapping, "wear_cost_per_kwh", "discharge", default=0.0),
            )
        taper = tuple(
            _taper_point(point, f"charge.taper[{i}]")
            for i, point in enumerate(_sequence(charge.get("taper"), "charge.taper"))
        )
        targets = tuple(
            _target(item, f"targets[{i}]")
            for i, item in enumerate(_sequence(root.get("targets"), "targets"))
        )
        prices = tuple(
            _price(item, f"prices[{i}]")
            for i, item in enumerate(_sequence(root.get("prices"), "prices"))
        )
        request = cls(
            now=_datetime(root.get("now"), "now"),
            battery=Battery(
                capacity_kwh=_number(battery, "capacity_kwh", "battery"),
                soc_pct=_number(battery, "soc_pct", "battery"),
                max_soc_pct=_number(battery, "max_soc_pct", "battery", default=100.0),
            ),
            charge=ChargeSettings(
                max_kw=_number(charge, "max_kw", "charge"),
                efficiency=_number(charge, "efficiency", "charge"),
                taper=taper,
                min_kw=_number(charge, "min_kw", "charge", default=0.0),
            ),
            prices=prices,
            discharge=discharge,
            targets=targets,
            protective_soc_pct=_number(root, "protective_soc_pct", "", default=0.0),
            site=None if root.get("site") is None else _site(root.get("site"), "site"),
        )
        validate_request(request)
        return request

    def to_dict(self) -> dict[str, Any]:
        """The JSON form that `from_dict` reads."""
        data: dict[str, Any] = {
            "now": self.now.isoformat(),
            "battery": {
                "capacity_kwh": self.battery.capacity_kwh,
                "soc_pct": self.battery.soc_pct,
                "max_soc_pct": self.battery.max_soc_pct,
            },
            "charge": {
                "max_kw": self.charge.max_kw,
                "efficiency": self.charge.efficiency,
                "taper": [[soc, kw] for soc, kw in self.charge.taper],
            },
            "targets": [{"by": t.by.isoformat(), "soc_pct": t.soc_pct} for t in self.targets],
            "protective_soc_pct": self.protective_soc_pct,
            "prices": [_price_dict(p) for p in self.prices],
        }
        if self.charge.min_kw:
            data["charge"]["min_kw"] = self.charge.min_kw
        if self.site is not None:
            data["site"] = self.site.to_dict()
        if self.discharge is not None:
            data["discharge"] = {
                "max_kw": self.discharge.max_kw,
                "efficiency": self.discharge.efficiency,
                "min_soc_pct": self.discharge.min_soc_pct,
                "wear_cost_per_kwh": self.discharge.wear_cost_per_kwh,
            }
        return data


def _price_dict(price: PriceSlot) -> dict[str, Any]:
    item: dict[str, Any] = {
        "start": price.start.isoformat(),
        "end": price.end.isoformat(),
        "import": price.import_price,
    }
    if price.export_price is not None:
        item["export"] = price.export_price
    return item


# --------------------------------------------------------------------------------------------
# Reading and checking


def _mapping(value: Any, path: str, *, required: bool = False) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise PlanValidationError(path, PlanProblem.NOT_OBJECT)
    return value


def _sequence(value: Any, path: str) -> Sequence[Any]:
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise PlanValidationError(path, PlanProblem.NOT_LIST)
    return list(value)


def _to_float(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanValidationError(path, PlanProblem.NOT_NUMBER, value=repr(value))
    number = float(value)
    if not math.isfinite(number):
        raise PlanValidationError(path, PlanProblem.NOT_FINITE, value=repr(value))
    return number


def _number(data: Mapping[str, Any], key: str, path: str, *, default: float | None = None) -> float:
    full = f"{path}.{key}" if path else key
    value = data.get(key)
    if value is None:
        if default is None:
            raise PlanValidationError(full, PlanProblem.REQUIRED)
        return default
    return _to_float(value, full)


def _datetime(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise PlanValidationError(path, PlanProblem.NOT_TIME, value=repr(value))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PlanValidationError(path, PlanProblem.NOT_TIME, value=repr(value)) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PlanValidationError(path, PlanProblem.NO_UTC_OFFSET, value=repr(value))
    return moment


def _taper_point(value: Any, path: str) -> tuple[float, float]:
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise PlanValidationError(path, PlanProblem.NOT_PAIR)
    return _to_float(value[0], path + "[0]"), _to_float(value[1], path + "[1]")


def _target(value: Any, path: str) -> Target:
    data = _mapping(value, path, required=True)
    return Target(_datetime(data.get("by"), path + ".by"), _number(data, "soc_pct", path))


def _price(value: Any, path: str) -> PriceSlot:
    data = _mapping(value, path, required=True)
    export = data.get("export")
    return PriceSlot(
        start=_datetime(data.get("start"), path + ".start"),
        end=_datetime(data.get("end"), path + ".end"),
        import_price=_number(data, "import", path),
        export_price=None if export is None else _to_float(export, path + ".export"),
    )


def _numbers(data: Mapping[str, Any], key: str, path: str) -> tuple[float, ...]:
    full = f"{path}.{key}"
    return tuple(
        _to_float(item, f"{full}[{i}]") for i, item in enumerate(_sequence(data.get(key), full))
    )


def _optional_number(data: Mapping[str, Any], key: str, path: str) -> float | None:
    value = data.get(key)
    return None if value is None else _to_float(value, f"{path}.{key}")


def _site(value: Any, path: str) -> SiteSpec:
    data = _mapping(value, path, required=True)
    return SiteSpec(
        base_load_kw=_numbers(data, "base_load_kw", path),
        solar_kw=_numbers(data, "solar_kw", path),
        import_limit_kw=_optional_number(data, "import_limit_kw", path),
        export_limit_kw=_optional_number(data, "export_limit_kw", path),
        peak_price_per_kw=_number(data, "peak_price_per_kw", path, default=0.0),
        current_peak_kw=_number(data, "current_peak_kw", path, default=0.0),
        hour_import_kwh=_number(data, "hour_import_kwh", path, default=0.0),
    )


def _check_range(value: float, path: str, low: float, high: float) -> None:
    if not math.isfinite(value) or not low <= value <= high:
        raise PlanValidationError(
            path, PlanProblem.OUT_OF_RANGE, low=f"{low:g}", high=f"{high:g}", value=repr(value)
        )


def _check_efficiency(value: float, path: str) -> None:
    if not math.isfinite(value) or not 0.0 < value <= 1.0:
        raise PlanValidationError(path, PlanProblem.NOT_EFFICIENCY, value=repr(value))


def _check_non_negative(value: float, path: str) -> None:
    if not math.isfinite(value) or value < 0.0:
        raise PlanValidationError(path, PlanProblem.NEGATIVE, value=repr(value))


def _check_aware(moment: datetime, path: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PlanValidationError(path, PlanProblem.NO_UTC_OFFSET, value=moment.isoformat())


def _check_taper(taper: Sequence[tuple[float, float]]) -> None:
    path = "charge.taper"
    for i, (soc, kw) in enumerate(taper):
        _check_range(soc, f"{path}[{i}][0]", 0.0, 100.0)
        _check_non_negative(kw, f"{path}[{i}][1]")
    slopes: list[float] = []
    for i in range(1, len(taper)):
        (s1, k1), (s2, k2) = taper[i - 1], taper[i]
        if s2 <= s1:
            raise PlanValidationError(f"{path}[{i}][0]", PlanProblem.SOC_NOT_RISING)
        if k2 > k1:
            raise PlanValidationError(f"{path}[{i}][1]", PlanProblem.TAPER_RISES)
        slopes.append((k2 - k1) / (s2 - s1))
    for i in range(1, len(slopes)):
        if slopes[i] > slopes[i - 1] + 1e-9 * (1.0 + abs(slopes[i - 1])):
            raise PlanValidationError(f"{path}[{i + 1}]", PlanProblem.TAPER_NOT_CONCAVE)
    if taper and taper[-1][0] < 100.0 and slopes and slopes[-1] < 0.0:
        raise PlanValidationError(path, PlanProblem.TAPER_ENDS_FALLING)


def validate_request(request: PlanRequest) -> None:
    """Check a request built in Python the same way `from_dict` checks JSON."""
    _check_aware(request.now, "now")
    battery = request.battery
    if not math.isfinite(battery.capacity_kwh) or battery.capacity_kwh <= 0.0:
        raise PlanValidationError(
            "battery.capacity_kwh", PlanProblem.NOT_POSITIVE, value=repr(battery.capacity_kwh)
        )
    _check_range(battery.soc_pct, "battery.soc_pct", 0.0, 100.0)
    _check_range(battery.max_soc_pct, "battery.max_soc_pct", 0.0, 100.0)
    _check_non_negative(request.charge.max_kw, "charge.max_kw")
    _check_efficiency(request.charge.efficiency, "charge.efficiency")
    _check_taper(request.charge.taper)
    _check_non_negative(request.charge.min_kw, "charge.min_kw")
    discharge = request.discharge
    if discharge is not None:
        _check_non_negative(discharge.max_kw, "discharge.max_kw")
        _check_efficiency(discharge.efficiency, "discharge.efficiency")
        _check_range(discharge.min_soc_pct, "discharge.min_soc_pct", 0.0, 100.0)
        _check_non_negative(discharge.wear_cost_per_kwh, "discharge.wear_cost_per_kwh")
    _check_range(request.protective_soc_pct, "protective_soc_pct", 0.0, 100.0)
    for i, target in enumerate(request.targets):
        _check_aware(target.by, f"targets[{i}].by")
        _check_range(target.soc_pct, f"targets[{i}].soc_pct", 0.0, 100.0)
        if target.by < request.now:
            raise PlanValidationError(
                f"targets[{i}].by",
                PlanProblem.BEFORE_NOW,
                time=target.by.isoformat(),
                now=request.now.isoformat(),
            )
    previous: PriceSlot | None = None
    for i, price in enumerate(request.prices):
        path = f"prices[{i}]"
        _check_aware(price.start, path + ".start")
        _check_aware(price.end, path + ".end")
        if not math.isfinite(price.import_price):
            raise PlanValidationError(
                path + ".import", PlanProblem.NOT_FINITE, value=repr(price.import_price)
            )
        if price.export_price is not None and not math.isfinite(price.export_price):
            raise PlanValidationError(
                path + ".export", PlanProblem.NOT_FINITE, value=repr(price.export_price)
            )
        if price.end <= price.start:
            raise PlanValidationError(path + ".end", PlanProblem.END_NOT_AFTER_START)
        if previous is not None:
            if price.start < previous.start:
                raise PlanValidationError(path + ".start", PlanProblem.NOT_SORTED)
            if price.start < previous.end:
                raise PlanValidationError(path + ".start", PlanProblem.OVERLAP)
            if price.start > previous.end:
                raise PlanValidationError(
                    path + ".start", PlanProblem.GAP, previous_end=previous.end.isoformat()
                )
        previous = price
    if request.site is not None:
        validate_site(request.site, len(request.prices), (request.charge.min_kw,))


def validate_site(site: SiteSpec, slot_count: int, min_kws: Sequence[float]) -> None:
    """Check the site against the price slots and the cars' minimum charging power."""
    for name, values in (("base_load_kw", site.base_load_kw), ("solar_kw", site.solar_kw)):
        if values and len(values) != slot_count:
            raise PlanValidationError(
                f"site.{name}",
                PlanProblem.PER_SLOT,
                slots=str(slot_count),
                count=str(len(values)),
            )
        for i, value in enumerate(values):
            _check_non_negative(value, f"site.{name}[{i}]")
    for name in ("import_limit_kw", "export_limit_kw"):
        limit = getattr(site, name)
        if limit is not None:
            _check_non_negative(limit, f"site.{name}")
    _check_non_negative(site.peak_price_per_kw, "site.peak_price_per_kw")
    _check_non_negative(site.current_peak_kw, "site.current_peak_kw")
    _check_non_negative(site.hour_import_kwh, "site.hour_import_kwh")
    if site.import_limit_kw is not None:
        for min_kw in min_kws:
            if min_kw > site.import_limit_kw:
                raise PlanValidationError(
                    "site.import_limit_kw",
                    PlanProblem.BELOW_MIN_POWER,
                    limit=f"{site.import_limit_kw:g}",
                    min_kw=f"{min_kw:g}",
                )


# --------------------------------------------------------------------------------------------
# Plan


@dataclass(frozen=True, slots=True)
class PlannedSlot:
    """One slot of the plan. The first one starts at `now`."""

    start: datetime
    end: datetime
    charge_kw: float
    discharge_kw: float
    soc_pct_end: float
    import_price: float
    export_price: float | None
    # With a site: the house's net grid power with this plan (import positive, export negative).
    grid_kw: float | None = None

    @property
    def mode(self) -> str:
        """ "charge", "discharge" or "idle"."""
        if self.charge_kw > 0.0:
            return "charge"
        if self.discharge_kw > 0.0:
            return "discharge"
        return "idle"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "charge_kw": self.charge_kw,
            "discharge_kw": self.discharge_kw,
            "soc_pct_end": self.soc_pct_end,
            "import": self.import_price,
            "export": self.export_price,
        }
        if self.grid_kw is not None:
            data["grid_kw"] = self.grid_kw
        return data


@dataclass(frozen=True, slots=True)
class SwitchInterval:
    """The charger on, at `kw` (full power), in one mode from `start` to `end`."""

    start: datetime
    end: datetime
    mode: str
    kw: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "mode": self.mode,
            "kw": self.kw,
        }


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    by: datetime
    soc_pct: float
    expected_soc_pct: float
    met: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by.isoformat(),
            "soc_pct": self.soc_pct,
            "expected_soc_pct": self.expected_soc_pct,
            "met": self.met,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    status: PlanStatus
    slots: tuple[PlannedSlot, ...] = ()
    switch_times: tuple[SwitchInterval, ...] = ()
    cost: float = 0.0
    charge_now_cost: float = 0.0
    savings: float = 0.0
    energy_charged_kwh: float = 0.0
    energy_discharged_kwh: float = 0.0
    targets: tuple[TargetOutcome, ...] = field(default=())
    # With a site: the highest clock-hour average import with this plan, and what the capacity
    # tariff charges for it beyond the house's own peak (already part of `cost`).
    peak_kw: float | None = None
    peak_cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": str(self.status),
            "slots": [s.to_dict() for s in self.slots],
            "switch_times": [s.to_dict() for s in self.switch_times],
            "cost": self.cost,
            "charge_now_cost": self.charge_now_cost,
            "savings": self.savings,
            "energy_charged_kwh": self.energy_charged_kwh,
            "energy_discharged_kwh": self.energy_discharged_kwh,
            "targets": [t.to_dict() for t in self.targets],
        }
        if self.peak_kw is not None:
            data["peak_kw"] = self.peak_kw
            data["peak_cost"] = self.peak_cost
        return data


@dataclass(frozen=True, slots=True)
class _Horizon:
    starts: list[datetime]
    ends: list[datetime]
    hours: list[float]
    prices: list[PriceSlot]


def _horizon(request: PlanRequest) -> _Horizon | None:
    """The slots from the one holding `now`, the first cut to start at `now`; None if none."""
    now = request.now
    prices = [p for p in request.prices if p.end > now]
    if not prices or prices[0].start > now:
        return None
    starts = [now, *(p.start for p in prices[1:])]
    ends = [p.end for p in prices]
    hours = [(e - s).total_seconds() / _SECONDS_PER_HOUR for s, e in zip(starts, ends, strict=True)]
    return _Horizon(starts, ends, hours, prices)


@dataclass(frozen=True, slots=True)
class _TargetRule:
    """Where a target applies: boundary `index`, or after the horizon (`after_hours` > 0)."""

    target: Target
    energy: float
    index: int
    after_hours: float
    # The energy the plan must have at `index` (before capping at what is reachable).
    required: float


def _target_rules(request: PlanRequest, horizon: _Horizon, curve: ChargeCurve) -> list[_TargetRule]:
    capacity = request.battery.capacity_kwh
    rules: list[_TargetRule] = []
    last = len(horizon.ends)
    for target in request.targets:
        energy = target.soc_pct / 100.0 * capacity
        if target.by > horizon.ends[-1]:
            after = (target.by - horizon.ends[-1]).total_seconds() / _SECONDS_PER_HOUR
            required = curve.required_start(energy, after)
            rules.append(_TargetRule(target, energy, last, after, required))
            continue
        # Boundary b sits at the end of slot b-1; boundary 0 is now.
        index = 0
        while index < last and horizon.ends[index] <= target.by:
            index += 1
        rules.append(_TargetRule(target, energy, index, 0.0, energy))
    return rules


def plan(request: PlanRequest) -> Plan:
    """The cheapest plan of the model in this module's docstring."""
    validate_request(request)
    battery = request.battery
    capacity = battery.capacity_kwh
    start_kwh = battery.soc_pct / 100.0 * capacity
    horizon = _horizon(request)
    if horizon is None:
        outcomes = tuple(
            TargetOutcome(
                t.by,
                t.soc_pct,
                battery.soc_pct,
                battery.soc_pct >= t.soc_pct - _MET_TOLERANCE_KWH * 100.0 / capacity,
            )
            for t in request.targets
        )
        return Plan(status=PlanStatus.NO_PRICES, targets=outcomes)
    if request.site is not None or request.charge.min_kw > 0.0:
        from .site import plan_with_site  # noqa: PLC0415 - site builds on this module

        return plan_with_site(request)

    upper_kwh = max(battery.max_soc_pct / 100.0 * capacity, start_kwh)
    charge = request.charge
    curve = ChargeCurve.build(capacity, charge.max_kw, charge.taper, charge.efficiency, upper_kwh)
    discharge = request.discharge
    can_discharge = discharge is not None and discharge.max_kw > 0.0
    floor_kwh = start_kwh
    if discharge is not None and can_discharge:
        floor_kwh = min(start_kwh, discharge.min_soc_pct / 100.0 * capacity)

    reaches: dict[float, SlotReach] = {}
    dp_slots: list[DpSlot] = []
    for hours, price in zip(horizon.hours, horizon.prices, strict=True):
        reach = reaches.get(hours)
        if reach is None:
            reach = reaches[hours] = SlotReach.build(curve, hours)
        drop = 0.0
        discharge_cost = 0.0
        if discharge is not None and can_discharge and price.export_price is not None:
            drop = hours * discharge.max_kw / discharge.efficiency
            discharge_cost = discharge.wear_cost_per_kwh - price.export_price * discharge.efficiency
        dp_slots.append(
            DpSlot(
                reach=reach,
                charge_cost=price.import_price / charge.efficiency,
                discharge_cost=discharge_cost,
                discharge_kwh=drop,
                can_charge=charge.max_kw > 0.0
                and (reach.flat_shift is None or reach.flat_shift > 0),
            )
        )

    count = len(dp_slots)
    reach_high = [start_kwh]
    reach_low = [start_kwh]
    for slot in dp_slots:
        high = reach_high[-1]
        reach_high.append(slot.reach.top(high) if slot.can_charge else high)
        low = reach_low[-1]
        reach_low.append(max(floor_kwh, low - slot.discharge_kwh))

    lower = [floor_kwh] * (count + 1)
    protective_kwh = request.protective_soc_pct / 100.0 * capacity
    for b in range(count + 1):
        lower[b] = max(lower[b], min(protective_kwh, reach_high[b] - _REACH_MARGIN_KWH))
    rules = _target_rules(request, horizon, curve)
    for rule in rules:
        b = rule.index
        lower[b] = max(lower[b], min(rule.required, reach_high[b] - _REACH_MARGIN_KWH))

    path = optimal_path(dp_slots, start_kwh, lower, reach_low, reach_high)
    discharges = [slot.discharge_kwh > 0.0 for slot in dp_slots]
    flows = slot_flows(request, curve, horizon.hours, discharges, path, start_kwh)
    return _assemble(request, horizon, curve, flows, rules, start_kwh)


@dataclass(frozen=True, slots=True)
class SlotFlow:
    """What a car does in one slot of its plan, and the energy it then has (kWh)."""

    charge_kw: float
    discharge_kw: float
    energy_kwh: float


def energy_after(request: PlanRequest, hours: float, energy: float, flow: SlotFlow) -> float:
    """The energy after a slot of `hours` that starts at `energy` with this flow's powers."""
    return stored_after(request, hours, energy, flow.charge_kw, flow.discharge_kw)


def stored_after(
    request: PlanRequest, hours: float, energy: float, charge_kw: float, discharge_kw: float
) -> float:
    """`energy_after` with the powers as they are: searches walk paths thousands of times."""
    energy += hours * request.charge.efficiency * charge_kw
    if discharge_kw > 0.0 and request.discharge is not None:
        energy -= hours * discharge_kw / request.discharge.efficiency
    return energy


def slot_flows(
    request: PlanRequest,
    curve: ChargeCurve,
    hours: Sequence[float],
    discharges: Sequence[bool],
    path: Sequence[float],
    start_kwh: float,
) -> list[SlotFlow]:
    """The powers that follow a path of energies slot by slot (`discharges`: where the car may
    discharge), each kept to the charger's limit at the slot's start and to the battery's top;
    a rounding under a limit is the limit, and powers below `_NOISE_KW` are none."""
    charge = request.charge
    discharge = request.discharge
    upper = curve.upper_kwh
    energy = start_kwh
    flows: list[SlotFlow] = []
    for b, (slot_hours, may_discharge) in enumerate(zip(hours, discharges, strict=True)):
        change = path[b] - energy
        charge_kw = discharge_kw = 0.0
        if change > 0.0:
            gain = slot_hours * charge.efficiency
            limit = curve.power_limit(energy)
            charge_kw = _snap(change / gain, limit)
            # Noise dropped before (a discharge of `_NOISE_KW`) leaves the energy a hair above
            # the path; where the path's own step keeps the minimum, so does the power.
            least = min(charge.min_kw, limit)
            stepped = (path[b] - (path[b - 1] if b else start_kwh)) / gain
            if charge_kw < least <= stepped + _NOISE_KW:
                charge_kw = least
            charge_kw = min(charge_kw, (upper - energy) / gain)
            # A step within a few reach margins is rounding, even where a short slot or a low
            # efficiency makes its power look larger than the noise.
            noise = charge_kw <= _NOISE_KW or change <= _STEP_NOISE_KWH
            charge_kw = 0.0 if noise else charge_kw
        elif change < 0.0 and discharge is not None and may_discharge:
            discharge_kw = _snap(-change * discharge.efficiency / slot_hours, discharge.max_kw)
            discharge_kw = discharge_kw if discharge_kw > _NOISE_KW else 0.0
        energy = energy_after(request, slot_hours, energy, SlotFlow(charge_kw, discharge_kw, 0.0))
        flows.append(SlotFlow(charge_kw, discharge_kw, energy))
    return flows


def _assemble(
    request: PlanRequest,
    horizon: _Horizon,
    curve: ChargeCurve,
    flows: Sequence[SlotFlow],
    rules: list[_TargetRule],
    start_kwh: float,
) -> Plan:
    """The plan of these flows (`slot_flows`)."""
    capacity = request.battery.capacity_kwh
    discharge = request.discharge
    energy = start_kwh
    energies = [start_kwh]
    slots: list[PlannedSlot] = []
    full_powers: list[float] = []
    cost = charged = discharged = 0.0
    for b, (flow, hours, price) in enumerate(
        zip(flows, horizon.hours, horizon.prices, strict=True)
    ):
        charge_kw, discharge_kw = flow.charge_kw, flow.discharge_kw
        limit = curve.power_limit(energy)
        energy = flow.energy_kwh
        if discharge_kw > 0.0 and discharge is not None:
            cost += (
                hours
                * discharge_kw
                * (discharge.wear_cost_per_kwh / discharge.efficiency - (price.export_price or 0.0))
            )
        cost += hours * price.import_price * charge_kw
        charged += hours * charge_kw
        discharged += hours * discharge_kw
        energies.append(energy)
        full_powers.append(
            limit if charge_kw > 0.0 else (discharge.max_kw if discharge is not None else 0.0)
        )
        slots.append(
            PlannedSlot(
                start=horizon.starts[b],
                end=horizon.ends[b],
                charge_kw=charge_kw,
                discharge_kw=discharge_kw,
                soc_pct_end=_display_pct(energy / capacity * 100.0),
                import_price=price.import_price,
                export_price=price.export_price,
            )
        )

    outcomes, status = _target_outcomes(rules, energies, curve, start_kwh, capacity)
    charge_now = _charge_now_cost(request, horizon, curve, rules, start_kwh)
    return Plan(
        status=status,
        slots=tuple(slots),
        switch_times=tuple(_switch_times(slots, full_powers)),
        cost=cost,
        charge_now_cost=charge_now,
        savings=charge_now - cost,
        energy_charged_kwh=charged,
        energy_discharged_kwh=discharged,
        targets=tuple(outcomes),
    )


def _target_outcomes(
    rules: list[_TargetRule],
    energies: list[float],
    curve: ChargeCurve,
    start_kwh: float,
    capacity: float,
) -> tuple[list[TargetOutcome], PlanStatus]:
    """What the plan reaches for each target, and the plan's status from that."""
    outcomes: list[TargetOutcome] = []
    shortfall = False
    awaiting = False
    for rule in rules:
        reached = energies[rule.index]
        if rule.after_hours > 0.0:
            reached = curve.flow(reached, rule.after_hours)
            if (
                rule.required > start_kwh + _MET_TOLERANCE_KWH
                and energies[-1] <= rule.required + _MET_TOLERANCE_KWH
            ):
                awaiting = True
        met = reached >= rule.energy - _MET_TOLERANCE_KWH
        shortfall = shortfall or not met
        outcomes.append(
            TargetOutcome(
                rule.target.by, rule.target.soc_pct, _display_pct(reached / capacity * 100.0), met
            )
        )
    status = PlanStatus.OK
    if shortfall:
        status = PlanStatus.SHORTFALL
    elif awaiting:
        status = PlanStatus.AWAITING_PRICES
    return outcomes, status


def _snap(power: float, limit: float) -> float:
    """The power, at most `limit`; a hair under the limit (rounding) becomes the limit."""
    return limit if power >= limit * (1.0 - 1e-12) else power


def _display_pct(value: float) -> float:
    """SoC for people and the controller: rounding noise (79.99999999999999) removed."""
    return round(value, 9)


def _charge_now_cost(
    request: PlanRequest,
    horizon: _Horizon,
    curve: ChargeCurve,
    rules: list[_TargetRule],
    start_kwh: float,
) -> float:
    """Cost of charging at full power from now until every target is met, never discharging.

    Charging stops at the highest level the targets (and the protective level) ask for, or at
    the last target's deadline when that level can't be reached by then.
    """
    capacity = request.battery.capacity_kwh
    protective = request.protective_soc_pct / 100.0 * capacity
    level = max((rule.required for rule in rules), default=-math.inf)
    deadline = max((rule.index for rule in rules), default=0)
    efficiency = request.charge.efficiency
    energy = start_kwh
    cost = 0.0
    for b, hours in enumerate(horizon.hours):
        wanted = max(protective, level if b < deadline else -math.inf)
        wanted = min(wanted, curve.upper_kwh)
        if energy >= wanted:
            if b >= deadline:
                break
            continue
        power = min(curve.power_limit(energy), (wanted - energy) / (hours * efficiency))
        energy += hours * efficiency * power
        cost += hours * horizon.prices[b].import_price * power
    return cost


def _switch_times(slots: list[PlannedSlot], full_powers: list[float]) -> list[SwitchInterval]:
    """Merge on-slots into intervals; a part-power slot runs at full power for that fraction.

    A part slot is placed against its neighbour: at its start when the previous slot ends on in
    the same mode, otherwise at its end when the next slot is on in the same mode, otherwise at
    its start.
    """
    intervals: list[SwitchInterval] = []
    ends_on = False
    for i, slot in enumerate(slots):
        mode = slot.mode
        if mode == "idle":
            ends_on = False
            continue
        power = slot.charge_kw if mode == "charge" else slot.discharge_kw
        full = max(full_powers[i], power)
        fraction = power / full if full > 0.0 else 0.0
        length = slot.end - slot.start
        previous_on = ends_on and bool(intervals) and intervals[-1].mode == mode
        if fraction >= 1.0 - 1e-9:
            start, end = slot.start, slot.end
        else:
            on_for = timedelta(seconds=round(length.total_seconds() * fraction, 6))
            next_on = i + 1 < len(slots) and slots[i + 1].mode == mode
            if previous_on or not next_on:
                start, end = slot.start, slot.start + on_for
            else:
                start, end = slot.end - on_for, slot.end
        if end <= start:
            ends_on = False
            continue
        if previous_on and intervals[-1].end == start:
            last = intervals[-1]
            intervals[-1] = SwitchInterval(last.start, end, mode, max(last.kw, full))
        else:
            intervals.append(SwitchInterval(start, end, mode, full))
        ends_on = end == slot.end
    return intervals


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    """Read a request (JSON) on stdin, write the plan (JSON) on stdout; 2 on invalid input.

    A request with "vehicles" is a site request (several cars), planned with `plan_site`.
    """
    del argv
    try:
        data = json.load(sys.stdin)
    except json.JSONDecodeError as err:
        print(f"request: invalid JSON: {err}", file=sys.stderr)
        return 2
    try:
        if isinstance(data, dict) and "vehicles" in data:
            result: Plan | SitePlan = plan_site(SiteRequest.from_dict(data))
        else:
            result = plan(PlanRequest.from_dict(data))
    except PlanValidationError as err:
        print(str(err), file=sys.stderr)
        return 2
    json.dump(result.to_dict(), sys.stdout)
    sys.stdout.write("\n")
    return 0


# Several cars on one house. Imported last: it builds on everything above.
from .multi import (  # noqa: E402
    SitePlan as SitePlan,
    SiteRequest as SiteRequest,
    SiteSlot as SiteSlot,
    VehiclePlan as VehiclePlan,
    VehicleRequest as VehicleRequest,
    plan_site as plan_site,
)
