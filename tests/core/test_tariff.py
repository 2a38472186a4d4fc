"""Tests for the tariff layer: import formula, time-of-use grid fees, export kinds, storage."""

from datetime import UTC, date, datetime, time, timedelta
import json
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ev_flex.core.plan_request import current_slots
from custom_components.ev_flex.core.planner import PriceSlot as PlannerSlot
from custom_components.ev_flex.core.prices import PriceFormat, PriceSeries, PriceSlot
from custom_components.ev_flex.core.tariff import (
    ExportKind,
    ExportTariff,
    FixedAdder,
    GridFeePeriod,
    GridFeeSchedule,
    ImportTariff,
    Tariff,
    TariffError,
    apply_tariff,
    effective_prices_at,
    priced_slot_at,
)

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
WEEKDAYS = frozenset(range(5))


def local_midnight(day: date, tz: ZoneInfo = COPENHAGEN) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def series_for_day(
    day: date, minutes: int, price: float = 1.0, tz: ZoneInfo = COPENHAGEN
) -> PriceSeries:
    start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    slots = []
    moment = start
    while moment < end:
        slots.append(PriceSlot(moment, moment + timedelta(minutes=minutes), price))
        moment += timedelta(minutes=minutes)
    return PriceSeries(
        entity_id="sensor.spot",
        source_format=PriceFormat.GENERIC,
        currency="DKK",
        slots=tuple(slots),
    )


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=COPENHAGEN)


# --------------------------------------------------------------------------------------------
# The import formula and time-of-use fees


def test_import_price_formula() -> None:
    tariff = ImportTariff(
        spot_multiplier=1.1,
        adders=(FixedAdder(name="energy tax", per_kwh=0.2), FixedAdder(name="margin", per_kwh=0.1)),
        vat_percent=25,
    )
    assert tariff.price(spot=1.0, grid_fee=0.5) == pytest.approx((1.1 + 0.3 + 0.5) * 1.25)
    # Negative spot prices pass through the same formula.
    assert tariff.price(spot=-0.4, grid_fee=0.0) == pytest.approx((-0.44 + 0.3) * 1.25)


PEAK = GridFeePeriod(
    name="peak", per_kwh=0.9, start=time(17), end=time(21), weekdays=WEEKDAYS, months=frozenset({1})
)
NIGHT = GridFeePeriod(
    name="night", per_kwh=0.1, start=time(22), end=time(6), weekdays=frozenset({4})
)
SCHEDULE = GridFeeSchedule(default_per_kwh=0.3, periods=(PEAK, NIGHT))


@pytest.mark.parametrize(
    ("moment", "fee"),
    [
        (at(date(2026, 1, 14), 17), 0.9),  # Wednesday in January, start of peak
        (at(date(2026, 1, 14), 20, 59), 0.9),
        (at(date(2026, 1, 14), 21), 0.3),  # the end is exclusive
        (at(date(2026, 1, 17), 18), 0.3),  # Saturday: no peak
        (at(date(2026, 2, 11), 18), 0.3),  # February: no peak
        (at(date(2026, 1, 16), 23), 0.1),  # Friday night
        (at(date(2026, 1, 17), 3), 0.1),  # ...continues into Saturday morning
        (at(date(2026, 1, 17), 6), 0.3),
        (at(date(2026, 1, 16), 3), 0.3),  # Friday early morning belongs to Thursday: not included
        (at(date(2026, 1, 17), 23), 0.3),  # Saturday night is not a Friday night
    ],
)
def test_grid_fee_by_weekday_month_and_local_time(moment: datetime, fee: float) -> None:
    assert SCHEDULE.fee_at(moment) == fee


