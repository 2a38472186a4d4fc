"""Fixed cases for the planner: the JSON contract, DST days, edge cases, switch times, bad input."""

import copy
from datetime import UTC, datetime, timedelta, timezone
import io
import json
import math
from pathlib import Path
import runpy
import subprocess
import sys
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_flex.core.planner import (
    Battery,
    ChargeSettings,
    Plan,
    PlanRequest,
    PlanStatus,
    PlanValidationError,
    PriceSlot,
    Target,
    main,
    plan,
)
from custom_components.ev_flex.core.planner.curve import ChargeCurve

from .planner_reference import build_model, check_against_reference, price_items as _prices, replay

REPO = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
CET = timezone(timedelta(hours=1))


def _request(**overrides: Any) -> dict[str, Any]:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    data: dict[str, Any] = {
        "now": start.isoformat(),
        "battery": {"capacity_kwh": 50.0, "soc_pct": 20.0, "max_soc_pct": 100.0},
        "charge": {"max_kw": 10.0, "efficiency": 1.0},
        "targets": [],
        "prices": _prices(start, [0.3, 0.2, 0.1, 0.4, 0.5, 0.15]),
    }
    data.update(overrides)
    return data


def _plan(data: dict[str, Any]) -> tuple[PlanRequest, Plan]:
    request = PlanRequest.from_dict(data)
    result = plan(request)
    check_against_reference(request, result)
    return request, result


def _iso(moment: datetime) -> str:
    return moment.isoformat()


# --------------------------------------------------------------------------------------------
# The contract


def test_issue_example_round_trips_the_json_contract() -> None:
    now = datetime(2026, 1, 15, 17, 20, tzinfo=CET)
    quarter = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    imports = [1.234, 0.9, 0.8, 0.7] + [0.3 + 0.01 * (i % 7) for i in range(52)]
    data = {
        "now": now.isoformat(),
        "battery": {"capacity_kwh": 75.0, "soc_pct": 32.0, "max_soc_pct": 100.0},
        "charge": {"max_kw": 11.0, "efficiency": 0.9, "taper": [[80, 11.0], [100, 3.0]]},
        "discharge": {
            "max_kw": 10.0,
            "efficiency": 0.9,
            "min_soc_pct": 30.0,
            "wear_cost_per_kwh": 0.02,
        },
        "targets": [{"by": "2026-01-16T07:00:00+01:00", "soc_pct": 80.0}],
        "protective_soc_pct": 20.0,
        "prices": _prices(quarter, imports, minutes=15, exports=[p - 0.3 for p in imports]),
    }
    _, result = _plan(data)
    out = json.loads(json.dumps(result.to_dict()))
    assert set(out) == {
        "status",
        "slots",
        "switch_times",
        "cost",
        "charge_now_cost",
        "savings",
        "energy_charged_kwh",
        "energy_discharged_kwh",
        "targets",
    }
    assert out["status"] == "ok"
    first = out["slots"][0]
    assert set(first) == {
        "start",
        "end",
        "charge_kw",
        "discharge_kw",
        "soc_pct_end",
        "import",
        "export",
    }
    # The slot holding now starts at now, with the offset of the input.
    assert first["start"] == "2026-01-15T17:20:00+01:00"
    assert first["end"] == "2026-01-15T17:30:00+01:00"
    assert len(out["slots"]) == 55
    assert set(out["switch_times"][0]) == {"start", "end", "mode", "kw"}
    assert out["targets"] == [
        {
            "by": "2026-01-16T07:00:00+01:00",
            "soc_pct": 80.0,
            "expected_soc_pct": pytest.approx(80.0, abs=1e-6),
            "met": True,
        }
    ]
    assert out["savings"] == pytest.approx(out["charge_now_cost"] - out["cost"])
    charged = sum(
        s["charge_kw"]
        * (datetime.fromisoformat(s["end"]) - datetime.fromisoformat(s["start"]))
        / timedelta(hours=1)
        for s in out["slots"]
    )
    assert out["energy_charged_kwh"] == pytest.approx(charged)


