"""The `plan_charging` answer, for people: a short summary first, rounded numbers, local times.

It takes the planner's plan (and the request it came from, without its prices) and lays it out
so the answer reads top-down: what to do and what it costs, what it was planned from, and the
slot-by-slot detail last. This is where the plan becomes JSON for the action's response.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from .planner import Plan, PlanRequest

# ISO 4217 currencies whose smallest unit is not a hundredth; all others have cents.
_CURRENCY_DIGITS = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}  # fmt: skip
ENERGY_DIGITS = 2
POWER_DIGITS = 2
SOC_DIGITS = 1
# Prices per kWh keep more digits than amounts: a tenth of a cent matters across many kWh.
PRICE_DIGITS = 4


def currency_digits(currency: str | None) -> int:
    """The digits of the currency's smallest unit (2 for cents; unknown currencies too)."""
    return _CURRENCY_DIGITS.get((currency or "").upper(), 2)


def _local(moment: datetime, tz: tzinfo) -> str:
    """A moment as local ISO 8601 with its offset, to the nearest second."""
    moment = (moment + timedelta(microseconds=500_000)).replace(microsecond=0)
    return moment.astimezone(tz).isoformat()


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def plan_answer(
    plan: Plan,
    request: PlanRequest,
    *,
    tz: tzinfo,
    currency: str | None,
) -> dict[str, Any]:
    """The answer of the `plan_charging` action."""
    money = currency_digits(currency)
    summary: dict[str, Any] = {
        "status": plan.status.value,
        "switch_times": [
            {
                "start": _local(window.start, tz),
                "end": _local(window.end, tz),
                "mode": window.mode,
                "power_kw": _round(window.kw, POWER_DIGITS),
            }
            for window in plan.switch_times
        ],
        "currency": currency,
        "cost": _round(plan.cost, money),
        "charge_now_cost": _round(plan.charge_now_cost, money),
        "savings": _round(plan.savings, money),
        "energy_charged_kwh": _round(plan.energy_charged_kwh, ENERGY_DIGITS),
        "energy_discharged_kwh": _round(plan.energy_discharged_kwh, ENERGY_DIGITS),
    }
    if plan.targets:
        first = plan.targets[0]
        summary["departure"] = _local(first.by, tz)
        summary["target_soc_pct"] = _round(first.soc_pct, SOC_DIGITS)
        summary["expected_soc_at_departure_pct"] = _round(first.expected_soc_pct, SOC_DIGITS)
        summary["target_met"] = first.met
    return {
        "summary": summary,
        "planned_from": _readable_request(request.to_dict(), tz),
        "slots": [
            {
                "start": _local(slot.start, tz),
                "end": _local(slot.end, tz),
                "charge_kw": _round(slot.charge_kw, POWER_DIGITS),
                "discharge_kw": _round(slot.discharge_kw, POWER_DIGITS),
                "soc_pct_end": _round(slot.soc_pct_end, SOC_DIGITS),
                "import_price": _round(slot.import_price, PRICE_DIGITS),
                "export_price": _round(slot.export_price, PRICE_DIGITS),
            }
            for slot in plan.slots
        ],
    }


def _readable_request(request: Mapping[str, Any], tz: tzinfo) -> dict[str, Any]:
    """The request without its prices, times local (the numbers are the planner's own)."""
    readable: dict[str, Any] = {}
    for key, value in request.items():
        if key == "prices":
            continue
        if key == "now":
            readable[key] = _local(datetime.fromisoformat(value), tz)
        elif key == "targets":
            readable[key] = [
                {**target, "by": _local(datetime.fromisoformat(target["by"]), tz)}
                for target in value
            ]
        else:
            readable[key] = value
    return readable
