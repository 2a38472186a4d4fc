"""The request builder's prices with a house, and the hour's import from the meter's readings."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import math
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_flex.core.hour_import import HourImport
from custom_components.ev_flex.core.plan_request import PlanBasis
from custom_components.ev_flex.core.planner import (
    ChargeSettings,
    DischargeSettings,
    PriceSlot,
    SiteSpec,
    plan,
)

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
OSLO = ZoneInfo("Europe/Oslo")


def _basis(discharge: DischargeSettings | None = None, threshold: float | None = None) -> PlanBasis:
    return PlanBasis(
        capacity_kwh=50.0,
        charge=ChargeSettings(max_kw=11.0, efficiency=1.0),
        discharge=discharge,
        departure=NOON + timedelta(hours=2),
        target_soc_pct=60.0,
        discharge_price_threshold=threshold,
    )


# Noon: 5 kW of solar surplus that would earn 0.20 exported; one o'clock: the grid at 0.10.
PRICES = (
    PriceSlot(NOON, NOON + timedelta(hours=1), 0.30, 0.20),
    PriceSlot(NOON + timedelta(hours=1), NOON + timedelta(hours=2), 0.10, 0.05),
)
SURPLUS = SiteSpec(base_load_kw=(0.0, 0.0), solar_kw=(5.0, 0.0))


def test_without_v2g_the_solar_surplus_keeps_its_export_value() -> None:
    """Taking the surplus forgoes 0.20 a kWh of export: the cheapest plan charges at one
    o'clock from the grid at 0.10 instead (a surplus valued at nothing would go first)."""
    request = _basis().request(NOON, 50.0, PRICES)
    assert [slot.export_price for slot in request.prices] == [0.20, 0.05]
    result = plan(replace(request, site=SURPLUS))
    assert result.slots[0].charge_kw == pytest.approx(0.0)
    assert result.slots[1].charge_kw == pytest.approx(5.0)
    assert result.cost == pytest.approx(0.5)


def test_with_v2g_a_slot_below_the_threshold_gets_no_export_price() -> None:
    discharge = DischargeSettings(max_kw=11.0, efficiency=1.0, min_soc_pct=20.0)
    request = _basis(discharge, threshold=0.15).request(NOON, 50.0, PRICES)
    assert [slot.export_price for slot in request.prices] == [0.20, None]


def test_the_hour_import_holds_each_reading_and_starts_again_each_hour() -> None:
    meter = HourImport(OSLO)
    start = datetime(2026, 6, 10, 10, 20, tzinfo=UTC)
    meter.reading(start, 4.0)
    meter.reading(start + timedelta(minutes=15), -3.0)  # exporting counts nothing
    meter.reading(start + timedelta(minutes=20), math.nan)  # no reading: not observed
    meter.reading(start + timedelta(minutes=25), 6.0)
    # 10:20-10:35 at 4 kW, 10:45-10:50 at 6 kW; 10:00-10:20 and 10:40-10:45 unobserved at 1.2.
    assert meter.so_far(start + timedelta(minutes=30), 1.2) == pytest.approx(1.0 + 0.5 + 0.5)
    # A reading older than the last one changes nothing.
    meter.reading(start, 100.0)
    assert meter.so_far(start + timedelta(minutes=30), 0.0) == pytest.approx(1.5)
    # 11:10: the new hour holds 6 kW from its start.
    assert meter.so_far(start + timedelta(minutes=50), 0.0) == pytest.approx(1.0)
    # An estimate that is no number fills nothing.
    assert HourImport(OSLO).so_far(start, math.nan) == 0.0