def test_request_built_in_python_equals_the_json_request() -> None:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    request = PlanRequest(
        now=start,
        battery=Battery(capacity_kwh=50.0, soc_pct=20.0),
        charge=ChargeSettings(max_kw=10.0, efficiency=1.0),
        prices=tuple(
            PriceSlot(start + timedelta(hours=i), start + timedelta(hours=i + 1), price)
            for i, price in enumerate([0.3, 0.2, 0.1, 0.4, 0.5, 0.15])
        ),
        targets=(Target(start + timedelta(hours=5), 60.0),),
    )
    data = _request(targets=[{"by": (start + timedelta(hours=5)).isoformat(), "soc_pct": 60.0}])
    assert plan(request) == plan(PlanRequest.from_dict(data))
    result = plan(request)
    # 20 kWh needed: the two cheapest slots before the deadline (0.1 and 0.2).
    current = result.slots[0]
    assert current.start == start
    assert current.mode == "idle"
    assert [s.charge_kw for s in result.slots] == [0.0, 10.0, 10.0, 0.0, 0.0, 0.0]
    assert result.cost == pytest.approx(3.0)
    assert result.status is PlanStatus.OK


# --------------------------------------------------------------------------------------------
# Fixed cases from the issue


def _berlin_day(day: datetime) -> list[dict[str, Any]]:
    """Hourly prices for one local day, each time with its own UTC offset."""
    begin = day.replace(tzinfo=BERLIN).astimezone(UTC)
    end = (day + timedelta(days=1)).replace(tzinfo=BERLIN).astimezone(UTC)
    items = []
    moment = begin
    hour = 0
    while moment < end:
        items.append(
            {
                "start": moment.astimezone(BERLIN).isoformat(),
                "end": (moment + timedelta(hours=1)).astimezone(BERLIN).isoformat(),
                "import": [0.31, 0.12, 0.27, 0.08, 0.22, 0.4][hour % 6],
                "export": 0.05,
            }
        )
        moment += timedelta(hours=1)
        hour += 1
    return items


@pytest.mark.parametrize(
    ("day", "hours"),
    [(datetime(2026, 3, 29), 23), (datetime(2026, 10, 25), 25)],
    ids=["spring-forward", "fall-back"],
)
def test_dst_days(day: datetime, hours: int) -> None:
    prices = _berlin_day(day)
    assert len(prices) == hours
    start = datetime.fromisoformat(prices[0]["start"])
    data = _request(
        now=start.isoformat(),
        battery={"capacity_kwh": 60.0, "soc_pct": 10.0},
        discharge={"max_kw": 5.0, "efficiency": 0.95, "min_soc_pct": 20.0},
        targets=[{"by": prices[-1]["end"], "soc_pct": 90.0}],
        prices=prices,
    )
    _, result = _plan(data)
    assert result.status is PlanStatus.OK
    # Every slot keeps the offset it came with: both +01:00 and +02:00 appear.
    assert [s["start"] for s in result.to_dict()["slots"]] == [p["start"] for p in prices]
    assert {s.start.utcoffset() for s in result.slots} == {
        timedelta(hours=1),
        timedelta(hours=2),
    }
    # The extra or missing hour is a real hour: energy adds up over exactly `hours` hours.
    assert sum((s.end - s.start) / timedelta(hours=1) for s in result.slots) == hours
    assert result.targets[0].expected_soc_pct == pytest.approx(90.0, abs=1e-6)
    assert result.energy_charged_kwh == pytest.approx(48.0, abs=1e-6)


def test_flat_price_charges_at_once_and_costs_energy_times_price() -> None:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    data = _request(
        prices=_prices(start, [0.25] * 8),
        targets=[{"by": (start + timedelta(hours=8)).isoformat(), "soc_pct": 75.0}],
    )
    _, result = _plan(data)
    # 27.5 kWh at 10 kW: 2.75 h, taken as early as possible, with no gap.
    assert [s.charge_kw for s in result.slots[:4]] == pytest.approx([10.0, 10.0, 7.5, 0.0])
    assert result.cost == pytest.approx(27.5 * 0.25)
    assert result.charge_now_cost == pytest.approx(result.cost)
    assert result.savings == pytest.approx(0.0, abs=1e-9)
    [interval] = result.switch_times
    assert interval.start == start
    assert interval.end == start + timedelta(hours=2, minutes=45)
    assert interval.mode == "charge"
    assert interval.kw == 10.0


