"""The plan_charging answer: summary first, rounded, local times."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from custom_components.ev_flex.core.plan_answer import currency_digits, plan_answer
from custom_components.ev_flex.core.planner import Battery, ChargeSettings, PlanRequest
from custom_components.ev_flex.core.planner.plan_reader import read_plan

OSLO = ZoneInfo("Europe/Oslo")
PLAN = read_plan(
    {
        "status": "ok",
        "slots": [
            {
                "start": "2026-01-13T23:00:00+00:00",
                "end": "2026-01-13T23:53:18.913043+00:00",
                "charge_kw": 10.999999999,
                "discharge_kw": 0.0,
                "soc_pct_end": 55.95460125000004,
                "import": 0.053412,
                "export": None,
            }
        ],
        "switch_times": [
            {
                "start": "2026-01-13T23:00:00+00:00",
                "end": "2026-01-13T23:53:18.913043+00:00",
                "mode": "charge",
                "kw": 11.0,
            }
        ],
        "cost": 55.95460125000004,
        "charge_now_cost": 70.004999,
        "savings": 14.05039774999996,
        "energy_charged_kwh": 9.7777777,
        "energy_discharged_kwh": 0.0,
        "targets": [
            {"by": "2026-01-14T06:00:00+00:00", "soc_pct": 80, "expected_soc_pct": 80, "met": True}
        ],
    }
)
REQUEST = PlanRequest(
    now=datetime(2026, 1, 13, 23, 0, tzinfo=UTC),
    battery=Battery(capacity_kwh=60.0, soc_pct=42.0),
    charge=ChargeSettings(max_kw=11.0, efficiency=0.9),
    prices=(),
)


def test_summary_leads_rounded_and_local() -> None:
    answer = plan_answer(PLAN, REQUEST, tz=OSLO, currency="NOK")
    assert list(answer) == ["summary", "planned_from", "slots"]
    summary = answer["summary"]
    assert summary["switch_times"] == [
        {
            "start": "2026-01-14T00:00:00+01:00",
            "end": "2026-01-14T00:53:19+01:00",
            "mode": "charge",
            "power_kw": 11.0,
        }
    ]
    assert (summary["cost"], summary["charge_now_cost"], summary["savings"]) == (
        55.95,
        70.0,
        14.05,
    )
    assert summary["energy_charged_kwh"] == 9.78
    assert summary["departure"] == "2026-01-14T07:00:00+01:00"
    assert summary["expected_soc_at_departure_pct"] == 80.0
    assert answer["planned_from"] == {
        "now": "2026-01-14T00:00:00+01:00",
        "battery": {"capacity_kwh": 60.0, "soc_pct": 42.0, "max_soc_pct": 100.0},
        "charge": {"max_kw": 11.0, "efficiency": 0.9, "taper": []},
        "targets": [],
        "protective_soc_pct": 0.0,
    }
    assert answer["slots"][0]["soc_pct_end"] == 56.0
    assert answer["slots"][0]["import_price"] == 0.0534


def test_money_follows_the_currency() -> None:
    assert currency_digits("JPY") == 0
    assert currency_digits("kwd") == 3
    assert currency_digits("EUR") == currency_digits(None) == 2
    assert plan_answer(PLAN, REQUEST, tz=OSLO, currency="JPY")["summary"]["cost"] == 56.0
