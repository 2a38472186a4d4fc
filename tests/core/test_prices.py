"""Tests for the price normaliser: every source format, DST days, units, and bad data."""

from collections.abc import Callable
import csv
from datetime import UTC, date, datetime, time, timedelta
import gzip
from itertools import pairwise
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ev_flex.core.prices import (
    ACTION_ENTSOE_PRICES,
    ACTION_NORDPOOL_PRICES,
    ACTION_TIBBER_PRICES,
    ActionResponse,
    PriceEntitySnapshot,
    PriceFormat,
    PriceGap,
    PriceSeries,
    PriceStatus,
    current_price,
    detect_format,
    iter_slots_between,
    next_slot_boundary,
    normalise_prices,
    required_action,
)

from .price_shapes import (
    BUILDERS,
    FALL_DAY,
    PLAIN_DAY,
    SPRING_DAY,
    STOCKHOLM,
    Slot,
    as_tuples,
    assert_same_slots,
    build_eds,
    build_entsoe,
    build_entsoe_combined,
    build_hacs_nordpool,
    build_nordpool_core,
    build_octopus,
    day_slots,
    hacs_nordpool,
    local,
    local_midnight,
    read,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prices"
SHARED_PRICES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "prices"
LONDON = ZoneInfo("Europe/London")


# --------------------------------------------------------------------------------------------
# Documented shapes (JSON fixtures)


def load_fixture(path: Path) -> tuple[PriceEntitySnapshot, ZoneInfo, datetime, dict[str, Any]]:
    data = json.loads(path.read_text())
    raw = data["snapshot"]
    snapshot = PriceEntitySnapshot(
        entity_id=raw["entity_id"],
        state=raw["state"],
        platform=raw.get("platform"),
        attributes=raw.get("attributes", {}),
        area=raw.get("area"),
        action_responses=tuple(
            ActionResponse(a["action"], a["response"]) for a in raw.get("action_responses", [])
        ),
    )
    return snapshot, ZoneInfo(data["tz"]), datetime.fromisoformat(data["now"]), data["expected"]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_documented_shape_is_read_exactly(path: Path) -> None:
    snapshot, tz, now, expected = load_fixture(path)
    result = normalise_prices(snapshot, tz, now)
    assert result.status == PriceStatus(expected["status"]), result.message
    assert result.series is not None
    assert result.series.source_format == PriceFormat(expected["format"])
    assert result.series.currency == expected["currency"]
    want = [
        (datetime.fromisoformat(s), datetime.fromisoformat(e), p) for s, e, p in expected["slots"]
    ]
    assert_same_slots(result.series, want)
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in result.series.slots)
    assert result.series.gaps == ()
    assert result.usable


def test_every_format_has_a_fixture() -> None:
    formats = {json.loads(p.read_text())["expected"]["format"] for p in FIXTURES.glob("*.json")}
    assert formats == {f.value for f in PriceFormat}


# --------------------------------------------------------------------------------------------
# Every format, every resolution, DST days


@pytest.mark.parametrize("name", BUILDERS)
@pytest.mark.parametrize(
    ("day", "minutes", "slots_that_day"),
    [
        (PLAIN_DAY, 15, 96),
        (PLAIN_DAY, 60, 24),
        (PLAIN_DAY, 30, 48),
        (SPRING_DAY, 15, 92),
        (SPRING_DAY, 60, 23),
        (SPRING_DAY, 30, 46),
        (FALL_DAY, 15, 100),
        (FALL_DAY, 60, 25),
        (FALL_DAY, 30, 50),
    ],
)
def test_format_reads_a_day_and_tomorrow(
    name: str, day: date, minutes: int, slots_that_day: int
) -> None:
    builder, fmt = BUILDERS[name]
    today = day_slots(day, STOCKHOLM, minutes, first_price=0.2)
    tomorrow = day_slots(day + timedelta(days=1), STOCKHOLM, minutes, first_price=0.05)
    now = datetime.combine(day, time(14, 7), tzinfo=STOCKHOLM)

    result = read(builder(today, tomorrow, STOCKHOLM), now)

    assert result.status is PriceStatus.OK, result.message
    assert result.source_format is fmt
    series = result.series
    assert series is not None
    assert_same_slots(series, [*today, *tomorrow])
    midnight = local_midnight(day, STOCKHOLM)
    next_midnight = local_midnight(day + timedelta(days=1), STOCKHOLM)
    on_day = [s for s in series.slots if midnight <= s.start < next_midnight]
    assert len(on_day) == slots_that_day
    assert series.gaps == ()
    assert not series.ends_early
    assert not series.awaiting_tomorrow
    assert not series.stale