def test_all_prices_negative_fills_up_and_earns() -> None:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    imports = [-0.05, -0.2, -0.1, -0.3]
    data = _request(
        battery={"capacity_kwh": 50.0, "soc_pct": 50.0, "max_soc_pct": 90.0},
        charge={"max_kw": 7.0, "efficiency": 0.9},
        discharge={"max_kw": 7.0, "efficiency": 0.9},
        prices=_prices(start, imports, exports=[-0.4, -0.5, -0.45, -0.6]),
    )
    _, result = _plan(data)
    assert result.cost < 0.0
    assert result.energy_discharged_kwh == 0.0
    assert result.slots[-1].soc_pct_end == pytest.approx(90.0)
    # 20 kWh into the battery at 6.3 kWh/h: the three most negative hours fully, 1.1 kWh left.
    assert [s.charge_kw for s in result.slots] == pytest.approx([1.1 / 0.9, 7.0, 7.0, 7.0])


def test_negative_prices_make_the_charge_or_discharge_choice_matter() -> None:
    """Charging and discharging at once would earn money here; the plan must not do both."""
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    data = _request(
        battery={"capacity_kwh": 40.0, "soc_pct": 50.0},
        charge={"max_kw": 10.0, "efficiency": 0.9},
        discharge={"max_kw": 10.0, "efficiency": 0.9},
        prices=_prices(start, [-0.5, 0.2, -0.4, 0.6], exports=[-0.1, 0.1, 0.3, 0.5]),
    )
    _, result = _plan(data)
    for slot in result.slots:
        assert slot.charge_kw == 0.0 or slot.discharge_kw == 0.0


def test_target_already_met_costs_nothing() -> None:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    data = _request(
        battery={"capacity_kwh": 50.0, "soc_pct": 85.0},
        targets=[{"by": (start + timedelta(hours=3)).isoformat(), "soc_pct": 80.0}],
    )
    _, result = _plan(data)
    assert result.status is PlanStatus.OK
    assert result.cost == 0.0
    assert result.charge_now_cost == 0.0
    assert result.switch_times == ()
    assert result.targets[0].met
    assert result.targets[0].expected_soc_pct == pytest.approx(85.0)


def test_departure_in_twenty_minutes() -> None:
    now = datetime(2026, 1, 15, 17, 20, tzinfo=CET)
    quarter = datetime(2026, 1, 15, 17, 15, tzinfo=CET)
    data = _request(
        now=now.isoformat(),
        battery={"capacity_kwh": 50.0, "soc_pct": 40.0},
        charge={"max_kw": 11.0, "efficiency": 0.9},
        targets=[{"by": (now + timedelta(minutes=20)).isoformat(), "soc_pct": 60.0}],
        prices=_prices(quarter, [0.5, 0.1, 0.1, 0.1], minutes=15),
    )
    _, result = _plan(data)
    # The target applies at 17:30, the end of the last slot before 17:40: 10 minutes to charge.
    assert result.slots[0].charge_kw == pytest.approx(11.0)
    expected = 40.0 + 11.0 * 0.9 / 6.0 / 50.0 * 100.0
    assert result.targets[0].expected_soc_pct == pytest.approx(expected)
    assert not result.targets[0].met
    assert result.status is PlanStatus.SHORTFALL
    assert result.switch_times[0].start == now


def test_unreachable_target_minimises_shortfall_first_then_cost() -> None:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    data = _request(
        battery={"capacity_kwh": 50.0, "soc_pct": 10.0},
        targets=[
            {"by": (start + timedelta(hours=2)).isoformat(), "soc_pct": 80.0},
            {"by": (start + timedelta(hours=6)).isoformat(), "soc_pct": 90.0},
        ],
    )
    request, result = _plan(data)
    assert result.status is PlanStatus.SHORTFALL
    # Two hours at 10 kW whatever the price, then the cheapest way to 90 %.
    assert [s.charge_kw for s in result.slots[:2]] == [10.0, 10.0]
    assert result.targets[0].expected_soc_pct == pytest.approx(50.0)
    assert not result.targets[0].met
    assert result.targets[1].met
    model = build_model(request)
    assert model is not None
    assert replay(model, result.to_dict()).shortfall == pytest.approx(15.0)