def test_slot_straddling_a_period_boundary_gets_the_time_weighted_fee() -> None:
    schedule = GridFeeSchedule(
        default_per_kwh=0.2,
        periods=(GridFeePeriod(name="peak", per_kwh=1.0, start=time(6, 30), end=time(8)),),
    )
    start = at(date(2026, 1, 14), 6).astimezone(UTC)
    assert schedule.average_fee(start, start + timedelta(hours=1), COPENHAGEN) == pytest.approx(0.6)
    assert schedule.average_fee(
        start + timedelta(hours=1), start + timedelta(hours=2), COPENHAGEN
    ) == pytest.approx(1.0)


def test_fall_back_day_both_local_2am_hours_are_in_the_period() -> None:
    day = date(2025, 10, 26)
    series = series_for_day(day, 60)
    assert len(series.slots) == 25
    tariff = Tariff(
        import_tariff=ImportTariff(
            grid_fees=GridFeeSchedule(
                periods=(GridFeePeriod(name="two", per_kwh=5.0, start=time(2), end=time(3)),)
            )
        )
    )
    priced = apply_tariff(series, tariff, COPENHAGEN)
    in_period = [p for p in priced if p.grid_fee == 5.0]
    assert [p.start.astimezone(COPENHAGEN).hour for p in in_period] == [2, 2]
    assert in_period[1].start - in_period[0].start == timedelta(hours=1)


def test_spring_forward_day_period_in_the_missing_hour_never_applies() -> None:
    day = date(2026, 3, 29)
    series = series_for_day(day, 15)
    assert len(series.slots) == 92
    tariff = Tariff(
        import_tariff=ImportTariff(
            grid_fees=GridFeeSchedule(
                default_per_kwh=0.0,
                periods=(
                    GridFeePeriod(name="gone", per_kwh=5.0, start=time(2), end=time(3)),
                    GridFeePeriod(name="after", per_kwh=1.0, start=time(3), end=time(4)),
                ),
            )
        )
    )
    priced = apply_tariff(series, tariff, COPENHAGEN)
    assert all(p.grid_fee != 5.0 for p in priced)
    after = [p for p in priced if p.grid_fee == 1.0]
    assert len(after) == 4
    assert after[0].start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_apply_tariff_prices_every_slot() -> None:
    day = date(2026, 1, 14)
    series = series_for_day(day, 15, price=0.8)
    tariff = Tariff(
        import_tariff=ImportTariff(
            spot_multiplier=1.0,
            adders=(FixedAdder(name="tax", per_kwh=0.7),),
            grid_fees=SCHEDULE,
            vat_percent=25,
        ),
        export_tariff=ExportTariff(kind=ExportKind.SPOT, factor=0.9, fee_per_kwh=0.05),
    )
    priced = apply_tariff(series, tariff, COPENHAGEN)
    assert len(priced) == 96
    peak = priced_slot_at(priced, at(day, 18, 5))
    assert peak is not None
    assert peak.import_price == pytest.approx((0.8 + 0.7 + 0.9) * 1.25)
    assert peak.export_price == pytest.approx(0.8 * 0.9 - 0.05)
    off_peak = priced_slot_at(priced, at(day, 12))
    assert off_peak is not None
    assert off_peak.import_price == pytest.approx((0.8 + 0.7 + 0.3) * 1.25)


# --------------------------------------------------------------------------------------------
# Export kinds


def test_export_fixed_and_none() -> None:
    series = series_for_day(date(2026, 1, 14), 60)
    fixed = apply_tariff(
        series, Tariff(export_tariff=ExportTariff(kind=ExportKind.FIXED, fixed_per_kwh=0.42)), UTC
    )
    assert {p.export_price for p in fixed} == {0.42}
    none = apply_tariff(series, Tariff(), UTC)
    assert {p.export_price for p in none} == {None}