@pytest.mark.parametrize("name", BUILDERS)
def test_tomorrow_missing_marks_series_awaiting(name: str) -> None:
    builder, _ = BUILDERS[name]
    today = day_slots(PLAIN_DAY, STOCKHOLM, 15)
    now = datetime.combine(PLAIN_DAY, time(9, 0), tzinfo=STOCKHOLM)

    result = read(builder(today, [], STOCKHOLM), now)

    assert result.status is PriceStatus.AWAITING, result.message
    assert result.usable
    assert result.series is not None
    assert result.series.ends_early
    assert result.series.awaiting_tomorrow
    assert result.series.end == local_midnight(PLAIN_DAY + timedelta(days=1), STOCKHOLM)
    assert "tomorrow not published" in result.message


def test_switch_from_hourly_to_quarters_between_days_in_a_start_only_list() -> None:
    # 2025-09-30 was the last hourly day; a combined Entso-e list spans the switch.
    today = day_slots(date(2025, 9, 30), STOCKHOLM, 60)
    tomorrow = day_slots(date(2025, 10, 1), STOCKHOLM, 15)
    now = datetime(2025, 9, 30, 20, 0, tzinfo=STOCKHOLM)

    result = read(build_entsoe_combined(today, tomorrow, STOCKHOLM), now)

    assert result.series is not None
    assert_same_slots(result.series, [*today, *tomorrow])
    assert result.series.gaps == ()


def test_mixed_slot_lengths_with_explicit_ends() -> None:
    start = local_midnight(PLAIN_DAY, STOCKHOLM)
    lengths = [60, 60, 15, 15, 15, 15, 30, 30, 60]
    slots: list[Slot] = []
    moment = start
    for index, minutes in enumerate(lengths):
        slots.append((moment, moment + timedelta(minutes=minutes), 0.1 + index / 100))
        moment += timedelta(minutes=minutes)

    result = read(build_nordpool_core(slots, [], STOCKHOLM), start + timedelta(minutes=5))

    assert result.series is not None
    assert_same_slots(result.series, slots)
    assert result.series.gaps == ()


# --------------------------------------------------------------------------------------------
# Units


@pytest.mark.parametrize(
    ("unit", "cents", "value", "per_kwh"),
    [
        ("kWh", False, 1.25, 1.25),
        ("MWh", False, 250.73, 0.25073),
        ("Wh", False, 0.00125, 1.25),
        ("kWh", True, 125.0, 1.25),
        ("MWh", True, 25073.0, 0.25073),
    ],
)
def test_hacs_nordpool_units_and_cents(
    unit: str, cents: bool, value: float, per_kwh: float
) -> None:
    slots = day_slots(PLAIN_DAY, STOCKHOLM, 60)
    attributes = hacs_nordpool(slots, [], STOCKHOLM)
    attributes["unit"] = unit
    attributes["price_in_cents"] = cents
    for item in attributes["raw_today"]:
        item["value"] = value
    snapshot = PriceEntitySnapshot(entity_id="sensor.np", state="1", attributes=attributes)

    result = read(snapshot, datetime.combine(PLAIN_DAY, time(1), tzinfo=STOCKHOLM))

    assert result.series is not None
    assert [s.price_per_kwh for s in result.series.slots] == pytest.approx([per_kwh] * 24)
    assert result.series.currency == "SEK"


def test_energi_data_service_in_cents() -> None:
    snapshot = build_eds(day_slots(PLAIN_DAY, STOCKHOLM, 60), [], STOCKHOLM)
    attributes = dict(snapshot.attributes, use_cent=True)
    attributes["raw_today"] = [dict(i, price=213.4) for i in attributes["raw_today"]]
    snapshot = PriceEntitySnapshot(entity_id="sensor.eds", state="1", attributes=attributes)

    result = read(snapshot, datetime.combine(PLAIN_DAY, time(1), tzinfo=STOCKHOLM))

    assert result.series is not None
    assert result.series.slots[0].price_per_kwh == pytest.approx(2.134)


@pytest.mark.parametrize(
    ("measurement", "currency", "factor"),
    [
        ("SEK/kWh", "SEK", 1.0),
        ("öre/kWh", None, 0.01),
        ("c/kWh", None, 0.01),
        ("EUR/MWh", "EUR", 0.001),
        ("€/kWh", "EUR", 1.0),
        ("£/kWh", "GBP", 1.0),
        ("p/kWh", None, 0.01),
        ("kr/kWh", None, 1.0),
    ],
)
def test_unit_of_measurement_sets_currency_and_scale(
    measurement: str, currency: str | None, factor: float
) -> None:
    start = local_midnight(PLAIN_DAY, STOCKHOLM)
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.generic",
        state="1",
        attributes={
            "unit_of_measurement": measurement,
            "prices": [
                {"start": start.isoformat(), "price": 50.0},
                {"start": (start + timedelta(hours=1)).isoformat(), "price": 60.0},
            ],
        },
    )

    result = read(snapshot, start)

    assert result.series is not None
    assert result.series.currency == currency
    assert [s.price_per_kwh for s in result.series.slots] == pytest.approx(
        [50 * factor, 60 * factor]
    )


