"""Turn the data of Home Assistant price integrations into one normalised price series.

The Home Assistant layer describes a price entity as plain data (`PriceEntitySnapshot`: state,
attributes and any action responses it already fetched). `normalise_prices` detects the source
format, converts every entry to a `PriceSlot` in UTC priced per kWh in the main currency unit, and
returns a `PriceReadResult` with a status the UI can show. Gaps are reported, never filled.
Malformed data never raises: it gives the status `invalid` with a message naming the entity and
the offending entry.

Supported sources (detected from the attributes, or from the action that produced a response):
HACS `nordpool`, core `nordpool` (`nordpool.get_prices_for_date`), Energi Data Service, Entso-e
(attributes or `entsoe.get_energy_prices`), Tibber (`tibber.get_prices`), Octopus Energy rate
event entities, GE-Spot, Pstryk, Amber Electric (`forecasts` or `amberelectric.get_forecasts`),
EnergyZero and easyEnergy (their price actions), and a generic list of items with a start time
and a price. Only the stretch from two days back to 14 days ahead is read.
"""

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
import math
from typing import Any

ACTION_NORDPOOL_PRICES = "nordpool.get_prices_for_date"
ACTION_NORDPOOL_INDICES = "nordpool.get_price_indices_for_date"
ACTION_TIBBER_PRICES = "tibber.get_prices"
ACTION_ENTSOE_PRICES = "entsoe.get_energy_prices"
ACTION_AMBER_FORECASTS = "amberelectric.get_forecasts"
ACTION_ENERGYZERO_PRICES = "energyzero.get_energy_prices"
ACTION_EASYENERGY_USAGE = "easyenergy.get_energy_usage_prices"
ACTION_EASYENERGY_RETURN = "easyenergy.get_energy_return_prices"


# Sources that publish only the current price, with one that publishes prices ahead for the
# same market. Zonneplan is an integration (`zonneplan_one`); Spot-hinta.fi reaches Home
# Assistant through REST packages (spotprices2ha) or small integrations, so it is recognised by
# the name in its entity or unique id.
@dataclass(frozen=True, slots=True)
class _NowOnlySource:
    name: str
    # Integrations built into Home Assistant that publish the prices ahead for the same market.
    alternatives: str


_ZONNEPLAN = _NowOnlySource("Zonneplan", "EnergyZero, easyEnergy")
_SPOT_HINTA = _NowOnlySource("Spot-hinta.fi", "Nord Pool")
NO_FUTURE_PRICES = {
    "zonneplan_one": _ZONNEPLAN,
    "spot_hinta": _SPOT_HINTA,
    "spothinta": _SPOT_HINTA,
}


def _without_future_prices(snapshot: PriceEntitySnapshot) -> _NowOnlySource | None:
    """(name, alternative) when the entity comes from a source without prices ahead."""
    if snapshot.platform in NO_FUTURE_PRICES:
        return NO_FUTURE_PRICES[snapshot.platform]
    names = f"{snapshot.entity_id} {snapshot.unique_id or ''}".lower()
    return next((source for key, source in NO_FUTURE_PRICES.items() if key in names), None)


# Slot length used when a start-only list has a single entry and nothing else to learn from.
DEFAULT_SLOT = timedelta(hours=1)
# Longer slots are not prices for a market interval; they are almost certainly broken data.
MAX_SLOT = timedelta(hours=48)
# Only this stretch around now is read: a list of 100,000 slots must not block the event loop.
# Planning needs nothing further ahead, and the day before covers a session started yesterday.
MAX_AHEAD = timedelta(days=14)
MAX_BEHIND = timedelta(days=2)

_UNAVAILABLE_STATES = frozenset({"unavailable"})
_UNKNOWN_STATES = frozenset({"unknown", "none", ""})


class PriceFormat(StrEnum):
    """Which integration's data shape a series was read from."""

    NORDPOOL_HACS = "nordpool_hacs"
    NORDPOOL_CORE = "nordpool_core"
    ENERGI_DATA_SERVICE = "energi_data_service"
    ENTSOE = "entsoe"
    TIBBER = "tibber"
    OCTOPUS_ENERGY = "octopus_energy"
    GE_SPOT = "ge_spot"
    PSTRYK = "pstryk"
    AMBER = "amber"
    ENERGYZERO = "energyzero"
    EASYENERGY = "easyenergy"
    GENERIC = "generic"


class PriceStatus(StrEnum):
    """What the planner and the UI should make of a price entity right now."""

    OK = "ok"
    # Prices cover now, but nothing for tomorrow is published yet.
    AWAITING = "awaiting"
    # The entity is unavailable, unknown, or has empty price lists.
    NO_PRICES = "no_prices"
    # There is data, but all of it lies in the past (e.g. "today" is really yesterday).
    STALE = "stale"
    # The data could not be read: unknown format or malformed entries.
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class ActionResponse:
    """The response of a response-only price action, already fetched by the caller."""

    action: str
    response: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class PriceEntitySnapshot:
    """A price entity as plain data.

    `platform` is the entity registry platform (e.g. "nordpool", "tibber"); it tells which action
    to call for integrations without list attributes. `area` picks one key of an action response
    that has several (a Nord Pool area code or a Tibber home nickname). `related` holds companion
    entities whose lists extend this one, such as Octopus Energy's next-day rates event entity.
    """

    entity_id: str
    state: str | None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    platform: str | None = None
    action_responses: tuple[ActionResponse, ...] = ()
    area: str | None = None
    related: tuple[PriceEntitySnapshot, ...] = ()
    # The entity registry unique id; some integrations name the price kind only there.
    unique_id: str | None = None


@dataclass(frozen=True, slots=True)
class PriceSlot:
    """One market interval: [start, end) in UTC, priced per kWh in the main currency unit."""

    start: datetime
    end: datetime
    price_per_kwh: float

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class PriceGap:
    """A stretch between two slots for which the source gave no price."""

    start: datetime
    end: datetime