def test_export_from_another_series_is_averaged_over_the_import_slot() -> None:
    day = date(2026, 1, 14)
    imports = series_for_day(day, 15)
    half_hours = series_for_day(day, 30)
    export_series = PriceSeries(
        entity_id="event.octopus_export_rates",
        source_format=PriceFormat.OCTOPUS_ENERGY,
        currency="GBP",
        slots=tuple(
            PriceSlot(s.start, s.end, 0.1 * (i % 3)) for i, s in enumerate(half_hours.slots[:-2])
        ),
    )
    tariff = Tariff(
        export_tariff=ExportTariff(kind=ExportKind.ENTITY, entity_id="event.octopus_export_rates")
    )
    priced = apply_tariff(imports, tariff, COPENHAGEN, export_series)
    assert priced[0].export_price == pytest.approx(0.0)
    assert priced[2].export_price == pytest.approx(0.1)
    assert priced[5].export_price == pytest.approx(0.2)
    # The export series stops an hour early: those slots have no export price.
    assert [p.export_price for p in priced[-4:]] == [None] * 4

    hourly_imports = series_for_day(day, 60)
    hourly = apply_tariff(hourly_imports, tariff, COPENHAGEN, export_series)
    assert hourly[0].export_price == pytest.approx(0.05)  # average of 0.0 and 0.1
    assert apply_tariff(hourly_imports, tariff, COPENHAGEN)[0].export_price is None


# --------------------------------------------------------------------------------------------
# Output for the planner, the sensors and the preview


def _with_gap() -> PriceSeries:
    series = series_for_day(date(2026, 1, 14), 15)
    slots = series.slots[:10] + series.slots[12:]
    return PriceSeries(
        entity_id=series.entity_id,
        source_format=series.source_format,
        currency=series.currency,
        slots=slots,
    )


def test_planner_prices_are_contiguous_from_now() -> None:
    series = _with_gap()
    tariff = Tariff(export_tariff=ExportTariff(kind=ExportKind.FIXED, fixed_per_kwh=0.3))
    priced = apply_tariff(series, tariff, COPENHAGEN)
    now = series.slots[3].start + timedelta(minutes=4)
    prices = current_slots(priced, now)
    assert len(prices) == 7
    assert prices[0] == PlannerSlot(series.slots[3].start, series.slots[3].end, 1.0, 0.3)
    assert prices[-1].end == datetime(2026, 1, 14, 2, 30, tzinfo=COPENHAGEN)
    # In the gap there is nothing to plan with.
    assert current_slots(priced, series.slots[9].end + timedelta(minutes=1)) == []
    # After the gap the run goes to the end of the day.
    assert len(current_slots(priced, series.slots[10].start)) == 84


def test_planner_prices_leave_out_export_when_there_is_none() -> None:
    priced = apply_tariff(series_for_day(date(2026, 1, 14), 60), Tariff(), COPENHAGEN)
    prices = current_slots(priced, priced[0].start)
    assert len(prices) == 24
    assert all(p.export_price is None for p in prices)


def test_effective_prices_now_for_the_preview() -> None:
    day = date(2026, 1, 14)
    series = series_for_day(day, 60, price=1.0)
    tariff = Tariff(
        import_tariff=ImportTariff(grid_fees=SCHEDULE, vat_percent=25),
        export_tariff=ExportTariff(kind=ExportKind.SPOT, factor=1.0, fee_per_kwh=0.1),
    )
    import_now, export_now = effective_prices_at(series, tariff, COPENHAGEN, at(day, 18, 30))
    assert import_now == pytest.approx((1.0 + 0.9) * 1.25)
    assert export_now == pytest.approx(0.9)
    assert effective_prices_at(series, tariff, COPENHAGEN, at(day + timedelta(days=2), 1)) == (
        None,
        None,
    )


# --------------------------------------------------------------------------------------------
# Storage and validation