def test_core_nordpool_is_priced_per_mwh_whatever_the_sensor_unit() -> None:
    slots = day_slots(PLAIN_DAY, STOCKHOLM, 15)
    result = read(build_nordpool_core(slots, [], STOCKHOLM), slots[0][0])
    assert result.series is not None
    assert result.series.slots[3].price_per_kwh == pytest.approx(slots[3][2])
    assert result.series.currency == "SEK"


# --------------------------------------------------------------------------------------------
# HACS nordpool: tomorrow repeating today


def test_tomorrow_with_todays_times_is_dropped_as_a_repeat() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 15)
    attributes = hacs_nordpool(today, today, STOCKHOLM)
    assert attributes["tomorrow_valid"] is True
    snapshot = PriceEntitySnapshot(entity_id="sensor.np", state="1", attributes=attributes)

    result = read(snapshot, datetime.combine(PLAIN_DAY, time(0, 3), tzinfo=STOCKHOLM))

    assert result.status is PriceStatus.AWAITING
    assert result.series is not None
    assert result.series.tomorrow_repeats_today
    assert len(result.series.slots) == 96
    assert any("repeats" in note for note in result.series.notes)


def test_tomorrow_with_tomorrows_times_but_todays_prices_is_dropped() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 60)
    copied = [(s + timedelta(days=1), e + timedelta(days=1), p) for s, e, p in today]
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.np", state="1", attributes=hacs_nordpool(today, copied, STOCKHOLM)
    )

    result = read(snapshot, datetime.combine(PLAIN_DAY, time(14), tzinfo=STOCKHOLM))

    assert result.series is not None
    assert result.series.tomorrow_repeats_today
    assert result.series.awaiting_tomorrow
    assert result.series.end == local_midnight(PLAIN_DAY + timedelta(days=1), STOCKHOLM)


def test_flat_prices_on_both_days_are_not_mistaken_for_a_repeat() -> None:
    today = [(s, e, 0.5) for s, e, _ in day_slots(PLAIN_DAY, STOCKHOLM, 60)]
    tomorrow = [(s + timedelta(days=1), e + timedelta(days=1), p) for s, e, p in today]
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.np", state="1", attributes=hacs_nordpool(today, tomorrow, STOCKHOLM)
    )
    result = read(snapshot, datetime.combine(PLAIN_DAY, time(14), tzinfo=STOCKHOLM))
    assert result.status is PriceStatus.OK
    assert result.series is not None
    assert not result.series.tomorrow_repeats_today
    assert len(result.series.slots) == 48


def test_tomorrow_ignored_when_source_says_it_is_not_valid() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 60)
    tomorrow = day_slots(PLAIN_DAY + timedelta(days=1), STOCKHOLM, 60, first_price=0.9)
    attributes = hacs_nordpool(today, tomorrow, STOCKHOLM)
    attributes["tomorrow_valid"] = False
    snapshot = PriceEntitySnapshot(entity_id="sensor.np", state="1", attributes=attributes)

    result = read(snapshot, datetime.combine(PLAIN_DAY, time(14), tzinfo=STOCKHOLM))

    assert result.status is PriceStatus.AWAITING
    assert result.series is not None
    assert len(result.series.slots) == 24


# --------------------------------------------------------------------------------------------
# Data states


def test_unavailable_entity_gives_no_prices() -> None:
    snapshot = build_hacs_nordpool(day_slots(PLAIN_DAY, STOCKHOLM, 60), [], STOCKHOLM)
    snapshot = PriceEntitySnapshot(
        entity_id=snapshot.entity_id, state="unavailable", attributes=snapshot.attributes
    )
    result = read(snapshot, datetime.combine(PLAIN_DAY, time(1), tzinfo=STOCKHOLM))
    assert result.status is PriceStatus.NO_PRICES
    assert result.series is None
    assert not result.usable
    assert snapshot.entity_id in result.message


@pytest.mark.parametrize("state", ["unknown", None])
def test_unknown_entity_without_data_gives_no_prices(state: str | None) -> None:
    snapshot = PriceEntitySnapshot(entity_id="sensor.prices", state=state, attributes={})
    result = read(snapshot, datetime(2025, 10, 7, tzinfo=UTC))
    assert result.status is PriceStatus.NO_PRICES
    assert "sensor.prices" in result.message