@dataclass(frozen=True, kw_only=True)
class PriceSeries:
    """Sorted, non-overlapping slots; consecutive slots touch except across a listed gap."""

    entity_id: str
    source_format: PriceFormat
    currency: str | None
    slots: tuple[PriceSlot, ...]
    gaps: tuple[PriceGap, ...] = ()
    # The series stops before the end of the user's local tomorrow.
    ends_early: bool = False
    # Nothing is known for the user's local tomorrow yet.
    awaiting_tomorrow: bool = False
    # No slot ends after "now": the data is old.
    stale: bool = False
    # The source repeated today's prices as tomorrow's (a known HACS nordpool bug); dropped.
    tomorrow_repeats_today: bool = False
    # True when the source's prices already include VAT, False when they don't, None: unknown.
    includes_vat: bool | None = None
    notes: tuple[str, ...] = ()

    @cached_property
    def starts(self) -> tuple[datetime, ...]:
        """The slots' starts, for bisecting."""
        return tuple(slot.start for slot in self.slots)

    @property
    def start(self) -> datetime | None:
        return self.slots[0].start if self.slots else None

    @property
    def end(self) -> datetime | None:
        return self.slots[-1].end if self.slots else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form, for diagnostics and for keeping the last good series."""
        return {
            "entity_id": self.entity_id,
            "source_format": self.source_format.value,
            "currency": self.currency,
            "slots": [
                {"start": s.start.isoformat(), "end": s.end.isoformat(), "price": s.price_per_kwh}
                for s in self.slots
            ],
            "gaps": [{"start": g.start.isoformat(), "end": g.end.isoformat()} for g in self.gaps],
            "ends_early": self.ends_early,
            "awaiting_tomorrow": self.awaiting_tomorrow,
            "stale": self.stale,
            "tomorrow_repeats_today": self.tomorrow_repeats_today,
            "includes_vat": self.includes_vat,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceSeries:
        """Rebuild a series written by `to_dict`; raises ValueError/KeyError on foreign data."""
        return cls(
            entity_id=str(data["entity_id"]),
            source_format=PriceFormat(data["source_format"]),
            currency=None if data.get("currency") is None else str(data["currency"]),
            slots=tuple(
                PriceSlot(
                    datetime.fromisoformat(s["start"]).astimezone(UTC),
                    datetime.fromisoformat(s["end"]).astimezone(UTC),
                    float(s["price"]),
                )
                for s in data["slots"]
            ),
            gaps=tuple(
                PriceGap(
                    datetime.fromisoformat(g["start"]).astimezone(UTC),
                    datetime.fromisoformat(g["end"]).astimezone(UTC),
                )
                for g in data.get("gaps", ())
            ),
            ends_early=bool(data.get("ends_early", False)),
            awaiting_tomorrow=bool(data.get("awaiting_tomorrow", False)),
            stale=bool(data.get("stale", False)),
            tomorrow_repeats_today=bool(data.get("tomorrow_repeats_today", False)),
            includes_vat=(None if data.get("includes_vat") is None else bool(data["includes_vat"])),
            notes=tuple(str(n) for n in data.get("notes", ())),
        )


@dataclass(frozen=True, kw_only=True)
class PriceReadResult:
    """The outcome of reading one price entity."""

    entity_id: str
    status: PriceStatus
    # In English, for the log and diagnostics; `reason` and `facts` are for the user's language.
    message: str
    reason: PriceReason
    facts: Mapping[str, str] = field(default_factory=dict)
    series: PriceSeries | None = None
    source_format: PriceFormat | None = None
    # The entity's integration publishes only the current price (see NO_FUTURE_PRICES).
    no_future_prices: bool = False

    @property
    def usable(self) -> bool:
        """True when the planner can work with the series (possibly awaiting tomorrow)."""
        return self.series is not None and self.status in (PriceStatus.OK, PriceStatus.AWAITING)


class PriceReason(StrEnum):
    """Why a read came out as it did; the Home Assistant layer words each in the user's language.

    `PriceReadResult.facts` holds the technical details its words name (entity id, times, keys).
    """

    OK = "ok"
    AWAITING = "awaiting"
    STALE = "stale"
    NO_PRICES_YET = "no_prices_yet"
    UNAVAILABLE = "unavailable"
    NO_STATE = "no_state"
    ACTION_NOT_FETCHED = "action_not_fetched"
    NO_FUTURE_PRICES = "no_future_prices"
    NO_PRICE_LIST = "no_price_list"
    BAD_DATA = "bad_data"
    # Found by the Home Assistant layer before or instead of reading the data.
    MISSING = "missing"
    DISABLED = "disabled"
    ACTION_TIMEOUT = "action_timeout"
    ACTION_FAILED = "action_failed"
    ACTION_NO_ENTRY = "action_no_entry"


class DataProblem(StrEnum):
    """What is wrong with malformed price data (the facts name where and what)."""

    # A value that can't be read: `key` and `value`.
    VALUE = "value"
    # Not laid out as the source sends it: `found`.
    LAYOUT = "layout"
    # An area or home that the answer doesn't hold: `wanted` and `choices`.
    UNKNOWN_CHOICE = "unknown_choice"
    # Several areas or homes and none chosen: `choices`.
    SEVERAL_CHOICES = "several_choices"
    # A slot that ends before it starts, or is longer than MAX_SLOT.
    SLOT_LENGTH = "slot_length"
    # A slot overlapping or repeating `other`.
    OVERLAP = "overlap"


# Values from outside go into messages shortened: a broken entity may hold anything.
MAX_SHOWN = 60


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= MAX_SHOWN else f"{text[: MAX_SHOWN - 1]}…"


class PriceDataError(ValueError):
    """Raised inside the adapters for malformed data; `normalise_prices` turns it into a status.

    The English message is for the log; `problem` and `facts` are for the user's language.
    """

    def __init__(self, where: str, problem: DataProblem, message: str, **facts: Any) -> None:
        super().__init__(f"{where}: {message}")
        self.problem = problem
        self.facts = {"where": _shown(where), **{key: _shown(v) for key, v in facts.items()}}


# --------------------------------------------------------------------------------------------
# Units


@dataclass(frozen=True, slots=True)
class _Unit:
    """How to turn a source value into main-currency units per kWh."""

    currency: str | None
    to_per_kwh: float


_ENERGY_UNITS_PER_KWH = {"wh": 0.001, "kwh": 1.0, "mwh": 1000.0}
_CURRENCY_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD", "zł": "PLN"}
_SUBUNITS = frozenset({"c", "ct", "cent", "cents", "öre", "øre", "ore", "p", "pence", "gr"})


def _energy_factor(unit: str, where: str) -> float:
    """Price per <unit> times this factor is price per kWh."""
    kwh_per_unit = _ENERGY_UNITS_PER_KWH.get(unit.strip().lower())
    if kwh_per_unit is None:
        raise PriceDataError(
            where,
            DataProblem.VALUE,
            f"unknown energy unit {unit!r} (expected Wh, kWh or MWh)",
            key="unit",
            value=unit,
        )
    return 1.0 / kwh_per_unit


def _currency_from_attr(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        text = value.strip()
        return _CURRENCY_SYMBOLS.get(text, text.upper())
    return None


def _unit_from_measurement(attributes: Mapping[str, Any], *, major_only: bool) -> _Unit:
    """Read `currency` and `unit_of_measurement` such as "SEK/kWh", "c/kWh" or "€/MWh".

    With `major_only` the values are known to be per kWh in the main unit (action responses), so
    only the currency is taken from the entity.
    """
    currency = _currency_from_attr(attributes.get("currency"))
    factor = 1.0
    measurement = attributes.get("unit_of_measurement")
    if isinstance(measurement, str) and "/" in measurement:
        money, _, energy = measurement.partition("/")
        money = money.strip()
        if money.lower() in _SUBUNITS:
            factor = 0.01
        elif currency is None and money and money.lower() != "kr":
            currency = _CURRENCY_SYMBOLS.get(money, money.upper())
        if energy.strip().lower() in _ENERGY_UNITS_PER_KWH:
            factor *= _energy_factor(energy, "unit_of_measurement")
    if major_only:
        factor = 1.0
    return _Unit(currency, factor)


# --------------------------------------------------------------------------------------------
# Parsing single values


def _not_a_time(where: str, key: str, value: Any) -> PriceDataError:
    message = f"{key!r} is not a date and time: {value!r}"
    return PriceDataError(where, DataProblem.VALUE, message, key=key, value=value)


def _not_a_number(where: str, key: str, value: Any, kind: str = "number") -> PriceDataError:
    message = f"{key!r} is not a {kind}: {value!r}"
    return PriceDataError(where, DataProblem.VALUE, message, key=key, value=value)


def _parse_time(value: Any, where: str, key: str, naive_zone: tzinfo | None = None) -> datetime:
    """A moment in UTC; a time without offset is read in `naive_zone` when the source has one."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _not_a_time(where, key, value) from None
    else:
        raise _not_a_time(where, key, value)
    if (moment.tzinfo is None or moment.utcoffset() is None) and naive_zone is not None:
        # Fold 0: a naive time on the repeated hour is the first pass until its position says not.
        moment = moment.replace(tzinfo=naive_zone, fold=0)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PriceDataError(
            where,
            DataProblem.VALUE,
            f"{key!r} has no UTC offset ({value!s}), so the moment is ambiguous",
            key=key,
            value=value,
        )
    return moment.astimezone(UTC)


