"""The planner with a house: solar, the fuse, the export limit, the capacity tariff, a minimum
charging power and several cars, each checked against the MILP on the same model."""

from datetime import UTC, datetime, timedelta, timezone
import io
import json
import math
from pathlib import Path
import sys
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings, strategies as st
import pytest

from custom_components.ev_flex.core.planner import (
    Plan,
    PlanRequest,
    PlanStatus,
    PlanValidationError,
    SitePlan,
    SiteRequest,
    SlotFlow,
    main,
    plan,
    plan_site,
)
from custom_components.ev_flex.core.planner.multi import _kept_to_limits
from custom_components.ev_flex.core.planner.plan_reader import read_plan
from custom_components.ev_flex.core.planner.site import _kept_within, _KeptPlan, prepare

from .planner_reference import (
    build_model,
    check_against_reference,
    check_site_against_reference,
    price_items,
    solve_site_reference,
)

CET = timezone(timedelta(hours=1))
START = datetime(2026, 6, 10, 8, 0, tzinfo=CET)


def _prices(imports: list[float], exports: list[float] | None, minutes: int = 60) -> list[Any]:
    return price_items(START, imports, minutes, exports)


def _request(site: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "now": START.isoformat(),
        "battery": {"capacity_kwh": 60.0, "soc_pct": 30.0},
        "charge": {"max_kw": 11.0, "efficiency": 0.9},
        "targets": [{"by": (START + timedelta(hours=6)).isoformat(), "soc_pct": 60.0}],
        "prices": _prices([0.30, 0.28, 0.25, 0.26, 0.32, 0.35], [0.08] * 6),
    }
    if site is not None:
        data["site"] = site
    data.update(overrides)
    return data


def _bench_car_request(
    site: dict[str, Any], prices: list[Any], soc_pct: float, hours: int, target_pct: float
) -> dict[str, Any]:
    """The planner bench's car (75 kWh, 11 kW tapering above 80 %, 10 kW V2G down to 30 %) in
    this house, asked for `target_pct` within `hours`."""
    return _request(
        site,
        prices=prices,
        battery={"capacity_kwh": 75.0, "soc_pct": soc_pct},
        charge={"max_kw": 11.0, "efficiency": 0.9, "taper": [[80.0, 11.0], [100.0, 3.0]]},
        targets=[{"by": (START + timedelta(hours=hours)).isoformat(), "soc_pct": target_pct}],
        discharge={
            "max_kw": 10.0,
            "efficiency": 0.9,
            "min_soc_pct": 30.0,
            "wear_cost_per_kwh": 0.02,
        },
        protective_soc_pct=20.0,
    )


def _plan(data: dict[str, Any], rel_tol: float = 1e-6) -> Plan:
    request = PlanRequest.from_dict(data)
    result = plan(request)
    check_against_reference(request, result, rel_tol=rel_tol)
    return result


# --------------------------------------------------------------------------------------------
# One car in a house: exact


def test_solar_surplus_is_charged_first_at_the_export_price() -> None:
    solar = [0.0, 6.0, 9.0, 9.0, 2.0, 0.0]
    result = _plan(_request({"base_load_kw": [1.0] * 6, "solar_kw": solar}))
    # 18 kWh (30 % -> 60 % of 60 kWh) at 90 %: 20 kWh from the grid side; the surplus hours
    # (5 + 8 + 8 kW) hold 21 kWh, so nothing is imported for the car.
    for slot, sun in zip(result.slots, solar, strict=True):
        assert slot.grid_kw is not None
        assert slot.grid_kw <= max(1.0 - sun, 0.0) + 1e-9
    assert result.cost == pytest.approx(20.0 * 0.08)
    assert result.peak_kw is not None


def test_the_fuse_caps_charging_with_the_house_load() -> None:
    site = {"base_load_kw": [7.0, 2.0, 6.0, 7.0, 3.0, 2.0], "import_limit_kw": 11.0}
    result = _plan(_request(site))
    for slot, load in zip(result.slots, site["base_load_kw"], strict=True):
        assert slot.charge_kw <= 11.0 - load + 1e-9
        assert slot.grid_kw == pytest.approx(load + slot.charge_kw)
    assert result.targets[0].met


def test_a_house_over_the_fuse_stops_charging_but_needs_no_discharge() -> None:
    site = {"base_load_kw": [12.0] * 6, "import_limit_kw": 11.0}
    result = _plan(_request(site, targets=[]))
    assert all(s.charge_kw == 0.0 and s.discharge_kw == 0.0 for s in result.slots)
    assert result.cost == 0.0


def test_discharging_covers_the_house_at_the_import_price_then_exports() -> None:
    data = _request(
        {"base_load_kw": [2.0] * 6, "export_limit_kw": 3.0},
        battery={"capacity_kwh": 60.0, "soc_pct": 90.0},
        targets=[],
        discharge={"max_kw": 10.0, "efficiency": 1.0, "min_soc_pct": 20.0},
        prices=_prices([0.40] * 6, [0.30] * 6),
    )
    result = _plan(data)
    # 2 kW saves 0.40, and the export limit lets 3 kW more out at 0.30: 5 kW in every hour.
    assert [s.discharge_kw for s in result.slots] == pytest.approx([5.0] * 6)
    assert result.cost == pytest.approx(-6 * (2.0 * 0.40 + 3.0 * 0.30))


def test_a_tapering_car_fills_up_from_solar_within_its_taper() -> None:
    data = _request(
        {"base_load_kw": [1.0] * 6, "solar_kw": [0.0, 9.0, 9.0, 9.0, 9.0, 0.0]},
        battery={"capacity_kwh": 60.0, "soc_pct": 70.0},
        charge={"max_kw": 11.0, "efficiency": 1.0, "taper": [[70.0, 11.0], [100.0, 2.0]]},
        targets=[{"by": (START + timedelta(hours=6)).isoformat(), "soc_pct": 100.0}],
        discharge={"max_kw": 5.0, "efficiency": 1.0, "min_soc_pct": 20.0},
        prices=_prices([0.30, 0.28, 0.25, 0.26, 0.32, 0.35], [0.08] * 6),
    )
    result = _plan(data)
    # The taper lets 8 kW of surplus in at 48 kWh and 4 kW at 56 kWh: the four sunny hours
    # still hold the 19 kWh, so the car covers the first hour's load and imports nothing.
    assert result.targets[0].met
    assert result.slots[0].grid_kw == pytest.approx(0.0)
    assert all((s.grid_kw or 0.0) <= 1e-9 for s in result.slots[1:5])
    assert result.cost == pytest.approx(19.0 * 0.08 - 1.0 * 0.30)


def test_a_tapering_car_keeps_the_hours_import_for_after_its_solar_quarter() -> None:
    # 6.6 kWh in two hours at no energy price, a tariff over 1 kW, 5 kW of sun in the third
    # quarter. The car may take 2.4 kWh before its taper starts at 30 kWh: importing the
    # hour's share first takes it into the taper, and the sunny quarter then takes less.
    quarters = 12
    data = _request(
        {"base_load_kw": [0.0] * quarters, "solar_kw": [0.0, 0.0, 5.0] + [0.0] * (quarters - 3)},
        battery={"capacity_kwh": 60.0, "soc_pct": 46.0},
        charge={"max_kw": 5.0, "efficiency": 1.0, "taper": [[50.0, 5.0], [100.0, 1.0]]},
        targets=[{"by": (START + timedelta(hours=2)).isoformat(), "soc_pct": 57.0}],
        prices=_prices([0.0] * quarters, [0.0] * quarters, minutes=15),
    )
    data["site"] |= {"peak_price_per_kw": 1.0, "current_peak_kw": 1.0}
    result = _plan(data)
    # The 5.35 kWh the sun doesn't give, shared by the two hours: 2.675 kW on average.
    assert result.peak_kw == pytest.approx(2.675, abs=1e-6)
    assert result.slots[2].charge_kw == pytest.approx(5.0)


def test_a_minimum_the_taper_lowers_is_kept_under_a_tariff() -> None:
    # At 81 % the taper allows 1.95 kW, under the 2 kW minimum: that is the least the car
    # charges at, and the tariff's search of the peak mustn't settle a hair below it.
    data = _request(
        {"base_load_kw": [0.0], "solar_kw": [0.0], "import_limit_kw": 2.0},
        battery={"capacity_kwh": 40.0, "soc_pct": 81.0},
        charge={"max_kw": 2.0, "efficiency": 1.0, "min_kw": 2.0, "taper": [[80, 2], [100, 1]]},
        targets=[{"by": (START + timedelta(minutes=15)).isoformat(), "soc_pct": 82.0}],
        prices=_prices([0.0], None, minutes=15),
    )
    data["site"] |= {"peak_price_per_kw": 1.0, "current_peak_kw": 0.0}
    result = _plan(data, rel_tol=1e-3)
    assert result.slots[0].charge_kw >= 1.95 - 1e-9


def test_the_peak_search_is_not_misled_by_the_rounding_at_the_lowest_cap() -> None:
    # The car stores energy in the free first hour to cover the house's dear quarter, and is
    # paid to charge in the next hour: the two hours' averages balance at 2/7 kW. The cost
    # falls steeply from the lowest cap (1/4 kW); a line through two caps a hair apart there
    # once bounded the cost above that balance, and the search stopped short of it.
    data = _request(
        {"base_load_kw": [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], "solar_kw": [0.0] * 7},
        battery={"capacity_kwh": 40.0, "soc_pct": 0.0},
        charge={"max_kw": 1.0, "efficiency": 0.875},
        targets=[{"by": (START + timedelta(minutes=15)).isoformat(), "soc_pct": 0.0}],
        discharge={
            "max_kw": 1.0,
            "efficiency": 1.0,
            "min_soc_pct": 0.0,
            "wear_cost_per_kwh": 0.008928571428571425,
        },
        prices=_prices(
            [0.0, 0.0, 0.0, 0.5, -0.0625, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0, -0.0625, 0.0, 0.0],
            minutes=15,
        ),
    )
    data["site"] |= {"peak_price_per_kw": 1.0, "current_peak_kw": 0.0}
    result = _plan(data)
    assert result.peak_kw == pytest.approx(2.0 / 7.0, abs=1e-6)


def test_a_replan_charges_up_to_what_the_hour_already_imported() -> None:
    # Planned at 08:00 with 1 kWh already counted for the hour: its average is 1 kW whatever
    # the car does, so the next hour may import up to 1 kW on average at no extra peak cost,
    # and the car is paid to charge in its last quarter.
    data = _request(
        {"base_load_kw": [0.0] * 6, "solar_kw": [0.0] * 6, "hour_import_kwh": 1.0},
        battery={"capacity_kwh": 40.0, "soc_pct": 0.0},
        charge={"max_kw": 1.0, "efficiency": 1.0},
        targets=[{"by": START.isoformat(), "soc_pct": 0.0}],
        prices=_prices([0.0] * 5 + [-0.0625], None, minutes=15),
    )
    data["site"] |= {"peak_price_per_kw": 1.0, "current_peak_kw": 0.0}
    result = _plan(data)
    assert result.slots[5].charge_kw == pytest.approx(1.0)
    assert result.cost == pytest.approx(-0.015625)


def test_the_peak_search_finds_the_cheapest_cap_where_export_pays_more_than_import() -> None:
    # Free import, and export paid at 0.5 at 09:00 and 15:00: the car stores 1 kWh over the
    # seven hours before 15:00 at 1/7 kW each. The cost isn't convex in the peak (at 1/4 kW
    # the 09:00 export starts to pay too), and lines through higher caps bounded it wrongly.
    exports = [0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0]
    data = _request(
        {"base_load_kw": [0.0] * 11, "solar_kw": [0.0] * 11, "peak_price_per_kw": 2.0},
        battery={"capacity_kwh": 40.0, "soc_pct": 0.0},
        charge={"max_kw": 1.0, "efficiency": 1.0},
        targets=[{"by": START.isoformat(), "soc_pct": 0.0}],
        discharge={"max_kw": 1.0, "efficiency": 1.0, "min_soc_pct": 0.0, "wear_cost_per_kwh": 0.0},
        prices=_prices([0.0] * 11, exports),
    )
    result = _plan(data)
    assert result.peak_kw == pytest.approx(1.0 / 7.0)
    assert result.slots[7].discharge_kw == pytest.approx(1.0)


def test_export_dearer_than_import_is_planned_exactly() -> None:
    data = _request(
        {"base_load_kw": [1.0] * 6, "solar_kw": [4.0] * 6},
        prices=_prices([0.10, 0.10, 0.05, 0.20, 0.10, 0.10], [0.15, 0.02, 0.20, 0.01, 0.30, 0.0]),
        discharge={"max_kw": 5.0, "efficiency": 0.95, "min_soc_pct": 10.0},
    )
    _plan(data)


def test_a_stored_site_plan_reads_back_whole() -> None:
    result = _plan(_request({"base_load_kw": [1.0] * 6, "peak_price_per_kw": 1.0}))
    assert result.peak_kw is not None
    assert read_plan(json.loads(json.dumps(result.to_dict()))) == result


def test_without_a_site_the_plan_has_no_house_fields() -> None:
    data = _request()
    out = plan(PlanRequest.from_dict(data)).to_dict()
    assert "peak_kw" not in out
    assert all("grid_kw" not in slot for slot in out["slots"])


def test_the_capacity_tariff_spreads_charging_over_the_hours() -> None:
    site = {
        "base_load_kw": [1.0] * 6,
        "import_limit_kw": 17.0,
        "peak_price_per_kw": 5.0,
        "current_peak_kw": 2.0,
    }
    result = _plan(_request(site, prices=_prices([0.30, 0.10, 0.30, 0.30, 0.30, 0.30], None)))
    # 20 kWh in six hours at 1 kW of house load: one even level beats the cheap hour.
    assert result.peak_kw == pytest.approx(1.0 + 20.0 / 6.0)
    assert result.peak_cost == pytest.approx(5.0 * (result.peak_kw - 2.0))
    assert result.targets[0].met


def test_v2g_shaves_the_house_peak_when_the_tariff_pays() -> None:
    data = _request(
        {
            "base_load_kw": [1.0, 1.0, 8.0, 1.0, 1.0, 1.0],
            "peak_price_per_kw": 1.0,
            "current_peak_kw": 2.0,
        },
        battery={"capacity_kwh": 60.0, "soc_pct": 80.0},
        targets=[],
        discharge={
            "max_kw": 10.0,
            "efficiency": 1.0,
            "min_soc_pct": 20.0,
            "wear_cost_per_kwh": 0.1,
        },
        prices=_prices([0.05] * 6, [0.0] * 6),
    )
    result = _plan(data)
    # Wear costs more than the energy saves: only the tariff makes discharging pay.
    assert [s.discharge_kw for s in result.slots] == pytest.approx([0, 0, 6.0, 0, 0, 0])
    assert result.peak_kw == pytest.approx(2.0)
    assert result.cost == pytest.approx(6.0 * (0.1 - 0.05) - 6.0 * 1.0)


def test_quarter_hours_under_a_capacity_tariff_keep_the_hourly_average() -> None:
    count = 24
    data = _request(
        {"base_load_kw": [0.5 + (i % 4) for i in range(count)], "peak_price_per_kw": 3.0},
        prices=_prices([0.2 + 0.05 * ((i * 7) % 5) for i in range(count)], None, minutes=15),
        targets=[{"by": (START + timedelta(hours=6)).isoformat(), "soc_pct": 45.0}],
    )
    request = PlanRequest.from_dict(data)
    result = plan(request)
    check_against_reference(request, result)


def test_an_hour_of_quarters_shares_one_budget_between_charging_and_v2g() -> None:
    """Discharging in the hour's dear quarters frees import for its cheapest one: a cap per
    quarter can't see that trade, one budget for the hour can."""
    imports = [0.16, 0.19, 0.21, 0.20, 0.09, 0.25, 0.49, 0.34]
    data = _request(
        {
            "base_load_kw": [1.5, 2.5, 0.1, 1.4, 5.3, 5.5, 2.0, 4.6],
            "peak_price_per_kw": 4.0,
            "current_peak_kw": 3.5,
        },
        battery={"capacity_kwh": 40.0, "soc_pct": 56.0},
        charge={"max_kw": 9.0, "efficiency": 0.9},
        targets=[{"by": (START + timedelta(hours=2)).isoformat(), "soc_pct": 46.0}],
        prices=_prices(imports, [p / 2.0 for p in imports], minutes=15),
        discharge={
            "max_kw": 8.0,
            "efficiency": 0.9,
            "min_soc_pct": 10.0,
            "wear_cost_per_kwh": 0.01,
        },
    )
    result = _plan(data)
    # The second hour: charge in its cheap first quarter, discharge in the three dear ones,
    # and the hour's average import stays at the month's peak.
    second = result.slots[4:]
    assert second[0].charge_kw > 8.0
    assert all(slot.discharge_kw > 0.0 for slot in second[1:])
    assert result.peak_kw == pytest.approx(3.5)


def _over_the_months_peak(price_per_kw: float, target_soc_pct: float) -> dict[str, Any]:
    """Six hours of quarters over a 1 kW house whose month's peak is 4 kW, with V2G."""
    imports = [0.30, 0.12, 0.10, 0.14, 0.28, 0.33, 0.12, 0.35] * 3
    return _request(
        {"base_load_kw": [1.0] * 24, "peak_price_per_kw": price_per_kw, "current_peak_kw": 4.0},
        battery={"capacity_kwh": 60.0, "soc_pct": 40.0},
        targets=[{"by": (START + timedelta(hours=6)).isoformat(), "soc_pct": target_soc_pct}],
        prices=_prices(imports, [p / 2.0 for p in imports], minutes=15),
        discharge={"max_kw": 8.0, "efficiency": 0.9, "min_soc_pct": 20.0},
    )


# Just above and below the tariff where the first kW over the month's peak saves as much
# energy as it costs (about 0.065 per kW here).
@pytest.mark.parametrize(
    ("price_per_kw", "kept"), [(2.0, True), (0.07, True), (0.06, False), (0.01, False)]
)
def test_a_charge_over_the_months_peak_is_kept_to_it_only_where_that_pays(
    price_per_kw: float, kept: bool
) -> None:
    """Charging at full power would set a new peak. A dear tariff keeps the plan at the
    month's peak; a cheap one lets it rise where a little more peak saves more energy."""
    result = _plan(_over_the_months_peak(price_per_kw, target_soc_pct=60.0))
    assert result.targets[0].met
    assert result.peak_kw is not None
    assert (result.peak_kw == pytest.approx(4.0)) is kept


def test_a_target_the_months_peak_cannot_reach_raises_the_peak() -> None:
    """20 kWh in six hours over a 1 kW house needs more than the month's 4 kW peak, however
    dear the tariff: the lowest peak that reaches the target is searched for."""
    result = _plan(_over_the_months_peak(2.0, target_soc_pct=70.0))
    assert result.targets[0].met
    assert result.peak_kw is not None
    assert result.peak_kw > 4.0


def test_a_replan_in_the_middle_of_an_hour_counts_what_the_hour_already_imported() -> None:
    """At half past, 4 kWh imported since the hour began leave 1 kWh under a 5 kW peak: the
    cheap quarters left in the hour may not fill the half hour up to 5 kW again."""
    imports = [0.30, 0.30, 0.10, 0.10, 0.30, 0.30, 0.30, 0.30, 0.25, 0.25, 0.25, 0.25]
    data = _request(
        {"base_load_kw": [1.0] * 12, "peak_price_per_kw": 10.0, "current_peak_kw": 5.0},
        prices=_prices(imports, None, minutes=15),
        targets=[{"by": (START + timedelta(hours=3)).isoformat(), "soc_pct": 40.0}],
    )
    data["now"] = (START + timedelta(minutes=30)).isoformat()
    data["site"]["hour_import_kwh"] = 4.0
    result = _plan(data)
    rest_of_hour = sum(0.25 * slot.grid_kw for slot in result.slots[:2] if slot.grid_kw)
    assert 4.0 + rest_of_hour <= 5.0 + 1e-6
    assert result.peak_kw == pytest.approx(5.0)
    assert result.slots[0].charge_kw > 0.0


