"""A stored plan reads back as the Plan it was, and anything else is refused."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.ev_flex.core.planner import (
    Battery,
    ChargeSettings,
    DischargeSettings,
    PlanRequest,
    PriceSlot,
    Target,
    plan,
)
from custom_components.ev_flex.core.planner.plan_reader import read_plan

NOW = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)


def _stored() -> dict[str, Any]:
    prices = tuple(
        PriceSlot(NOW + timedelta(hours=h), NOW + timedelta(hours=h + 1), 0.1 + 0.05 * (h % 5), 0.2)
        for h in range(12)
    )
    request = PlanRequest(
        now=NOW,
        battery=Battery(capacity_kwh=60.0, soc_pct=60.0),
        charge=ChargeSettings(max_kw=11.0, efficiency=0.9),
        discharge=DischargeSettings(max_kw=7.0, efficiency=0.9, min_soc_pct=30.0),
        targets=(Target(by=NOW + timedelta(hours=12), soc_pct=80.0),),
        prices=prices,
    )
    return plan(request).to_dict()


def test_a_stored_plan_reads_back_as_it_was() -> None:
    stored = _stored()
    restored = read_plan(stored)
    assert restored.to_dict() == stored
    assert {window.mode for window in restored.switch_times} == {"charge", "discharge"}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda p: p["switch_times"][0].update(mode="sideways"), ValueError),
        (lambda p: p["switch_times"][0].update(start="15:00"), ValueError),
        (lambda p: p["switch_times"][0].update(end=1_700_000_000), ValueError),
        (lambda p: p["slots"][0].update(charge_kw=True), TypeError),
        (lambda p: p["slots"][0].update(end=p["slots"][0]["start"][:-6] + "+12:00"), ValueError),
        (lambda p: p["slots"][0].pop("soc_pct_end"), KeyError),
        (lambda p: p["targets"].append("met"), TypeError),
        (lambda p: p.update(status="perfect"), ValueError),
    ],
    ids=[
        "unknown_mode",
        "time_without_date",
        "number_for_time",
        "flag_for_power",
        "slot_ends_before_start",
        "slot_without_soc",
        "target_not_a_mapping",
        "unknown_status",
    ],
)
def test_a_stored_plan_that_is_not_one_is_refused(change: Any, error: type[Exception]) -> None:
    stored = _stored()
    change(stored)
    with pytest.raises(error):
        read_plan(stored)
    with pytest.raises(TypeError):
        read_plan(["charge"])