def _parse_price(value: Any, where: str, key: str) -> float | None:
    """A number, or None when the source left the price out (which becomes a gap)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _not_a_number(where, key, value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise _not_a_number(where, key, value) from None
    else:
        raise _not_a_number(where, key, value)
    if not math.isfinite(number):
        raise _not_a_number(where, key, value, "finite number")
    return number


# --------------------------------------------------------------------------------------------
# Raw entries, as read by the adapters


@dataclass(frozen=True, slots=True)
class _Entry:
    start: datetime
    end: datetime | None  # None: the source gives only start times
    value: float | None  # in source units; None: the source left it out
    where: str  # e.g. "raw_today[3]", for messages
    origin: str  # which list it came from; exact duplicates across lists are merged


@dataclass(kw_only=True)
class _Extract:
    fmt: PriceFormat
    unit: _Unit
    entries: list[_Entry]
    notes: list[str] = field(default_factory=list)
    tomorrow_repeats_today: bool = False


def _layout(where: str, expected: str, found: str) -> PriceDataError:
    message = f"{expected}, got {found}"
    return PriceDataError(where, DataProblem.LAYOUT, message, found=found)


def _as_list(attributes: Mapping[str, Any], key: str) -> list[Any]:
    """A list attribute; None or absent is empty, anything else that is not a list is an error."""
    value = attributes.get(key)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    raise _layout(key, "expected a list", type(value).__name__)


@dataclass(frozen=True, slots=True)
class _ItemKeys:
    """Which keys of a list item hold the start, the end (if any) and the price."""

    start: str
    price: str
    end: str | None = None


@dataclass(frozen=True, slots=True)
class _Reach:
    """The stretch of time read: items starting outside it are skipped unread."""

    earliest: datetime
    latest: datetime

    @classmethod
    def around(cls, now: datetime) -> _Reach:
        return cls(now - MAX_BEHIND - MAX_SLOT, now + MAX_AHEAD)

    def __contains__(self, start: datetime) -> bool:
        return self.earliest <= start < self.latest

    def may_hold(self, start: datetime) -> bool:
        """False only for an aware time outside the reach (naive ones need their zone first)."""
        return start.utcoffset() is None or start in self


def _read_items(
    items: Sequence[Any],
    list_name: str,
    keys: _ItemKeys,
    reach: _Reach,
    naive_zone: tzinfo | None = None,
) -> list[_Entry]:
    start_key, price_key, end_key = keys.start, keys.price, keys.end
    entries: list[_Entry] = []
    for index, item in enumerate(items):
        # Cheap checks first: a huge list is mostly items outside the reach, skipped unread.
        raw_start = item.get(start_key) if type(item) is dict else None
        if isinstance(raw_start, datetime) and not reach.may_hold(raw_start):
            continue
        where = f"{list_name}[{index}]"
        if not isinstance(item, Mapping):
            raise _layout(where, "expected a mapping", type(item).__name__)
        for key in (start_key, price_key, end_key):
            if key is not None and key not in item:
                raise _layout(where, f"missing key {key!r}", ", ".join(sorted(map(str, item))))
        start = _parse_time(item[start_key], where, start_key, naive_zone)
        if start not in reach:
            continue
        end = _parse_time(item[end_key], where, end_key, naive_zone) if end_key else None
        value = _parse_price(item[price_key], where, price_key)
        entries.append(_Entry(start, end, value, where, list_name))
    return entries


def _first_item_keys(items: Sequence[Any]) -> frozenset[str]:
    for item in items:
        if isinstance(item, Mapping):
            return frozenset(str(k) for k in item)
    return frozenset()


# --------------------------------------------------------------------------------------------
# Adapters


def _tomorrow_allowed(attributes: Mapping[str, Any], notes: list[str], list_name: str) -> bool:
    """Both HACS nordpool and Energi Data Service say explicitly when tomorrow is not valid."""
    if attributes.get("tomorrow_valid") is False:
        if _as_list(attributes, list_name):
            notes.append(f"ignored {list_name} because tomorrow_valid is false")
        return False
    return True


def _repeats(today: Sequence[_Entry], tomorrow: Sequence[_Entry]) -> bool:
    """True when tomorrow is a copy of today: same start times, or the same non-flat prices."""
    if not today or not tomorrow:
        return False
    if {e.start for e in today} & {e.start for e in tomorrow}:
        return True
    today_values = [e.value for e in today]
    return len(set(today_values)) > 1 and today_values == [e.value for e in tomorrow]


def _adapt_nordpool_hacs(attributes: Mapping[str, Any], reach: _Reach) -> _Extract:
    notes: list[str] = []
    unit_name = attributes.get("unit", "kWh")
    factor = _energy_factor(str(unit_name), "unit")
    if attributes.get("price_in_cents") is True:
        factor *= 0.01
    unit = _Unit(_currency_from_attr(attributes.get("currency")), factor)
    keys = _ItemKeys(start="start", end="end", price="value")
    today = _read_items(_as_list(attributes, "raw_today"), "raw_today", keys, reach)
    tomorrow: list[_Entry] = []
    if _tomorrow_allowed(attributes, notes, "raw_tomorrow"):
        tomorrow = _read_items(_as_list(attributes, "raw_tomorrow"), "raw_tomorrow", keys, reach)
    repeated = _repeats(today, tomorrow)
    if repeated:
        notes.append("raw_tomorrow repeats raw_today (known nordpool bug); tomorrow ignored")
        tomorrow = []
    return _Extract(
        fmt=PriceFormat.NORDPOOL_HACS,
        unit=unit,
        entries=today + tomorrow,
        notes=notes,
        tomorrow_repeats_today=repeated,
    )


def _adapt_energi_data_service(attributes: Mapping[str, Any], reach: _Reach) -> _Extract:
    notes: list[str] = []
    factor = _energy_factor(str(attributes.get("unit", "kWh")), "unit")
    if attributes.get("use_cent") is True:
        factor *= 0.01
    unit = _Unit(_currency_from_attr(attributes.get("currency")), factor)
    # The key stays "hour" even at 15-minute resolution; slot lengths come from the spacing.
    keys = _ItemKeys(start="hour", price="price")
    entries = _read_items(_as_list(attributes, "raw_today"), "raw_today", keys, reach)
    if _tomorrow_allowed(attributes, notes, "raw_tomorrow"):
        entries += _read_items(_as_list(attributes, "raw_tomorrow"), "raw_tomorrow", keys, reach)
    return _Extract(fmt=PriceFormat.ENERGI_DATA_SERVICE, unit=unit, entries=entries, notes=notes)


def _adapt_entsoe(attributes: Mapping[str, Any], reach: _Reach) -> _Extract:
    """Entso-e (HACS `entsoe`, coordinator.py at commit 557010f).

    Its times carry the offset of the start of the delivery period, so the last hour of the 25-hour
    day is labelled 00:00+02:00 of the next day: it is in neither `prices_today` nor
    `prices_tomorrow`, only in the full `prices` list. All three are read; equal entries merge.
    """
    keys = _ItemKeys(start="time", price="price")
    unit = _unit_from_measurement(attributes, major_only=False)
    entries: list[_Entry] = []
    for name in ("prices_today", "prices_tomorrow", "prices"):
        entries += _read_items(_as_list(attributes, name), name, keys, reach)
    return _Extract(fmt=PriceFormat.ENTSOE, unit=unit, entries=entries)


_PSTRYK_DAY_LISTS = ("prices_today", "prices_tomorrow")


def _pstryk_list_names(attributes: Mapping[str, Any]) -> list[str]:
    """The day lists of the JSON sensor, else the main sensor's longest list of start/price items.

    The main sensor's list attributes have translated names ("All prices", "Best prices", ...);
    the best and worst lists are subsets of the full one, so the longest is read.
    """
    names = [name for name in _PSTRYK_DAY_LISTS if name in attributes]
    if names:
        return names
    candidates = [
        name
        for name, value in attributes.items()
        if isinstance(value, list | tuple) and {"start", "price"} <= _first_item_keys(value)
    ]
    return [max(candidates, key=lambda name: len(attributes[name]))] if candidates else []


def _adapt_pstryk(attributes: Mapping[str, Any], tz: tzinfo, reach: _Reach) -> _Extract:
    """Pstryk (HACS `pstryk`, sensor.py at e58de5c and update_coordinator.py at c574ab8).

    Items are {"start", "price"}; the main sensor writes `start` as a naive local time
    ("2025-10-26T02:00:00"), read in the user's zone (Home Assistant's, which Pstryk uses too).
    """
    keys = _ItemKeys(start="start", price="price")
    entries: list[_Entry] = []
    for name in _pstryk_list_names(attributes):
        entries += _read_items(_as_list(attributes, name), name, keys, reach, naive_zone=tz)
    unit = _unit_from_measurement(attributes, major_only=False)
    return _Extract(fmt=PriceFormat.PSTRYK, unit=unit, entries=entries)


# GE-Spot (HACS `ge_spot`): current versions build `time` as datetime(..., tzinfo=HA's zone)
# from "HH:MM" keys (sensor/base.py, v1.5); versions before 1.5 published `interval_prices` (today)
# and `tomorrow_interval_prices` as {"HH:MM": price} mappings.
_GE_SPOT_LISTS = (
    ("today_interval_prices", "tomorrow_interval_prices"),
    ("today_hourly_prices", "tomorrow_hourly_prices"),
    ("interval_prices", "tomorrow_interval_prices"),
)


def _ge_spot_items(
    attributes: Mapping[str, Any], list_name: str, day: date, tz: tzinfo, reach: _Reach
) -> list[_Entry]:
    value = attributes.get(list_name)
    if value is None:
        return []
    if isinstance(value, Mapping):
        # Older GE-Spot versions used {"HH:MM" or ISO time: price}; local keys use the user's zone.
        entries: list[_Entry] = []
        for key, raw_price in value.items():
            where = f"{list_name}[{key!r}]"
            text = str(key)
            if len(text) <= 5 and ":" in text:
                try:
                    clock = time.fromisoformat(text)
                except ValueError:
                    message = "not a time of day"
                    raise PriceDataError(
                        where, DataProblem.VALUE, message, key="time", value=text
                    ) from None
                local = datetime.combine(day, clock, tzinfo=tz)
                start = local.astimezone(UTC)
                if start.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
                    message = f"{text} does not exist on {day} (clock change)"
                    raise PriceDataError(
                        where, DataProblem.VALUE, message, key="time", value=f"{day} {text}"
                    )
            else:
                start = _parse_time(text, where, "key")
            entries.append(
                _Entry(start, None, _parse_price(raw_price, where, "value"), where, list_name)
            )
        return entries
    return _read_items(
        _as_list(attributes, list_name),
        list_name,
        _ItemKeys(start="time", price="value"),
        reach,
    )


def _adapt_ge_spot(attributes: Mapping[str, Any], tz: tzinfo, now: datetime) -> _Extract:
    with_today = [pair for pair in _GE_SPOT_LISTS if pair[0] in attributes]
    with_tomorrow = [pair for pair in _GE_SPOT_LISTS if pair[1] in attributes]
    today_name, tomorrow_name = (with_today or with_tomorrow or [_GE_SPOT_LISTS[0]])[0]
    today = now.astimezone(tz).date()
    reach = _Reach.around(now)
    entries = _ge_spot_items(attributes, today_name, today, tz, reach)
    entries += _ge_spot_items(attributes, tomorrow_name, today + timedelta(days=1), tz, reach)
    unit = _unit_from_measurement(attributes, major_only=False)
    return _Extract(fmt=PriceFormat.GE_SPOT, unit=unit, entries=entries)


def _octopus_price_key(items: Sequence[Any]) -> str:
    keys = _first_item_keys(items)
    if "value_incl_vat" in keys and "value_inc_vat" not in keys:
        return "value_incl_vat"
    return "value_inc_vat"


def _adapt_octopus(snapshot: PriceEntitySnapshot, reach: _Reach) -> _Extract:
    entries: list[_Entry] = []
    for source in (snapshot, *snapshot.related):
        items = _as_list(source.attributes, "rates")
        label = "rates" if source is snapshot else f"{source.entity_id}.rates"
        entries += _read_items(
            items,
            label,
            _ItemKeys(start="start", end="end", price=_octopus_price_key(items)),
            reach,
        )
    # Octopus Energy publishes GBP per kWh including VAT.
    currency = _currency_from_attr(snapshot.attributes.get("currency")) or "GBP"
    return _Extract(fmt=PriceFormat.OCTOPUS_ENERGY, unit=_Unit(currency, 1.0), entries=entries)


_GENERIC_LISTS = ("prices", "data", "forecast")
_START_KEYS = (
    "start",
    "start_time",
    "startsAt",
    "starts_at",
    "time",
    "from",
    "hour",
    "timestamp",
    "datetime",
    "valid_from",
    "period_start",
    "begin",
)
_END_KEYS = (
    "end",
    "end_time",
    "endsAt",
    "ends_at",
    "to",
    "till",
    "until",
    "valid_to",
    "period_end",
)
_PRICE_KEYS = (
    "price",
    "value",
    "value_inc_vat",
    "value_incl_vat",
    "total",
    "price_per_kwh",
    "marketprice",
    "rate",
    "cost",
)


def _generic_list_name(attributes: Mapping[str, Any]) -> str | None:
    for name in _GENERIC_LISTS:
        value = attributes.get(name)
        if isinstance(value, list | tuple) and any(isinstance(i, Mapping) for i in value):
            return name
    return None


def _adapt_generic(attributes: Mapping[str, Any], list_name: str, reach: _Reach) -> _Extract:
    items = _as_list(attributes, list_name)
    keys = _first_item_keys(items)
    start_key = next((k for k in _START_KEYS if k in keys), None)
    price_key = next((k for k in _PRICE_KEYS if k in keys), None)
    if start_key is None or price_key is None:
        raise _layout(
            list_name,
            f"items need a start-time key ({', '.join(_START_KEYS)}) and a price key "
            f"({', '.join(_PRICE_KEYS)})",
            ", ".join(sorted(keys)),
        )
    end_key = next((k for k in _END_KEYS if k in keys), None)
    entries = _read_items(
        items, list_name, _ItemKeys(start=start_key, end=end_key, price=price_key), reach
    )
    unit = _unit_from_measurement(attributes, major_only=False)
    return _Extract(fmt=PriceFormat.GENERIC, unit=unit, entries=entries)


def _pick_key(response: Mapping[str, Any], wanted: str | None, what: str, where: str) -> str:
    choices = ", ".join(sorted(map(str, response)))
    if wanted is not None:
        if wanted not in response:
            message = f"no {what} {wanted!r} (has {sorted(response)})"
            raise PriceDataError(
                where, DataProblem.UNKNOWN_CHOICE, message, wanted=wanted, choices=choices
            )
        return wanted
    if len(response) == 1:
        return next(iter(response))
    message = f"several {what}s {sorted(response)}; choose one"
    raise PriceDataError(where, DataProblem.SEVERAL_CHOICES, message, choices=choices)


def _adapt_nordpool_core(
    snapshot: PriceEntitySnapshot, responses: Sequence[ActionResponse], reach: _Reach
) -> _Extract:
    entries: list[_Entry] = []
    for number, action in enumerate(responses):
        where = f"{action.action} response {number + 1}"
        if not action.response:
            continue
        area = _pick_key(action.response, snapshot.area, "area", where)
        items = action.response[area]
        if not isinstance(items, list | tuple):
            message = f"{area!r} is not a list"
            raise PriceDataError(where, DataProblem.LAYOUT, message, found=type(items).__name__)
        entries += _read_items(
            list(items),
            f"{where} {area}",
            _ItemKeys(start="start", end="end", price="price"),
            reach,
        )
    currency = _unit_from_measurement(snapshot.attributes, major_only=True).currency
    # The actions return the market price per MWh.
    return _Extract(fmt=PriceFormat.NORDPOOL_CORE, unit=_Unit(currency, 0.001), entries=entries)


def _adapt_tibber(
    snapshot: PriceEntitySnapshot, responses: Sequence[ActionResponse], reach: _Reach
) -> _Extract:
    entries: list[_Entry] = []
    for number, action in enumerate(responses):
        where = f"{action.action} response {number + 1}"
        homes = action.response.get("prices")
        if not isinstance(homes, Mapping):
            raise _layout(where, "expected 'prices' to map home names to lists", "prices")
        if not homes:
            continue
        home = _pick_key(homes, snapshot.area, "home", where)
        items = homes[home]
        if not isinstance(items, list | tuple):
            message = f"home {home!r} is not a list"
            raise PriceDataError(where, DataProblem.LAYOUT, message, found=type(items).__name__)
        entries += _read_items(
            list(items), f"{where} {home}", _ItemKeys(start="start_time", price="price"), reach
        )
    unit = _unit_from_measurement(snapshot.attributes, major_only=True)
    return _Extract(fmt=PriceFormat.TIBBER, unit=unit, entries=entries)


def _timestamp_prices(responses: Sequence[ActionResponse], reach: _Reach) -> list[_Entry]:
    """Responses shaped {"prices": [{"timestamp": ..., "price": ...}]}: Entso-e, EnergyZero and
    easyEnergy."""
    entries: list[_Entry] = []
    for number, action in enumerate(responses):
        where = f"{action.action} response {number + 1}"
        items = action.response.get("prices")
        if not isinstance(items, list | tuple):
            raise _layout(where, "expected a 'prices' list", "prices")
        keys = _ItemKeys(start="timestamp", price="price")
        entries += _read_items(list(items), where, keys, reach)
    return entries


def _adapt_entsoe_action(
    snapshot: PriceEntitySnapshot, responses: Sequence[ActionResponse], reach: _Reach
) -> _Extract:
    unit = _unit_from_measurement(snapshot.attributes, major_only=False)
    return _Extract(fmt=PriceFormat.ENTSOE, unit=unit, entries=_timestamp_prices(responses, reach))


_AMBER_KEYS = _ItemKeys(start="start_time", end="end_time", price="per_kwh")


def _adapt_amber(
    snapshot: PriceEntitySnapshot, responses: Sequence[ActionResponse], reach: _Reach
) -> _Extract:
    """Amber Electric (core `amberelectric`, sensor.py at 016cbe4 and services.py at 058a67d).

    The forecast sensor lists `forecasts`; `amberelectric.get_forecasts` answers the same items.
    Forecasts start after the current interval, which the current-price sensor describes in its
    own attributes. Prices are AUD per kWh with GST; feed-in prices are already what you earn.
    """
    attributes = snapshot.attributes
    entries: list[_Entry] = []
    if all(key in attributes for key in ("start_time", "end_time", "per_kwh")):
        entries += _read_items([attributes], "current interval", _AMBER_KEYS, reach)
    entries += _read_items(_as_list(attributes, "forecasts"), "forecasts", _AMBER_KEYS, reach)
    for number, action in enumerate(responses):
        where = f"{action.action} response {number + 1}"
        items = action.response.get("forecasts")
        if not isinstance(items, list | tuple):
            raise _layout(where, "expected a 'forecasts' list", "forecasts")
        entries += _read_items(list(items), where, _AMBER_KEYS, reach)
    # Amber's intervals start one second after the previous one ends (10:00:01-10:30:00); read
    # as they are, every interval would be followed by a one-second gap.
    entries = [
        _Entry(e.start - timedelta(seconds=1), e.end, e.value, e.where, e.origin)
        if e.start.second == 1 and e.start.microsecond == 0
        else e
        for e in entries
    ]
    return _Extract(fmt=PriceFormat.AMBER, unit=_Unit("AUD", 1.0), entries=entries)


def _adapt_dutch_action(
    fmt: PriceFormat, responses: Sequence[ActionResponse], reach: _Reach
) -> _Extract:
    """EnergyZero (energyzero/services.py at 0b87a2a) and easyEnergy (easyenergy/services.py at
    a95e0f3): timestamps like "2025-10-07 22:00:00+00:00", prices in EUR per kWh.
    """
    return _Extract(fmt=fmt, unit=_Unit("EUR", 1.0), entries=_timestamp_prices(responses, reach))


_ACTION_FORMATS = {
    ACTION_AMBER_FORECASTS: PriceFormat.AMBER,
    ACTION_ENERGYZERO_PRICES: PriceFormat.ENERGYZERO,
    ACTION_EASYENERGY_USAGE: PriceFormat.EASYENERGY,
    ACTION_EASYENERGY_RETURN: PriceFormat.EASYENERGY,
    ACTION_NORDPOOL_PRICES: PriceFormat.NORDPOOL_CORE,
    ACTION_NORDPOOL_INDICES: PriceFormat.NORDPOOL_CORE,
    ACTION_TIBBER_PRICES: PriceFormat.TIBBER,
    ACTION_ENTSOE_PRICES: PriceFormat.ENTSOE,
}


def _attribute_format(attributes: Mapping[str, Any]) -> PriceFormat | None:
    if "raw_today" in attributes or "raw_tomorrow" in attributes:
        keys = _first_item_keys(_listish(attributes.get("raw_today")))
        keys |= _first_item_keys(_listish(attributes.get("raw_tomorrow")))
        if "hour" in keys or (not keys and "use_cent" in attributes):
            return PriceFormat.ENERGI_DATA_SERVICE
        return PriceFormat.NORDPOOL_HACS
    if any(name in attributes for name in _PSTRYK_DAY_LISTS):
        keys = _first_item_keys(_listish(attributes.get("prices_today")))
        keys |= _first_item_keys(_listish(attributes.get("prices_tomorrow")))
        return PriceFormat.PSTRYK if "start" in keys else PriceFormat.ENTSOE
    if any(name in attributes for pair in _GE_SPOT_LISTS for name in pair):
        return PriceFormat.GE_SPOT
    if "rates" in attributes:
        return PriceFormat.OCTOPUS_ENERGY
    if "per_kwh" in _first_item_keys(_listish(attributes.get("forecasts"))):
        return PriceFormat.AMBER
    list_name = _generic_list_name(attributes)
    if list_name is not None:
        # Entso-e's combined list; any other list is read by the generic adapter.
        keys = _first_item_keys(_listish(attributes.get(list_name)))
        if list_name == "prices" and keys == {"time", "price"}:
            return PriceFormat.ENTSOE
        return PriceFormat.GENERIC
    return None


def _listish(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def detect_format(snapshot: PriceEntitySnapshot) -> PriceFormat | None:
    """The source format, from fetched action responses first, then from the attributes."""
    for action in snapshot.action_responses:
        fmt = _ACTION_FORMATS.get(action.action)
        if fmt is not None:
            return fmt
    if snapshot.platform == "pstryk" and _pstryk_list_names(snapshot.attributes):
        return PriceFormat.PSTRYK
    return _attribute_format(snapshot.attributes)


def required_action(snapshot: PriceEntitySnapshot) -> str | None:
    """The response-only action the caller must fetch, for sources without list attributes.

    Core `nordpool` (same platform name as the HACS one, but without `raw_today`) and `tibber`
    only expose lists through actions; an Entso-e sensor other than the average one needs its
    action too. Returns None when the attributes suffice.
    """
    if _attribute_format(snapshot.attributes) is not None:
        return None
    if snapshot.platform == "easyenergy" and "return" in (snapshot.unique_id or ""):
        # easyEnergy's return-price sensors: what you earn, an export price source.
        return ACTION_EASYENERGY_RETURN
    return {
        "nordpool": ACTION_NORDPOOL_PRICES,
        "tibber": ACTION_TIBBER_PRICES,
        "entsoe": ACTION_ENTSOE_PRICES,
        "amberelectric": ACTION_AMBER_FORECASTS,
        "energyzero": ACTION_ENERGYZERO_PRICES,
        "easyenergy": ACTION_EASYENERGY_USAGE,
    }.get(snapshot.platform or "")


def _extract(snapshot: PriceEntitySnapshot, tz: tzinfo, now: datetime) -> _Extract | None:
    fmt = detect_format(snapshot)
    if fmt is None:
        return None
    responses = [a for a in snapshot.action_responses if _ACTION_FORMATS.get(a.action) == fmt]
    attributes = snapshot.attributes
    reach = _Reach.around(now)
    match fmt:
        case PriceFormat.NORDPOOL_CORE:
            return _adapt_nordpool_core(snapshot, responses, reach)
        case PriceFormat.TIBBER:
            return _adapt_tibber(snapshot, responses, reach)
        case PriceFormat.ENTSOE if responses:
            return _adapt_entsoe_action(snapshot, responses, reach)
        case PriceFormat.AMBER:
            return _adapt_amber(snapshot, responses, reach)
        case PriceFormat.ENERGYZERO | PriceFormat.EASYENERGY:
            return _adapt_dutch_action(fmt, responses, reach)
        case PriceFormat.NORDPOOL_HACS:
            return _adapt_nordpool_hacs(attributes, reach)
        case PriceFormat.ENERGI_DATA_SERVICE:
            return _adapt_energi_data_service(attributes, reach)
        case PriceFormat.GE_SPOT:
            return _adapt_ge_spot(attributes, tz, now)
        case PriceFormat.OCTOPUS_ENERGY:
            return _adapt_octopus(snapshot, reach)
        case PriceFormat.PSTRYK:
            return _adapt_pstryk(attributes, tz, reach)
        case PriceFormat.ENTSOE if "prices_today" in attributes or "prices_tomorrow" in attributes:
            return _adapt_entsoe(attributes, reach)
        case PriceFormat.ENTSOE | PriceFormat.GENERIC:
            list_name = _generic_list_name(attributes)
            if list_name is None:
                return None
            if fmt is PriceFormat.ENTSOE:
                return _adapt_entsoe(attributes, reach)
            return _adapt_generic(attributes, list_name, reach)


# --------------------------------------------------------------------------------------------
# Assembly: entries -> slots and gaps


def _local_time(moment: datetime, tz: tzinfo) -> str:
    """A time as people read it in messages: local, to the minute, e.g. "Fri 4 Dec 00:00"."""
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _typical_spacing(starts: Sequence[datetime]) -> timedelta | None:
    """The most common distance between consecutive starts (the shortest one on a tie)."""
    spacings = Counter(b - a for a, b in pairwise(starts) if b > a)
    if not spacings:
        return None
    best = max(spacings.values())
    return min(s for s, n in spacings.items() if n == best)


def _fill_ends(entries: list[_Entry], tz: tzinfo, notes: list[str]) -> list[_Entry]:
    """Give start-only entries an end.

    A slot runs to the next start unless that start is further away than the day's usual slot
    length: then the slot keeps the usual length and the rest is a gap. The usual length is learnt
    per local day, so a switch from hourly to 15-minute data between days is read correctly.
    """
    starts = sorted({e.start for e in entries})
    by_day: dict[date, list[datetime]] = {}
    for start in starts:
        by_day.setdefault(start.astimezone(tz).date(), []).append(start)
    overall = _typical_spacing(starts)
    if overall is None:
        overall = DEFAULT_SLOT
        notes.append(
            f"only one price; assumed it lasts {int(DEFAULT_SLOT.total_seconds() // 60)} min"
        )
    usual = {day: _typical_spacing(day_starts) or overall for day, day_starts in by_day.items()}
    filled: list[_Entry] = []
    for entry in entries:
        if entry.end is not None:
            filled.append(entry)
            continue
        length = usual[entry.start.astimezone(tz).date()]
        position = bisect_right(starts, entry.start)
        if position < len(starts):
            length = min(length, starts[position] - entry.start)
        filled.append(
            _Entry(entry.start, entry.start + length, entry.value, entry.where, entry.origin)
        )
    return filled


def _second_pass(moment: datetime, tz: tzinfo) -> datetime | None:
    """The same wall-clock time on the second pass through the repeated autumn hour.

    None unless `moment` is the first pass through a wall-clock time that occurs twice in `tz`.
    """
    wall = moment.astimezone(tz).replace(tzinfo=None)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset() or first.astimezone(UTC) != moment:
        return None
    return second.astimezone(UTC)


def _repeated_hour_by_position(entries: list[_Entry], tz: tzinfo, notes: list[str]) -> list[_Entry]:
    """Read a wall-clock time repeated within one list as the second pass through that hour.

    Integrations that build times from local wall-clock times (GE-Spot, Pstryk) give both passes
    through the repeated autumn hour the offset of the first. In list order, the later of two equal
    times is the second pass; anything else that repeats is still a duplicate.
    """
    seen: dict[str, set[datetime]] = {}
    moved = 0
    read: list[_Entry] = []
    for entry in entries:
        starts = seen.setdefault(entry.origin, set())
        second = _second_pass(entry.start, tz) if entry.start in starts else None
        if second is not None and second not in starts:
            end = entry.end and (_second_pass(entry.end, tz) or entry.end)
            read.append(_Entry(second, end, entry.value, entry.where, entry.origin))
            moved += 1
        else:
            read.append(entry)
        starts.add(read[-1].start)
    if moved:
        notes.append(f"{moved} repeated wall-clock time(s) read as the second pass of the hour")
    return read


def _assemble(
    entries: list[_Entry], unit: _Unit, tz: tzinfo, notes: list[str]
) -> tuple[tuple[PriceSlot, ...], tuple[PriceGap, ...]]:
    entries = _repeated_hour_by_position(entries, tz, notes)
    if any(e.end is None for e in entries):
        entries = _fill_ends(entries, tz, notes)
    entries.sort(key=lambda e: e.start)
    kept: list[_Entry] = []
    for entry in entries:
        assert entry.end is not None
        if entry.end <= entry.start:
            raise PriceDataError(entry.where, DataProblem.SLOT_LENGTH, "ends before it starts")
        if entry.end - entry.start > MAX_SLOT:
            message = f"slot is longer than {MAX_SLOT}"
            raise PriceDataError(entry.where, DataProblem.SLOT_LENGTH, message)
        if kept and kept[-1].start == entry.start:
            previous = kept[-1]
            same = previous.end == entry.end and previous.value == entry.value
            if same and previous.origin != entry.origin:
                continue  # the same slot delivered by two lists (e.g. overlapping action calls)
            message = f"duplicate slot starting {entry.start.isoformat()} (also {previous.where})"
            raise PriceDataError(entry.where, DataProblem.OVERLAP, message, other=previous.where)
        previous_end = kept[-1].end if kept else None
        if previous_end is not None and previous_end > entry.start:
            message = (
                f"overlaps {kept[-1].where} "
                f"(starts {entry.start.isoformat()}, before {previous_end.isoformat()})"
            )
            raise PriceDataError(entry.where, DataProblem.OVERLAP, message, other=kept[-1].where)
        kept.append(entry)
    slots: list[PriceSlot] = []
    missing = 0
    for entry in kept:
        if entry.value is None:
            missing += 1
            continue
        assert entry.end is not None
        slots.append(PriceSlot(entry.start, entry.end, entry.value * unit.to_per_kwh))
    if missing:
        notes.append(f"{missing} slot(s) without a price")
    gaps = tuple(PriceGap(a.end, b.start) for a, b in pairwise(slots) if a.end < b.start)
    return tuple(slots), gaps


# --------------------------------------------------------------------------------------------
# Entry point


def normalise_prices(snapshot: PriceEntitySnapshot, tz: tzinfo, now: datetime) -> PriceReadResult:
    """Read one price entity into a `PriceReadResult`. Never raises for bad entity data.

    `tz` is the user's time zone (day boundaries, DST); `now` must be timezone-aware.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    entity_id = snapshot.entity_id
    state = (snapshot.state or "").strip().lower()
    if state in _UNAVAILABLE_STATES:
        return PriceReadResult(
            entity_id=entity_id,
            status=PriceStatus.NO_PRICES,
            message=f"{entity_id} is unavailable",
            reason=PriceReason.UNAVAILABLE,
            facts={"entity_id": entity_id},
        )
    try:
        extract = _extract(snapshot, tz, now)
    except PriceDataError as err:
        return _bad_data(entity_id, err, detect_format(snapshot))
    if extract is None:
        action = required_action(snapshot)
        if action is not None:
            return PriceReadResult(
                entity_id=entity_id,
                status=PriceStatus.NO_PRICES,
                message=f"{entity_id}: prices come from {action}, which has not been fetched",
                reason=PriceReason.ACTION_NOT_FETCHED,
                facts={"entity_id": entity_id, "action": action},
            )
        if (source := _without_future_prices(snapshot)) is not None:
            return PriceReadResult(
                entity_id=entity_id,
                status=PriceStatus.INVALID,
                message=(
                    f"{entity_id} comes from {source.name}, which publishes only the current "
                    f"price, not the prices ahead that EV Flex plans with; {source.alternatives} "
                    "publish them"
                ),
                reason=PriceReason.NO_FUTURE_PRICES,
                facts={
                    "entity_id": entity_id,
                    "source": source.name,
                    "alternatives": source.alternatives,
                },
                no_future_prices=True,
            )
        if state in _UNKNOWN_STATES:
            return PriceReadResult(
                entity_id=entity_id,
                status=PriceStatus.NO_PRICES,
                message=f"{entity_id} has no state yet",
                reason=PriceReason.NO_STATE,
                facts={"entity_id": entity_id},
            )
        return PriceReadResult(
            entity_id=entity_id,
            status=PriceStatus.INVALID,
            message=(
                f"{entity_id} has no price list EV Flex can read (looked for {_LOOKED_FOR}, "
                f"and the {_ACTIONS_ASKED} actions)"
            ),
            reason=PriceReason.NO_PRICE_LIST,
            facts={"entity_id": entity_id, "lists": _LOOKED_FOR, "actions": _ACTIONS_ASKED},
        )
    return _finish(entity_id, extract, tz, now, _includes_vat(snapshot, extract.fmt))