# --------------------------------------------------------------------------------------------
# Minimum charging power


def test_minimum_power_never_charges_below_it() -> None:
    data = _request(
        {"base_load_kw": [3.0] * 6, "import_limit_kw": 8.0},
        charge={"max_kw": 11.0, "efficiency": 0.9, "min_kw": 4.14},
        targets=[{"by": (START + timedelta(hours=6)).isoformat(), "soc_pct": 33.0}],
    )
    result = _plan(data, rel_tol=1e-3)
    powers = [s.charge_kw for s in result.slots if s.charge_kw > 0.0]
    assert powers
    assert all(4.14 - 1e-9 <= p <= 5.0 + 1e-9 for p in powers)


def test_minimum_power_gives_way_to_the_taper() -> None:
    data = _request(
        {"base_load_kw": [0.5] * 6},
        battery={"capacity_kwh": 60.0, "soc_pct": 80.0},
        charge={"max_kw": 11.0, "efficiency": 1.0, "min_kw": 4.14, "taper": [[50, 11], [100, 1]]},
        targets=[{"by": (START + timedelta(hours=6)).isoformat(), "soc_pct": 100.0}],
    )
    result = _plan(data, rel_tol=1e-3)
    # Near full the taper allows less than the minimum: the car still charges, at the taper.
    assert result.targets[0].met
    assert any(0.0 < s.charge_kw < 4.14 for s in result.slots)


def test_minimum_power_without_a_site() -> None:
    data = _request(charge={"max_kw": 7.0, "efficiency": 1.0, "min_kw": 4.0})
    data["targets"][0]["soc_pct"] = 35.0
    result = _plan(data, rel_tol=1e-3)
    assert "peak_kw" not in result.to_dict()
    assert all(s.charge_kw == 0.0 or s.charge_kw >= 4.0 - 1e-9 for s in result.slots)


def test_a_capacity_tariff_never_costs_a_reachable_target() -> None:
    """A short stop before a departure, a minimum power and a peak price: capping the hour's
    import would be cheaper, but the target is reachable only without the cap."""
    start = datetime(2026, 3, 31, 13, 45, tzinfo=UTC)
    imports = [0.0946, 0.0939, 0.0937, 0.0974, 0.1034]
    data = {
        "now": (start + timedelta(minutes=8)).isoformat(),
        "battery": {"capacity_kwh": 75.0, "soc_pct": 86.088},
        "charge": {"max_kw": 11.04, "efficiency": 0.9, "min_kw": 4.14},
        "targets": [{"by": (start + timedelta(minutes=63)).isoformat(), "soc_pct": 90.0}],
        "prices": [
            {
                "start": (start + timedelta(minutes=15 * i)).isoformat(),
                "end": (start + timedelta(minutes=15 * (i + 1))).isoformat(),
                "import": price,
                "export": price,
            }
            for i, price in enumerate(imports)
        ],
        "site": {
            "base_load_kw": [0.398, 0.427, 0.453, 1.25, 0.647],
            "solar_kw": [3.612, 3.473, 3.321, 3.158, 2.982],
            "import_limit_kw": 17.25,
            "peak_price_per_kw": 10.0,
            "current_peak_kw": 0.0,
        },
    }
    result = plan(PlanRequest.from_dict(data))
    assert result.status is PlanStatus.OK
    assert all(target.met for target in result.targets)


# --------------------------------------------------------------------------------------------
# Several cars


def _site_request(site: dict[str, Any], vehicles: list[dict[str, Any]]) -> dict[str, Any]:
    base = _request(site)
    return {"now": base["now"], "prices": base["prices"], "site": site, "vehicles": vehicles}


def _car(
    identity: str,
    soc: float,
    target: float,
    hours: int = 6,
    capacity_kwh: float = 60.0,
    charge: tuple[float, float] = (11.0, 0.9),
    **extra: Any,
) -> dict[str, Any]:
    """A car of a site request; `charge` is its (kW, efficiency)."""
    return {
        "id": identity,
        "battery": {"capacity_kwh": capacity_kwh, "soc_pct": soc},
        "charge": {"max_kw": charge[0], "efficiency": charge[1]},
        "targets": [{"by": (START + timedelta(hours=hours)).isoformat(), "soc_pct": target}],
        **extra,
    }


def test_two_cars_share_the_fuse() -> None:
    site = {"base_load_kw": [2.0] * 6, "import_limit_kw": 13.0}
    data = _site_request(site, [_car("a", 20.0, 60.0, hours=3), _car("b", 20.0, 60.0)])
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result)
    assert [v.id for v in result.vehicles] == ["a", "b"]
    assert all(slot.grid_kw <= 13.0 for slot in result.slots)
    assert result.status == "ok"
    # The first car's early deadline takes the room first; together they fill the fuse.
    assert sum(s.charge_kw for v in result.vehicles for s in v.plan.slots[:3]) >= 26.0


def test_two_cars_share_the_capacity_tariff_and_solar() -> None:
    site = {
        "base_load_kw": [1.0] * 6,
        "solar_kw": [0.0, 5.0, 7.0, 6.0, 1.0, 0.0],
        "import_limit_kw": 17.0,
        "peak_price_per_kw": 2.0,
        "current_peak_kw": 4.0,
    }
    second = _car("b", 50.0, 70.0, discharge={"max_kw": 5.0, "efficiency": 0.9})
    data = _site_request(site, [_car("a", 30.0, 55.0), second])
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result)
    assert result.peak_kw == pytest.approx(max(0.0, *(s.grid_kw for s in result.slots)))


def test_two_cars_planned_at_half_past_count_what_the_hour_already_imported() -> None:
    """7 kWh imported in the first half hour leave 1 kWh to 8 kW for the rest of it: the hour
    counts as 7.5 kW with the house's own half hour, and no hour goes over the month's peak."""
    site = {
        "base_load_kw": [1.0] * 6,
        "solar_kw": [0.0, 5.0, 7.0, 6.0, 1.0, 0.0],
        "peak_price_per_kw": 50.0,
        "current_peak_kw": 8.0,
        "hour_import_kwh": 7.0,
    }
    data = _site_request(site, [_car("a", 30.0, 45.0), _car("b", 50.0, 60.0)])
    data["now"] = (START + timedelta(minutes=30)).isoformat()
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result)
    assert 7.0 + 0.5 * result.slots[0].grid_kw <= 8.0 + 1e-6
    assert 7.5 - 1e-6 <= result.peak_kw <= 8.0 + 1e-6


def test_a_car_that_can_wait_leaves_the_cheap_hour_to_the_one_that_cannot() -> None:
    """Planned one after the other, the first car takes the cheapest hour and the second, which
    leaves early, has to charge in the dearest: only together do they swap."""
    site = {"base_load_kw": [2.0] * 6, "import_limit_kw": 13.0}
    data = _site_request(site, [_car("a", 20.0, 36.5), _car("b", 20.0, 36.5, hours=2)])
    data["prices"] = _prices([0.20, 0.10, 0.15, 0.15, 0.15, 0.15], None)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    # 11 kWh each through a 9.9 kWh target at 90 %: the leaving car gets the 0.10 hour.
    assert result.vehicles[1].plan.slots[1].charge_kw == pytest.approx(11.0)
    assert result.vehicles[0].plan.slots[1].charge_kw == pytest.approx(0.0, abs=1e-9)
    assert result.cost == pytest.approx(11.0 * 0.10 + 11.0 * 0.15)


def test_two_cars_share_each_hours_budget_in_its_cheapest_quarter() -> None:
    """Twelve hours of quarters under a capacity tariff: planned alone, the 7.4 kW car takes
    an hour's cheapest quarter up to its own power and spills the rest of the hour's budget
    into dearer quarters; together the cars fill the cheapest quarter first."""
    count = 48
    # Prices that change quarter by quarter, with no two hours alike.
    imports = [
        0.25 + 0.05 * math.sin(1.3 * i) + 0.03 * math.cos(0.37 * i * i) for i in range(count)
    ]
    big = _car("big", 30.0, 50.0, hours=12, battery={"capacity_kwh": 75.0, "soc_pct": 30.0})
    small = _car("small", 50.0, 80.0, hours=12, battery={"capacity_kwh": 40.0, "soc_pct": 50.0})
    small["charge"]["max_kw"] = 7.4
    site = {
        "base_load_kw": [0.4] * count,
        "import_limit_kw": 17.3,
        "peak_price_per_kw": 1.5,
        "current_peak_kw": 2.0,
    }
    data = _site_request(site, [big, small])
    data["prices"] = price_items(START, imports, 15)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-5)


def test_the_cars_share_the_hours_again_while_the_peak_falls() -> None:
    """Free energy all day and a 1 kW load in the last hour under a capacity tariff: the car
    with V2G charges slowly to cover that hour, and the other needs 0.4 kWh within two hours.
    Each sharing of the hours' budgets lowers the peak; only sharing again at the lower peak
    brings both down to 0.2 kW."""
    v2g = {"max_kw": 1.0, "efficiency": 1.0, "min_soc_pct": 0.0}
    shaving = _car("shaving", 0.0, 0.0, hours=0, discharge=v2g)
    shaving["battery"]["capacity_kwh"] = 40.0
    shaving["charge"] = {"max_kw": 1.0, "efficiency": 0.875}
    waiting = _car("waiting", 0.0, 1.0, hours=2)
    waiting["battery"]["capacity_kwh"] = 40.0
    waiting["charge"] = {"max_kw": 1.0, "efficiency": 1.0}
    site = {
        "base_load_kw": [0.0] * 11 + [1.0],
        "peak_price_per_kw": 1.0,
        "current_peak_kw": 0.0,
    }
    data = _site_request(site, [shaving, waiting])
    data["prices"] = _prices([0.0] * 12, [0.0] * 12)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-4)
    assert result.peak_kw == pytest.approx(0.2, abs=1e-4)


@pytest.mark.parametrize("v2g", [True, False])
def test_an_evening_over_the_peak_is_kept_by_the_car_that_can_discharge(v2g: bool) -> None:
    """The house alone imports 3 kW in two hours, over the month's 2 kW peak: only a car with
    V2G can bring those hours down, so under the hours' shared budgets the car that can't
    discharge is planned after it; with no such car the evening stays over the peak."""
    site = {
        "base_load_kw": [0.5, 0.5, 3.0, 3.0, 0.5, 0.5],
        "peak_price_per_kw": 5.0,
        "current_peak_kw": 2.0,
    }
    second = _car("other", 30.0, 40.0)
    if v2g:
        second = _car("shaves", 50.0, 40.0, discharge={"max_kw": 5.0, "efficiency": 0.9})
    request = SiteRequest.from_dict(_site_request(site, [_car("waits", 30.0, 45.0), second]))
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    assert result.peak_kw == pytest.approx(2.1 if v2g else 4.0 + 1.0 / 9.0)


def test_the_house_follows_the_powers_of_the_cars_plans() -> None:
    """A car's energies may stray from its power limit by a rounding, which its plan keeps to:
    the house's grid power, peak and cost are those of the plans the cars follow."""
    site = {
        "base_load_kw": [0.0] * 8 + [1.0, 1.0],
        "peak_price_per_kw": 0.5,
        "current_peak_kw": 0.0,
    }
    idle = _car("idle", 0.0, 0.0, hours=0, battery={"capacity_kwh": 40.0, "soc_pct": 0.0})
    idle["charge"] = {"max_kw": 1.0, "efficiency": 1.0}
    late = _car("late", 0.0, 80.0, hours=13, battery={"capacity_kwh": 40.0, "soc_pct": 0.0})
    late["charge"] = {"max_kw": 3.25, "efficiency": 0.9375}
    data = _site_request(site, [idle, late])
    data["prices"] = _prices([0.0] * 5 + [0.5, 0.5] + [0.0] * 3, None)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-3)
    assert all(s.charge_kw <= 3.25 for s in result.vehicles[1].plan.slots)


def test_two_cars_with_v2g_share_the_export_limit_where_export_pays_more() -> None:
    """Export dearer than import in some hours and a 2 kW export limit: the house's cost isn't
    convex there, and the cars have to take turns at exporting."""
    site = {
        "base_load_kw": [1.0] * 6,
        "solar_kw": [0.0, 6.0, 8.0, 8.0, 3.0, 0.0],
        "import_limit_kw": 12.0,
        "export_limit_kw": 2.0,
    }
    v2g = {"max_kw": 6.0, "efficiency": 0.9, "min_soc_pct": 30.0}
    cars = [_car("a", 50.0, 60.0, discharge=v2g), _car("b", 60.0, 50.0, discharge=v2g)]
    data = _site_request(site, cars)
    data["prices"] = _prices(
        [0.30, 0.05, 0.10, 0.28, 0.40, 0.45], [0.10, 0.20, 0.02, 0.05, 0.30, 0.50]
    )
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    # The cars never export beyond the limit, nor beyond what the solar alone exports.
    for slot, sun in zip(result.slots, site["solar_kw"], strict=True):
        assert slot.grid_kw >= -max(2.0, sun - 1.0)


def test_a_car_with_v2g_feeds_the_other_where_the_house_cannot_export() -> None:
    """No export allowed, and a dear first hour: the full car can discharge more than the
    house uses then only into the empty car, which gives it back in the second hour, when
    the full car is already discharging all it can. Neither car sees that on its own."""
    site = {"base_load_kw": [2.0, 3.0], "export_limit_kw": 0.0}
    full = _car(
        "full", 50.0, 0.0, 0, 40.0, (6.0, 0.9), discharge={"max_kw": 2.5, "efficiency": 0.95}
    )
    empty = _car(
        "empty", 0.0, 0.0, 0, 40.0, (6.0, 0.9), discharge={"max_kw": 4.0, "efficiency": 0.9}
    )
    data = _site_request(site, [full, empty])
    data["prices"] = _prices([0.50, 0.35], [0.05, 0.15])
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    # The full car discharges its 2.5 kW in both hours, 0.5 kW of it into the empty car.
    assert [s.discharge_kw for s in result.vehicles[0].plan.slots] == pytest.approx([2.5, 2.5])
    assert result.vehicles[1].plan.slots[0].charge_kw == pytest.approx(0.5)
    assert [s.grid_kw for s in result.slots] == pytest.approx([0.0, 0.5 - 0.5 * 0.9 * 0.9])


def test_a_car_mixing_plans_keeps_the_grid_power_of_the_mix() -> None:
    """The best joint plan mixes one car's plans that charge and discharge in the same hours.
    Mixing their energies would lose less than the mix reckoned and push the house past the
    export limit of 0 kW; the car keeps the mix's grid power instead. (The site's whole
    programme charges and discharges that car in one hour at -0.05, burning energy to import
    more, which no car can do: its plan is set aside.)"""
    site = {
        "base_load_kw": [2.22, 3.64, 3.42, 5.56, 6.0, 2.43, 0.0, 6.0],
        "solar_kw": [3.22, 2.42, 1.1, 8.0, 8.0, 6.0, 3.0, 0.0],
        "import_limit_kw": 14.91,
        "export_limit_kw": 0.0,
    }
    v2g = {"max_kw": 2.62, "efficiency": 1.0, "min_soc_pct": 10.04}
    first = _car("v2g", 67.4, 12.22, 1, 40.0, (9.92, 0.98), discharge=v2g)
    second = _car("tapers", 3.82, 95.13, 10, 40.0, (8.64, 0.97))
    second["charge"]["taper"] = [[80.0, 8.64], [100.0, 1.0]]
    data = _site_request(site, [first, second])
    imports = [0.0, -0.05, 0.27, 0.06, 0.32, -0.03, 0.46, 0.0]
    data["prices"] = _prices(imports, [*imports[:6], 0.23, 0.0])
    data["now"] = (START + timedelta(minutes=37)).isoformat()
    request = SiteRequest.from_dict(data)
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_three_cars_trading_solar_and_a_small_fuse_reach_the_joint_optimum() -> None:
    """Two cars with V2G and one without, a 1 kW fuse and solar most hours: the cheapest mix
    of their plans takes many rounds of prices that jump from round to round; the prices
    smoothed over the rounds close in on it within the rounds allowed."""
    site = {
        "base_load_kw": [0.0, 2.57, 0.0, 5.65, 4.95, 2.52, 0.0, 4.28, 0.0, 0.0, 1.63, 3.02, 4.8],
        "solar_kw": [4.29, 3.74, 2.36, 0.09, 0.0, 7.75, 0.05, 7.6, 5.91, 2.75, 7.12, 0.46, 3.96],
        "import_limit_kw": 1.0,
    }
    v2g = {"max_kw": 8.93, "efficiency": 0.8, "min_soc_pct": 32.5}
    first = _car("a", 60.14, 2.73, 9, 40.0, (7.3, 1.0), discharge=v2g)
    second = _car("b", 78.15, 0.0, 14, 40.0, (6.11, 0.86))
    v2g = {"max_kw": 6.42, "efficiency": 0.89, "wear_cost_per_kwh": 0.02}
    third = _car("c", 0.0, 0.0, 25, 40.0, (2.0, 0.8), discharge=v2g)
    data = _site_request(site, [first, second, third])
    imports = [0.5, 0.29, 0.48, 0.0, 0.59, 0.0, 0.01, 0.59, 0.26, 0.37, 0.24, -0.02, 0.0]
    exports = [0.0, -0.07, 0.48, 0.0, 0.59, 0.0, 0.0, 0.0, 0.26, 0.0, 0.12, -0.02, 0.0]
    data["prices"] = _prices(imports, exports)
    data["now"] = (START + timedelta(minutes=1)).isoformat()
    request = SiteRequest.from_dict(data)
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_the_solar_goes_to_the_car_that_saves_most_with_it_not_the_first_planned() -> None:
    """Four hours of solar surplus, a dear evening and a dear night, on quarter hours. The
    first car, with V2G and nearly empty, would store the surplus to discharge it in the
    evening; the third car saves more with it than that earns, since it would otherwise buy
    its charge at night. Planned in turns, the first car keeps the surplus and the third
    can't take it: the third car must be planned before the first."""
    load, solar, imports = [], [], []
    for slot in range(48):
        hour = slot // 4
        load.append(0.5 if hour < 4 else 2.0 if hour < 8 else 0.4)
        solar.append(4.0 if hour < 4 else 0.0)
        imports.append(0.30 if hour < 4 else 0.33 if hour < 8 else 0.30)
    site = {"base_load_kw": load, "solar_kw": solar, "import_limit_kw": 17.0}
    v2g = {"max_kw": 5.0, "efficiency": 0.9, "min_soc_pct": 20.0}
    first = _car("first", 20.0, 0.0, 12, 60.0, (11.0, 0.9), discharge=v2g)
    second = _car("second", 50.0, 50.0, 12, 40.0, (7.4, 0.9))
    third = _car("third", 20.0, 60.0, 12, 30.0, (3.7, 0.9))
    data = _site_request(site, [first, second, third])
    data["prices"] = _prices(imports, [0.10] * 48, 15)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    # The third car's 12 kWh come from the 14 kWh of surplus; the first car gets the rest.
    charged = [sum(s.charge_kw for s in v.plan.slots[:16]) / 4.0 for v in result.vehicles]
    assert charged[2] == pytest.approx(12.0 / 0.9)
    assert charged[0] == pytest.approx(14.0 - 12.0 / 0.9)