def test_protective_charging_runs_at_full_power_from_now() -> None:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    data = _request(
        battery={"capacity_kwh": 50.0, "soc_pct": 5.0},
        charge={"max_kw": 4.0, "efficiency": 1.0},
        discharge={"max_kw": 4.0, "efficiency": 1.0},
        protective_soc_pct=25.0,
        prices=_prices(start, [3.0, 3.0, 3.0, 0.1, 5.0, 5.0], exports=[2.0] * 3 + [0.0, 2.0, 2.0]),
    )
    _, result = _plan(data)
    # 10 kWh to the protective level at 4 kW, whatever the price: 2.5 hours.
    assert [s.charge_kw for s in result.slots[:3]] == pytest.approx([4.0, 4.0, 2.0])
    assert result.switch_times[0].start == start
    assert result.switch_times[0].end == start + timedelta(hours=2, minutes=30)
    # Never discharged below it afterwards, even though exporting at 2.0 would pay.
    assert min(s.soc_pct_end for s in result.slots[2:]) == pytest.approx(25.0)


def test_target_beyond_the_prices_waits_for_them() -> None:
    start = datetime(2026, 1, 15, 20, 0, tzinfo=CET)
    data = _request(
        now=start.isoformat(),
        battery={"capacity_kwh": 60.0, "soc_pct": 10.0},
        charge={"max_kw": 10.0, "efficiency": 1.0, "taper": [[80, 10.0], [100, 2.0]]},
        targets=[{"by": "2026-01-16T02:00:00+01:00", "soc_pct": 90.0}],
        prices=_prices(start, [0.3, 0.2, 0.1, 0.4]),
    )
    _, result = _plan(data)
    assert result.status is PlanStatus.AWAITING_PRICES
    curve = ChargeCurve.build(60.0, 10.0, ((80.0, 10.0), (100.0, 2.0)), 1.0, 60.0)
    needed = curve.required_start(54.0, 2.0)
    assert result.slots[-1].soc_pct_end == pytest.approx(needed / 60.0 * 100.0, abs=1e-6)
    assert result.targets[0].expected_soc_pct == pytest.approx(90.0, abs=1e-6)
    assert result.targets[0].met
    # Charging now stops once the horizon has provided what the target needs.
    remaining, baseline = needed - 6.0, 0.0
    for price in (0.3, 0.2, 0.1, 0.4):
        baseline += price * min(10.0, remaining)
        remaining -= min(10.0, remaining)
    assert result.charge_now_cost == pytest.approx(baseline)
    assert result.cost == pytest.approx(10.0 * 0.2 + 10.0 * 0.1 + (needed - 26.0) * 0.3)


def test_target_beyond_the_prices_that_needs_nothing_now_is_ok() -> None:
    start = datetime(2026, 1, 15, 20, 0, tzinfo=CET)
    data = _request(
        now=start.isoformat(),
        targets=[{"by": "2026-01-16T07:00:00+01:00", "soc_pct": 80.0}],
        prices=_prices(start, [0.3, 0.2, 0.1, 0.4]),
    )
    _, result = _plan(data)
    assert result.status is PlanStatus.OK
    assert result.cost == 0.0
    assert result.targets[0].met


def test_soc_above_max_soc_is_never_charged_higher() -> None:
    data = _request(battery={"capacity_kwh": 50.0, "soc_pct": 95.0, "max_soc_pct": 80.0})
    data["prices"][2]["import"] = -1.0
    _, result = _plan(data)
    assert result.energy_charged_kwh == 0.0
    assert all(s.soc_pct_end == pytest.approx(95.0) for s in result.slots)


