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
event entities, GE-Spot, and a generic list of items with a start time and a price.
"""

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import pairwise
import math
from typing import Any

ACTION_NORDPOOL_PRICES = "nordpool.get_prices_for_date"
ACTION_NORDPOOL_INDICES = "nordpool.get_price_indices_for_date"
ACTION_TIBBER_PRICES = "tibber.get_prices"
ACTION_ENTSOE_PRICES = "entsoe.get_energy_prices"

# Slot length used when a start-only list has a single entry and nothing else to learn from.
DEFAULT_SLOT = timedelta(hours=1)
# Longer slots are not prices for a market interval; they are almost certainly broken data.
MAX_SLOT = timedelta(hours=48)

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
    notes: tuple[str, ...] = ()

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
            notes=tuple(str(n) for n in data.get("notes", ())),
        )


@dataclass(frozen=True, kw_only=True)
class PriceReadResult:
    """The outcome of reading one price entity."""

    entity_id: str
    status: PriceStatus
    message: str
    series: PriceSeries | None = None
    source_format: PriceFormat | None = None

    @property
    def usable(self) -> bool:
        """True when the planner can work with the series (possibly awaiting tomorrow)."""
        return self.series is not None and self.status in (PriceStatus.OK, PriceStatus.AWAITING)


class PriceDataError(ValueError):
    """Raised inside the adapters for malformed data; `normalise_prices` turns it into a status."""


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
        raise PriceDataError(f"{where}: unknown energy unit {unit!r} (expected Wh, kWh or MWh)")
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


def _parse_time(value: Any, where: str, key: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise PriceDataError(f"{where}: {key!r} is not a date and time: {value!r}") from None
    else:
        raise PriceDataError(f"{where}: {key!r} is not a date and time: {value!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PriceDataError(
            f"{where}: {key!r} has no UTC offset ({value!s}), so the moment is ambiguous"
        )
    return moment.astimezone(UTC)


def _parse_price(value: Any, where: str, key: str) -> float | None:
    """A number, or None when the source left the price out (which becomes a gap)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PriceDataError(f"{where}: {key!r} is not a number: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise PriceDataError(f"{where}: {key!r} is not a number: {value!r}") from None
    else:
        raise PriceDataError(f"{where}: {key!r} is not a number: {value!r}")
    if not math.isfinite(number):
        raise PriceDataError(f"{where}: {key!r} is not a finite number: {value!r}")
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


def _as_list(attributes: Mapping[str, Any], key: str) -> list[Any]:
    """A list attribute; None or absent is empty, anything else that is not a list is an error."""
    value = attributes.get(key)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    raise PriceDataError(f"{key}: expected a list, got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class _ItemKeys:
    """Which keys of a list item hold the start, the end (if any) and the price."""

    start: str
    price: str
    end: str | None = None


def _read_items(items: Sequence[Any], list_name: str, keys: _ItemKeys) -> list[_Entry]:
    start_key, price_key, end_key = keys.start, keys.price, keys.end
    entries: list[_Entry] = []
    for index, item in enumerate(items):
        where = f"{list_name}[{index}]"
        if not isinstance(item, Mapping):
            raise PriceDataError(f"{where}: expected a mapping, got {type(item).__name__}")
        for key in (start_key, price_key, end_key):
            if key is not None and key not in item:
                raise PriceDataError(f"{where}: missing key {key!r}")
        start = _parse_time(item[start_key], where, start_key)
        end = _parse_time(item[end_key], where, end_key) if end_key is not None else None
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


def _adapt_nordpool_hacs(attributes: Mapping[str, Any]) -> _Extract:
    notes: list[str] = []
    unit_name = attributes.get("unit", "kWh")
    factor = _energy_factor(str(unit_name), "unit")
    if attributes.get("price_in_cents") is True:
        factor *= 0.01
    unit = _Unit(_currency_from_attr(attributes.get("currency")), factor)
    keys = _ItemKeys(start="start", end="end", price="value")
    today = _read_items(_as_list(attributes, "raw_today"), "raw_today", keys)
    tomorrow: list[_Entry] = []
    if _tomorrow_allowed(attributes, notes, "raw_tomorrow"):
        tomorrow = _read_items(_as_list(attributes, "raw_tomorrow"), "raw_tomorrow", keys)
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


def _adapt_energi_data_service(attributes: Mapping[str, Any]) -> _Extract:
    notes: list[str] = []
    factor = _energy_factor(str(attributes.get("unit", "kWh")), "unit")
    if attributes.get("use_cent") is True:
        factor *= 0.01
    unit = _Unit(_currency_from_attr(attributes.get("currency")), factor)
    # The key stays "hour" even at 15-minute resolution; slot lengths come from the spacing.
    keys = _ItemKeys(start="hour", price="price")
    entries = _read_items(_as_list(attributes, "raw_today"), "raw_today", keys)
    if _tomorrow_allowed(attributes, notes, "raw_tomorrow"):
        entries += _read_items(_as_list(attributes, "raw_tomorrow"), "raw_tomorrow", keys)
    return _Extract(fmt=PriceFormat.ENERGI_DATA_SERVICE, unit=unit, entries=entries, notes=notes)


def _adapt_entsoe(attributes: Mapping[str, Any]) -> _Extract:
    keys = _ItemKeys(start="time", price="price")
    unit = _unit_from_measurement(attributes, major_only=False)
    if "prices_today" in attributes or "prices_tomorrow" in attributes:
        entries = _read_items(_as_list(attributes, "prices_today"), "prices_today", keys)
        entries += _read_items(_as_list(attributes, "prices_tomorrow"), "prices_tomorrow", keys)
    else:
        entries = _read_items(_as_list(attributes, "prices"), "prices", keys)
    return _Extract(fmt=PriceFormat.ENTSOE, unit=unit, entries=entries)


_GE_SPOT_LISTS = (
    ("today_interval_prices", "tomorrow_interval_prices"),
    ("today_hourly_prices", "tomorrow_hourly_prices"),
)


def _ge_spot_items(
    attributes: Mapping[str, Any], list_name: str, day: date, tz: tzinfo
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
                    raise PriceDataError(f"{where}: not a time of day") from None
                local = datetime.combine(day, clock, tzinfo=tz)
                start = local.astimezone(UTC)
                if start.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
                    raise PriceDataError(f"{where}: {text} does not exist on {day} (clock change)")
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
    )


def _adapt_ge_spot(attributes: Mapping[str, Any], tz: tzinfo, now: datetime) -> _Extract:
    today_name, tomorrow_name = next(
        (pair for pair in _GE_SPOT_LISTS if pair[0] in attributes or pair[1] in attributes),
        _GE_SPOT_LISTS[0],
    )
    today = now.astimezone(tz).date()
    entries = _ge_spot_items(attributes, today_name, today, tz)
    entries += _ge_spot_items(attributes, tomorrow_name, today + timedelta(days=1), tz)
    unit = _unit_from_measurement(attributes, major_only=False)
    return _Extract(fmt=PriceFormat.GE_SPOT, unit=unit, entries=entries)


def _octopus_price_key(items: Sequence[Any]) -> str:
    keys = _first_item_keys(items)
    if "value_incl_vat" in keys and "value_inc_vat" not in keys:
        return "value_incl_vat"
    return "value_inc_vat"


def _adapt_octopus(snapshot: PriceEntitySnapshot) -> _Extract:
    entries: list[_Entry] = []
    for source in (snapshot, *snapshot.related):
        items = _as_list(source.attributes, "rates")
        label = "rates" if source is snapshot else f"{source.entity_id}.rates"
        entries += _read_items(
            items,
            label,
            _ItemKeys(start="start", end="end", price=_octopus_price_key(items)),
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


def _adapt_generic(attributes: Mapping[str, Any], list_name: str) -> _Extract:
    items = _as_list(attributes, list_name)
    keys = _first_item_keys(items)
    start_key = next((k for k in _START_KEYS if k in keys), None)
    price_key = next((k for k in _PRICE_KEYS if k in keys), None)
    if start_key is None or price_key is None:
        raise PriceDataError(
            f"{list_name}: items need a start-time key ({', '.join(_START_KEYS)}) and a price key "
            f"({', '.join(_PRICE_KEYS)}); found {sorted(keys)}"
        )
    end_key = next((k for k in _END_KEYS if k in keys), None)
    entries = _read_items(
        items, list_name, _ItemKeys(start=start_key, end=end_key, price=price_key)
    )
    unit = _unit_from_measurement(attributes, major_only=False)
    return _Extract(fmt=PriceFormat.GENERIC, unit=unit, entries=entries)


def _pick_key(response: Mapping[str, Any], wanted: str | None, what: str, where: str) -> str:
    if wanted is not None:
        if wanted not in response:
            raise PriceDataError(f"{where}: no {what} {wanted!r} (has {sorted(response)})")
        return wanted
    if len(response) == 1:
        return next(iter(response))
    raise PriceDataError(f"{where}: several {what}s {sorted(response)}; choose one")


def _adapt_nordpool_core(
    snapshot: PriceEntitySnapshot, responses: Sequence[ActionResponse]
) -> _Extract:
    entries: list[_Entry] = []
    for number, action in enumerate(responses):
        where = f"{action.action} response {number + 1}"
        if not action.response:
            continue
        area = _pick_key(action.response, snapshot.area, "area", where)
        items = action.response[area]
        if not isinstance(items, list | tuple):
            raise PriceDataError(f"{where}: {area!r} is not a list")
        entries += _read_items(
            list(items),
            f"{where} {area}",
            _ItemKeys(start="start", end="end", price="price"),
        )
    currency = _unit_from_measurement(snapshot.attributes, major_only=True).currency
    # The actions return the market price per MWh.
    return _Extract(fmt=PriceFormat.NORDPOOL_CORE, unit=_Unit(currency, 0.001), entries=entries)


def _adapt_tibber(snapshot: PriceEntitySnapshot, responses: Sequence[ActionResponse]) -> _Extract:
    entries: list[_Entry] = []
    for number, action in enumerate(responses):
        where = f"{action.action} response {number + 1}"
        homes = action.response.get("prices")
        if not isinstance(homes, Mapping):
            raise PriceDataError(f"{where}: expected 'prices' to map home names to lists")
        if not homes:
            continue
        home = _pick_key(homes, snapshot.area, "home", where)
        items = homes[home]
        if not isinstance(items, list | tuple):
            raise PriceDataError(f"{where}: home {home!r} is not a list")
        entries += _read_items(
            list(items), f"{where} {home}", _ItemKeys(start="start_time", price="price")
        )
    unit = _unit_from_measurement(snapshot.attributes, major_only=True)
    return _Extract(fmt=PriceFormat.TIBBER, unit=unit, entries=entries)


def _adapt_entsoe_action(
    snapshot: PriceEntitySnapshot, responses: Sequence[ActionResponse]
) -> _Extract:
    entries: list[_Entry] = []
    for number, action in enumerate(responses):
        where = f"{action.action} response {number + 1}"
        items = action.response.get("prices")
        if not isinstance(items, list | tuple):
            raise PriceDataError(f"{where}: expected a 'prices' list")
        entries += _read_items(list(items), where, _ItemKeys(start="timestamp", price="price"))
    unit = _unit_from_measurement(snapshot.attributes, major_only=False)
    return _Extract(fmt=PriceFormat.ENTSOE, unit=unit, entries=entries)


_ACTION_FORMATS = {
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
    if "prices_today" in attributes or "prices_tomorrow" in attributes:
        return PriceFormat.ENTSOE
    if any(name in attributes for pair in _GE_SPOT_LISTS for name in pair):
        return PriceFormat.GE_SPOT
    if "rates" in attributes:
        return PriceFormat.OCTOPUS_ENERGY
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
    return _attribute_format(snapshot.attributes)


def required_action(snapshot: PriceEntitySnapshot) -> str | None:
    """The response-only action the caller must fetch, for sources without list attributes.

    Core `nordpool` (same platform name as the HACS one, but without `raw_today`) and `tibber`
    only expose lists through actions; an Entso-e sensor other than the average one needs its
    action too. Returns None when the attributes suffice.
    """
    if _attribute_format(snapshot.attributes) is not None:
        return None
    return {
        "nordpool": ACTION_NORDPOOL_PRICES,
        "tibber": ACTION_TIBBER_PRICES,
        "entsoe": ACTION_ENTSOE_PRICES,
    }.get(snapshot.platform or "")


def _extract(snapshot: PriceEntitySnapshot, tz: tzinfo, now: datetime) -> _Extract | None:
    fmt = detect_format(snapshot)
    if fmt is None:
        return None
    responses = [a for a in snapshot.action_responses if _ACTION_FORMATS.get(a.action) == fmt]
    attributes = snapshot.attributes
    match fmt:
        case PriceFormat.NORDPOOL_CORE:
            return _adapt_nordpool_core(snapshot, responses)
        case PriceFormat.TIBBER:
            return _adapt_tibber(snapshot, responses)
        case PriceFormat.ENTSOE if responses:
            return _adapt_entsoe_action(snapshot, responses)
        case PriceFormat.NORDPOOL_HACS:
            return _adapt_nordpool_hacs(attributes)
        case PriceFormat.ENERGI_DATA_SERVICE:
            return _adapt_energi_data_service(attributes)
        case PriceFormat.GE_SPOT:
            return _adapt_ge_spot(attributes, tz, now)
        case PriceFormat.OCTOPUS_ENERGY:
            return _adapt_octopus(snapshot)
        case PriceFormat.ENTSOE if "prices_today" in attributes or "prices_tomorrow" in attributes:
            return _adapt_entsoe(attributes)
        case PriceFormat.ENTSOE | PriceFormat.GENERIC:
            list_name = _generic_list_name(attributes)
            if list_name is None:
                return None
            if fmt is PriceFormat.ENTSOE:
                return _adapt_entsoe(attributes)
            return _adapt_generic(attributes, list_name)


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


def _assemble(
    entries: list[_Entry], unit: _Unit, tz: tzinfo, notes: list[str]
) -> tuple[tuple[PriceSlot, ...], tuple[PriceGap, ...]]:
    if any(e.end is None for e in entries):
        entries = _fill_ends(entries, tz, notes)
    entries.sort(key=lambda e: e.start)
    kept: list[_Entry] = []
    for entry in entries:
        assert entry.end is not None
        if entry.end <= entry.start:
            raise PriceDataError(f"{entry.where}: ends before it starts")
        if entry.end - entry.start > MAX_SLOT:
            raise PriceDataError(f"{entry.where}: slot is longer than {MAX_SLOT}")
        if kept and kept[-1].start == entry.start:
            previous = kept[-1]
            same = previous.end == entry.end and previous.value == entry.value
            if same and previous.origin != entry.origin:
                continue  # the same slot delivered by two lists (e.g. overlapping action calls)
            raise PriceDataError(
                f"{entry.where}: duplicate slot starting {entry.start.isoformat()} "
                f"(also {previous.where})"
            )
        previous_end = kept[-1].end if kept else None
        if previous_end is not None and previous_end > entry.start:
            raise PriceDataError(
                f"{entry.where}: overlaps {kept[-1].where} "
                f"(starts {entry.start.isoformat()}, before {previous_end.isoformat()})"
            )
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
        )
    try:
        extract = _extract(snapshot, tz, now)
    except PriceDataError as err:
        return PriceReadResult(
            entity_id=entity_id,
            status=PriceStatus.INVALID,
            message=f"{entity_id}: {err}",
            source_format=detect_format(snapshot),
        )
    if extract is None:
        action = required_action(snapshot)
        if action is not None:
            return PriceReadResult(
                entity_id=entity_id,
                status=PriceStatus.NO_PRICES,
                message=f"{entity_id}: prices come from {action}, which has not been fetched",
            )
        if state in _UNKNOWN_STATES:
            return PriceReadResult(
                entity_id=entity_id,
                status=PriceStatus.NO_PRICES,
                message=f"{entity_id} has no state yet",
            )
        return PriceReadResult(
            entity_id=entity_id,
            status=PriceStatus.INVALID,
            message=(
                f"{entity_id} has no price list EV Flex can read (looked for raw_today, "
                "prices_today, today_interval_prices, rates, prices, data, forecast, and the "
                "nordpool, tibber and entsoe actions)"
            ),
        )
    return _finish(entity_id, extract, tz, now)


def _finish(entity_id: str, extract: _Extract, tz: tzinfo, now: datetime) -> PriceReadResult:
    notes = list(extract.notes)
    try:
        slots, gaps = _assemble(list(extract.entries), extract.unit, tz, notes)
    except PriceDataError as err:
        return PriceReadResult(
            entity_id=entity_id,
            status=PriceStatus.INVALID,
            message=f"{entity_id}: {err}",
            source_format=extract.fmt,
        )
    if not slots:
        return PriceReadResult(
            entity_id=entity_id,
            status=PriceStatus.NO_PRICES,
            message=f"{entity_id} has no prices yet",
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
        notes=tuple(notes),
    )
    if series.stale:
        status = PriceStatus.STALE
        message = f"{entity_id}: prices end at {_local_time(end, tz)}, before now"
    elif series.awaiting_tomorrow:
        status = PriceStatus.AWAITING
        message = f"{entity_id}: prices until {_local_time(end, tz)}; tomorrow not published yet"
    else:
        status = PriceStatus.OK
        message = f"{entity_id}: {len(slots)} prices until {_local_time(end, tz)}"
    if gaps:
        message += f"; {len(gaps)} gap(s), first at {_local_time(gaps[0].start, tz)}"
    return PriceReadResult(
        entity_id=entity_id,
        status=status,
        message=message,
        series=series,
        source_format=extract.fmt,
    )


# --------------------------------------------------------------------------------------------
# Helpers for the Home Assistant layer


def slot_at(series: PriceSeries, moment: datetime) -> PriceSlot | None:
    """The slot containing `moment`, or None in a gap or outside the series."""
    index = bisect_right([s.start for s in series.slots], moment) - 1
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
    for slot in series.slots:
        if slot.start > now:
            return slot.start
        if slot.end > now:
            return slot.end
    return None


def is_stale(series: PriceSeries, now: datetime) -> bool:
    """True when no slot ends after `now`."""
    return series.end is None or series.end <= now


def contiguous_slots(series: PriceSeries, start: datetime) -> tuple[PriceSlot, ...]:
    """The unbroken run of slots from the one containing `start` up to the first gap."""
    first = slot_at(series, start)
    if first is None:
        return ()
    index = series.slots.index(first)
    run = [first]
    for slot in series.slots[index + 1 :]:
        if slot.start != run[-1].end:
            break
        run.append(slot)
    return tuple(run)


def series_attribute(
    series: PriceSeries, tz: tzinfo, since: datetime | None = None, digits: int = 5
) -> list[dict[str, str | float]]:
    """A compact, JSON-safe list for an (unrecorded) entity attribute, in the user's zone."""
    return [
        {
            "start": s.start.astimezone(tz).isoformat(),
            "end": s.end.astimezone(tz).isoformat(),
            "price": round(s.price_per_kwh, digits),
        }
        for s in series.slots
        if since is None or s.end > since
    ]


def iter_slots_between(series: PriceSeries, start: datetime, end: datetime) -> Iterable[PriceSlot]:
    """Slots that overlap [start, end)."""
    return (s for s in series.slots if s.end > start and s.start < end)