def test_a_target_the_fuse_alone_cant_reach_takes_the_other_cars_discharge() -> None:
    """A 1 kW fuse and an empty car due at 1.2 kWh within the hour: only the other car's
    discharge makes the room. Planned in turns the first car stopped at the fuse, 0.2 kWh
    short, which a random run of the properties found; a missed target now gets the site's
    whole programme solved."""
    site = {"base_load_kw": [0.0] * 6, "import_limit_kw": 1.0}
    v2g = {"max_kw": 1.0, "efficiency": 1.0, "min_soc_pct": 0.0, "wear_cost_per_kwh": 0.0}
    first = _car("a", 0.0, 3.0, 1, 40.0, (2.0, 1.0))
    second = _car("b", 1.0, 0.0, 0, 40.0, (1.0, 1.0), discharge=v2g)
    data = _site_request(site, [first, second])
    data["prices"] = _prices([0.0] * 6, [0.0] * 6)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    assert result.status == "ok"
    assert result.vehicles[0].plan.slots[0].soc_pct_end == pytest.approx(3.0)


def test_two_cars_share_the_hours_below_zero_up_to_the_fuse() -> None:
    """Two empty V2G cars on a 1 kW fuse, each due at 1 % within seven hours, and four hours
    at -0.001. Planned in turns, the first car took just its target and the second the rest
    in bits: -0.0013, where filling the fuse in each of those hours earns 0.004 (found by a
    random run of the properties, with prices a hair below zero). Two cars on a short horizon
    get the site's whole programme solved first."""
    site = {"base_load_kw": [0.0] * 8 + [1.33, 0.0, 0.0], "import_limit_kw": 1.0}
    site["export_limit_kw"] = 0.0
    v2g = {"max_kw": 9.9, "efficiency": 0.95, "wear_cost_per_kwh": 0.03}
    first = _car("a", 0.0, 1.0, 7, 40.0, (4.0, 0.98), discharge=v2g)
    second = _car("b", 0.0, 1.0, 7, 40.0, (4.0, 0.8), discharge=v2g)
    data = _site_request(site, [first, second])
    below = -0.001
    imports = [below, 0.06, below, 0.38, below, 0.38, 0.52, 0.24, 0.0, 0.12, below]
    exports = [below, 0.03, below, 0.38, below, 0.2, 0.0, 0.12, 0.0, 0.12, below]
    data["prices"] = _prices(imports, exports)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    assert result.cost == pytest.approx(-0.004)
    for hour in (0, 2, 4, 10):
        assert sum(v.plan.slots[hour].charge_kw for v in result.vehicles) == pytest.approx(1.0)


def test_two_cars_charging_whole_quarters_at_full_power_reach_the_optimum() -> None:
    # A day of quarters (96 slots) from 17:00 on 5 Jan 2026: DK1 day-ahead prices (Energinet)
    # with a grid fee and VAT, the benchmark's winter house and a 17.3 kW fuse. An 11 kW and a
    # 7.4 kW car, each with its full power as its minimum, as a car switched on and off is
    # planned where two could pass the fuse together: the fuse fits one at a time. The search
    # spent its budget on the many small changes and stopped 0.52 % above the optimum; where
    # a descent spends its budget, one trying the likeliest changes first follows.
    _check_kept_house("two_switched_cars_day.json", 16.553496035000002, rel_tol=1e-6)


def test_a_car_moves_a_quarter_into_the_peak_hour_charging_less_in_another() -> None:
    # Kept from the scan of synthetic prices with independent noise per quarter (seed 43,
    # house 7): 30 hours of quarters, a 13.8 kW fuse, a capacity tariff of 5 per kW above a
    # 5 kW peak, a 3.7 kW car with its full power as its minimum and a 7.4 kW one with a
    # 4.14 kW minimum. The optimum moves the second car's 19:45 quarter into the 21:00 hour,
    # which is at the peak, and charges that car less in another quarter of the hour. The
    # search's estimate counted the move as raising the peak and ranked it 3,121st of 3,310
    # moves, so the plan stayed 0.85 % above the optimum (5.3584 against 5.3135, by HiGHS).
    _check_kept_house("two_cars_minimum_noise_prices.json", 5.313476513835549, rel_tol=1e-6)


def test_three_cars_over_two_days_get_the_sites_whole_programme_solved() -> None:
    # Two days of quarters (192 slots) from 17:00 on 1 Feb 2026: DK1 day-ahead prices
    # (Energinet) with a grid fee and VAT, the benchmark's winter house with a little sun, a
    # 17.3 kW fuse and a capacity tariff above a 5 kW peak. An 11 kW car with V2G and a 7.4 kW
    # one due the next morning, and a 3.7 kW one due the morning after. Planned in turns, the
    # first car stored the next day's solar surplus to discharge in the evening, which the third
    # car, buying at night otherwise, values more; no car's turn could swap that, and the plan
    # stayed 1.1 % above the optimum. Three cars without a minimum get the site's whole
    # programme solved now.
    request = _kept_request("three_cars_2_days.json")
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    solar = [s.charge_kw for s in result.vehicles[2].plan.slots[68:88]]
    assert sum(solar) / 4.0 > 5.0


def _quarter_hour_trio(
    site: dict[str, Any], socs: tuple[float, float], v2g_kw: tuple[float, float]
) -> SiteRequest:
    """Two quarter hours, the second paying 0.5 for export and nothing for import; cars of
    1 kW, lossless: the first two at these charges with V2G of these powers (none for 0), the
    third empty and due at 1 % by the end."""
    cars = []
    for identity, soc, power in zip("ab", socs, v2g_kw, strict=True):
        v2g = {"max_kw": power, "efficiency": 1.0} if power else None
        car = _car(identity, soc, 0.0, 0, 40.0, (1.0, 1.0))
        if v2g:
            car["discharge"] = v2g
        cars.append(car)
    third = _car("c", 0.0, 1.0, 0, 40.0, (1.0, 1.0))
    third["targets"][0]["by"] = (START + timedelta(minutes=30)).isoformat()
    data = _site_request(site, [*cars, third])
    data["prices"] = _prices([0.0, 0.0], [0.0, 0.5], 15)
    return SiteRequest.from_dict(data)


def test_three_cars_keep_the_export_limit_a_discharging_car_would_pass_for_the_others() -> None:
    """The second car discharges 2 kW into a well-paid quarter while the third charges; the
    third, planned after it, took that export as the house's own and charged less, leaving
    the house 0.4 kW over the export limit."""
    site = {"base_load_kw": [0.0, 0.0], "import_limit_kw": 1.0, "export_limit_kw": 1.0}
    request = _quarter_hour_trio(site, (0.0, 2.0), (1.0, 2.0))
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=None)
    assert result.slots[1].grid_kw >= -1.0


def test_a_car_planned_before_an_earlier_one_keeps_the_house_to_the_fuse() -> None:
    """The fuse is full with the house's own 1 kW in the second quarter; the third car charges
    there only on the first car's discharge. Planned before the first car, it counted on a
    discharge the first car then sent to the grid instead, 1 kW over the fuse."""
    site = {"base_load_kw": [0.0, 1.0], "import_limit_kw": 1.0}
    request = _quarter_hour_trio(site, (1.0, 0.0), (2.0, 0.0))
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=None)
    assert result.slots[1].grid_kw <= 1.0


def _house_grid(request: SiteRequest, result: SitePlan) -> list[float]:
    """The house's grid power per slot, summed as the house sums it: its load, then each car's
    charge minus discharge in turn."""
    site = request.site
    grid = []
    for t in range(len(result.slots)):
        power = site.base_load_kw[t] - (site.solar_kw[t] if site.solar_kw else 0.0)
        for vehicle in result.vehicles:
            power += vehicle.plan.slots[t].charge_kw - vehicle.plan.slots[t].discharge_kw
        grid.append(power)
    return grid


def test_two_cars_filling_the_fuse_keep_the_house_to_it_exactly() -> None:
    """The first car takes the fuse for its early target, the second fills it for three hours
    towards its own: made from energies, its powers summed with the house's load went 5e-15
    kW over the 9.9 kW fuse in the last of them."""
    site = {"base_load_kw": [2.24, 1.27, 2.6, 2.87, 2.83, 1.63], "import_limit_kw": 9.9}
    first = _car("a", 41.1, 58.2, hours=1, charge=(11.0, 1.0))
    second = _car("b", 32.2, 87.6, hours=4, charge=(11.0, 0.85))
    data = _site_request(site, [first, second])
    data["prices"] = _prices([0.20, 0.26, 0.29, 0.28, 0.24, 0.11], None)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    assert all(power <= 9.9 for power in _house_grid(request, result))
    assert [slot.grid_kw for slot in result.slots] == _house_grid(request, result)
    # The second car fills the fuse from 09:00 to its target at 12:00, which it can't reach.
    assert _house_grid(request, result)[1:4] == pytest.approx([9.9] * 3)


def test_three_cars_at_the_fuse_with_a_vanishing_price_difference_keep_to_it_exactly() -> None:
    """Prices a picoeuro apart: the cars' mix fills the 17.01 kW fuse, and the summed powers
    went 4e-15 kW over it."""
    site = {"base_load_kw": [0.87, 1.72, 1.24, 1.89], "import_limit_kw": 17.01}
    cars = [
        _car("a", 12.0, 50.4, hours=4, capacity_kwh=40.0, charge=(11.0, 0.9)),
        _car("b", 17.8, 57.0, hours=4, capacity_kwh=40.0, charge=(3.7, 0.9)),
        _car("c", 24.1, 75.1, hours=4, capacity_kwh=40.0, charge=(11.0, 0.9)),
    ]
    data = _site_request(site, cars)
    data["prices"] = _prices([0.25, 0.25 + 1e-12, 0.25 - 1e-12, 0.25], None)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    assert all(power <= 17.01 for power in _house_grid(request, result))
    assert max(_house_grid(request, result)) == pytest.approx(17.01)


def test_a_rounding_over_the_fuse_is_cut_from_a_car_above_its_minimum() -> None:
    """Two cars 1e-12 kW over the fuse in the first hour: the car held at its 4 kW minimum
    keeps it, the other charges that much less, and discharges that much less energy in the
    next hour, so its energy is the plan's again from then on."""
    site = {"base_load_kw": [1.0, 1.0, 1.0], "import_limit_kw": 11.0}
    held = _car("held", 20.0, 0.0, hours=3, capacity_kwh=40.0, charge=(11.0, 1.0))
    held["charge"]["min_kw"] = 4.0
    v2g = {"max_kw": 5.0, "efficiency": 1.0}
    free = _car("free", 50.0, 0.0, hours=3, capacity_kwh=40.0, charge=(11.0, 1.0), discharge=v2g)
    data = _site_request(site, [held, free])
    data["prices"] = _prices([0.10, 0.30, 0.30], [0.20] * 3)
    request = SiteRequest.from_dict(data)
    cars = [prepare(request.vehicle_request(index)) for index in range(2)]
    assert cars[0] is not None
    assert cars[1] is not None
    over = 6.0 + 1e-12
    flows = [
        [SlotFlow(4.0, 0.0, 12.0), SlotFlow(0.0, 0.0, 12.0), SlotFlow(0.0, 0.0, 12.0)],
        [
            SlotFlow(over, 0.0, 20.0 + over),
            SlotFlow(0.0, 3.0, 17.0 + over),
            SlotFlow(0.0, 0.0, 17.0 + over),
        ],
    ]
    kept = _kept_to_limits([cars[0], cars[1]], [1.0, 1.0, 1.0], flows)
    assert kept[0] == flows[0]
    assert 1.0 + kept[0][0].charge_kw + kept[1][0].charge_kw <= 11.0
    assert kept[1][0].charge_kw == pytest.approx(6.0, abs=1e-15)
    assert kept[1][0].energy_kwh == 20.0 + kept[1][0].charge_kw
    # The energy the cut left out is discharged less in the next hour, back on the plan.
    assert kept[1][1].discharge_kw < 3.0
    assert kept[1][1].energy_kwh == pytest.approx(17.0 + over, abs=1e-14)
    assert kept[1][2] == SlotFlow(0.0, 0.0, kept[1][1].energy_kwh)


def test_site_request_round_trips_and_prints_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _site_request({"import_limit_kw": 11.0}, [_car("a", 40.0, 50.0), _car("b", 40.0, 45.0)])
    request = SiteRequest.from_dict(data)
    assert SiteRequest.from_dict(request.to_dict()) == request
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(data)))
    assert main() == 0
    out = json.loads(capsys.readouterr().out)
    assert out == json.loads(json.dumps(plan_site(request).to_dict()))
    assert [v["id"] for v in out["vehicles"]] == ["a", "b"]
    assert {"peak_kw", "peak_cost", "cost", "slots"} <= out.keys()
    assert "grid_kw" in out["vehicles"][0]["plan"]["slots"][0]


def test_site_plan_without_prices_now() -> None:
    data = _site_request({}, [_car("a", 40.0, 50.0)])
    data["now"] = (START - timedelta(hours=2)).isoformat()
    result = plan_site(SiteRequest.from_dict(data))
    assert result == SitePlan(status=result.status, vehicles=result.vehicles)
    assert result.status == "no_prices"


# --------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    ("site", "field"),
    [
        ({"base_load_kw": [1.0, 2.0]}, "site.base_load_kw"),
        ({"solar_kw": [0.0] * 5 + [-1.0]}, "site.solar_kw[5]"),
        ({"solar_kw": [0.0] * 5 + ["x"]}, "site.solar_kw[5]"),
        ({"import_limit_kw": -1.0}, "site.import_limit_kw"),
        ({"export_limit_kw": -0.5}, "site.export_limit_kw"),
        ({"peak_price_per_kw": -2.0}, "site.peak_price_per_kw"),
        ({"current_peak_kw": -2.0}, "site.current_peak_kw"),
        ({"hour_import_kwh": -1.0}, "site.hour_import_kwh"),
        ({"hour_import_kwh": math.inf}, "site.hour_import_kwh"),
        ({"import_limit_kw": 3.0}, "site.import_limit_kw"),
        ([1, 2], "site"),
    ],
)
def test_site_validation_names_the_field(site: Any, field: str) -> None:
    data = _request(site, charge={"max_kw": 11.0, "efficiency": 0.9, "min_kw": 4.14})
    with pytest.raises(PlanValidationError) as raised:
        PlanRequest.from_dict(data)
    assert raised.value.field == field


def test_non_finite_site_values_are_rejected() -> None:
    # JSON can't carry NaN, Python can.
    data = _request({"base_load_kw": [1.0] * 5 + [math.nan]})
    with pytest.raises(PlanValidationError, match=r"site.base_load_kw\[5\]: must be a finite"):
        PlanRequest.from_dict(data)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda d: d["vehicles"][1]["battery"].update(capacity_kwh=0.0),
            "vehicles[1].battery.capacity_kwh",
        ),
        (lambda d: d["vehicles"][1].update(id="a"), "vehicles[1].id"),
        (lambda d: d["vehicles"][0].update(id=""), "vehicles[0].id"),
        (lambda d: d.update(vehicles=[]), "vehicles"),
        (lambda d: d["vehicles"].append(3), "vehicles[2]"),
        (lambda d: d.pop("site"), "site"),
        (lambda d: d["site"].update(base_load_kw=[1.0]), "site.base_load_kw"),
        (lambda d: d["vehicles"][0]["charge"].update(min_kw=20.0), "site.import_limit_kw"),
        (lambda d: d["prices"][0].update(import_price=None, **{"import": "x"}), "prices[0].import"),
    ],
)
def test_site_request_validation_names_the_field(change: Any, field: str) -> None:
    data = _site_request({"import_limit_kw": 11.0}, [_car("a", 40.0, 50.0), _car("b", 40.0, 45.0)])
    change(data)
    with pytest.raises(PlanValidationError) as raised:
        SiteRequest.from_dict(data)
    assert raised.value.field == field


def test_site_request_must_be_an_object() -> None:
    with pytest.raises(PlanValidationError, match="request: must be an object"):
        SiteRequest.from_dict([])


# --------------------------------------------------------------------------------------------
# Random cases against the MILP

EXAMPLES = 150


@st.composite
def site_requests(
    draw: st.DrawFn, minutes: int = 60, tapered: bool = False, most: int = 12
) -> dict[str, Any]:
    count = draw(st.integers(1, most))
    imports = draw(st.lists(st.floats(-0.1, 0.6), min_size=count, max_size=count))
    exports: list[float] = []
    for price in imports:
        # Mostly below the import price, as with real tariffs; sometimes above.
        exports.append(draw(st.one_of(st.floats(-0.1, 0.6), st.just(price * 0.5))))
    has_export = draw(st.booleans())
    data = _request(
        {
            "base_load_kw": draw(st.lists(st.floats(0.0, 6.0), min_size=count, max_size=count)),
            "solar_kw": draw(st.lists(st.floats(0.0, 8.0), min_size=count, max_size=count)),
        },
        prices=_prices(imports, exports if has_export else None, minutes),
        battery={"capacity_kwh": 40.0, "soc_pct": draw(st.floats(0.0, 100.0))},
        charge={"max_kw": draw(st.floats(1.0, 11.0)), "efficiency": draw(st.floats(0.8, 1.0))},
    )
    now = START + timedelta(minutes=draw(st.integers(0, minutes - 1)))
    data["now"] = now.isoformat()
    by = now + timedelta(minutes=minutes * draw(st.integers(0, count + 2)))
    data["targets"] = [{"by": by.isoformat(), "soc_pct": draw(st.floats(0.0, 100.0))}]
    site = data["site"]
    if draw(st.booleans()):
        site["import_limit_kw"] = draw(st.floats(0.0, 15.0))
    if draw(st.booleans()):
        site["export_limit_kw"] = draw(st.floats(0.0, 10.0))
    if draw(st.booleans()):
        site["peak_price_per_kw"] = draw(st.floats(0.0, 3.0))
        site["current_peak_kw"] = draw(st.floats(0.0, 6.0))
    if draw(st.booleans()):
        data["discharge"] = {
            "max_kw": draw(st.floats(0.0, 10.0)),
            "efficiency": draw(st.floats(0.8, 1.0)),
            "min_soc_pct": draw(st.floats(0.0, 50.0)),
            "wear_cost_per_kwh": draw(st.floats(0.0, 0.05)),
        }
    if tapered:
        knee = draw(st.floats(10.0, 90.0))
        data["charge"]["taper"] = [[knee, data["charge"]["max_kw"]], [100.0, draw(st.floats(0, 1))]]
    elif draw(st.booleans()):
        data["charge"]["taper"] = [[80.0, data["charge"]["max_kw"]], [100.0, 1.0]]
    if draw(st.booleans()):
        data["protective_soc_pct"] = draw(st.floats(0.0, 40.0))
    return data


_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_SETTINGS
@given(site_requests())
def test_one_car_in_a_house_matches_the_milp_exactly(data: dict[str, Any]) -> None:
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))
    assert PlanRequest.from_dict(request.to_dict()) == request


# Longer horizons, so fewer examples.
_TAPER_SETTINGS = settings(_SETTINGS, max_examples=EXAMPLES // 2)


@_TAPER_SETTINGS
@given(site_requests(minutes=15, tapered=True, most=32))
def test_a_tapering_car_in_a_house_matches_the_milp_exactly_on_quarter_hours(
    data: dict[str, Any],
) -> None:
    # A capacity tariff over quarter hours caps each hour's slots at one level, which is not
    # always exact; everything else is.
    data["site"].pop("peak_price_per_kw", None)
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))


