"""What the planner is asked, built in one place for the controller and the `plan_charging` action.

Prices arrive as the tariff layer's slot objects (anything with a start, an end, an import and
an export price). From them come the planner's `PriceSlot`s: the contiguous run from the slot
holding now, guessed beyond the last known price up to the departure, and cut at the departure.
A `PlanBasis` holds what a plan depends on apart from the time, the SoC and the prices; its
`request` completes it into the planner's `PlanRequest`.
"""

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import math
from typing import Protocol

from .learning import ChargeModel
from .planner import (
    Battery,
    ChargeSettings,
    DischargeSettings,
    PlanRequest,
    PriceSlot,
    Target,
)

# Prices are guessed at most this far beyond the last known one.
MAX_PRICE_GUESS = timedelta(hours=36)


class PricedInterval(Protocol):
    """A price slot as the tariff layer gives it (`PricedSlot`, or the planner's `PriceSlot`)."""

    @property
    def start(self) -> datetime:
        """Where the slot starts."""

    @property
    def end(self) -> datetime:
        """Where the slot ends."""

    @property
    def import_price(self) -> float:
        """What a kWh from the grid costs."""

    @property
    def export_price(self) -> float | None:
        """What a kWh to the grid earns; None: no discharging then."""


def _aware(moment: datetime) -> bool:
    return moment.utcoffset() is not None


def current_slots(
    prices: Sequence[PricedInterval], now: datetime, past: list[PriceSlot] | None = None
) -> list[PriceSlot]:
    """Contiguous slots from the one containing now; empty if none contains now.

    The run ends at the first slot that makes no sense (a time without offset, a price that is
    not finite, an empty slot) or at a gap. Slots that already ended go to `past` (if given),
    for guessing later prices.
    """
    slots: list[PriceSlot] = []
    previous_end: datetime | None = None
    for item in prices:
        start, end, import_price = item.start, item.end, item.import_price
        if not _aware(end):
            break
        if end <= now:
            if past is not None and _aware(start) and math.isfinite(import_price):
                past.append(PriceSlot(start, end, import_price, None))
            continue
        if not _aware(start) or not math.isfinite(import_price) or end <= start:
            break
        if previous_end is None:
            if start > now:
                return []
        elif start != previous_end:
            break
        export = item.export_price
        if export is not None and not math.isfinite(export):
            export = None
        slots.append(PriceSlot(start, end, import_price, export))
        previous_end = end
    return slots


def extend_prices(
    slots: Sequence[PriceSlot], until: datetime | None, past: Sequence[PriceSlot] = ()
) -> tuple[list[PriceSlot], datetime | None]:
    """Known prices, followed by guesses up to `until` (the departure) when they end before it.

    Without a guess the planner treats energy bought after the last known price as free, so it
    would skip cheap known slots for unknown later ones. The guess for a slot is the average
    price at the same time of day on the up to three days before (as far as known), or the mean
    of the known prices; guesses never allow discharging. Returns the slots and where the
    guesses start (None without guesses).
    """
    extended = list(slots)
    if not slots or until is None or until <= slots[-1].end:
        return extended, None
    known_until = slots[-1].end
    limit = min(until, known_until + MAX_PRICE_GUESS)
    length = slots[-1].end - slots[-1].start
    mean = sum(slot.import_price for slot in slots) / len(slots)
    known = sorted([*past, *slots], key=lambda slot: slot.start)
    starts = [slot.start for slot in known]
    while extended[-1].end < limit:
        start = extended[-1].end
        same_time: list[float] = []
        for days in range(1, 4):
            # A day earlier in absolute time, whatever zone the slots carry.
            reference = start.astimezone(UTC) - timedelta(days=days)
            index = bisect_right(starts, reference) - 1
            if index >= 0 and reference < known[index].end:
                same_time.append(known[index].import_price)
        price = sum(same_time) / len(same_time) if same_time else mean
        extended.append(PriceSlot(start, start + length, price, None))
    return extended, known_until


def until_departure(slots: Sequence[PriceSlot], departure: datetime | None) -> list[PriceSlot]:
    """The slots up to the departure, the last one cut there: the car is away after it, so
    nothing may be planned then (a discharge at the next evening's peak, say)."""
    if departure is None:
        return list(slots)
    kept = [slot for slot in slots if slot.start < departure]
    if kept and kept[-1].end > departure:
        kept[-1] = replace(kept[-1], end=departure)
    return kept


def export_used(
    slot: PriceSlot, allow_discharge: bool, threshold: float | None = None
) -> float | None:
    """The export price the planner gets in a slot (None: no discharge then).

    Without discharge settings the car can't discharge, and the price still values the solar
    surplus the car would take; with them, a slot below the threshold gets none, so the car
    doesn't discharge there."""
    export = slot.export_price
    if allow_discharge and threshold is not None and export is not None and export < threshold:
        return None
    return export


def quantise(value: float, step: float) -> float:
    """`value` on a grid of `step`, so measurement noise doesn't change a request."""
    return round(round(value / step) * step, 6)


def learned_charge(model: ChargeModel) -> ChargeSettings:
    """The charge power, efficiency and taper the controller learned, quantised so noise in the
    measurements doesn't ask for a new plan at every step."""
    max_kw = quantise(model.max_kw, 0.05)
    return ChargeSettings(
        max_kw=max_kw,
        efficiency=quantise(model.efficiency, 0.002),
        taper=(
            (quantise(model.taper_knee_pct, 0.5), max_kw),
            (100.0, min(quantise(model.taper_end_kw, 0.05), max_kw)),
        ),
    )


@dataclass(frozen=True, kw_only=True)
class PlanBasis:
    """What a plan depends on apart from the time, the SoC and the prices."""

    capacity_kwh: float
    max_soc_pct: float = 100.0
    charge: ChargeSettings
    # None: no discharging.
    discharge: DischargeSettings | None = None
    departure: datetime | None
    target_soc_pct: float
    protective_soc_pct: float = 0.0
    # Discharge only in slots whose export price reaches this (None: wherever it pays).
    discharge_price_threshold: float | None = None

    def request(self, now: datetime, soc_pct: float, prices: Sequence[PriceSlot]) -> PlanRequest:
        """The planner's request from now, at this SoC, on these prices."""
        allow_discharge = self.discharge is not None
        threshold = self.discharge_price_threshold
        return PlanRequest(
            now=now,
            battery=Battery(
                capacity_kwh=self.capacity_kwh, soc_pct=soc_pct, max_soc_pct=self.max_soc_pct
            ),
            charge=self.charge,
            prices=tuple(
                PriceSlot(
                    slot.start,
                    slot.end,
                    slot.import_price,
                    export_used(slot, allow_discharge, threshold),
                )
                for slot in prices
            ),
            discharge=self.discharge,
            targets=()
            if self.departure is None
            else (Target(by=self.departure, soc_pct=self.target_soc_pct),),
            protective_soc_pct=self.protective_soc_pct,
        )


__all__ = [
    "MAX_PRICE_GUESS",
    "PlanBasis",
    "PricedInterval",
    "current_slots",
    "export_used",
    "extend_prices",
    "learned_charge",
    "quantise",
    "until_departure",
]