# What a price entity without a readable list was searched for.
_LOOKED_FOR = (
    "raw_today, prices_today, today_interval_prices, interval_prices, rates, forecasts, prices, "
    "data, forecast"
)
_ACTIONS_ASKED = "nordpool, tibber, entsoe, amberelectric, energyzero, easyenergy"


def _bad_data(
    entity_id: str, err: PriceDataError, source_format: PriceFormat | None
) -> PriceReadResult:
    return PriceReadResult(
        entity_id=entity_id,
        status=PriceStatus.INVALID,
        message=f"{entity_id}: {err}",
        reason=PriceReason.BAD_DATA,
        facts={"entity_id": entity_id, "problem": err.problem.value, **err.facts},
        source_format=source_format,
    )


def _fact_time(moment: datetime, tz: tzinfo) -> str:
    """A local time in a message of any language: "2026-12-04 00:00"."""
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}"


# Sources whose prices always include VAT (Tibber's total, Octopus's value_inc_vat, Pstryk's
# gross price, Amber's price with GST) or never do (Nord Pool's market price).
_VAT_BY_FORMAT = {
    PriceFormat.TIBBER: True,
    PriceFormat.OCTOPUS_ENERGY: True,
    PriceFormat.PSTRYK: True,
    PriceFormat.AMBER: True,
    PriceFormat.NORDPOOL_CORE: False,
    # EV Flex asks both for prices without VAT.
    PriceFormat.ENERGYZERO: False,
    PriceFormat.EASYENERGY: False,
}