@_TAPER_SETTINGS
@given(site_requests(tapered=True, most=16))
def test_a_tapering_car_in_a_house_matches_the_milp_exactly_on_hours(data: dict[str, Any]) -> None:
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))


@_SETTINGS
@given(site_requests(), st.floats(0.5, 6.0))
def test_minimum_power_is_within_a_tenth_of_a_percent(data: dict[str, Any], min_kw: float) -> None:
    data["charge"].pop("taper", None)
    # With a capacity tariff the cost is no longer convex in the peak once there is a minimum
    # power; that combination is planned feasibly but not checked against this bound.
    data["site"].pop("peak_price_per_kw", None)
    data["charge"]["min_kw"] = min(min_kw, data["charge"]["max_kw"])
    limit = data["site"].get("import_limit_kw")
    if limit is not None:
        data["site"]["import_limit_kw"] = max(limit, data["charge"]["min_kw"])
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request), rel_tol=1e-3)


@_TAPER_SETTINGS
@given(site_requests(tapered=True, most=16), st.floats(0.1, 0.9))
def test_minimum_power_with_the_taper_is_within_a_tenth_of_a_percent(
    data: dict[str, Any], share: float
) -> None:
    data["site"].pop("peak_price_per_kw", None)
    data["charge"]["min_kw"] = share * data["charge"]["max_kw"]
    limit = data["site"].get("import_limit_kw")
    if limit is not None:
        data["site"]["import_limit_kw"] = max(limit, data["charge"]["min_kw"])
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request), rel_tol=1e-3)


@st.composite
def quarter_hour_requests(draw: st.DrawFn) -> dict[str, Any]:
    """15-minute slots under a capacity tariff, targets on the hour, a flat charge curve,
    export never dearer than import, no V2G, and the car at or above its protective level."""
    data = draw(site_requests(minutes=15))
    data["charge"].pop("taper", None)
    for item in data["prices"]:
        if "export" in item:
            item["export"] = min(item["export"], item["import"])
    data["now"] = START.isoformat()
    hours = math.ceil(len(data["prices"]) / 4)
    by = START + timedelta(hours=draw(st.integers(0, hours + 1)))
    data["targets"][0]["by"] = by.isoformat()
    data["site"]["peak_price_per_kw"] = draw(st.floats(0.1, 5.0))
    data["site"]["current_peak_kw"] = draw(st.floats(0.0, 5.0))
    data.pop("discharge", None)
    if "protective_soc_pct" in data:
        # Below its protective level the car charges at full power in every quarter anyway.
        data["protective_soc_pct"] = min(data["protective_soc_pct"], data["battery"]["soc_pct"])
    return data


@_SETTINGS
@given(quarter_hour_requests())
def test_quarter_hours_under_a_capacity_tariff_match_the_milp_exactly(
    data: dict[str, Any],
) -> None:
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))


@_SETTINGS
@given(quarter_hour_requests(), st.integers(0, 3), st.floats(0.0, 8.0))
def test_a_replan_within_the_hour_matches_the_milp_exactly(
    data: dict[str, Any], quarters: int, imported: float
) -> None:
    now = START + timedelta(minutes=15 * quarters)
    data["now"] = now.isoformat()
    if datetime.fromisoformat(data["targets"][0]["by"]) < now:
        data["targets"][0]["by"] = (START + timedelta(hours=1)).isoformat()
    data["site"]["hour_import_kwh"] = imported
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))
    assert PlanRequest.from_dict(request.to_dict()) == request


@_SETTINGS
@given(site_requests(), st.floats(0.0, 8.0))
def test_a_replan_within_the_hour_matches_the_milp_exactly_with_v2g(
    data: dict[str, Any], imported: float
) -> None:
    data["site"]["peak_price_per_kw"] = 2.0
    data["site"]["hour_import_kwh"] = imported
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))


@pytest.mark.parametrize(
    "fixture",
    [
        # Kept from a random run (rounded to 4 decimals): 28 quarters, a 7.6 kW V2G car at
        # 5.7 % that may discharge above 41.4 %, a capacity tariff of 10.75 per kW above
        # 1.49 kW, and export paying more than import in 18 quarters. There a quarter's cost
        # bends down (exporting earns more than covering the house saves), so its hour wasn't
        # one stage; its import was priced, and the mix of priced plans cost -6.0444 against
        # the optimum's -6.4432.
        pytest.param(
            "one_car_v2g_tariff_export_above_import_28_quarters.json", id="export_above_import"
        ),
        # The same kind of run: 32 quarters, a 4.7 kW V2G car at 62 % with a target of 13 %, a
        # tariff of 10.00 per kW above 0.75 kW, export above import in 15 quarters: -9.3090
        # against -9.5568.
        pytest.param("one_car_v2g_tariff_export_above_import_32_quarters.json", id="a_day_of_sun"),
        # Kept from a random run (rounded to 4 decimals): 160 quarters, a 10.75 kW V2G car at
        # 94 %, a tariff of 5.47 per kW from no peak, import below zero in 7 quarters, where a
        # kWh charged and discharged gains. More than 12 hours like that at a cap had their
        # import shared out by per-quarter caps: -50.1242 against -50.8346.
        pytest.param("one_car_v2g_tariff_negative_prices_160_quarters.json", id="many_such_hours"),
    ],
)
def test_an_hour_whose_quarters_costs_bend_down_is_one_stage_at_the_optimum(fixture: str) -> None:
    path = Path(__file__).parents[1] / "fixtures" / "planner" / fixture
    request = PlanRequest.from_dict(json.loads(path.read_text()))
    check_against_reference(request, plan(request))


@pytest.mark.parametrize(
    ("fixture", "rel_tol"),
    [
        # Kept from a random run (rounded to 4 decimals): 20 quarters, a 9.6 kW V2G car with an
        # empty battery, a tariff of 1.10 per kW, export above import in 11 quarters. Two
        # hours would discharge before they charge, below the empty battery, so their import
        # is priced. Mixing the plans on either side of the price is exact only where every
        # quarter's cost is convex; here the mix moved the other hours too, and cost -4.6600
        # against the optimum's -4.6913. Capping the priced hours' quarters at the mix's grid
        # power left 0.12 %: it held a quarter of an hour the mix kept below its budget
        # where the mix left it. Such hours are now first left uncapped.
        pytest.param(
            "one_car_v2g_tariff_empty_battery_20_quarters.json", 1e-6, id="mix_moves_others"
        ),
        # Kept from a random run (rounded to 4 decimals, the target set to 5 %): 12 quarters,
        # a 10.4 kW V2G car with an empty battery and a target at 09:15, inside the second
        # hour, which the month's peak of 3 kW binds. The first and last hours would
        # discharge before they charge, so all three hours are priced. Capping the last hour
        # at the mix's grid power kept it from charging at 0.27 to discharge at 0.47:
        # -2.2473 against the optimum's -2.2932.
        pytest.param(
            "one_car_v2g_tariff_target_inside_an_hour_12_quarters.json",
            1e-6,
            id="hour_under_budget_uncapped",
        ),
        # Kept from a random run at full precision (rounded, the rounding below goes): 8
        # quarters, a nearly full battery that discharges at 0.5 kW, a month's peak of
        # 2.87 kW. Capped at the mix's grid power, a quarter the mix discharges fully had to
        # discharge a rounding more than it can, so no move met it; the DP then jumped to the
        # next slot's range, a path no car can follow, whose cost looked lower. The plan kept
        # to the car cost -0.0452 against the optimum's -0.2174.
        pytest.param(
            "one_car_v2g_tariff_full_battery_8_quarters.json", 1e-6, id="full_discharge_rounding"
        ),
        # Kept from a random run (rounded to 4 decimals): 28 quarters, a 5.9 kW V2G car with an
        # empty battery and a target of 42.9 % at 11:45, a tariff of 7.98 per kW above
        # 2.96 kW, export above import in 17 quarters. The plan made again was kept where its
        # energy cost less, though the mix kept the hours further below the cap: the cap
        # search then settled on a peak of 5.51 kW, 22.1928 against the optimum's 13.2475.
        # The two are now compared with the tariff on their own highest averages.
        pytest.param(
            "one_car_v2g_tariff_mix_under_the_cap_28_quarters.json", 1e-6, id="tariff_counted"
        ),
    ],
)
def test_priced_hours_are_planned_again_at_the_mixs_grid_power_where_costs_bend_down(
    fixture: str, rel_tol: float
) -> None:
    path = Path(__file__).parents[1] / "fixtures" / "planner" / fixture
    request = PlanRequest.from_dict(json.loads(path.read_text()))
    check_against_reference(request, plan(request), rel_tol=rel_tol)


@pytest.mark.parametrize(
    "fixture",
    [
        # Kept from a random run (rounded to 4 decimals): 32 quarters, a 5.4 kW V2G car with
        # an empty battery, a tariff of 1.50 per kW, export above import in 16 quarters. Two
        # hours would discharge before they charge, so their import is priced, and mixing the
        # plans on either side of the price left a quarter that bends down between its runs:
        # -5.6937 against the optimum's -5.7170, at a peak of 2.03 kW where the optimum keeps
        # 2.01. Held to the run where it discharges, the quarter's cost is convex and the mix
        # exact; with that hold, the lowest cap that meets the targets is the cheapest.
        pytest.param("one_car_v2g_tariff_priced_hours_bend_32_quarters.json", id="one_quarter"),
        # Kept from a random run at full precision (rounded, it is 0.005 % above either way):
        # 20 quarters, a 7.6 kW V2G car with a target of 11 % at 09:15, a tariff of 0.50 per
        # kW. The optimum holds the quarter at 11:30 to discharging and the one at 12:00 to
        # charging; neither hold pays alone. Holding one quarter at a time left -3.2196
        # against the optimum's -3.2672.
        pytest.param("one_car_v2g_tariff_two_quarters_held_20_quarters.json", id="two_quarters"),
        # Kept from a random run (rounded to 4 decimals): the house of
        # `test_hours_that_break_one_after_another_are_all_priced` without the solar of 14:00.
        # Every quarter held alone, in passes, left -11.0177 against the optimum's -11.0246:
        # the plans mixed disagree on the runs of several quarters, and only the branches
        # over those runs, with the Lagrangian bound to leave the others, reach the optimum.
        pytest.param("one_car_v2g_tariff_branched_runs_28_quarters.json", id="branched"),
        # Kept from a random run (rounded to 4 decimals): 28 quarters, a 4.5 kW V2G car at
        # 31 % below its discharge floor of 50 %, a tariff of 1.10 per kW above 0.82 kW,
        # export above import in many quarters. The cost has low points at caps of 2.27 kW and
        # 2.42 kW; held at the first only, the plan cost -6.1394 against the optimum's -6.2101
        # at 2.42 kW. The quarters are now also held at the search's other low points, afresh
        # at each cap.
        pytest.param("one_car_v2g_tariff_two_low_caps_28_quarters.json", id="two_low_caps"),
        # Kept from a random run at full precision: 20 quarters, a 3.1 kW V2G car from empty,
        # a tariff of 11.89 per kW. The hour from 10:00 must discharge all the car can charge
        # before it, so caps from the lowest that meets the target, 2.7884 kW, up to 2.82 kW
        # are met by a hair. At 2.79 kW the path fell back to the nearest move where no move
        # met, one the hour's stage can't make, and its expansion ended the hour with a jump:
        # a plan over the cap. The cap search took that cap for unmet and stopped at
        # 2.9589 kW, -10.1544 against the optimum's -11.8167. Such an hour now falls back.
        pytest.param("one_car_v2g_tariff_barely_reachable_cap_20_quarters.json", id="barely"),
        # Kept from a random run (rounded to 4 decimals): 24 quarters, a 2.9 kW V2G car at
        # 6 %, a tariff of 3.31 per kW. The cap search kept the hours that fell back to
        # per-slot caps at one cap for every cap it tried after: at 0.165 kW its plan cost
        # -0.011 where planned afresh it costs -0.038, and it stopped at 0.1375 kW, -1.0102
        # against the optimum's -1.0138 at 0.1678 kW. Each cap is now planned afresh.
        pytest.param("one_car_v2g_tariff_hours_fallen_at_other_caps_24_quarters.json", id="fallen"),
        # Kept from a random run (rounded to 4 decimals): 28 quarters, an 11 kW V2G car at
        # 37 % with a target of 51 % at 14:15, a tariff of 1.50 per kW above 1.03 kW. The cost
        # rises from the lowest cap that meets the target, 1.62 kW, falls from 1.65 kW to
        # 1.75 kW, rises to 1.90 kW and falls again to the optimum at 2.1146 kW. The search
        # from the lowest cap stopped there, -4.0254 against the optimum's -4.1243. Caps each
        # twice as far up as the last now find the lower valley.
        pytest.param("one_car_v2g_tariff_cost_falls_again_28_quarters.json", id="falls_again"),
        # Kept from a random run (rounded to 4 decimals): 28 quarters, a 2.3 kW V2G car at
        # 42 %, a tariff of 0.50 per kW above 0.36 kW. The cost falls from the lowest cap to
        # 2.60 kW and has a second, lower valley at 3.47 kW, narrow and steep on its right.
        # Lines through the caps tried either side of it bound it above the best, since the
        # cost isn't convex there: -6.2528 against the optimum's -6.2596. A golden section
        # now settles each low point that the costs at its neighbours can't rule out.
        pytest.param("one_car_v2g_tariff_valley_further_up_28_quarters.json", id="valley"),
        # Kept from a random run (rounded to 4 decimals): 24 quarters, an empty 8.0 kW V2G car
        # with a target of 23.4 % by 12:30, a tariff of 2.00 per kW above 0.06 kW, export
        # above import in 16 quarters. The search settled at 4.098 kW, and holding quarters
        # there or at its low points paid nothing: -0.9613 against the optimum's -0.9707 at
        # 4.204 kW. At 4.198 kW, where the bound of the plan is lowest though its cost is no
        # low point, quarter 4 held to its first run pays; searched with that hold up to the
        # peak of the plan without a cap (not only to the best plan's), the cap settles.
        pytest.param(
            "one_car_v2g_tariff_held_where_the_bound_is_lowest_24_quarters.json", id="bound_held"
        ),
        # The same car with other prices (export above import in 18 quarters): the search and
        # its holds settled at 2.753 kW, -2.4589 against the optimum's -2.4964 at 2.812 kW.
        # Searched again with those holds, the lines began at the lowest cap, the middle and
        # the top; the caps they tried either side of 2.753 kW bounded the cost between them
        # above the best, since the holds leave other quarters bending, and 2.812 kW was never
        # tried. A search with holds now also starts from the best plan's cap.
        pytest.param(
            "one_car_v2g_tariff_held_search_from_the_best_cap_24_quarters.json", id="from_best"
        ),
        # Kept from a random run (4 decimals): 20 quarters, a 5.7 kW V2G car at 53 %, a tariff
        # of 1.00 per kW above 0.91 kW. The cost has valleys at 1.806 kW (the optimum) and
        # 2.521 kW; the caps tried at 0.911, 1.492 and 2.073 kW fell in turn, so no low point
        # showed the first, and the search settled at the second: -4.5733 against -4.6062.
        # The interval whose plans could cost least is now halved first.
        pytest.param("one_car_v2g_tariff_valley_between_caps_tried_20_quarters.json", id="between"),
        # Kept from a random run (4 decimals): 28 quarters. Held (quarter 27 to its second run
        # of costs), the search settled at 3.1650 kW; the optimum at 3.1620 kW lay in a valley
        # between caps it tried at 3.1611 and 3.1650 kW, which only the sweep of a search
        # without holds looked into: -3.1468 against -3.1472. A search with holds sweeps too.
        pytest.param(
            "one_car_v2g_tariff_valley_beside_the_held_cap_28_quarters.json", id="held_valley"
        ),
        # Kept from a random run (4 decimals): 16 quarters, a 4.5 kW V2G car below its floor
        # with a target of 19.25 % by 10:30 and a tariff of 10.66 per kW. Every cap from
        # 1.852 kW meets the target, but the plan at 1.8968 kW, one the bisection for the
        # lowest tried, missed it by 4e-8 kWh: a plan mixed there stopped 1e-7 kWh short, as
        # the DP dropped the last move to the target for a rounding. The search took that cap
        # for the lowest: -1.1779 against the optimum's -1.5502 at 1.8504 kW (24 %).
        pytest.param("one_car_v2g_tariff_last_hair_to_the_target_16_quarters.json", id="last_hair"),
        # Kept from a random run (4 decimals): 12 quarters, an empty 7.8 kW V2G car, a tariff of
        # 0.50 per kW above 0.36 kW, export above import in 9 quarters. The search settled at
        # 4.6233 kW, where no hold paid. At 3.9323 kW, where the bound was lowest, holding
        # quarter 9 to its first two runs made the cheapest plan held there, though no cheaper
        # than the best: those holds were dropped, -1.05367 against the optimum's -1.05368 at
        # 4.6231 kW. A search with them now follows.
        pytest.param(
            "one_car_v2g_tariff_holds_passed_at_another_cap_12_quarters.json", id="passed_holds"
        ),
        # Kept from a random run (4 decimals): 32 quarters, a 10 kW V2G car at 21 % with a
        # target of 42.5 % by 15:30, a tariff of 0.50 per kW above 2.09 kW, export above
        # import in 24 quarters. From 3.7505 kW the plans' cost falls until it jumps up at
        # about 3.7526 kW; above that, each cap's plan is far above the cheapest there. The
        # next cap tried, 3.7544 kW, had such a plan, and counted as the bound of the caps
        # below it, ruled them out: -1.95132 against the optimum's -1.95192 at 3.7527 kW. The
        # bound of its priced plans now counts where lower.
        pytest.param("one_car_v2g_tariff_falls_up_to_a_jump_32_quarters.json", id="jump"),
    ],
)
def test_quarters_of_priced_hours_held_to_one_run_of_their_cost_reach_the_optimum(
    fixture: str,
) -> None:
    path = Path(__file__).parents[1] / "fixtures" / "planner" / fixture
    request = PlanRequest.from_dict(json.loads(path.read_text()))
    check_against_reference(request, plan(request))


def test_hours_that_break_one_after_another_are_all_priced() -> None:
    # Kept from a random run (rounded to 4 decimals): 28 quarters, a full V2G car that charges
    # at 1.07 kW with a target of 94.3 % at the end, a tariff of 8.35 per kW above 2.12 kW,
    # export above import in 15 quarters. At that peak each plan's hours broke another hour
    # (a discharge before a charge inside it) in turn: after three rounds every hour fell back
    # to per-slot caps, -10.9519 against the optimum's -10.9993. The fourth round prices the
    # four broken hours together; the branches over the runs of the quarters the priced
    # plans disagree on close the last 0.12 %.
    fixture = Path(__file__).parents[1] / "fixtures" / "planner"
    path = fixture / "one_car_v2g_tariff_hours_break_in_turn_28_quarters.json"
    request = PlanRequest.from_dict(json.loads(path.read_text()))
    check_against_reference(request, plan(request))