@pytest.mark.parametrize(
    "prices",
    [[], "past"],
    ids=["empty", "all-past"],
)
def test_no_prices(prices: Any) -> None:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    if prices == "past":
        prices = _prices(start - timedelta(hours=3), [0.1, 0.2, 0.3])
    data = _request(
        prices=prices, targets=[{"by": (start + timedelta(hours=4)).isoformat(), "soc_pct": 90.0}]
    )
    result = plan(PlanRequest.from_dict(data))
    assert result.status is PlanStatus.NO_PRICES
    assert result.slots == ()
    assert result.slots == ()
    assert result.to_dict()["targets"] == [
        {
            "by": (start + timedelta(hours=4)).isoformat(),
            "soc_pct": 90.0,
            "expected_soc_pct": 20.0,
            "met": False,
        }
    ]


def test_prices_starting_after_now_give_no_prices() -> None:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    data = _request(now=(start - timedelta(minutes=5)).isoformat())
    assert plan(PlanRequest.from_dict(data)).status is PlanStatus.NO_PRICES


# --------------------------------------------------------------------------------------------
# Switch times


def _quarters(imports: list[float], need_kwh: float) -> Plan:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    data = _request(
        battery={"capacity_kwh": 100.0, "soc_pct": 0.0},
        prices=_prices(start, imports, minutes=15),
        targets=[
            {"by": (start + timedelta(minutes=15 * len(imports))).isoformat(), "soc_pct": need_kwh}
        ],
    )
    return _plan(data)[1]


def test_part_slot_after_an_on_slot_runs_at_its_start() -> None:
    # 2.5 kWh per quarter at 10 kW; 6 kWh: two full quarters, then 1 kWh = 6 minutes.
    result = _quarters([1.0, 0.1, 0.1, 0.2, 1.0], 6.0)
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    assert [s.charge_kw for s in result.slots] == pytest.approx([0.0, 10.0, 10.0, 4.0, 0.0])
    [interval] = result.switch_times
    assert interval.start == start + timedelta(minutes=15)
    assert interval.end == start + timedelta(minutes=51)
    assert interval.to_dict()["end"] == "2026-01-15T17:51:00+01:00"


def test_part_slot_before_an_on_slot_runs_at_its_end() -> None:
    result = _quarters([1.0, 0.2, 0.1, 0.1, 1.0], 6.0)
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    [interval] = result.switch_times
    assert interval.start == start + timedelta(minutes=24)
    assert interval.end == start + timedelta(minutes=60)


def test_separate_runs_stay_separate_and_part_slots_alone_start_at_the_slot() -> None:
    result = _quarters([0.1, 0.5, 0.5, 0.2, 0.5], 3.5)
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    assert [(i.start, i.end) for i in result.switch_times] == [
        (start, start + timedelta(minutes=15)),
        (start + timedelta(minutes=45), start + timedelta(minutes=51)),
    ]


def test_switch_times_have_exact_fractional_seconds() -> None:
    result = _quarters([1.0, 0.1, 1.0], 1.0 / 3.0)
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    [interval] = result.switch_times
    assert interval.start == start + timedelta(minutes=15)
    # 1/3 kWh at 10 kW is 2 minutes exactly.
    assert interval.end == start + timedelta(minutes=17)


def test_discharge_intervals_are_merged_by_mode() -> None:
    start = datetime(2026, 1, 15, 17, 0, tzinfo=CET)
    data = _request(
        battery={"capacity_kwh": 50.0, "soc_pct": 80.0},
        discharge={"max_kw": 5.0, "efficiency": 1.0, "min_soc_pct": 50.0},
        prices=_prices(start, [0.3, 0.3, 0.3, 0.3], exports=[-0.1, 0.5, 0.6, -0.1]),
    )
    _, result = _plan(data)
    [interval] = result.switch_times
    assert (interval.mode, interval.kw) == ("discharge", 5.0)
    assert (interval.start, interval.end) == (
        start + timedelta(hours=1),
        start + timedelta(hours=3),
    )


# --------------------------------------------------------------------------------------------
# The charging curve


