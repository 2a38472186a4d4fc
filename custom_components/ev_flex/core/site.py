"""The house around the chargers: its meters, its fuse and its capacity tariff.

`SiteSettings` is what the user configures (read from and written to an entry's options, and
checked on the way in); `site_for_slots` turns it, with the expected base load and solar
production, into the `site` object of a planner request.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import Any

from .planner import Plan, PlannedSlot, PlanRequest, SiteSpec, SwitchInterval

GRID_VOLTAGE_V = 230.0
# The smallest current a charger may charge with (IEC 61851).
MIN_CHARGE_CURRENT_A = 6.0
MAX_FUSE_A = 400.0
MAX_FUSE_KW = 1000.0
MAX_PEAK_PRICE_PER_KW = 10_000.0
# In the solar modes every kWh from the grid costs this much more in the plan, so the car takes
# from the grid only what its targets need (the plan then shows the real prices again).
SOLAR_MODE_GRID_PENALTY = 1000.0


class SolarMode(StrEnum):
    """How a vehicle uses the house's solar production."""

    # The cheapest plan: solar surplus is worth its export price.
    CHEAPEST = "cheapest"
    # Solar first: grid energy only for what the deadline needs.
    SOLAR_FIRST = "solar_first"
    # Solar only: never grid energy beyond the protective minimum and the deadline.
    SOLAR_ONLY = "solar_only"


class HouseSensorKind(StrEnum):
    """What the house power sensor measures."""

    # The grid meter: import positive, export negative; the chargers included.
    GRID = "grid"
    # The house's whole consumption, the chargers included.
    CONSUMPTION = "consumption"


class PeakCounting(StrEnum):
    """How the grid operator counts the month's peak for the capacity tariff."""

    # The highest hourly average import of the month (Belgium counts the highest quarter hour;
    # an hour is the planner's resolution).
    HIGHEST_HOUR = "highest_hour"
    # The average of the three highest hourly imports, each on a different day (Norway).
    TOP_THREE_DAYS = "top_three_days"