@st.composite
def over_the_months_peak_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Up to eight hours of quarters with V2G where charging at full power would set a new
    peak, and a tariff from almost free to dear, planned at any quarter of the first hour:
    around the price where a higher peak starts to pay, the plan kept to the month's peak
    must be exactly the cheapest or give way."""
    count = 4 * draw(st.integers(2, 8))
    imports = draw(st.lists(st.floats(0.0, 0.5), min_size=count, max_size=count))
    shares = draw(st.lists(st.floats(0.0, 1.0), min_size=count, max_size=count))
    loads = draw(st.lists(st.floats(0.0, 4.0), min_size=count, max_size=count))
    solar = draw(st.lists(st.sampled_from([0.0, 0.0, 2.5, 6.0]), min_size=count, max_size=count))
    site = {
        "base_load_kw": loads,
        "solar_kw": solar,
        "peak_price_per_kw": draw(st.floats(0.0, 2.0)),
        "current_peak_kw": draw(st.floats(1.0, 6.0)),
        # Planned again within the first hour, after part of its import.
        "hour_import_kwh": draw(st.floats(0.0, 2.0)),
    }
    now = START + timedelta(minutes=15 * draw(st.integers(0, 3)))
    return _request(
        site,
        now=now.isoformat(),
        prices=_prices(imports, [p * share for p, share in zip(imports, shares, strict=True)], 15),
        battery={"capacity_kwh": 60.0, "soc_pct": draw(st.floats(20.0, 60.0))},
        charge={"max_kw": draw(st.floats(5.0, 11.0)), "efficiency": 0.9},
        targets=[
            {
                "by": (START + timedelta(hours=count // 4)).isoformat(),
                "soc_pct": draw(st.floats(30.0, 80.0)),
            }
        ],
        discharge={
            "max_kw": draw(st.floats(0.0, 10.0)),
            "efficiency": 0.9,
            "min_soc_pct": 20.0,
            "wear_cost_per_kwh": draw(st.floats(0.0, 0.05)),
        },
    )


@settings(_SETTINGS, max_examples=100)
@given(over_the_months_peak_requests())
def test_a_plan_kept_to_the_months_peak_matches_the_milp_exactly(data: dict[str, Any]) -> None:
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))


def test_a_house_load_of_a_denormal_saves_no_import_when_the_car_discharges() -> None:
    # Found by `over_the_months_peak_requests`: a quarter whose house load is 5e-324 kW. Its
    # stage counts no discharge covering the house (the kWh it would take underflow to 0), but
    # the hour as one stage counted the whole discharge as saving import: the first hour's
    # plan at the month's peak charged 0.05 kWh over its budget, a new peak of 4.52 kW and
    # 0.022 above the MILP.
    site = {
        "base_load_kw": [
            0.0,
            2.684,
            3.324,
            5e-324,
            0.0,
            1.43,
            3.017,
            0.0,
            0.867,
            0.333,
            0.0,
            0.263,
        ],
        "solar_kw": [0.0, 2.5, 2.5, 0.0, 0.0, 6.0, 6.0, 2.5, 2.5, 6.0, 6.0, 6.0],
        "peak_price_per_kw": 1.0,
        "current_peak_kw": 4.501,
    }
    imports = [0.438, 0.011, 0.0, 0.11, 0.189, 0.126, 0.22, 0.497, 0.301, 0.265, 0.195, 0.0]
    exports = [0.173, 0.002, 0.0, 0.058, 0.0, 0.09, 0.04, 0.294, 0.274, 0.215, 0.154, 0.0]
    data = _request(
        site,
        prices=_prices(imports, exports, minutes=15),
        battery={"capacity_kwh": 60.0, "soc_pct": 54.88},
        charge={"max_kw": 9.32, "efficiency": 0.9},
        targets=[{"by": (START + timedelta(hours=3)).isoformat(), "soc_pct": 39.93}],
        discharge={"max_kw": 6.71, "efficiency": 0.9, "min_soc_pct": 20.0},
    )
    result = _plan(data)
    assert result.peak_kw == pytest.approx(4.501)


@st.composite
def quarter_hour_requests_with_inner_bounds(draw: st.DrawFn) -> dict[str, Any]:
    """`quarter_hour_requests` with the target at any quarter (often inside an hour) and a
    protective level that may lie above the car's charge: the hour holding either has a bound
    inside it, so its quarters can't share its budget in just any order."""
    data = draw(quarter_hour_requests())
    for item in data["prices"]:
        # Export never dearer than import (0 counts where there is no export price).
        item["export"] = min(item.get("export", 0.0), item["import"])
    by = START + timedelta(minutes=15 * draw(st.integers(1, len(data["prices"]) + 4)))
    data["targets"][0]["by"] = by.isoformat()
    if draw(st.booleans()):
        data["protective_soc_pct"] = draw(st.floats(0.0, 100.0))
    return data


@_SETTINGS
@given(quarter_hour_requests_with_inner_bounds())
def test_quarters_with_a_target_or_the_protective_level_inside_an_hour_match_the_milp_exactly(
    data: dict[str, Any],
) -> None:
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))


def test_a_target_at_a_quarter_past_gets_the_hours_budget_before_it() -> None:
    # The cheap quarters of the hour come after the departure at 09:15: sharing the hour's
    # import out to them by price left the target to the hour before, at a far higher peak.
    site = {
        "base_load_kw": [4.1, 5.8, 4.4, 3.2, 4.6, 5.6, 3.3, 2.1, 4.1],
        "solar_kw": [0.0, 0.0, 0.0, 7.3, 0.0, 5.0, 0.0, 5.9, 0.0],
        "peak_price_per_kw": 4.87,
        "current_peak_kw": 2.5,
    }
    imports = [0.30, 0.46, -0.06, -0.02, 0.43, 0.23, 0.17, 0.05, 0.24]
    data = _request(
        site,
        prices=_prices(imports, [min(0.0, price) for price in imports], minutes=15),
        battery={"capacity_kwh": 40.0, "soc_pct": 50.8},
        charge={"max_kw": 10.1, "efficiency": 0.84},
        targets=[{"by": (START + timedelta(minutes=75)).isoformat(), "soc_pct": 58.8}],
    )
    result = _plan(data)
    assert result.peak_kw is not None
    assert result.peak_kw < 4.5


@st.composite
def v2g_quarter_hour_requests_with_inner_bounds(
    draw: st.DrawFn, below_zero: bool = False
) -> dict[str, Any]:
    """Quarter hours under a capacity tariff with V2G, over up to six hours: the target at any
    quarter, the protective level anywhere, the car often near its floor, so that several
    hours at one cap need their budgets priced together. Export never pays more than import.
    No price is below zero unless `below_zero`; then the wear cost is at least what charging
    and discharging in one quarter would gain at the lowest price, so that each quarter's cost
    stays convex."""
    data = draw(site_requests(minutes=15, most=24))
    for item in data["prices"]:
        if not below_zero:
            item["import"] = max(item["import"], 0.0)
        export = item.get("export", 0.0)
        item["export"] = min(export if below_zero else max(export, 0.0), item["import"])
    data["charge"].pop("taper", None)
    data["now"] = START.isoformat()
    by = START + timedelta(minutes=15 * draw(st.integers(1, len(data["prices"]) + 4)))
    data["targets"][0]["by"] = by.isoformat()
    data["site"]["peak_price_per_kw"] = draw(st.floats(0.1, 5.0))
    data["site"]["current_peak_kw"] = draw(st.floats(0.0, 5.0))
    floor = draw(st.floats(0.0, 50.0))
    efficiency = draw(st.floats(0.8, 1.0))
    # A kWh charged at price p and discharged at p in one quarter gains -p (1/eta_c - eta_d).
    lowest = min(0.0, *(item["export"] for item in data["prices"]))
    gain = -lowest * (1.0 / data["charge"]["efficiency"] - efficiency)
    data["discharge"] = {
        "max_kw": draw(st.floats(0.5, 10.0)),
        "efficiency": efficiency,
        "min_soc_pct": floor,
        "wear_cost_per_kwh": max(draw(st.floats(0.0, 0.05)), gain),
    }
    if draw(st.booleans()):
        data["battery"]["soc_pct"] = floor + draw(st.floats(0.0, 5.0))
    if "import_limit_kw" in data["site"]:
        # A fuse of at least 1 kW: at a fuse of a few nW the MILP's tolerances find no plan.
        data["site"]["import_limit_kw"] = max(1.0, data["site"]["import_limit_kw"])
    data.pop("protective_soc_pct", None)
    if draw(st.booleans()):
        data["protective_soc_pct"] = draw(st.floats(0.0, 100.0))
    return data


@_SETTINGS
@given(v2g_quarter_hour_requests_with_inner_bounds())
def test_quarters_with_v2g_and_bounds_inside_several_hours_match_the_milp_exactly(
    data: dict[str, Any],
) -> None:
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))


@_SETTINGS
@given(v2g_quarter_hour_requests_with_inner_bounds(below_zero=True))
def test_quarters_with_v2g_and_prices_below_zero_match_the_milp_exactly_where_convex(
    data: dict[str, Any],
) -> None:
    # Below zero, a quarter's cost is convex as long as charging and discharging in it would
    # not gain (the wear cost outweighs the losses paid for); then the hours' prices are exact.
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))


def _empty_car_with_v2g(loads: list[float], imports: list[float], **site: Any) -> dict[str, Any]:
    """An empty car with V2G (1 kW charger, 3 kW discharge) in a house under a capacity tariff
    of 1 per kW over 20 quarter hours, with nothing asked of it."""
    return _request(
        {
            "base_load_kw": loads,
            "solar_kw": [0.0] * len(loads),
            "peak_price_per_kw": 1.0,
            "current_peak_kw": 0.0,
            **site,
        },
        prices=_prices(imports, [0.0] * len(imports), minutes=15),
        battery={"capacity_kwh": 40.0, "soc_pct": 0.0},
        charge={"max_kw": 1.0, "efficiency": 1.0},
        targets=[{"by": (START + timedelta(minutes=15)).isoformat(), "soc_pct": 0.0}],
        discharge={"max_kw": 3.0, "efficiency": 1.0, "min_soc_pct": 0.0, "wear_cost_per_kwh": 0.0},
    )


def test_a_cap_the_car_has_no_charge_to_keep_is_not_taken_for_the_lowest() -> None:
    # The last hour (1.25 kWh of load) can be covered down to 0.3 kW if the car charges 0.95 kWh
    # in the hours before. The lowest cap's bound counted covering the first hour's load with a
    # car that is empty there: 0.25 kW, where the plan can't keep to its cap; the search took
    # that plan's peak (1 kW) for the lowest cap's and stopped.
    loads = [0.0] * 20
    loads[3], loads[18], loads[19] = 1.0, 1.0, 4.0
    result = _plan(_empty_car_with_v2g(loads, [0.0] * 20))
    assert result.peak_kw == pytest.approx(0.3)
    assert result.cost == pytest.approx(-0.95)


def test_an_hours_discharge_shared_out_keeps_to_the_floor_and_the_fuse_exactly() -> None:
    # The car empties itself in the dear hour to keep its peak at the 1 kW fuse. Shared out
    # over the hour's quarters, rounding took it a few nWh below its floor, and the last
    # quarter charged that back over the fuse (4e-9 kW), where the house alone is over it.
    loads = [0.0] * 20
    loads[11], loads[12], loads[13], loads[15] = 5.0, 3.0, 3.0, 4.0
    imports = [0.0] * 20
    imports[12] = imports[13] = 0.5
    data = _empty_car_with_v2g(loads, imports, import_limit_kw=1.0)
    data["discharge"]["efficiency"] = 0.875
    result = _plan(data)
    for slot, load in zip(result.slots, loads, strict=True):
        assert slot.grid_kw is not None
        assert slot.grid_kw <= max(1.0, load)
        assert slot.soc_pct_end >= 0.0
    assert result.cost == pytest.approx(-2.25)


def test_a_tapering_car_with_v2g_shares_each_hours_budget_exactly_on_quarter_hours() -> None:
    # Hours the car can't take past its taper are one stage that charges as with a flat curve
    # (it could charge nothing there, 28 % above the MILP); the hours where it reaches the
    # taper get their import priced together.
    imports = [0.2, 0.0, 0.41, 0.16, 0.0, 0.39, 0.54, 0.0, 0.0, 0.2]
    imports += [0.1, 0.0, 0.58, 0.23, 0.12, 0.0, 0.02, 0.2, 0.0]
    exports = [0.0, 0.0, 0.41, 0.08, 0.0, 0.0, 0.27, 0.0, 0.0, 0.06]
    exports += [0.1, 0.0, 0.29, 0.23, 0.06, 0.0, 0.01, 0.1, 0.0]
    loads = [2.9, 2.92, 4.47, 0.0, 5.17, 2.35, 1.69, 5.28, 0.88, 1.25]
    loads += [3.29, 0.85, 5.89, 2.13, 1.76, 2.08, 5.89, 0.33, 1.5]
    solar = [0.0, 1.91, 0.0, 0.39, 0.83, 3.14, 1.18, 7.56, 7.74, 0.0]
    solar += [6.11, 3.95, 0.0, 6.28, 4.38, 5.64, 3.36, 0.0, 0.0]
    site = {
        "base_load_kw": loads,
        "solar_kw": solar,
        "export_limit_kw": 2.21,
        "peak_price_per_kw": 0.93,
        "current_peak_kw": 1.65,
    }
    data = _request(
        site,
        prices=_prices(imports, exports, minutes=15),
        battery={"capacity_kwh": 40.0, "soc_pct": 57.01},
        charge={"max_kw": 9.07, "efficiency": 0.93, "taper": [[64.37, 9.07], [100.0, 0.74]]},
        targets=[{"by": (START + timedelta(hours=5)).isoformat(), "soc_pct": 73.23}],
        discharge={
            "max_kw": 7.8,
            "efficiency": 0.89,
            "min_soc_pct": 36.94,
            "wear_cost_per_kwh": 0.05,
        },
    )
    _plan(data)


def test_a_tapering_car_gets_the_budget_its_taper_leaves_in_an_hour_from_the_others() -> None:
    # Ten hours of a March day (real prices) under the month's 5 kW peak, the car charging into
    # its taper: too many hours reach the taper to price them all, so each hour's quarters get
    # a share of its budget by price. The car can't take its share in the cheapest quarters
    # once it tapers, and that part of the budget was lost: 4.8e-4 above the MILP. The hour's
    # other quarters now get it.
    imports = [0.1613, 0.16, 0.1589, 0.158, 0.1588, 0.1562, 0.158, 0.1605, 0.158, 0.1584]
    imports += [0.1606, 0.1622, 0.16, 0.1625, 0.1813, 0.1986, 0.18, 0.2062, 0.2295, 0.2554]
    imports += [0.2254, 0.2427, 0.2605, 0.2767, 0.2618, 0.2749, 0.2872, 0.3037, 0.2962, 0.3174]
    imports += [0.3211, 0.3129, 0.3475, 0.3454, 0.3437, 0.3337, 0.3522, 0.3361, 0.3217, 0.3097]
    exports = [0.0091, 0.008, 0.0071, 0.0064, 0.007, 0.0049, 0.0064, 0.0084, 0.0064, 0.0067]
    exports += [0.0085, 0.0098, 0.008, 0.01, 0.025, 0.0389, 0.024, 0.045, 0.0636, 0.0843]
    exports += [0.0604, 0.0741, 0.0884, 0.1013, 0.0894, 0.0999, 0.1098, 0.123, 0.1169, 0.1339]
    exports += [0.1369, 0.1303, 0.158, 0.1563, 0.155, 0.147, 0.1618, 0.1489, 0.1373, 0.1278]
    solar = [1.955, 2.117, 2.252, 2.36, 2.437, 2.484, 2.5, 2.484, 2.437, 2.36, 2.252, 2.117]
    solar += [1.955, 1.768, 1.559, 1.33, 1.085, 0.826, 0.556, 0.28] + [0.0] * 20
    site = {
        "base_load_kw": [0.8] * 24 + [2.4] * 16,
        "solar_kw": solar,
        "import_limit_kw": 17.3,
        "peak_price_per_kw": 1.5,
        "current_peak_kw": 5.0,
    }
    data = _bench_car_request(site, _prices(imports, exports, minutes=15), 50.0, 10, 80.0)
    _plan(data)


def test_only_the_hours_a_plan_charges_past_the_knee_in_count_as_tapering() -> None:
    # Seven hours of an April day (real prices) under the month's 5 kW peak, the car at 75 %
    # with its knee at 80 % and 95 % asked by the end. At full power it would pass the knee in
    # the first hour, so every hour counted as tapering: too many to price, and per-slot caps
    # shared their budgets out, 1.3e-4 above the MILP. Only the hours the plan takes into the
    # taper are priced now.
    imports = [0.3075, 0.2773, 0.26789, 0.25133, 0.27416, 0.25615, 0.24299, 0.2214, 0.23916]
    imports += [0.2286, 0.22193, 0.21836, 0.21513, 0.2152, 0.21751, 0.21945, 0.21124, 0.22631]
    imports += [0.24126, 0.25748, 0.23191, 0.24561, 0.25812, 0.27181, 0.25596, 0.27063, 0.2808]
    imports += [0.28889]
    exports = [0.126, 0.10184, 0.09431, 0.08106, 0.09933, 0.08492, 0.07439, 0.05712, 0.07133]
    exports += [0.06288, 0.05754, 0.05469, 0.0521, 0.05216, 0.05401, 0.05556, 0.04899, 0.06105]
    exports += [0.07301, 0.08598, 0.06553, 0.07649, 0.0865, 0.09745, 0.08477, 0.0965, 0.10464]
    exports += [0.11111]
    solar = [0.0, 0.28, 0.556, 0.826, 1.085, 1.33, 1.559, 1.768, 1.955, 2.117, 2.252, 2.36]
    solar += [2.437, 2.484, 2.5, 2.484, 2.437, 2.36, 2.252, 2.117, 1.955, 1.768, 1.559, 1.33]
    solar += [1.085, 0.826, 0.556, 0.28]
    site = {
        "base_load_kw": [0.8] * 28,
        "solar_kw": solar,
        "import_limit_kw": 17.3,
        "peak_price_per_kw": 1.5,
        "current_peak_kw": 5.0,
    }
    data = _bench_car_request(site, _prices(imports, exports, minutes=15), 75.0, 7, 95.0)
    result = _plan(data)
    assert result.slots[-1].soc_pct_end == pytest.approx(95.0)


def test_the_lowest_cap_lets_a_tapering_car_spread_each_hours_budget() -> None:
    # A January night (real prices) under a 1 kW month's peak, the car at 50 % to be full by
    # 07:00: the peak must rise, and the lowest cap that fills the car is where the search
    # starts. Its reach took each hour's budget as per-slot caps give it, to the cheapest
    # quarters first, where the tapering car can't use it: it started at 5.9 kW, 22 % too
    # high, 9.4e-2 above the MILP. Each hour's whole budget counts now.
    imports = [0.32227, 0.31881, 0.3072, 0.29722, 0.31089, 0.3031, 0.30521, 0.30005, 0.29939]
    imports += [0.29051, 0.28408, 0.28253, 0.29346, 0.28422, 0.27612, 0.26966, 0.2875, 0.28303]
    imports += [0.27784, 0.27464, 0.28046, 0.27605, 0.27608, 0.27514, 0.27629, 0.27506, 0.27501]
    imports += [0.27408, 0.27389, 0.27485, 0.28001, 0.28351, 0.27549, 0.27791, 0.28847, 0.29312]
    imports += [0.29009, 0.29719, 0.30178, 0.31739]
    site = {
        "base_load_kw": [2.4] * 4 + [0.4] * 34 + [1.6] * 2,
        "solar_kw": [0.0] * 40,
        "import_limit_kw": 17.3,
        "peak_price_per_kw": 1.5,
        "current_peak_kw": 1.0,
    }
    data = _request(
        site,
        prices=_prices(imports, None, minutes=15),
        battery={"capacity_kwh": 75.0, "soc_pct": 50.0},
        charge={"max_kw": 11.0, "efficiency": 0.9, "taper": [[80.0, 11.0], [100.0, 3.0]]},
        targets=[{"by": (START + timedelta(hours=10)).isoformat(), "soc_pct": 100.0}],
        protective_soc_pct=20.0,
    )
    result = _plan(data)
    assert result.peak_kw == pytest.approx(4.8267, abs=1e-4)
    assert result.slots[-1].soc_pct_end == pytest.approx(100.0)