def test_empty_lists_give_no_prices() -> None:
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.np",
        state="1",
        attributes={"unit": "kWh", "currency": "SEK", "raw_today": [], "raw_tomorrow": []},
    )
    result = read(snapshot, datetime(2025, 10, 7, tzinfo=UTC))
    assert result.status is PriceStatus.NO_PRICES
    assert result.source_format is PriceFormat.NORDPOOL_HACS


def test_entity_without_any_price_list_is_invalid_and_named() -> None:
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.living_room_temperature",
        state="21.5",
        attributes={"unit_of_measurement": "°C", "device_class": "temperature"},
    )
    result = read(snapshot, datetime(2025, 10, 7, tzinfo=UTC))
    assert result.status is PriceStatus.INVALID
    assert result.message.startswith("sensor.living_room_temperature")


@pytest.mark.parametrize(
    ("platform", "action"),
    [
        ("nordpool", ACTION_NORDPOOL_PRICES),
        ("tibber", ACTION_TIBBER_PRICES),
        ("entsoe", ACTION_ENTSOE_PRICES),
    ],
)
def test_action_sources_without_a_response_ask_for_the_action(platform: str, action: str) -> None:
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.current_price",
        state="0.3",
        platform=platform,
        attributes={"unit_of_measurement": "SEK/kWh"},
    )
    assert required_action(snapshot) == action
    result = read(snapshot, datetime(2025, 10, 7, tzinfo=UTC))
    assert result.status is PriceStatus.NO_PRICES
    assert action in result.message


def test_hacs_nordpool_needs_no_action_although_its_platform_is_nordpool() -> None:
    snapshot = build_hacs_nordpool(day_slots(PLAIN_DAY, STOCKHOLM, 60), [], STOCKHOLM)
    assert required_action(snapshot) is None
    assert detect_format(snapshot) is PriceFormat.NORDPOOL_HACS


def test_today_that_is_really_yesterday_is_stale() -> None:
    yesterday = day_slots(PLAIN_DAY - timedelta(days=1), STOCKHOLM, 15)
    snapshot = build_hacs_nordpool(yesterday, [], STOCKHOLM)

    result = read(snapshot, datetime.combine(PLAIN_DAY, time(0, 5), tzinfo=STOCKHOLM))

    assert result.status is PriceStatus.STALE
    assert not result.usable
    assert result.series is not None
    assert result.series.stale
    assert "before now" in result.message


def test_missing_prices_become_reported_gaps_not_filled() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 60)
    attributes = hacs_nordpool(today, [], STOCKHOLM)
    attributes["raw_today"][5]["value"] = None
    attributes["raw_today"][6]["value"] = None
    snapshot = PriceEntitySnapshot(entity_id="sensor.np", state="1", attributes=attributes)

    result = read(snapshot, datetime.combine(PLAIN_DAY, time(1), tzinfo=STOCKHOLM))

    assert result.series is not None
    assert len(result.series.slots) == 22
    assert result.series.gaps == (PriceGap(today[5][0], today[6][1]),)
    assert "gap" in result.message
    # People read these: local wall-clock times, not UTC offsets.
    local_start = today[5][0].astimezone(STOCKHOLM)
    assert result.message.endswith(
        f"; 1 gap(s), first at {local_start:%a} {local_start.day} {local_start:%b} 05:00"
    )
    assert "+00:00" not in result.message


def test_missing_entry_in_start_only_list_is_a_gap_of_the_right_length() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 60)
    del today[10]
    snapshot = build_entsoe(today, [], STOCKHOLM)

    result = read(snapshot, datetime.combine(PLAIN_DAY, time(1), tzinfo=STOCKHOLM))

    assert result.series is not None
    assert result.series.slots[9].end - result.series.slots[9].start == timedelta(hours=1)
    assert result.series.gaps == (PriceGap(today[9][1], today[10][0]),)


def test_octopus_previous_and_current_day_overlap_exactly_is_merged() -> None:
    today = day_slots(PLAIN_DAY, LONDON, 30)
    current = build_octopus(today, today[-4:], LONDON)
    result = read(current, datetime.combine(PLAIN_DAY, time(12), tzinfo=LONDON), LONDON)
    assert result.series is not None
    assert len(result.series.slots) == 48