@pytest.mark.parametrize("hours", [0.0, 0.3, 1.0, 2.5, 6.0])
@pytest.mark.parametrize("taper", [(), ((60.0, 11.0), (90.0, 5.0), (100.0, 0.0))])
def test_required_start_matches_numerical_integration(
    hours: float, taper: tuple[tuple[float, float], ...]
) -> None:
    curve = ChargeCurve.build(60.0, 11.0, taper, 0.9, 57.0)
    target = 56.0
    start = curve.required_start(target, hours)
    assert curve.flow(start, hours) == pytest.approx(target, abs=1e-9)
    # Euler steps of one second from that start reach the target too.
    energy = start
    for _ in range(round(hours * 3600)):
        energy += 0.9 * curve.power_limit(energy) / 3600.0
    assert energy == pytest.approx(target, abs=1e-3)


def test_a_target_above_max_soc_is_unreachable_after_the_horizon() -> None:
    curve = ChargeCurve.build(60.0, 11.0, (), 0.9, 48.0)
    assert math.isinf(curve.required_start(50.0, 10.0))
    assert curve.flow(40.0, 10.0) == 48.0


# --------------------------------------------------------------------------------------------
# Bad input


def _set(path: list[Any], value: Any) -> dict[str, Any]:
    data = _request(
        targets=[{"by": "2026-01-15T20:00:00+01:00", "soc_pct": 80.0}],
        discharge={"max_kw": 5.0, "efficiency": 0.9},
        charge={"max_kw": 10.0, "efficiency": 0.9, "taper": [[80, 10.0], [100, 3.0]]},
    )
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def _unsorted() -> dict[str, Any]:
    data = _request()
    data["prices"][2] = dict(data["prices"][0])
    return data


def _overlap() -> dict[str, Any]:
    data = _request()
    data["prices"][2]["start"] = "2026-01-15T18:30:00+01:00"
    return data


def _gap() -> dict[str, Any]:
    data = _request()
    del data["prices"][3]
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_set(["battery", "capacity_kwh"], -5.0), "battery.capacity_kwh: must be positive"),
        (_set(["battery", "capacity_kwh"], 0), "battery.capacity_kwh: must be positive"),
        (_set(["battery", "soc_pct"], 101.0), "battery.soc_pct: must be between 0 and 100"),
        (_set(["battery", "soc_pct"], -1.0), "battery.soc_pct: must be between 0 and 100"),
        (_set(["battery", "max_soc_pct"], 120), "battery.max_soc_pct: must be between 0 and 100"),
        (_set(["targets", 0, "soc_pct"], 100.5), "targets[0].soc_pct: must be between 0 and 100"),
        (_set(["charge", "efficiency"], 0.0), "charge.efficiency: must be in (0, 1]"),
        (_set(["charge", "efficiency"], 1.2), "charge.efficiency: must be in (0, 1]"),
        (_set(["discharge", "efficiency"], 0.0), "discharge.efficiency: must be in (0, 1]"),
        (_set(["discharge", "min_soc_pct"], 150), "discharge.min_soc_pct: must be between"),
        (_set(["discharge", "max_kw"], -1), "discharge.max_kw: must not be negative"),
        (_set(["charge", "max_kw"], -1), "charge.max_kw: must not be negative"),
        (_set(["protective_soc_pct"], 101), "protective_soc_pct: must be between 0 and 100"),
        (_unsorted(), "prices[2].start: prices are not sorted by start"),
        (_overlap(), "prices[2].start: overlaps the previous slot"),
        (_gap(), "prices[3].start: gap after the previous slot"),
        (_set(["prices", 0, "end"], "2026-01-15T17:00:00+01:00"), "prices[0].end: must be after"),
        (_set(["targets", 0, "by"], "2026-01-15T16:59:00+01:00"), "targets[0].by: is before now"),
        (
            _set(["charge", "taper"], [[50, 10], [70, 4], [100, 2]]),
            "charge.taper[2]: the taper must be concave",
        ),
        (
            _set(["charge", "taper"], [[80, 10], [90, 3]]),
            "charge.taper: the taper must be concave",
        ),
        (_set(["charge", "taper"], [[80, 3], [100, 10]]), "charge.taper[1][1]: the taper must not"),
        (_set(["charge", "taper"], [[80, 10], [80, 3]]), "charge.taper[1][0]: SoC points must"),
        (_set(["charge", "taper"], [[80, 10, 3]]), "charge.taper[0]: must be a pair"),
        (_set(["charge", "taper"], [[120, 10]]), "charge.taper[0][0]: must be between 0 and 100"),
        (_set(["charge", "taper"], "80:10"), "charge.taper: must be a list"),
        (_set(["now"], "2026-01-15T17:00:00"), "now: needs a UTC offset"),
        (_set(["now"], "yesterday"), "now: must be an ISO 8601 time"),
        (_set(["now"], 5), "now: must be an ISO 8601 time"),
        (_set(["prices", 1, "import"], "cheap"), "prices[1].import: must be a number"),
        (_set(["prices", 1, "import"], None), "prices[1].import: is required"),
        (_set(["prices", 1, "export"], float("nan")), "prices[1].export: must be a finite"),
        (_set(["battery", "soc_pct"], True), "battery.soc_pct: must be a number"),
        (_set(["battery"], None), "battery: must be an object"),
        (_set(["prices", 0], [1, 2]), "prices[0]: must be an object"),
    ],
)
def test_validation_names_the_field_and_the_problem(data: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanValidationError) as caught:
        PlanRequest.from_dict(data)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(caught.value.field + ": ")