def test_plans_kept_from_another_cap_keep_this_caps_evening_hours() -> None:
    # The master pricing the first hour at a cap starts from plans made at other caps. One from
    # a higher cap may import more in an hour that isn't priced (the evening) than this cap
    # allows, and a mix with it would break the cap there; one may end below what this cap
    # must reach. Only the others start the master, with the first hour's excess at this cap.
    data = _request(
        {"base_load_kw": [0.5] * 12, "peak_price_per_kw": 1.0, "current_peak_kw": 0.0},
        prices=_prices([0.1] * 12, None, minutes=15),
    )
    car = prepare(PlanRequest.from_dict(data))
    assert car is not None
    assert car.hour_groups == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    path = [18.0 + 0.5 * t for t in range(12)]
    evening_over = _KeptPlan(path, 1.0, [4.0, 1.0, 3.0])
    within = _KeptPlan(path, 2.0, [4.0, 1.0, 1.5])
    short = _KeptPlan([*path[:-1], 20.0], 3.0, [4.0, 1.0, 1.5])
    lower, ends = [0.0, 22.0], [0, 12]
    warm = _kept_within(car, 2.0, [[0, 1, 2, 3]], [evening_over, within, short], (lower, ends))
    assert [(plan.cost, plan.excess) for plan in warm] == [(2.0, [2.0])]
    # At a cap of 3 kW the evening hour keeps to its budget.
    warm = _kept_within(car, 3.0, [[0, 1, 2, 3]], [evening_over, within], (lower, ends))
    assert [(plan.cost, plan.excess) for plan in warm] == [(1.0, [1.0]), (2.0, [1.0])]


@st.composite
def cars_charging_into_their_taper(draw: st.DrawFn) -> dict[str, Any]:
    """Three to eight hours of quarters under a capacity tariff, the car below its knee with
    a target above it: it charges into its taper for hours, and which hours it tapers in
    decides how each hour's quarters share the budget. Export never pays more than import,
    and no price is below zero (the LP model's promise)."""
    hours = draw(st.integers(3, 8))
    count = 4 * hours
    imports = draw(st.lists(st.floats(0.0, 0.5), min_size=count, max_size=count))
    shares = draw(st.lists(st.floats(0.0, 1.0), min_size=count, max_size=count))
    site: dict[str, Any] = {
        "base_load_kw": draw(st.lists(st.floats(0.0, 4.0), min_size=count, max_size=count)),
        "solar_kw": draw(
            st.lists(st.sampled_from([0.0, 0.0, 2.0, 5.0]), min_size=count, max_size=count)
        ),
        "peak_price_per_kw": draw(st.floats(0.1, 3.0)),
        "current_peak_kw": draw(st.floats(1.0, 6.0)),
    }
    if draw(st.booleans()):
        site["import_limit_kw"] = draw(st.floats(8.0, 17.3))
    max_kw = draw(st.floats(5.0, 11.0))
    knee = draw(st.floats(50.0, 85.0))
    data = _request(
        site,
        prices=_prices(imports, [p * s for p, s in zip(imports, shares, strict=True)], 15),
        battery={"capacity_kwh": 60.0, "soc_pct": draw(st.floats(40.0, knee))},
        charge={
            "max_kw": max_kw,
            "efficiency": draw(st.floats(0.85, 1.0)),
            "taper": [[knee, max_kw], [100.0, draw(st.floats(1.0, 4.0))]],
        },
        targets=[
            {
                "by": (START + timedelta(hours=hours - draw(st.integers(0, 1)))).isoformat(),
                "soc_pct": draw(st.floats(knee, 100.0)),
            }
        ],
    )
    if draw(st.booleans()):
        data["discharge"] = {
            "max_kw": draw(st.floats(0.0, 10.0)),
            "efficiency": 0.9,
            "min_soc_pct": 20.0,
            "wear_cost_per_kwh": draw(st.floats(0.0, 0.05)),
        }
    return data


# Drawn once (exact where the lines through caps a hair apart bounded the cost wrongly: 4.4e-6).
_TAPER_LINES_EXAMPLE: dict[str, Any] = {
    "now": "2026-06-10T08:00:00+01:00",
    "battery": {"capacity_kwh": 60.0, "soc_pct": 40.0},
    "charge": {
        "max_kw": 10.703675495145847,
        "efficiency": 0.99999,
        "taper": [[57.58013878182551, 10.703675495145847], [100.0, 3.841226547230053]],
    },
    "targets": [{"by": "2026-06-10T12:00:00+01:00", "soc_pct": 82.625}],
    "prices": [
        {
            "start": "2026-06-10T08:00:00+01:00",
            "end": "2026-06-10T08:15:00+01:00",
            "import": 0.41265424304274123,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T08:15:00+01:00",
            "end": "2026-06-10T08:30:00+01:00",
            "import": 0.49999999999999994,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T08:30:00+01:00",
            "end": "2026-06-10T08:45:00+01:00",
            "import": 0.09433695312340576,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T08:45:00+01:00",
            "end": "2026-06-10T09:00:00+01:00",
            "import": 0.0,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T09:00:00+01:00",
            "end": "2026-06-10T09:15:00+01:00",
            "import": 0.3929189447874267,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T09:15:00+01:00",
            "end": "2026-06-10T09:30:00+01:00",
            "import": 0.12550911794269895,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T09:30:00+01:00",
            "end": "2026-06-10T09:45:00+01:00",
            "import": 0.2476868775567474,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T09:45:00+01:00",
            "end": "2026-06-10T10:00:00+01:00",
            "import": 0.015394642223435898,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T10:00:00+01:00",
            "end": "2026-06-10T10:15:00+01:00",
            "import": 0.0,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T10:15:00+01:00",
            "end": "2026-06-10T10:30:00+01:00",
            "import": 0.1,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T10:30:00+01:00",
            "end": "2026-06-10T10:45:00+01:00",
            "import": 0.46546316788088005,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T10:45:00+01:00",
            "end": "2026-06-10T11:00:00+01:00",
            "import": 0.0,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T11:00:00+01:00",
            "end": "2026-06-10T11:15:00+01:00",
            "import": 0.0,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T11:15:00+01:00",
            "end": "2026-06-10T11:30:00+01:00",
            "import": 0.3236668036991713,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T11:30:00+01:00",
            "end": "2026-06-10T11:45:00+01:00",
            "import": 0.5,
            "export": 0.0,
        },
        {
            "start": "2026-06-10T11:45:00+01:00",
            "end": "2026-06-10T12:00:00+01:00",
            "import": 0.3576981737145272,
            "export": 0.0,
        },
    ],
    "site": {
        "base_load_kw": [
            2.9683122517392895,
            0.9319044749030596,
            1.391112296018129,
            1.1980343523476862,
            2.9712087343982874,
            3.0,
            2.7085376037668962,
            3.844735556011724,
            3.896119086923977,
            8.791898326915002e-150,
            0.7171336830809177,
            0.5,
            2.7791926959690447,
            0.44019694309456014,
            0.9834097528655914,
            3.861465486208692,
        ],
        "solar_kw": [
            0.0,
            0.0,
            2.0,
            2.0,
            2.0,
            5.0,
            0.0,
            2.0,
            2.0,
            0.0,
            0.0,
            5.0,
            0.0,
            0.0,
            2.0,
            2.0,
        ],
        "peak_price_per_kw": 1.4541151145018496,
        "current_peak_kw": 4.340824766880832,
    },
    "discharge": {
        "max_kw": 3.0,
        "efficiency": 0.9,
        "min_soc_pct": 20.0,
        "wear_cost_per_kwh": 0.02734375,
    },
}


@_SETTINGS
@given(cars_charging_into_their_taper())
@example(data=_TAPER_LINES_EXAMPLE)
def test_a_car_charging_into_its_taper_for_hours_matches_the_milp_exactly(
    data: dict[str, Any],
) -> None:
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request))


@st.composite
def any_quarter_hour_requests(draw: st.DrawFn) -> dict[str, Any]:
    """15-minute slots under a capacity tariff, with everything else left to chance."""
    data = draw(site_requests(minutes=15))
    data["site"]["peak_price_per_kw"] = draw(st.floats(0.1, 5.0))
    data["site"]["current_peak_kw"] = draw(st.floats(0.0, 5.0))
    return data


@_SETTINGS
@given(any_quarter_hour_requests())
def test_quarter_hours_under_a_capacity_tariff_never_break_a_limit_or_a_target(
    data: dict[str, Any],
) -> None:
    # Hours whose budget is priced where a quarter's cost is not convex (export dearer than
    # import, a price below zero with V2G), or more such hours than are priced together, are
    # not always exact: every limit holds, the targets are met as far as the MILP meets them
    # and the cost adds up; the benchmark measures how close.
    request = PlanRequest.from_dict(data)
    check_against_reference(request, plan(request), rel_tol=math.inf)


def _cars(first: dict[str, Any], *others: dict[str, Any]) -> SiteRequest:
    """Random single-car requests as one site: the first one's prices, house and now."""
    count = min(len(data["prices"]) for data in (first, *others))
    prices = first["prices"][:count]
    site = {**first["site"]}
    for key in ("base_load_kw", "solar_kw"):
        site[key] = site[key][:count]
    vehicles = []
    for identity, data in zip("abc", (first, *others), strict=False):
        vehicle = {key: data[key] for key in ("battery", "charge") if key in data}
        vehicle["targets"] = [
            {**t, "by": max(t["by"], first["now"], key=datetime.fromisoformat)}
            for t in data["targets"]
        ]
        if "discharge" in data:
            vehicle["discharge"] = data["discharge"]
        vehicles.append({"id": identity, **vehicle})
    return SiteRequest.from_dict(
        {"now": first["now"], "prices": prices, "site": site, "vehicles": vehicles}
    )


def _real_tariff(data: dict[str, Any]) -> None:
    """Export never paying more than import, as with real tariffs (grid fees and VAT only go
    on import), so the house's cost is convex; and a fuse of at least a kW."""
    for item in data["prices"]:
        item["import"] = max(item["import"], item.get("export") or 0.0)
    if "import_limit_kw" in data["site"]:
        data["site"]["import_limit_kw"] = max(data["site"]["import_limit_kw"], 1.0)