def test_several_areas_need_a_choice() -> None:
    items = [
        {"start": "2025-10-06T22:00:00+00:00", "end": "2025-10-06T23:00:00+00:00", "price": 100}
    ]
    response = ActionResponse(ACTION_NORDPOOL_PRICES, {"SE3": items, "SE4": items})
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.nord_pool_se3_current_price",
        state="0.1",
        platform="nordpool",
        action_responses=(response,),
    )
    now = datetime(2025, 10, 6, 22, 30, tzinfo=UTC)
    ambiguous = read(snapshot, now)
    assert ambiguous.status is PriceStatus.INVALID
    assert "SE3" in ambiguous.message
    assert "SE4" in ambiguous.message

    chosen = PriceEntitySnapshot(
        entity_id=snapshot.entity_id,
        state="0.1",
        platform="nordpool",
        action_responses=(response,),
        area="SE4",
    )
    result = read(chosen, now)
    assert result.series is not None
    assert result.series.slots[0].price_per_kwh == pytest.approx(0.1)


# --------------------------------------------------------------------------------------------
# Malformed entries: a status naming the entity and the entry, never an exception


def _nordpool_with(change: Callable[[dict[str, Any]], None]) -> PriceEntitySnapshot:
    attributes = hacs_nordpool(day_slots(PLAIN_DAY, STOCKHOLM, 60), [], STOCKHOLM)
    for item in attributes["raw_today"]:
        item["start"] = item["start"].isoformat()
        item["end"] = item["end"].isoformat()
    change(attributes)
    return PriceEntitySnapshot(entity_id="sensor.np_bad", state="1", attributes=attributes)


def _set(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(attributes: dict[str, Any]) -> None:
        attributes["raw_today"][index][key] = value

    return change


def _delete(index: int, key: str) -> Callable[[dict[str, Any]], None]:
    def change(attributes: dict[str, Any]) -> None:
        del attributes["raw_today"][index][key]

    return change


def _duplicate(attributes: dict[str, Any]) -> None:
    attributes["raw_today"].insert(4, dict(attributes["raw_today"][3], value=9.9))


def _overlap(attributes: dict[str, Any]) -> None:
    attributes["raw_today"][3]["end"] = attributes["raw_today"][4]["end"]


def _not_a_list(attributes: dict[str, Any]) -> None:
    attributes["raw_today"] = "1.0, 2.0"


def _item_not_mapping(attributes: dict[str, Any]) -> None:
    attributes["raw_today"][2] = 1.25


@pytest.mark.parametrize(
    ("change", "expected_text"),
    [
        (_delete(3, "value"), "raw_today[3]: missing key 'value'"),
        (_delete(0, "start"), "raw_today[0]: missing key 'start'"),
        (_set(2, "value", "cheap"), "raw_today[2]: 'value' is not a number"),
        (_set(2, "value", float("nan")), "raw_today[2]: 'value' is not a finite number"),
        (_set(2, "value", True), "raw_today[2]: 'value' is not a number"),
        (_set(4, "start", "2025-10-07T04:00:00"), "raw_today[4]: 'start' has no UTC offset"),
        (_set(4, "start", datetime(2025, 10, 7, 4)), "raw_today[4]: 'start' has no UTC offset"),
        (_set(4, "end", "tomorrow"), "raw_today[4]: 'end' is not a date and time"),
        (_set(4, "end", "2025-10-07T03:00:00+02:00"), "raw_today[4]: ends before it starts"),
        (_set(4, "start", 1759802400), "raw_today[4]: 'start' is not a date and time"),
        (_set(2, "value", [0.5]), "raw_today[2]: 'value' is not a number"),
        (_set(4, "end", "2025-10-10T00:00:00+02:00"), "raw_today[4]: slot is longer than"),
        (_duplicate, "duplicate slot"),
        (_overlap, "overlaps"),
        (_not_a_list, "raw_today: expected a list"),
        (_item_not_mapping, "raw_today[2]: expected a mapping"),
    ],
)
def test_malformed_entries_give_invalid_status(
    change: Callable[[dict[str, Any]], None], expected_text: str
) -> None:
    result = read(_nordpool_with(change), datetime.combine(PLAIN_DAY, time(1), tzinfo=STOCKHOLM))
    assert result.status is PriceStatus.INVALID
    assert result.series is None
    assert result.message.startswith("sensor.np_bad: ")
    assert expected_text in result.message


def test_duplicate_start_in_start_only_list_is_invalid() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 15)
    snapshot = build_entsoe(today, [], STOCKHOLM)
    items = list(snapshot.attributes["prices_today"])
    items.insert(8, dict(items[7]))
    attributes = dict(snapshot.attributes, prices_today=items)
    bad = PriceEntitySnapshot(
        entity_id="sensor.average_electricity_price", state="1", attributes=attributes
    )
    result = read(bad, today[0][0])
    assert result.status is PriceStatus.INVALID
    assert "prices_today[8]: duplicate slot" in result.message