def _includes_vat(snapshot: PriceEntitySnapshot, fmt: PriceFormat) -> bool | None:
    """Whether the prices include VAT, where the source says so or always does."""
    if fmt in _VAT_BY_FORMAT:
        return _VAT_BY_FORMAT[fmt]
    if fmt is PriceFormat.NORDPOOL_HACS:
        # HACS nordpool's ids end in its VAT rate with the dot removed: "_025" for 25 %, "_0" off.
        # The unique id keeps it when the user renames the entity.
        rate = (snapshot.unique_id or snapshot.entity_id).rsplit("_", 1)[-1]
        return rate != "0" if rate.isdigit() and rate.startswith("0") else None
    if fmt is PriceFormat.GE_SPOT:
        # GE-Spot's "vat" attribute reads like "25.0%".
        text = str(snapshot.attributes.get("vat", "")).strip().removesuffix("%")
        try:
            return float(text) > 0
        except ValueError:
            return None
    return None


def _finish(
    entity_id: str, extract: _Extract, tz: tzinfo, now: datetime, includes_vat: bool | None
) -> PriceReadResult:
    notes = list(extract.notes)
    try:
        slots, gaps = _assemble(list(extract.entries), extract.unit, tz, notes)
    except PriceDataError as err:
        return _bad_data(entity_id, err, extract.fmt)
    if not slots:
        return PriceReadResult(
            entity_id=entity_id,
            status=PriceStatus.NO_PRICES,
            message=f"{entity_id} has no prices yet",
            reason=PriceReason.NO_PRICES_YET,
            facts={"entity_id": entity_id},
            source_format=extract.fmt,
        )
    local_today = now.astimezone(tz).date()
    tomorrow_start = _local_midnight(local_today + timedelta(days=1), tz)
    tomorrow_end = _local_midnight(local_today + timedelta(days=2), tz)
    end = slots[-1].end
    series = PriceSeries(
        entity_id=entity_id,
        source_format=extract.fmt,
        currency=extract.unit.currency,
        slots=slots,
        gaps=gaps,
        ends_early=end < tomorrow_end,
        awaiting_tomorrow=end <= tomorrow_start,
        stale=end <= now,
        tomorrow_repeats_today=extract.tomorrow_repeats_today,
        includes_vat=includes_vat,
        notes=tuple(notes),
    )
    facts = {"entity_id": entity_id, "count": str(len(slots)), "end": _fact_time(end, tz)}
    if series.stale:
        status, reason = PriceStatus.STALE, PriceReason.STALE
        message = f"{entity_id}: prices end at {_local_time(end, tz)}, before now"
    elif series.awaiting_tomorrow:
        status, reason = PriceStatus.AWAITING, PriceReason.AWAITING
        message = f"{entity_id}: prices until {_local_time(end, tz)}; tomorrow not published yet"
    else:
        status, reason = PriceStatus.OK, PriceReason.OK
        message = f"{entity_id}: {len(slots)} prices until {_local_time(end, tz)}"
    if gaps:
        message += f"; {len(gaps)} gap(s), first at {_local_time(gaps[0].start, tz)}"
        facts |= {"gaps": str(len(gaps)), "first_gap": _fact_time(gaps[0].start, tz)}
    return PriceReadResult(
        entity_id=entity_id,
        status=status,
        message=message,
        reason=reason,
        facts=facts,
        series=series,
        source_format=extract.fmt,
    )