@_SETTINGS
@given(site_requests(), site_requests())
def test_two_cars_are_within_a_tenth_of_a_percent_of_the_milp(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    # Real tariffs, and targets the cars can meet together.
    _real_tariff(first)
    request = _cars(first, second)
    models = [build_model(request.vehicle_request(index)) for index in range(2)]
    assume(all(model is not None for model in models))
    assume(solve_site_reference(models).shortfall <= 1e-6)  # type: ignore[arg-type]
    check_site_against_reference(request, plan_site(request), rel_tol=1e-3)


@settings(_SETTINGS, max_examples=EXAMPLES // 2)
@given(site_requests(), site_requests())
def test_two_cars_where_export_may_pay_more_than_import_are_within_a_tenth_of_a_percent(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    # The generator's export prices are above the import price in about half the slots, and a
    # slot below zero without an export price earns nothing for its export: there the house's
    # cost is not convex in its power, and the plans were up to 55 % above the optimum until
    # the search chose which way the house's power goes in each such slot.
    request = _cars(first, second)
    models = [build_model(request.vehicle_request(index)) for index in range(2)]
    assume(all(model is not None for model in models))
    assume(solve_site_reference(models).shortfall <= 1e-6)  # type: ignore[arg-type]
    check_site_against_reference(request, plan_site(request), rel_tol=1e-3)


@settings(_SETTINGS, max_examples=EXAMPLES // 3)
@given(site_requests(), site_requests(), site_requests())
def test_three_cars_on_real_tariffs_get_the_milps_optimum(
    first: dict[str, Any], second: dict[str, Any], third: dict[str, Any]
) -> None:
    # As for two cars: real tariffs, and targets the cars can meet together. Three cars
    # without a minimum power get the site's whole programme solved: the optimum itself.
    _real_tariff(first)
    request = _cars(first, second, third)
    models = [build_model(request.vehicle_request(index)) for index in range(3)]
    assume(all(model is not None for model in models))
    assume(solve_site_reference(models).shortfall <= 1e-6)  # type: ignore[arg-type]
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


@settings(
    max_examples=EXAMPLES // 3,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(site_requests(), site_requests())
def test_two_cars_never_break_a_limit(first: dict[str, Any], second: dict[str, Any]) -> None:
    request = _cars(first, second)
    # Where the cars together can't meet their targets a car with V2G may even give its
    # charge to the other: there every constraint holds and the cost adds up; the cases above
    # and the benchmark measure how close to the optimum the plan gets.
    check_site_against_reference(request, plan_site(request), rel_tol=None)


def test_two_cars_mixing_plans_keep_each_cars_minimum_power() -> None:
    # The joint planner's mix of a plan charging at the minimum from the solar surplus with one
    # that doesn't averaged the car below its 1 kW minimum (0.51 and 0.5 kW).
    solar_car = {
        "id": "b",
        "battery": {"capacity_kwh": 40.0, "soc_pct": 0.0},
        "charge": {"max_kw": 8.5, "efficiency": 0.875, "min_kw": 1.0},
        "targets": [{"by": (START + timedelta(hours=8)).isoformat(), "soc_pct": 58.0}],
    }
    idle_car = {
        "id": "a",
        "battery": {"capacity_kwh": 40.0, "soc_pct": 0.0},
        "charge": {"max_kw": 1.0, "efficiency": 1.0, "min_kw": 1.0},
        "targets": [{"by": START.isoformat(), "soc_pct": 0.0}],
    }
    request = SiteRequest.from_dict(
        {
            "now": START.isoformat(),
            "prices": _prices([0.0, 0.5, 0.5, 0.5, 0.5, 0.5], None),
            "site": {
                "base_load_kw": [0.0, 0.0, 0.0, 0.0, 0.0, 0.5],
                "solar_kw": [0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
                "import_limit_kw": 20.0,
            },
            "vehicles": [idle_car, solar_car],
        }
    )
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-3)
    for vehicle in result.vehicles:
        assert all(s.charge_kw == 0.0 or s.charge_kw >= 1.0 for s in vehicle.plan.slots)
    # The solar hour still charges, at the minimum.
    assert result.vehicles[1].plan.slots[4].charge_kw >= 1.0


def _minimum_car(
    identity: str, battery: tuple[float, float], charge: tuple[float, float, float], to: Any
) -> dict[str, Any]:
    """A car with a minimum power: (capacity, soc) and (max kW, efficiency, min kW); `to` is
    (when, soc) of its target."""
    (capacity, soc), (max_kw, efficiency, min_kw), (by, target) = battery, charge, to
    return {
        "id": identity,
        "battery": {"capacity_kwh": capacity, "soc_pct": soc},
        "charge": {"max_kw": max_kw, "efficiency": efficiency, "min_kw": min_kw},
        "targets": [{"by": by.isoformat(), "soc_pct": target}],
    }


def _later(minutes: int) -> datetime:
    """This many minutes after the tests' start."""
    return START + timedelta(minutes=minutes)


def _tariff_site(
    prices: list[Any], lists: tuple[list[float], list[float]], limits: tuple[float, float, float]
) -> dict[str, Any]:
    """Prices and a house: (load, solar) per slot, and (fuse, price per kW, month's peak)."""
    (base, solar), (fuse, peak_price, peak) = lists, limits
    return {
        "prices": prices,
        "site": {
            "base_load_kw": base,
            "solar_kw": solar,
            "import_limit_kw": fuse,
            "peak_price_per_kw": peak_price,
            "current_peak_kw": peak,
        },
    }


def test_two_cars_with_a_minimum_share_an_hours_cheapest_quarter() -> None:
    # Each hour may import 2.9825 kWh (11.93 kW for a quarter) and its first quarter is the
    # cheapest. The 11 kW car alone can't take 11.93 kW, and the rest is below its 4.14 kW
    # minimum, so in turns it charged a dearer quarter; sharing the quarter with the other
    # car's 1.38 kW minimum is 1.2 % cheaper.
    quarters = [round(0.1 + 0.1 * q + 0.01 * h, 4) for h in range(4) for q in range(4)]
    end = START + timedelta(hours=4)
    request = SiteRequest.from_dict(
        {
            "now": START.isoformat(),
            **_tariff_site(
                _prices(quarters, None, minutes=15), ([0.0] * 16, [0.0] * 16), (17.3, 100.0, 2.9825)
            ),
            "vehicles": [
                _minimum_car("a", (75.0, 0.0), (11.0, 1.0, 4.14), (end, 100.0 * 9.209 / 75.0)),
                _minimum_car("b", (40.0, 0.0), (7.4, 1.0, 1.38), (end, 100.0 * 1.527 / 40.0)),
            ],
        }
    )
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    first_quarters = [h * 4 for h in range(4)]
    shared = [
        t for t in first_quarters if all(v.plan.slots[t].charge_kw > 0.0 for v in result.vehicles)
    ]
    assert shared


def test_two_cars_with_a_minimum_lower_the_peak_together() -> None:
    # A drawn house (quarter hours) where the peak must fall below what either car's turn
    # reaches: the second car only charges at 3.7 kW, so the first makes room for it. Planned in
    # turns the plan cost 4.2 % more than the optimum.
    imports = [
        0.243, 0.27, 0.2757, 0.2951, 0.3203, 0.374, 0.3855, 0.397, 0.4371, 0.3994, 0.3944,
        0.3945, 0.3857, 0.3374, 0.3483, 0.3665, 0.3573, 0.3083, 0.3202, 0.285, 0.3132, 0.3569,
        0.3491, 0.3138,
    ]  # fmt: skip
    base = [
        1.504, 0.765, 0.456, 0.341, 0.827, 2.534, 2.177, 1.439, 1.389, 2.631, 2.787, 0.574,
        0.648, 1.45, 2.323, 2.649, 2.432, 2.179, 2.214, 1.067, 0.923, 1.736, 0.801, 2.848,
    ]  # fmt: skip
    solar = [
        0.133, 0.0, 1.379, 0.356, 0.962, 1.189, 0.0, 0.0, 0.682, 1.038, 0.863, 1.324, 0.271,
        0.663, 0.0, 1.674, 0.859, 1.916, 0.115, 0.441, 0.311, 0.512, 0.912, 0.0,
    ]  # fmt: skip
    prices = _prices(imports, [round(p * 0.3, 4) for p in imports], minutes=15)
    request = SiteRequest.from_dict(
        {
            "now": START.isoformat(),
            **_tariff_site(prices, (base, solar), (17.3, 1.0, 3.0)),
            "vehicles": [
                _minimum_car("a", (75.0, 39.2), (3.7, 0.863, 1.4), (_later(6 * 60), 49.1)),
                _minimum_car("b", (75.0, 56.2), (3.7, 0.937, 3.7), (_later(3 * 60), 64.8)),
            ],
        }
    )
    check_site_against_reference(request, plan_site(request), rel_tol=1e-3)


def test_two_cars_with_a_minimum_plan_again_after_trading() -> None:
    # Four hours, the third dear, targets after the horizon. The turns left the first car at
    # full power in the first hour, which set the peak; planned once more against the second
    # car's traded plan it spreads evenly, 7.5 % cheaper.
    request = SiteRequest.from_dict(
        {
            "now": (START + timedelta(minutes=17)).isoformat(),
            **_tariff_site(
                _prices([0.0, 0.0, 0.5, 0.0], [0.0, 0.0, 0.5, 0.0]),
                ([0.0] * 4, [0.0] * 4),
                (99.0, 1.0, 0.0),
            ),
            "vehicles": [
                _minimum_car("a", (40.0, 0.0), (7.5, 0.8125, 1.0), (_later(377), 71.0)),
                _minimum_car("b", (40.0, 4.0), (11.0, 1.0, 1.0), (_later(395), 79.0)),
            ],
        }
    )
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_two_cars_with_a_minimum_swap_quarters_to_keep_near_the_months_peak() -> None:
    # A drawn house (quarter hours) under a tariff of 20 per kW: both cars charge at 4.14 kW
    # or more, and keeping each hour near the month's 3 kW takes both cars' quarters chosen
    # together. Trading energy between hours left the plan 36 % above the optimum; the search
    # over the quarters each car charges in (swapping the first car's with the second's)
    # reaches it.
    imports = [
        0.2498, 0.2964, 0.3143, 0.285, 0.3261, 0.3274, 0.307, 0.3512, 0.3316, 0.3356, 0.3686,
        0.368, 0.3915, 0.3776, 0.3902, 0.401, 0.4385, 0.4779, 0.4902, 0.4611,
    ]  # fmt: skip
    exports = [
        0.075, 0.0889, 0.0943, 0.0855, 0.0978, 0.0982, 0.0921, 0.1054, 0.0995, 0.1007, 0.1106,
        0.1104, 0.1175, 0.1133, 0.117, 0.1203, 0.1316, 0.1434, 0.1471, 0.1383,
    ]  # fmt: skip
    base = [
        1.018, 0.287, 1.538, 2.43, 0.316, 1.668, 0.535, 1.241, 1.519, 0.23, 1.531, 2.606, 2.472,
        2.792, 1.478, 1.226, 1.678, 0.864, 0.374, 1.816,
    ]  # fmt: skip
    solar = [
        0.67, 1.439, 0.0, 0.522, 1.293, 2.108, 0.0, 0.52, 0.0, 2.402, 0.0, 1.067, 0.0, 0.223,
        0.78, 0.0, 0.0, 0.0, 0.0, 0.0,
    ]  # fmt: skip
    request = SiteRequest.from_dict(
        {
            "now": START.isoformat(),
            **_tariff_site(_prices(imports, exports, minutes=15), (base, solar), (13.8, 20.0, 3.0)),
            "vehicles": [
                _minimum_car(
                    "a", (40.0, 21.60483709619232), (7.4, 0.989, 4.14), (_later(285), 34.5268)
                ),
                _minimum_car(
                    "b", (75.0, 21.046041394356514), (5.9, 0.989, 4.14), (_later(300), 29.2323)
                ),
            ],
        }
    )
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_two_cars_planned_again_from_their_mix_keep_the_fuse_and_the_minimum() -> None:
    # The first car (2 kW, at least 2 kW) needs 10.4 kWh in seven hours; at 14:00 the house
    # leaves it only 1.75 kW under the 3 kW fuse. The joint mix had the second car discharge
    # there, the first car's turn took that room, and the second's turn gave it back: the
    # fuse then cut the first car below its minimum.
    request = SiteRequest.from_dict(
        {
            "now": START.isoformat(),
            "prices": _prices([0.0] * 5 + [0.5, 0.0], [0.0] * 7),
            "site": {
                "base_load_kw": [0.0] * 5 + [1.0, 1.25],
                "solar_kw": [0.0] * 7,
                "import_limit_kw": 3.0,
            },
            "vehicles": [
                _minimum_car("a", (40.0, 0.0), (2.0, 1.0, 2.0), (_later(7 * 60), 26.0)),
                {
                    **_minimum_car("b", (40.0, 0.0), (3.0, 1.0, 3.0), (START, 0.0)),
                    "discharge": {"max_kw": 1.0, "efficiency": 1.0, "min_soc_pct": 0.0},
                },
            ],
        }
    )
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=None)
    assert result.vehicles[0].plan.targets[0].met


def test_two_cars_with_a_minimum_and_v2g_choose_their_hours_exactly() -> None:
    # Four hours from 08:24, the third dear and sunny, under a tariff: the first car (V2G)
    # must reach 72.7 % after the horizon and the second 94.2 % at its end, each at 1 kW or
    # more. Which hours each charges in, and where the first discharges, decide the peak; the
    # search over them (each choice's powers solved exactly) reaches the MILP's optimum,
    # where trades between the hours left the plan 1.5 % above it.
    request = SiteRequest.from_dict(
        {
            "now": (START + timedelta(minutes=24)).isoformat(),
            "prices": _prices([-0.0425, 0.0, 0.5931, 0.0], [-0.0425, 0.0, 0.5931, 0.0]),
            "site": {
                "base_load_kw": [0.0] * 4,
                "solar_kw": [2.5337, 0.0, 3.9177, 0.0],
                "peak_price_per_kw": 1.1444,
                "current_peak_kw": 0.0,
                "import_limit_kw": 99.0,
            },
            "vehicles": [
                {
                    **_minimum_car("a", (40.0, 6.901), (7.2843, 0.8, 1.0), (_later(384), 72.716)),
                    "discharge": {"max_kw": 6.6587, "efficiency": 0.9144, "min_soc_pct": 0.0},
                },
                _minimum_car("b", (40.0, 60.615), (7.7687, 0.9129, 1.0), (_later(300), 94.176)),
            ],
        }
    )
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_two_cars_with_a_minimum_charge_along_a_taper_that_falls_below_it() -> None:
    # The second car's taper falls from 7.77 kW at 80 % to 1 kW at 100 %, below its 4.36 kW
    # minimum from 90 %. It must reach 94.2 % an hour after the horizon, so it charges into
    # its taper. Each hour it charges in, and how (at least its minimum, or along its taper),
    # decides the peak the two cars share. Searched with the taper as rows of each choice's
    # programme, the plan reaches the MILP's optimum; left to trades it was 11 % above it.
    request = SiteRequest.from_dict(
        {
            "now": (START + timedelta(minutes=24)).isoformat(),
            "prices": _prices([-0.0425, 0.0, 0.5931, 0.2191], [-0.0425, 0.0, 0.5931, 0.2191]),
            "site": {
                "base_load_kw": [1.0497, 0.0, 1.3654, 1.9346],
                "solar_kw": [2.5337, 0.2603, 3.9177, 0.3333],
                "peak_price_per_kw": 1.1444,
                "current_peak_kw": 0.0,
                "import_limit_kw": 99.0,
            },
            "vehicles": [
                {
                    **_minimum_car(
                        "a", (40.0, 6.901), (7.2843, 0.9892, 1.1), (_later(384), 72.716)
                    ),
                    "discharge": {"max_kw": 6.6587, "efficiency": 0.9144, "min_soc_pct": 23.9},
                },
                _tapering(
                    _minimum_car(
                        "b", (40.0, 60.615), (7.7687, 0.9129, 4.3594), (_later(300), 94.176)
                    ),
                    [[80.0, 7.7687], [100.0, 1.0]],
                ),
            ],
        }
    )
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_two_tapering_cars_with_a_minimum_fill_up_in_their_last_quarter() -> None:
    # Six hours of quarters under a capacity tariff. Both cars taper from 90 % to below their
    # minimum; the second must be full at the end, which its last quarter reaches at less than
    # its minimum (a quarter that fills the battery may). Which quarters each takes is searched;
    # before the search took tapering cars the plan was 19 % above the MILP's optimum.
    # (import price, export price, house load, solar) per quarter.
    quarters = [
        (0.189, 0.0567, 2.596, 0.0),
        (0.1434, 0.043, 2.853, 0.622),
        (0.1601, 0.048, 1.748, 0.59),
        (0.1606, 0.0482, 2.437, 1.679),
        (0.1185, 0.0356, 2.498, 1.364),
        (0.1238, 0.0371, 1.937, 0.752),
        (0.1584, 0.0475, 0.879, 1.405),
        (0.1171, 0.0351, 2.472, 2.413),
        (0.109, 0.0327, 1.866, 0.328),
        (0.0712, 0.0214, 2.111, 1.111),
        (0.1059, 0.0318, 2.074, 1.265),
        (0.0861, 0.0258, 2.947, 0.0),
        (0.092, 0.0276, 1.363, 0.0),
        (0.0887, 0.0266, 1.228, 0.0),
        (0.1054, 0.0316, 0.555, 0.0),
        (0.1244, 0.0373, 0.53, 0.0),
        (0.1564, 0.0469, 0.276, 0.0),
        (0.1076, 0.0323, 1.118, 1.708),
        (0.0937, 0.0281, 0.529, 0.738),
        (0.1154, 0.0346, 2.094, 0.0),
        (0.1419, 0.0426, 2.028, 0.0),
        (0.1998, 0.0599, 2.91, 0.548),
        (0.2158, 0.0647, 0.873, 0.0),
        (0.1589, 0.0477, 1.157, 1.131),
    ]
    imports, exports, load, solar = (list(column) for column in zip(*quarters, strict=True))
    request = SiteRequest.from_dict(
        {
            "now": START.isoformat(),
            "prices": _prices(imports, exports, minutes=15),
            "site": {
                "base_load_kw": load,
                "solar_kw": solar,
                "peak_price_per_kw": 1.0,
                "current_peak_kw": 3.0,
                "import_limit_kw": 13.8,
            },
            "vehicles": [
                _tapering(
                    _minimum_car("a", (40.0, 83.747), (3.7, 0.916, 1.38), (_later(225), 98.085)),
                    [[90.0, 3.7], [100.0, 1.0]],
                ),
                _tapering(
                    _minimum_car("b", (40.0, 85.724), (5.9, 0.887, 2.0), (_later(360), 100.0)),
                    [[90.0, 5.9], [100.0, 1.5]],
                ),
            ],
        }
    )
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


@pytest.mark.parametrize(
    "fixture",
    [
        # 17 hours of quarters (68 slots) under a steep capacity tariff (20 per kW), a random
        # house kept from a scan: two cars with 1.38 kW minimums and an 11 kW fuse. Trades
        # between the cars and hours alone left the plan 24 % above the MILP's optimum; the
        # quarters each car charges in are now searched over up to a day.
        pytest.param("two_cars_minimum_17_hours.json", id="quarters_searched_over_17_hours"),
        # 28 hours of quarters (112 slots) from 21:00 on 4 Jan 2026: DK1 day-ahead prices
        # (Energinet) with a grid fee and VAT, a winter house with a little sun, a 13.8 kW fuse
        # and no capacity tariff, kept from a scan. An 11 kW car with a 1.38 kW minimum due the
        # next evening and a 7.4 kW one due the afternoon: with the first car planned first, it
        # took the cheap night quarters the second one needs, and the trades left the plan
        # 0.4 % above the MILP's optimum. Beyond a day, the plans with each car first are now
        # compared, and the quarters each charges in searched.
        pytest.param("two_cars_minimum_28_hours.json", id="each_car_first_over_28_hours"),
        # Kept from a random run: 42 hours, two V2G cars at 24 % with minimums of 5.66 and
        # 5.74 kW under a 5.74 kW fuse, so only one charges at a time, both to reach 88.6 % the
        # next morning, with the sun lifting the fuse by day. The optimum has the cars trading
        # about twenty of their hours: the branch and bound proved nothing, and the descents'
        # single changes ended 0.5 % above it (-53.9544 against -54.2256). A branch and bound
        # over windows of eight hours, the rest held, now ends 4e-5 above it.
        pytest.param(
            "two_v2g_cars_at_the_fuse_42_hours.json", id="v2g_cars_trading_hours_at_the_fuse"
        ),
        # Kept from a random run, its values as drawn (some tiny, the capacity tariff 3e-192
        # per kW): 47 quarters, two V2G cars at 8 % with minimums of 4.74 and 3.47 kW under an
        # 8.57 kW fuse, both to reach 64 % by 17:34, with the sun lifting the fuse. The optimum
        # has the cars trading six quarters. The branch and bound proved nothing, and the
        # descents ended 2.5 % above it (0.6318 against 0.6164), as did windows searched from
        # their plan; windows searched from the branch and bound's plan reach it.
        pytest.param(
            "two_tapering_v2g_cars_47_quarters.json", id="tapering_v2g_cars_trading_quarters"
        ),
        # Kept from a random run, its values as drawn (the export limit 1.3e-244 kW): 32
        # quarters, an empty car with a 3.93 kW minimum due at 40 % by 14:19, and a V2G car at
        # 88 % with a 5.10 kW minimum. Split by lowest cost alone, the branch and bound never
        # reached a plan within its budget, and the plan stayed 9.5 % above the optimum
        # (-3.2065 against -3.5449); following each split's likeliest child down to a plan, it
        # reaches it.
        pytest.param("two_cars_no_export_32_quarters.json", id="plunging_to_a_plan_early"),
        # Kept from a random run, rounded to 4 decimals: 49 quarters, two cars with minimums of
        # 1.5 and 5.67 kW, the second empty, tapering and with V2G, under a capacity tariff.
        # Beyond the branch and bound's 48 slots, the descents ended 8.8 % above the optimum
        # (0.3010 against 0.2768); the branch and bound now reaches 64 slots, and the optimum.
        pytest.param("two_cars_tapering_v2g_49_quarters.json", id="branched_up_to_64_slots"),
        # Generated on DK1 day-ahead prices of 16 Jun 2026 with a grid fee and VAT, rounded to
        # 4 decimals: 33 hours of quarters, a 13.8 kW fuse and a capacity tariff of 3 per kW
        # above 5 kW, a 3.7 kW car that only switches and a 7.4 kW V2G car with a 4.14 kW
        # minimum. The descents spent their 500 programmes on the likeliest 200 wide changes
        # and the 300 moves saving the most import price, and ended 0.79 % above the optimum
        # (-1.7055 against -1.7191); with choices dropped once their cost passes the best
        # plan's, they try every wide change and every move, and reach it.
        pytest.param("two_cars_minimum_v2g_real_prices.json", id="every_change_tried_beyond_a_day"),
        # Generated with noise prices (a daily shape, import 0.2-0.4, export 30 % of it),
        # rounded to 4 decimals: 29 hours of quarters from midnight, an 11 kW fuse and a
        # capacity tariff of 5 per kW above 5 kW, a 3.7 kW car that only switches, due at
        # 18:45, and a 7.4 kW V2G car with a 4.14 kW minimum, due at 04:00 the next night.
        # At the optimum the first car leaves quarters that the second takes over, and takes
        # quarters the second leaves: every single move had been tried, and the plan stayed
        # 0.29 % above the optimum (2.6012 against 2.5938). Such handoffs reach it.
        pytest.param("two_cars_minimum_noise_prices_29_hours.json", id="handing_quarters_over"),
        # Generated on DK1 day-ahead prices of 13-14 May 2026 with a grid fee and VAT, rounded
        # to 4 decimals: 36 hours of quarters from noon, an 11 kW fuse and a capacity tariff of
        # 3 per kW above 7 kW, a 3.7 kW car that only switches and a 7.4 kW V2G car with a
        # 4.14 kW minimum. After the handoffs' gains, one car's move from 11:30 to 08:15 the
        # next day paid again, and then the other car adding 13:15, but the sweep of moves was
        # over and the plan stayed 0.18 % above the optimum (-1.8019 against -1.8052). The
        # last sweep now tries single slots and the moves alone too.
        pytest.param("two_cars_minimum_v2g_36_hours.json", id="moves_again_after_handoffs"),
        # Kept from a random run, rounded to 4 decimals: 46 quarters from 08:01 with sun, a
        # 4.52 kW fuse that is the first car's power (it only switches), a second car with a
        # 2.17 kW minimum, and a capacity tariff of 1.48 per kW above 4.91 kW. At the optimum
        # the first car takes two morning quarters whose export costs money (08:30 and 10:30)
        # from the second, which moves to quarters free of charge (11:45 and 12:30), and leaves
        # two afternoon ones. The first car, charging earlier, is into its taper by 11:45 and
        # leaves the second room under the fuse; the search read the way it charges there from
        # the plan before (at least its minimum), found no room and dropped the choice, and no
        # sweep within a day tried a chain of two moves. The plan stayed 6.7 % above the
        # optimum (2.5590 against 2.3985).
        pytest.param(
            "two_cars_switched_at_the_fuse_46_quarters.json", id="slot_passed_on_at_the_fuse"
        ),
        # Kept from a random run (rounded to 4 decimals): 41 quarters where 9 slots' export
        # pays more than their import (8 of them at an import price of 0 or below, one at
        # 0.23 against 0.28), two cars with minimums of 1.88 and 1.9 kW, the second with V2G,
        # under a capacity tariff of 1.3 per kW. The house's cost isn't convex there, so
        # the slots each car charges in weren't searched: the plan was 48 % above the optimum
        # (-1.7340 against -3.3527). Which way the house's power goes in those slots is now
        # searched with the slots, by branch and bound.
        pytest.param(
            "two_cars_export_above_import_41_quarters.json", id="export_above_import_searched"
        ),
        # Kept from a random run (rounded to 4 decimals): 75 quarters from 08:00 with sun, two
        # cars that only switch, at 1.05 kW each, and a fuse at that power, under a capacity
        # tariff. At the optimum one car moves its 13:00 quarter to the night, and the other
        # takes that quarter over, leaving its own at 18:00, whose surplus would export at
        # 0.15: with the fuse at one car's power, neither takes a quarter the other holds, and
        # no move of one car alone pays. The last sweep had the other car take over a quarter
        # only as an extra one, and the plan stayed 1.9 % above the optimum (0.1080 against
        # 0.0891). It now also moves the other car there from one of its own quarters.
        pytest.param("two_cars_at_the_fuse_75_quarters.json", id="quarter_taken_over_by_a_move"),
        # Kept from a random run (rounded to 4 decimals): 91 quarters from 08:00 with sun, nine
        # of them at import prices below 0, two cars with minimums of 1.66 and 2.4 kW, under a
        # capacity tariff. Beyond the branch and bound's 64 slots, the descents ended 0.27 %
        # above the optimum (-0.5947 against -0.5974); it now reaches 96 slots, and the optimum.
        pytest.param("two_cars_minimum_91_quarters.json", id="branched_up_to_a_day_of_quarters"),
    ],
)
def test_kept_two_car_cases_are_within_a_tenth_of_a_percent(fixture: str) -> None:
    """Cases kept from scans and random runs, each of which the search once ended more than
    0.1 % above the optimum."""
    request = _kept_request(fixture)
    check_site_against_reference(request, plan_site(request), rel_tol=1e-3)


def test_two_cars_with_a_minimum_over_more_than_a_day_pass_an_hour_between_them() -> None:
    # 35 hours of quarters (140 slots) from 16:00 on 15 Mar 2026: DK1 day-ahead prices
    # (Energinet) with a grid fee and VAT, a house with a little sun, a 17.3 kW fuse and a
    # capacity tariff of 20 per kW above a 3 kW peak, kept from a scan. A 5.9 kW car with a
    # 1.38 kW minimum and a 3.7 kW one that only switches. At the optimum the second car
    # leaves its 10:15 quarter the next morning for 16:00 today, and the first takes that
    # hour's budget for its 10:45 quarter, leaving a dearer one at 23:45: neither move alone
    # pays, and the plan stayed 0.34 % above the optimum. The search now chains such moves,
    # ranks every change by what it would cost, and beyond a day descends twice.
    _check_kept_house("two_cars_minimum_35_hours.json", 6.7207694)


def test_two_cars_with_a_minimum_over_more_than_a_day_rank_no_move_past_a_deadline() -> None:
    # 36 hours of quarters (144 slots) from 19:00 on 19 Jan 2026: DK1 day-ahead prices
    # (Energinet) with a grid fee and VAT, a winter house, a 17.3 kW fuse and a capacity
    # tariff of 1 per kW above a 3 kW peak, kept from a scan. Two 11 kW cars with a 1.4 kW
    # minimum, due at 01:30 and 04:30 two nights on. At the optimum the second car leaves
    # quarters before 01:30 for 04:00 and 04:15, and the first takes the hours' budgets it
    # leaves. The search's ranking put first the first car's moves past its own deadline,
    # whose energy must be bought again before it, and never reached these: the plan stayed
    # 0.27 % above the optimum. Energy moved past a car's last need now counts as lost.
    _check_kept_house("two_cars_minimum_36_hours.json", 7.2329535)


def test_two_cars_with_a_minimum_over_more_than_a_day_descend_from_the_plan_without_it() -> None:
    # 32 hours of quarters (128 slots) from 13:00 on 25 Feb 2026: DK1 day-ahead prices
    # (Energinet) with a grid fee and VAT, a house with a little sun, a 13.8 kW fuse and a
    # capacity tariff of 5 per kW above a 3 kW peak, kept from a scan. A 3.7 kW car with a
    # 1.4 kW minimum due the next evening, and an 11 kW one with 4.14 kW due at noon. Both
    # descents from the site plan stopped 2.6e-4 above the optimum; a third one, from the
    # quarters where the cars charge without their minimums, reaches it.
    _check_kept_house("two_cars_minimum_32_hours.json", 8.8940229, rel_tol=1e-6)


def _check_kept_house(fixture: str, optimum: float, rel_tol: float = 1e-3) -> None:
    """The kept site request plans within every limit and `rel_tol` of `optimum`: HiGHS's,
    solved when the case was kept (the MILP takes HiGHS longer than the planner)."""
    request = _kept_request(fixture)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=None)
    assert result.cost <= optimum * (1.0 + rel_tol)


def _kept_request(fixture: str) -> SiteRequest:
    """A site request kept from a scan, from `tests/fixtures/planner`."""
    path = Path(__file__).parents[1] / "fixtures" / "planner" / fixture
    return SiteRequest.from_dict(json.loads(path.read_text()))


def _tapering(car: dict[str, Any], taper: list[list[float]]) -> dict[str, Any]:
    car["charge"]["taper"] = taper
    return car


def _with_minimum(data: dict[str, Any], min_kw: float) -> None:
    data["charge"]["min_kw"] = min(min_kw, data["charge"]["max_kw"])


def _check_two_cars_with_a_minimum(
    first: dict[str, Any],
    second: dict[str, Any],
    min_kws: tuple[float, float],
    peak_price: float | None = None,
    rel_tol: float | None = None,
) -> None:
    """Two random cars with these minimums (at most their maximum) on one house, under a
    capacity tariff where a price is given: the plans keep every limit, and with `rel_tol`
    cost at most that much more than the optimum where the cars can meet their targets."""
    for data, min_kw in zip((first, second), min_kws, strict=True):
        _with_minimum(data, min_kw)
    site = first["site"]
    if peak_price is not None:
        site["peak_price_per_kw"] = peak_price
        site.setdefault("current_peak_kw", 0.0)
    # A fuse that lets either car charge at its minimum, as the site's validation asks.
    site["import_limit_kw"] = max(
        site.get("import_limit_kw", 0.0), first["charge"]["min_kw"], second["charge"]["min_kw"]
    )
    request = _cars(first, second)
    if rel_tol is not None:
        models = [build_model(request.vehicle_request(index)) for index in range(2)]
        assume(all(model is not None for model in models))
        assume(solve_site_reference(models).shortfall <= 1e-6)  # type: ignore[arg-type]
    check_site_against_reference(request, plan_site(request), rel_tol=rel_tol)


def test_a_car_with_a_minimum_charges_where_only_the_other_cars_discharge_makes_room() -> None:
    """A 4 kW fuse, an evening load of 5 kW, free power, and two empty cars due at 1 % in
    three hours. The first hour takes one car at its minimum, not both; after it the load
    alone passes the fuse. So the car with V2G charges first and discharges in a later hour
    while the other charges at its 1.5 kW minimum. The search of the slots each car charges
    in dropped every such choice, since the minimum didn't fit under the fuse before the
    discharge, and the second car fell 0.4 kWh short (found by a random run)."""
    site = {"base_load_kw": [0.0, 5.0, 5.0], "import_limit_kw": 4.0, "export_limit_kw": 0.0}
    first = _minimum_car("a", (40.0, 0.0), (9.0, 0.9, 4.0), (_later(180), 1.0))
    first["discharge"] = {"max_kw": 9.0, "efficiency": 1.0}
    second = _minimum_car("b", (40.0, 0.0), (9.0, 0.8, 1.5), (_later(180), 1.0))
    data = _site_request(site, [first, second])
    data["prices"] = _prices([0.0] * 3, [0.0] * 3)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    assert result.status == "ok"
    first_slots, second_slots = (vehicle.plan.slots for vehicle in result.vehicles)
    hour = next(t for t, slot in enumerate(second_slots) if slot.charge_kw > 0.0)
    assert hour > 0
    assert second_slots[hour].charge_kw >= 1.5
    assert first_slots[hour].discharge_kw == pytest.approx(second_slots[hour].charge_kw)


def test_a_nearly_full_car_discharges_to_make_room_in_its_battery_and_under_the_fuse() -> None:
    """A 1 kW fuse full with the house's load in the first hour, solar in the second, and
    prices that reward V2G. The optimum has the car at 98 % discharge in the first hour, which
    lets the empty car charge there at its 1 kW minimum, then refill from the sun. The search
    dropped that choice: the full car's minimum in the second hour overfilled it, unless its
    own discharge made the room first (found by a random run: 0.04 above the optimum)."""
    site = {"base_load_kw": [1.0] + [0.0] * 9, "solar_kw": [0.0, 1.0] + [0.0] * 8}
    site["import_limit_kw"] = 1.0
    full = _minimum_car("full", (40.0, 98.0), (1.0, 1.0, 1.0), (START, 0.0))
    full["discharge"] = {"max_kw": 7.7, "efficiency": 0.875}
    empty = _minimum_car("empty", (40.0, 0.0), (1.0, 1.0, 1.0), (START, 0.0))
    empty["discharge"] = {"max_kw": 1.0, "efficiency": 1.0}
    data = _site_request(site, [full, empty])
    imports = [0.0, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.5, 0.52, 0.0]
    exports = [0.0, 0.0, 0.25, 0.0, 0.25, 0.0, 0.25, 0.5, 0.26, 0.0]
    data["prices"] = _prices(imports, exports)
    request = SiteRequest.from_dict(data)
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=1e-6)
    assert result.vehicles[0].plan.slots[0].discharge_kw > 0.0
    assert result.vehicles[1].plan.slots[0].charge_kw == pytest.approx(1.0)


def test_a_v2g_car_fills_up_early_discharges_and_charges_again() -> None:
    # Kept from a random run: two V2G cars at 99 % whose taper there is below their minimum,
    # a capacity tariff, and prices that pay for discharging through the morning. The optimum
    # tops the second car up in the first hour, discharges it, and charges it again at its
    # 2.5 kW minimum from the early afternoon sun. The search let a car fill its battery
    # only in the last slot it charges in, so it never charged before a discharge: 1.9 %
    # above the optimum.
    request = _kept_request("two_v2g_cars_minimum_refill.json")
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_a_car_moved_below_its_taper_by_another_choice_of_slots_is_planned_there() -> None:
    # Kept from a random run: two V2G cars at 76 % on hourly prices, the first tapering from
    # 80 %, both with a minimum of about 1.1 kW. The optimum swaps the two cars' second and
    # third hours. Read from the plan before, the first car's third hour starts above 80 %,
    # where its taper is below its minimum, so it was to charge along the taper; with the
    # swap it discharges first and that has no solution. The search dropped the swap rather
    # than solve it with each car at its minimum: 0.1056 against the optimum's 0.1026.
    request = _kept_request("two_v2g_cars_below_the_taper.json")
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_two_cars_with_minimums_leave_one_hour_together() -> None:
    # Kept from a random run: two cars with minimums of 2.6 and 1.1 kW under a 2.6 kW fuse,
    # on eight hours of sun. The search had both charging in the last, free hour and one car
    # in each of two sunny hours; the optimum has both in those two hours. Moving either
    # car's last hour alone costs more: 0.1504 against the optimum's 0.1203.
    request = _kept_request("two_cars_minimum_leave_one_hour.json")
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_two_cars_with_minimums_under_a_capacity_tariff_change_hours_together() -> None:
    # Kept from a random run: twelve hours, a 3.5 kW fuse, a capacity tariff of 0.93 per kW
    # and two cars at 3.5 kW minimums with departures half an hour apart. The search ended
    # where each car's change alone raised the peak or the bill: 1.2046 against the
    # optimum's 1.1933 (0.95 %).
    request = _kept_request("two_cars_minimum_capacity_tariff.json")
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


@pytest.mark.parametrize(
    "fixture",
    [
        # Kept from a random run: eight hours under a 5.7 kW fuse and a capacity tariff of 1.72 per
        # kW, an empty car whose minimum is the fuse and a V2G car charging only at 1.18 kW. The
        # descents and every pair of changes ended at -0.3477 against the optimum's -0.6148: it
        # needs three changes at once. Branch and bound reaches it.
        pytest.param(
            "two_cars_minimum_v2g_peak_8_hours.json", id="v2g_car_and_one_at_the_fuse_8_hours"
        ),
        # Kept from a random run: two tapering cars at 29 % with minimums of 3.2 and 4.1 kW under a
        # 4.1 kW fuse, so one charges at a time. The descents ended 0.44 % above the optimum; branch
        # and bound finds the optimum.
        pytest.param("two_cars_minimum_18_quarters.json", id="tapering_cars_18_quarters"),
        # Kept from a random run: ten hours under a 5.8 kW fuse with a 0.5 kW export limit, a
        # tapering car at 98 % and a tapering V2G car at 77 % whose 5.8 kW minimum is the fuse. The
        # optimum charges the V2G car past about 86 %, where its taper is below its minimum, so that
        # it can charge under the fuse beside the house's load. Reading the way each slot charges
        # from another plan's energies ended at -1.1411 against -1.2626 (9.6 %); the branch and
        # bound now splits on those ways.
        pytest.param(
            "two_cars_tapering_below_minimum_10_hours.json",
            id="v2g_car_into_its_taper_below_its_minimum_10_hours",
        ),
        # Kept from a random run: 29 hours under a 1.8 kW fuse that the house's load alone often
        # passes, so the cars, with minimums of 1.8 and 1.74 kW, charge only where the sun makes
        # room. One is a V2G car at 38 %, the other at 77 % has to reach 98 %, into its taper. The
        # descents ended at 0.9129 against the optimum's 0.6002 (52 %); branch and bound, now on up
        # to 48 slots, proves the optimum.
        pytest.param(
            "two_cars_at_a_small_fuse_29_hours.json", id="small_fuse_lifted_by_the_sun_29_hours"
        ),
        # Kept from a random run: two V2G cars at 90 %, where their taper (10.75 kW at 80 % to 1 kW
        # at 100 %) is below their minimums, over two hours with solar in the second. Trying every
        # choice of hours, each charging as another plan's energies said, ended at -0.0890 against
        # the optimum's -0.1011 (1.2 %); branch and bound splits on how a car charges.
        pytest.param(
            "two_v2g_cars_in_their_taper_2_hours.json", id="v2g_cars_in_their_taper_2_hours"
        ),
        # Kept from a random run: two empty cars with minimums of 3.0 and 4.1 kW under a 4.1 kW fuse
        # and a capacity tariff of 2.04 per kW, over 21 hours. The descents ended 1.5 % above the
        # optimum (9.0824 against 8.9489); branch and bound finds the optimum.
        pytest.param(
            "two_cars_minimum_capacity_tariff_21_hours.json",
            id="shared_fuse_and_capacity_tariff_21_hours",
        ),
    ],
)
def test_kept_two_car_cases_get_the_optimum_by_branch_and_bound(fixture: str) -> None:
    """Cases kept from random runs, each of which the search once ended above the optimum."""
    request = _kept_request(fixture)
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_turns_never_keep_a_round_that_drops_the_discharge_another_car_counted_on() -> None:
    """A 1 kW fuse with 0.5 kW of load in the second hour, and two V2G cars with a 1 kW
    minimum trading on prices of 0 to 0.5. In a round of turns the first car charged 1 kW in
    that hour beside the second car's 0.5 kW discharge, and the second car, planned next,
    saw the house already over the fuse and dropped its discharge. That round was kept, and
    the plan then cut the first car to 0.5 kW to keep the fuse: below its minimum."""
    site = {"base_load_kw": [0.0, 0.5, 0.0, 0.0, 0.0], "import_limit_kw": 1.0}
    first = _minimum_car("a", (40.0, 0.0), (1.0, 1.0, 1.0), (START, 0.0))
    first["discharge"] = {"max_kw": 1.0, "efficiency": 1.0}
    second = _minimum_car("b", (40.0, 21.0), (2.0, 1.0, 1.0), (START, 0.0))
    second["discharge"] = {"max_kw": 5.0, "efficiency": 1.0}
    data = _site_request(site, [first, second])
    imports = [0.0, 0.0, 0.5, 0.0, 0.25]
    data["prices"] = _prices(imports, imports)
    request = SiteRequest.from_dict(data)
    check_site_against_reference(request, plan_site(request), rel_tol=1e-6)


def test_a_target_met_within_its_margin_leaves_no_crumb_of_charge_after_it() -> None:
    # Free power, a 3 kW fuse and an hour of load that leaves the first car 1.2 kW: it meets
    # its 7 % within the planners' 1e-9 kWh margin, and a later bound asked that 1e-9 kWh
    # back in the last hour, which became a 1.1e-9 kW charge below its 1 kW minimum. A step
    # that small is rounding, and is planned as none.
    request = SiteRequest.from_dict(
        {
            "now": START.isoformat(),
            "prices": _prices([0.0] * 6, None),
            "site": {
                "base_load_kw": [0.0, 0.0, 1.0, 5.0, 0.0, 0.0],
                "solar_kw": [0.0, 0.0, 0.0, 6.0, 0.0, 0.0],
                "import_limit_kw": 3.0,
            },
            "vehicles": [
                _minimum_car("a", (40.0, 0.0), (2.0, 0.875, 1.0), (_later(300), 7.0)),
                _minimum_car("b", (40.0, 0.0), (4.0, 0.875, 3.0), (_later(240), 22.0)),
            ],
        }
    )
    result = plan_site(request)
    check_site_against_reference(request, result, rel_tol=None)
    assert result.vehicles[0].plan.slots[5].charge_kw == 0.0


@settings(_SETTINGS, max_examples=EXAMPLES // 3)
@given(site_requests(), site_requests(), st.floats(1.0, 6.0), st.floats(1.0, 6.0))
def test_two_cars_with_a_minimum_power_never_break_it_or_a_limit(
    first: dict[str, Any], second: dict[str, Any], first_min_kw: float, second_min_kw: float
) -> None:
    _check_two_cars_with_a_minimum(first, second, (first_min_kw, second_min_kw))


@settings(_SETTINGS, max_examples=EXAMPLES // 3)
@given(site_requests(), site_requests(), st.floats(1.0, 6.0), st.floats(1.0, 6.0))
def test_two_cars_with_a_minimum_power_on_real_tariffs_are_within_a_tenth_of_a_percent(
    first: dict[str, Any], second: dict[str, Any], first_min_kw: float, second_min_kw: float
) -> None:
    # A random run of this found plans that cut a car below its minimum, left a target 0.4
    # kWh short and cost up to 1.9 % more than the optimum, where another car's discharge (or
    # the car's own) makes the room under the fuse or in the battery.
    _real_tariff(first)
    _check_two_cars_with_a_minimum(first, second, (first_min_kw, second_min_kw), rel_tol=1e-3)


@settings(_SETTINGS, max_examples=EXAMPLES // 3)
@given(site_requests(), site_requests(), st.floats(1.0, 6.0), st.floats(1.0, 6.0))
def test_two_cars_with_a_minimum_power_where_export_may_pay_more_are_within_a_tenth_of_a_percent(
    first: dict[str, Any], second: dict[str, Any], first_min_kw: float, second_min_kw: float
) -> None:
    # Any tariff of the generator: the slots each car charges in and which way the house's
    # power goes where export pays more than import are searched together.
    _check_two_cars_with_a_minimum(first, second, (first_min_kw, second_min_kw), rel_tol=1e-3)


@settings(_SETTINGS, max_examples=EXAMPLES // 2)
@given(
    site_requests(minutes=15, most=24),
    site_requests(minutes=15, most=24),
    st.tuples(st.floats(1.0, 6.0), st.floats(1.0, 6.0)),
    st.floats(0.1, 20.0),
    st.booleans(),
)
def test_two_cars_with_a_minimum_on_quarters_never_break_a_limit(
    first: dict[str, Any],
    second: dict[str, Any],
    min_kws: tuple[float, float],
    peak_price: float,
    flat: bool,
) -> None:
    # Quarter hours under a capacity tariff: the cars trade energy between hours and lower the
    # peak together (exchange.py), and each trade must keep the targets inside an hour, the
    # fuse, the minimums and the hours' imports. The quarters each car charges in are
    # searched too (patterns.py), with or without a taper: every choice's powers must keep the
    # same, the taper, the export limit, and a car with V2G its floor.
    if flat:
        first["charge"].pop("taper", None)
        second["charge"].pop("taper", None)
    _check_two_cars_with_a_minimum(first, second, min_kws, peak_price)


def _with_v2g(data: dict[str, Any], draw: st.DrawFn) -> None:
    data["discharge"] = {
        "max_kw": draw(st.floats(0.5, 10.0)),
        "efficiency": draw(st.floats(0.8, 1.0)),
        "min_soc_pct": draw(st.floats(0.0, 50.0)),
        "wear_cost_per_kwh": draw(st.floats(0.0, 0.05)),
    }


@st.composite
def three_cars_with_v2g(draw: st.DrawFn) -> SiteRequest:
    """Three cars, one or more of them with V2G, behind a fuse, on hours or quarter hours;
    an export limit and a capacity tariff by chance."""
    minutes = draw(st.sampled_from([15, 60]))
    cars = [draw(site_requests(minutes=minutes, most=16 if minutes == 15 else 12)) for _ in "abc"]
    for data in cars[: draw(st.integers(1, 3))]:
        _with_v2g(data, draw)
    site = cars[0]["site"]
    site["import_limit_kw"] = draw(st.floats(0.5, 15.0))
    if draw(st.booleans()):
        site["export_limit_kw"] = draw(st.floats(0.0, 10.0))
    if draw(st.booleans()):
        site["peak_price_per_kw"] = draw(st.floats(0.1, 3.0))
        site["current_peak_kw"] = draw(st.floats(0.0, 6.0))
    return _cars(*cars)


@settings(_SETTINGS, max_examples=EXAMPLES // 6)
@given(three_cars_with_v2g())
def test_three_cars_with_v2g_never_break_a_limit(request: SiteRequest) -> None:
    # As for two cars: every limit holds and the cost adds up wherever the tariff or the
    # targets leave the plan short of the optimum.
    check_site_against_reference(request, plan_site(request), rel_tol=None)