FULL_TARIFF = {
    "import": {
        "spot_multiplier": 1.0,
        "adders": [{"name": "elafgift", "per_kwh": 0.72}, {"name": "margin", "per_kwh": 0.05}],
        "grid_fees": {
            "default_per_kwh": 0.15,
            "periods": [
                {
                    "name": "peak",
                    "per_kwh": 0.9,
                    "start": "17:00",
                    "end": "21:00",
                    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                    "months": [1, 2, 3, 10, 11, 12],
                },
                {"name": "night", "per_kwh": 0.05, "start": "00:00", "end": "06:00"},
            ],
        },
        "vat_percent": 25.0,
    },
    "export": {"kind": "spot", "factor": 1.0, "fee_per_kwh": 0.02},
}


def test_tariff_round_trips_through_options() -> None:
    tariff = Tariff.from_dict(FULL_TARIFF)
    assert tariff.to_dict() == FULL_TARIFF
    assert Tariff.from_dict(json.loads(json.dumps(tariff.to_dict()))) == tariff


def test_empty_options_give_the_plain_spot_tariff() -> None:
    tariff = Tariff.from_dict({})
    assert tariff == Tariff()
    assert tariff.import_tariff.price(0.7, 0.0) == 0.7
    assert tariff.export_tariff.kind is ExportKind.NONE


def test_weekday_numbers_are_accepted() -> None:
    period = GridFeePeriod.from_dict(
        {"name": "p", "per_kwh": 1, "start": "07:00", "end": "08:00", "weekdays": [5, 6]}
    )
    assert period.weekdays == frozenset({5, 6})


def _modified(path: list[Any], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(FULL_TARIFF))
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