def test_requests_built_in_python_are_validated_too() -> None:
    request = PlanRequest.from_dict(_request())
    broken = PlanRequest(
        now=request.now,
        battery=Battery(capacity_kwh=50.0, soc_pct=120.0),
        charge=request.charge,
        prices=request.prices,
    )
    with pytest.raises(PlanValidationError, match=r"battery\.soc_pct"):
        plan(broken)
    naive = PlanRequest(
        now=datetime(2026, 1, 15, 17, 0),
        battery=request.battery,
        charge=request.charge,
        prices=request.prices,
    )
    with pytest.raises(PlanValidationError, match="now: needs a UTC offset"):
        plan(naive)


def test_request_round_trips_through_to_dict() -> None:
    data = _set(["protective_soc_pct"], 15.0)
    request = PlanRequest.from_dict(data)
    again = PlanRequest.from_dict(json.loads(json.dumps(request.to_dict())))
    assert again == request


# --------------------------------------------------------------------------------------------
# Command line


def _cli(stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "custom_components.ev_flex.core.planner"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_cli_plans_json_from_stdin() -> None:
    data = _request(targets=[{"by": "2026-01-15T22:00:00+01:00", "soc_pct": 60.0}])
    done = _cli(json.dumps(data))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out == json.loads(json.dumps(plan(PlanRequest.from_dict(data)).to_dict()))
    assert out["status"] == "ok"
    assert out["cost"] == pytest.approx(3.0)
    assert done.stderr == "", "the command line prints nothing but the plan"


def test_running_the_package_runs_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(_request())))
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("custom_components.ev_flex.core.planner", run_name="__main__")
    assert exited.value.code == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ok"


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (json.dumps(_set(["battery", "soc_pct"], 140)), "battery.soc_pct: must be between"),
        (json.dumps(_overlap()), "prices[2].start: overlaps the previous slot"),
        ("{not json", "request: invalid JSON"),
        ("[]", "request: must be an object"),
    ],
    ids=["soc-out-of-range", "overlap", "not-json", "not-an-object"],
)
def test_cli_exits_2_with_the_message_on_bad_input(stdin: str, message: str) -> None:
    done = _cli(stdin)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("stdin", "code", "stream"),
    [
        (json.dumps(_request()), 0, "out"),
        (json.dumps(_set(["charge", "efficiency"], 2)), 2, "err"),
        ("", 2, "err"),
    ],
    ids=["valid", "invalid", "empty"],
)
def test_main_in_process(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdin: str,
    code: int,
    stream: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert main() == code
    captured = capsys.readouterr()
    if stream == "out":
        assert json.loads(captured.out)["status"] == "ok"
        assert captured.err == ""
    else:
        assert captured.out == ""
        assert captured.err.startswith(("charge.efficiency: must be in (0, 1]", "request: invalid"))


def test_request_dict_is_not_modified() -> None:
    data = _request(targets=[{"by": "2026-01-15T22:00:00+01:00", "soc_pct": 60.0}])
    before = copy.deepcopy(data)
    plan(PlanRequest.from_dict(data))
    assert data == before