# --------------------------------------------------------------------------------------------
# Helpers for the Home Assistant layer


def slot_at(series: PriceSeries, moment: datetime) -> PriceSlot | None:
    """The slot containing `moment`, or None in a gap or outside the series."""
    index = bisect_right(series.starts, moment) - 1
    if index >= 0 and moment < series.slots[index].end:
        return series.slots[index]
    return None


def current_price(series: PriceSeries, now: datetime) -> float | None:
    """The price per kWh now, or None when no slot covers now."""
    slot = slot_at(series, now)
    return slot.price_per_kwh if slot is not None else None


def next_slot_boundary(series: PriceSeries, now: datetime) -> datetime | None:
    """The first slot start or end after `now`: when the current price (or staleness) changes.

    None once the series has ended; the caller then waits for the entity's next state change.
    """
    index = max(bisect_right(series.starts, now) - 1, 0)
    for slot in series.slots[index:]:
        if slot.start > now:
            return slot.start
        if slot.end > now:
            return slot.end
    return None


def iter_slots_between(series: PriceSeries, start: datetime, end: datetime) -> Iterable[PriceSlot]:
    """Slots that overlap [start, end)."""
    first = max(bisect_right(series.starts, start) - 1, 0)
    last = bisect_right(series.starts, end)
    return (s for s in series.slots[first:last] if s.end > start and s.start < end)