def test_generic_list_without_recognisable_keys_is_invalid() -> None:
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.weird",
        state="1",
        attributes={"data": [{"when": "2025-10-07T00:00:00+02:00", "amount": 1.0}]},
    )
    result = read(snapshot, datetime(2025, 10, 7, tzinfo=UTC))
    assert result.status is PriceStatus.INVALID
    assert "start-time key" in result.message


def test_tibber_response_of_the_wrong_shape_is_invalid() -> None:
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.electricity_price_home",
        state="1",
        platform="tibber",
        action_responses=(ActionResponse(ACTION_TIBBER_PRICES, {"prices": [1, 2, 3]}),),
    )
    result = read(snapshot, datetime(2025, 10, 7, tzinfo=UTC))
    assert result.status is PriceStatus.INVALID
    assert result.message.startswith("sensor.electricity_price_home: tibber.get_prices")


_junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(
        [
            "2025-10-07T00:00:00+02:00",
            "2025-10-07 01:00:00+02:00",
            "2025-10-07T00:00:00",
            "00:15",
            "kWh",
            "MWh",
            "abc",
            "",
        ]
    )
    | st.datetimes(timezones=st.sampled_from([UTC, STOCKHOLM]) | st.none()),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(["start", "end", "value", "price", "hour", "time", "SE3", "prices", "x"]),
        inner,
        max_size=4,
    ),
    max_leaves=12,
)
_attribute_names = st.sampled_from(
    [
        "raw_today",
        "raw_tomorrow",
        "prices_today",
        "prices_tomorrow",
        "prices",
        "data",
        "forecast",
        "rates",
        "today_interval_prices",
        "tomorrow_interval_prices",
        "unit",
        "unit_of_measurement",
        "price_in_cents",
        "tomorrow_valid",
        "currency",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    attributes=st.dictionaries(_attribute_names, _junk, max_size=4),
    action=st.sampled_from(
        [None, ACTION_NORDPOOL_PRICES, ACTION_TIBBER_PRICES, ACTION_ENTSOE_PRICES]
    ),
    response=st.dictionaries(st.sampled_from(["SE3", "prices", "x"]), _junk, max_size=2),
)
def test_arbitrary_data_never_raises(
    attributes: dict[str, Any], action: str | None, response: dict[str, Any]
) -> None:
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.fuzz",
        state="1",
        attributes=attributes,
        action_responses=(ActionResponse(action, response),) if action else (),
    )
    result = normalise_prices(snapshot, STOCKHOLM, datetime(2025, 10, 7, 12, tzinfo=UTC))
    assert result.entity_id == "sensor.fuzz"
    if result.series is not None:
        slots = result.series.slots
        assert all(a.end <= b.start for a, b in pairwise(slots))
        assert all(s.start < s.end for s in slots)
    else:
        assert "sensor.fuzz" in result.message


# --------------------------------------------------------------------------------------------
# Helpers for the Home Assistant layer


def _series_with_gap() -> tuple[PriceSeries, list[Slot]]:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 15)
    attributes = hacs_nordpool(today, [], STOCKHOLM)
    attributes["raw_today"][40]["value"] = None
    snapshot = PriceEntitySnapshot(entity_id="sensor.np", state="1", attributes=attributes)
    result = read(snapshot, today[0][0])
    assert result.series is not None
    return result.series, today


def test_current_price_and_next_boundary() -> None:
    series, today = _series_with_gap()
    inside = today[10][0] + timedelta(minutes=7)
    assert current_price(series, inside) == pytest.approx(today[10][2])
    assert next_slot_boundary(series, inside) == today[10][1]
    # Exactly on a boundary the new slot applies and the next boundary is its end.
    assert current_price(series, today[11][0]) == pytest.approx(today[11][2])
    assert next_slot_boundary(series, today[11][0]) == today[11][1]
    # In the gap there is no price, and the next boundary is where prices resume.
    in_gap = today[40][0] + timedelta(minutes=1)
    assert current_price(series, in_gap) is None
    assert next_slot_boundary(series, in_gap) == today[41][0]
    # Before the series, the first start; after it, nothing.
    assert next_slot_boundary(series, today[0][0] - timedelta(hours=1)) == today[0][0]
    assert next_slot_boundary(series, today[-1][1]) is None
    assert current_price(series, today[-1][1]) is None


def test_series_round_trips_through_a_dict() -> None:
    series, _ = _series_with_gap()
    copy = PriceSeries.from_dict(json.loads(json.dumps(series.to_dict())))
    assert copy == series