class SiteError(ValueError):
    """A site setting is invalid: `field` names it, `reason` says why (a translation key)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class SiteSettings:
    """The house: meters, fuse and capacity tariff. All optional."""

    house_entity: str | None = None
    house_kind: HouseSensorKind = HouseSensorKind.GRID
    solar_entity: str | None = None
    forecast_entity: str | None = None
    # The main fuse as A per phase and the number of phases, or directly in kW.
    fuse_a: float | None = None
    phases: int = 3
    fuse_kw: float | None = None
    peak_price_per_kw: float = 0.0
    peak_counting: PeakCounting = PeakCounting.HIGHEST_HOUR

    @property
    def import_limit_kw(self) -> float | None:
        """The most the house may draw from the grid (kW), if a fuse is set."""
        if self.fuse_kw is not None:
            return self.fuse_kw
        if self.fuse_a is not None:
            return self.fuse_a * self.phases * GRID_VOLTAGE_V / 1000.0
        return None

    @property
    def configured(self) -> bool:
        """Whether anything about the house is set."""
        return bool(
            self.house_entity
            or self.solar_entity
            or self.forecast_entity
            or self.import_limit_kw is not None
            or self.peak_price_per_kw > 0
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form (only what is set)."""
        data: dict[str, Any] = {
            "house_kind": self.house_kind.value,
            "phases": self.phases,
            "peak_price_per_kw": self.peak_price_per_kw,
            "peak_counting": self.peak_counting.value,
        }
        for key in ("house_entity", "solar_entity", "forecast_entity", "fuse_a", "fuse_kw"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SiteSettings:
        """Read and check settings; raises SiteError naming the field."""
        phases = _number(data, "phases", 1, 3, default=3)
        if phases not in (1, 2, 3):
            raise SiteError("phases", "invalid_phases")
        settings = cls(
            house_entity=_entity(data, "house_entity"),
            house_kind=_choice(data, "house_kind", HouseSensorKind, HouseSensorKind.GRID),
            solar_entity=_entity(data, "solar_entity"),
            forecast_entity=_entity(data, "forecast_entity"),
            fuse_a=_optional_number(data, "fuse_a", MIN_CHARGE_CURRENT_A, MAX_FUSE_A),
            phases=int(phases),
            fuse_kw=_optional_number(data, "fuse_kw", 0.0, MAX_FUSE_KW),
            peak_price_per_kw=_number(
                data, "peak_price_per_kw", 0.0, MAX_PEAK_PRICE_PER_KW, default=0.0
            ),
            peak_counting=_choice(data, "peak_counting", PeakCounting, PeakCounting.HIGHEST_HOUR),
        )
        limit = settings.import_limit_kw
        minimum_kw = MIN_CHARGE_CURRENT_A * GRID_VOLTAGE_V / 1000.0
        if limit is not None and limit < minimum_kw:
            # Below one phase at the minimum current no charger can run at all.
            raise SiteError("fuse_kw" if settings.fuse_kw is not None else "fuse_a", "fuse_too_low")
        return settings


def _entity(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or "." not in value:
        raise SiteError(key, "invalid_entity")
    return value


def _choice[E: StrEnum](data: Mapping[str, Any], key: str, kind: type[E], default: E) -> E:
    value = data.get(key)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError as err:
        raise SiteError(key, "invalid_choice") from err


def _number(data: Mapping[str, Any], key: str, low: float, high: float, *, default: float) -> float:
    value = _optional_number(data, key, low, high)
    return default if value is None else value


def _optional_number(data: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SiteError(key, "not_a_number")
    if not math.isfinite(value) or not low <= value <= high:
        raise SiteError(key, "out_of_range")
    return float(value)


def effective_peak(
    settings: SiteSettings, daily_peaks_kw: Mapping[str, float]
) -> tuple[float, float]:
    """(price per kW, peak already paid for) for the planner, from this month's daily peaks.

    With the highest hour, raising the month's peak by x costs the price times x. With the
    three highest days, a new peak only counts once it passes the third highest day, and then
    moves the average by a third of the rise.
    """
    peaks = sorted(daily_peaks_kw.values(), reverse=True)
    if settings.peak_counting is PeakCounting.TOP_THREE_DAYS:
        third = peaks[2] if len(peaks) >= 3 else 0.0
        return settings.peak_price_per_kw / 3.0, third
    return settings.peak_price_per_kw, peaks[0] if peaks else 0.0


def month_peak(settings: SiteSettings, daily_peaks_kw: Mapping[str, float]) -> float:
    """The month's peak as the tariff counts it, so far (kW)."""
    peaks = sorted(daily_peaks_kw.values(), reverse=True)
    if not peaks:
        return 0.0
    if settings.peak_counting is PeakCounting.TOP_THREE_DAYS:
        top = peaks[:3]
        return sum(top) / len(top)
    return peaks[0]


def site_for_slots(
    settings: SiteSettings,
    slots: Sequence[tuple[datetime, datetime]],
    base_load_kw: Callable[[datetime, datetime], float],
    solar_kw: Callable[[datetime, datetime], float],
    daily_peaks_kw: Mapping[str, float],
) -> SiteSpec:
    """The planner request's `site` for these price slots."""
    price, paid = 0.0, 0.0
    if settings.peak_price_per_kw > 0:
        price, paid = effective_peak(settings, daily_peaks_kw)
    limit = settings.import_limit_kw
    return SiteSpec(
        base_load_kw=tuple(round(max(0.0, base_load_kw(start, end)), 3) for start, end in slots),
        solar_kw=tuple(round(max(0.0, solar_kw(start, end)), 3) for start, end in slots),
        import_limit_kw=None if limit is None else round(limit, 3),
        peak_price_per_kw=round(price, 6),
        current_peak_kw=round(paid, 3),
    )


def charger_min_kw(
    min_current_a: float | None, phases: int | None, import_limit_kw: float | None
) -> float:
    """The least a charger that takes a current charges with (kW).

    0 (on/off charging only) when the fuse is below even that.
    """
    current = min_current_a or MIN_CHARGE_CURRENT_A
    minimum_kw = round(current * (phases or 3) * GRID_VOLTAGE_V / 1000.0, 3)
    return 0.0 if import_limit_kw is not None and minimum_kw > import_limit_kw else minimum_kw


def house_request(
    request: PlanRequest, site: SiteSpec | None, min_kw: float, mode: SolarMode
) -> PlanRequest:
    """A vehicle's planner request with the house: its `site`, the charger's minimum power
    (0: switched on and off) and, in the solar modes, the grid made dear."""
    completed = request if site is None else replace(request, site=site)
    if min_kw > 0:
        completed = replace(completed, charge=replace(completed.charge, min_kw=min_kw))
    if mode is not SolarMode.CHEAPEST:
        dear = tuple(
            replace(slot, import_price=slot.import_price + SOLAR_MODE_GRID_PENALTY)
            for slot in completed.prices
        )
        completed = replace(completed, prices=dear)
    return completed


def planned_power_now(plan: Plan | None, now: datetime) -> float | None:
    """The plan's average charging power in the slot holding now (kW); None without a plan."""
    if plan is None:
        return None
    for slot in plan.slots:
        if slot.start <= now < slot.end:
            return slot.charge_kw
    return 0.0


def solar_share_pct(
    plan: Plan | None, surplus_kw: Callable[[datetime, datetime], float]
) -> float | None:
    """The share of the plan's charging energy expected from solar surplus (%).

    None without a plan or without any charging planned.
    """
    total = from_solar = 0.0
    for slot in () if plan is None else plan.slots:
        hours = (slot.end - slot.start).total_seconds() / 3600.0
        total += slot.charge_kw * hours
        from_solar += min(slot.charge_kw, max(0.0, surplus_kw(slot.start, slot.end))) * hours
    if total <= 0:
        return None
    return round(100.0 * from_solar / total, 1)


def current_switch_times(
    plan: Plan, min_kw: float, *, amp_kw: float | None = None, max_kw: float | None = None
) -> tuple[SwitchInterval, ...]:
    """A plan's switch times for a charger that takes a current.

    A slot planned at or above the charger's minimum power charges through the whole slot at
    the planned power (the current follows it), instead of at full power for part of the slot:
    the house draws what the plan counted on. Slots below the minimum keep their part-slot
    windows at full power, and discharge windows stay as they are.

    With `amp_kw` (the power of one amp on the charger's phases) each such slot runs in whole
    amps, as chargers take them: see `_whole_amp_windows`. A slot at the car's full power
    (`max_kw`) asks for the next whole amp up, so rounding never holds the car below it.
    """
    windows: list[SwitchInterval] = []
    for slot in plan.slots:
        if slot.charge_kw > 0 and slot.charge_kw >= min_kw - 1e-6:
            windows += _whole_amp_windows(slot, amp_kw, max_kw)
            continue
        for window in plan.switch_times:
            start, end = max(slot.start, window.start), min(slot.end, window.end)
            if start < end:
                windows.append(replace(window, start=start, end=end))
    merged: list[SwitchInterval] = []
    for window in windows:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.end == window.start
            and last.mode == window.mode
            and abs(last.kw - window.kw) < 1e-9
        ):
            merged[-1] = replace(last, end=window.end)
        else:
            merged.append(window)
    return tuple(merged)


def _whole_amp_windows(
    slot: PlannedSlot, amp_kw: float | None, max_kw: float | None
) -> list[SwitchInterval]:
    """A slot's planned power in whole amps, delivering at least the slot's energy.

    A current below the planned power would leave every slot short, and the last one before
    the departure can't be made up. So the slot starts at the amp above the planned power and
    drops to the amp below, the upper part rounded up to whole minutes (commands go out at
    most once a minute).
    """
    kw = slot.charge_kw
    if amp_kw is None or amp_kw <= 0:
        return [SwitchInterval(slot.start, slot.end, "charge", kw)]
    amps = kw / amp_kw
    if max_kw is not None and kw >= max_kw - 1e-6:
        return [
            SwitchInterval(
                slot.start, slot.end, "charge", _amp_power(math.ceil(amps - 1e-6), amp_kw)
            )
        ]
    lower = math.floor(amps + 1e-6)
    share = amps - lower
    if share <= 1e-6:
        return [SwitchInterval(slot.start, slot.end, "charge", _amp_power(lower, amp_kw))]
    minutes = math.ceil(share * (slot.end - slot.start).total_seconds() / 60.0 - 1e-6)
    split = min(slot.end, slot.start + timedelta(minutes=minutes))
    windows = [SwitchInterval(slot.start, split, "charge", _amp_power(lower + 1, amp_kw))]
    if split < slot.end:
        windows.append(SwitchInterval(split, slot.end, "charge", _amp_power(lower, amp_kw)))
    return windows


def _amp_power(amps: int, amp_kw: float) -> float:
    return round(amps * amp_kw, 6)