PERIODS = ["import", "grid_fees", "periods"]


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (_modified(["import", "vat_percent"], 125), "import.vat_percent", "out_of_range"),
        (_modified(["import", "vat_percent"], "lots"), "import.vat_percent", "not_a_number"),
        (_modified(["import", "spot_multiplier"], -1), "import.spot_multiplier", "out_of_range"),
        (
            _modified(["import", "adders", 1, "per_kwh"], None),
            "import.adders[1].per_kwh",
            "required",
        ),
        (_modified(["import", "adders", 0, "name"], " "), "import.adders[0].name", "empty_name"),
        (_modified(["import", "adders"], "0.72"), "import.adders", "not_a_list"),
        (
            _modified([*PERIODS, 0, "start"], "25:00"),
            "import.grid_fees.periods[0].start",
            "invalid_time",
        ),
        (
            _modified([*PERIODS, 1, "end"], "6pm"),
            "import.grid_fees.periods[1].end",
            "invalid_time",
        ),
        (
            _modified([*PERIODS, 0, "weekdays"], ["mon", "funday"]),
            "import.grid_fees.periods[0].weekdays[1]",
            "invalid_weekday",
        ),
        (
            _modified([*PERIODS, 0, "weekdays"], []),
            "import.grid_fees.periods[0].weekdays",
            "invalid_weekday",
        ),
        (
            _modified([*PERIODS, 0, "months"], [0]),
            "import.grid_fees.periods[0].months[0]",
            "invalid_month",
        ),
        (
            _modified([*PERIODS, 1, "end"], "18:00"),
            "import.grid_fees.periods[1]",
            "overlap",
        ),
        (
            _modified([*PERIODS, 1, "name"], "peak"),
            "import.grid_fees.periods[1].name",
            "duplicate_name",
        ),
        (_modified(["export", "kind"], "barter"), "export.kind", "unknown_kind"),
        (_modified(["export"], {"kind": "entity"}), "export.entity_id", "required"),
        (_modified(["export"], {"kind": "fixed"}), "export.fixed_per_kwh", "required"),
        (
            _modified(["export"], {"kind": "spot", "factor": float("inf")}),
            "export.factor",
            "not_a_number",
        ),
        (_modified(["import"], [1, 2]), "import", "not_a_mapping"),
    ],
)
def test_validation_errors_name_the_field(data: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(TariffError) as caught:
        Tariff.from_dict(data)
    assert caught.value.field == field
    assert caught.value.reason == reason
    assert str(caught.value).startswith(f"{field}: ")


def test_overlap_through_a_period_running_past_midnight() -> None:
    friday_night = {
        "name": "friday night",
        "per_kwh": 0.1,
        "start": "22:00",
        "end": "06:00",
        "weekdays": ["fri"],
    }
    saturday_morning = {
        "name": "saturday morning",
        "per_kwh": 0.2,
        "start": "05:00",
        "end": "07:00",
        "weekdays": ["sat"],
    }
    friday_morning = dict(saturday_morning, name="friday morning", weekdays=["fri"])
    with pytest.raises(TariffError) as caught:
        GridFeeSchedule.from_dict({"periods": [friday_night, saturday_morning]})
    assert caught.value.reason == "overlap"
    assert "sat" in str(caught.value)
    # Friday morning comes before Friday night's period starts: no overlap.
    schedule = GridFeeSchedule.from_dict({"periods": [friday_night, friday_morning]})
    assert len(schedule.periods) == 2


def test_month_limited_wrap_overlaps_only_across_the_month_boundary() -> None:
    # A January-only night period spills into 1 February, where a February period starts at 00:00.
    january_nights = {
        "name": "jan",
        "per_kwh": 0.1,
        "start": "23:00",
        "end": "01:00",
        "months": [1],
    }
    february_days = {"name": "feb", "per_kwh": 0.2, "start": "00:00", "end": "00:30", "months": [2]}
    with pytest.raises(TariffError) as caught:
        GridFeeSchedule.from_dict({"periods": [january_nights, february_days]})
    assert caught.value.reason == "overlap"


def test_a_stored_tariff_with_overlaps_is_refused() -> None:
    clash = GridFeePeriod(name="clash", per_kwh=1.0, start=time(18), end=time(19))
    tariff = Tariff(import_tariff=ImportTariff(grid_fees=GridFeeSchedule(periods=(PEAK, clash))))
    with pytest.raises(TariffError) as caught:
        Tariff.from_dict(tariff.to_dict())
    assert caught.value.field == "import.grid_fees.periods[1]"


_clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@settings(max_examples=100, deadline=None)
@given(
    multiplier=st.floats(0, 5, allow_nan=False),
    vat=st.floats(0, 100, allow_nan=False),
    adders=st.lists(st.floats(-1, 1, allow_nan=False), max_size=3),
    start=_clock,
    end=_clock,
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    months=st.frozensets(st.integers(1, 12), min_size=1),
    export_kind=st.sampled_from(list(ExportKind)),
)
def test_any_valid_tariff_round_trips(
    multiplier: float,
    vat: float,
    adders: list[float],
    start: time,
    end: time,
    weekdays: frozenset[int],
    months: frozenset[int],
    export_kind: ExportKind,
) -> None:
    export = {
        ExportKind.NONE: ExportTariff(),
        ExportKind.SPOT: ExportTariff(kind=ExportKind.SPOT, factor=0.5, fee_per_kwh=0.1),
        ExportKind.FIXED: ExportTariff(kind=ExportKind.FIXED, fixed_per_kwh=0.2),
        ExportKind.ENTITY: ExportTariff(kind=ExportKind.ENTITY, entity_id="sensor.export"),
    }[export_kind]
    tariff = Tariff(
        import_tariff=ImportTariff(
            spot_multiplier=multiplier,
            adders=tuple(FixedAdder(name=f"a{i}", per_kwh=v) for i, v in enumerate(adders)),
            grid_fees=GridFeeSchedule(
                default_per_kwh=0.1,
                periods=(
                    GridFeePeriod(
                        name="p",
                        per_kwh=0.4,
                        start=start,
                        end=end,
                        weekdays=weekdays,
                        months=months,
                    ),
                ),
            ),
            vat_percent=vat,
        ),
        export_tariff=export,
    )
    assert Tariff.from_dict(json.loads(json.dumps(tariff.to_dict()))) == tariff