def test_now_must_be_timezone_aware() -> None:
    snapshot = build_entsoe(day_slots(PLAIN_DAY, STOCKHOLM, 60), [], STOCKHOLM)
    with pytest.raises(ValueError, match="timezone-aware"):
        normalise_prices(snapshot, STOCKHOLM, datetime(2025, 10, 7, 12))


# --------------------------------------------------------------------------------------------
# Real day-ahead prices (Source: Energinet, Energi Data Service, CC BY 4.0)


def _real_day(zone: str, day: date, tz: ZoneInfo) -> list[Slot]:
    start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    low, high = start.strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M")
    slots: list[Slot] = []
    with gzip.open(SHARED_PRICES / f"{zone}.csv.gz", "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            if low <= row["start_utc"][:16] < high:
                slots.append(
                    (
                        datetime.fromisoformat(row["start_utc"]),
                        datetime.fromisoformat(row["end_utc"]),
                        float(row["price"]),  # EUR/MWh
                    )
                )
    return slots


@pytest.mark.skipif(not SHARED_PRICES.exists(), reason="shared price data not present")
@pytest.mark.parametrize(
    ("zone", "tz_name", "day", "expected_slots"),
    [
        ("SE3", "Europe/Stockholm", date(2025, 10, 26), 100),  # fall back, quarters
        ("SE3", "Europe/Stockholm", date(2026, 3, 29), 92),  # spring forward, quarters
        ("DK1", "Europe/Copenhagen", date(2025, 3, 30), 23),  # spring forward, hours
        ("DE_LU", "Europe/Berlin", date(2024, 10, 27), 25),  # fall back, two equal 02:00 hours
    ],
)
def test_real_day_through_core_nordpool_and_entsoe(
    zone: str, tz_name: str, day: date, expected_slots: int
) -> None:
    tz = ZoneInfo(tz_name)
    real = _real_day(zone, day, tz)
    assert len(real) == expected_slots
    now = datetime.combine(day, time(12), tzinfo=tz)

    core = PriceEntitySnapshot(
        entity_id=f"sensor.nord_pool_{zone.lower()}_current_price",
        state="0.1",
        platform="nordpool",
        attributes={"unit_of_measurement": "EUR/kWh"},
        action_responses=(
            ActionResponse(
                ACTION_NORDPOOL_PRICES,
                {
                    zone: [
                        {"start": s.isoformat(), "end": e.isoformat(), "price": p}
                        for s, e, p in real
                    ]
                },
            ),
        ),
    )
    result = normalise_prices(core, tz, now)
    assert result.status is PriceStatus.AWAITING, result.message
    assert result.series is not None
    assert result.series.currency == "EUR"
    assert_same_slots(result.series, [(s, e, p / 1000) for s, e, p in real])
    assert result.series.start == local_midnight(day, tz)
    assert result.series.end == local_midnight(day + timedelta(days=1), tz)

    # The same day as Entso-e shows it: local start times only, per MWh via the unit.
    entsoe = PriceEntitySnapshot(
        entity_id="sensor.average_electricity_price",
        state="0.1",
        attributes={
            "unit_of_measurement": "EUR/MWh",
            "prices_today": [{"time": str(s.astimezone(tz)), "price": p} for s, _, p in real],
        },
    )
    from_entsoe = normalise_prices(entsoe, tz, now)
    assert from_entsoe.series is not None
    assert_same_slots(from_entsoe.series, as_tuples(result.series))


# --------------------------------------------------------------------------------------------
# Less common shapes


def _ge_spot_by_time_of_day(day: date, list_name: str = "today_hourly_prices") -> dict[str, Any]:
    """Older GE-Spot: {"HH:MM": price} for the user's local day."""
    return {
        "unit_of_measurement": "SEK/kWh",
        list_name: {
            local(s, STOCKHOLM).strftime("%H:%M"): p for s, _, p in day_slots(day, STOCKHOLM, 60)
        },
    }


def test_ge_spot_time_of_day_keys_are_local_times() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 60)
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.gespot_se3", state="1", attributes=_ge_spot_by_time_of_day(PLAIN_DAY)
    )
    result = read(snapshot, today[3][0])
    assert result.status is PriceStatus.AWAITING
    assert result.series is not None
    assert result.series.source_format is PriceFormat.GE_SPOT
    # "00:00" is local midnight (22:00 UTC the day before), not UTC midnight.
    assert_same_slots(result.series, today)


def test_ge_spot_time_of_day_keys_on_a_clock_change_or_garbled_are_invalid() -> None:
    # On the spring-forward day the user's clock skips 02:00-03:00, so "02:00" is no time.
    # A full 24 hours, as a source unaware of the change would send them.
    every_hour = {f"{hour:02d}:00": 0.1 for hour in range(24)}
    spring = PriceEntitySnapshot(
        entity_id="sensor.gespot", state="1", attributes={"today_hourly_prices": every_hour}
    )
    result = read(spring, datetime.combine(SPRING_DAY, time(1), tzinfo=STOCKHOLM))
    assert result.status is PriceStatus.INVALID
    assert "today_hourly_prices['02:00']: 02:00 does not exist" in result.message

    garbled = PriceEntitySnapshot(
        entity_id="sensor.gespot",
        state="1",
        attributes={"today_hourly_prices": {"ab:cd": 0.1}},
    )
    result = read(garbled, datetime.combine(PLAIN_DAY, time(1), tzinfo=STOCKHOLM))
    assert result.status is PriceStatus.INVALID
    assert "today_hourly_prices['ab:cd']: not a time of day" in result.message


def test_octopus_rates_with_the_incl_vat_spelling_are_read() -> None:
    today = day_slots(PLAIN_DAY, LONDON, 30)
    snapshot = build_octopus(today, [], LONDON)
    rates = [
        {"start": r["start"], "end": r["end"], "value_incl_vat": r["value_inc_vat"]}
        for r in snapshot.attributes["rates"]
    ]
    spelled = PriceEntitySnapshot(
        entity_id=snapshot.entity_id, state=snapshot.state, attributes={"rates": rates}
    )
    result = read(spelled, today[0][0], LONDON)
    assert result.series is not None
    assert_same_slots(result.series, today)


def test_an_area_the_response_lacks_is_named() -> None:
    slots = day_slots(PLAIN_DAY, STOCKHOLM, 60)
    snapshot = build_nordpool_core(slots, [], STOCKHOLM)
    chosen = PriceEntitySnapshot(
        entity_id=snapshot.entity_id,
        state="1",
        platform="nordpool",
        action_responses=snapshot.action_responses,
        area="SE4",
    )
    result = read(chosen, slots[0][0])
    assert result.status is PriceStatus.INVALID
    assert "no area 'SE4' (has ['SE3'])" in result.message


def test_a_tibber_home_that_is_not_a_list_is_invalid() -> None:
    snapshot = PriceEntitySnapshot(
        entity_id="sensor.electricity_price_home",
        state="1",
        platform="tibber",
        action_responses=(
            ActionResponse(ACTION_TIBBER_PRICES, {"prices": {"Home": {"price": 1.0}}}),
        ),
    )
    result = read(snapshot, datetime(2025, 10, 7, tzinfo=UTC))
    assert result.status is PriceStatus.INVALID
    assert "home 'Home' is not a list" in result.message


def test_an_unknown_energy_unit_is_invalid_not_guessed() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 60)
    snapshot = build_eds(today, [], STOCKHOLM)
    bad = PriceEntitySnapshot(
        entity_id=snapshot.entity_id, state="1", attributes={**snapshot.attributes, "unit": "GJ"}
    )
    result = read(bad, today[0][0])
    assert result.status is PriceStatus.INVALID
    assert "unknown energy unit 'GJ'" in result.message


def test_an_unrelated_action_response_does_not_hide_the_attributes() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 60)
    snapshot = build_hacs_nordpool(today, [], STOCKHOLM)
    with_other = PriceEntitySnapshot(
        entity_id=snapshot.entity_id,
        state="1",
        attributes=snapshot.attributes,
        action_responses=(ActionResponse("weather.get_forecasts", {"forecast": []}),),
    )
    assert detect_format(with_other) is PriceFormat.NORDPOOL_HACS
    result = read(with_other, today[0][0])
    assert result.series is not None
    assert_same_slots(result.series, today)


def test_a_single_start_only_price_is_assumed_to_last_an_hour() -> None:
    start = local_midnight(PLAIN_DAY, STOCKHOLM)
    snapshot = build_entsoe([(start, start + timedelta(minutes=15), 0.2)], [], STOCKHOLM)
    result = read(snapshot, start)
    assert result.series is not None
    (slot,) = result.series.slots
    assert slot.duration == timedelta(hours=1)
    assert any("only one price" in note for note in result.series.notes)


def test_slots_overlapping_a_window_include_the_ones_cut_by_its_edges() -> None:
    today = day_slots(PLAIN_DAY, STOCKHOLM, 15)
    result = read(build_hacs_nordpool(today, [], STOCKHOLM), today[0][0])
    assert result.series is not None
    window = list(
        iter_slots_between(result.series, today[4][0] + timedelta(minutes=1), today[6][1])
    )
    assert [s.start for s in window] == [today[4][0], today[5][0], today[6][0]]
