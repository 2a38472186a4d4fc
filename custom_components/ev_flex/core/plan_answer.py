"""The `plan_charging` answer, for people: a short summary first, rounded numbers, local times.

It takes the planner's JSON answer (and the request it came from, without its prices) and lays
it out so the answer reads top-down: what to do and what it costs, what it was planned from,
and the slot-by-slot detail last.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

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


def _local(value: Any, tz: tzinfo) -> str:
    """A moment as local ISO 8601 with its offset, to the nearest second."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    moment = (moment + timedelta(microseconds=500_000)).replace(microsecond=0)
    return moment.astimezone(tz).isoformat()


def _round(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def plan_answer(
    plan: Mapping[str, Any],
    request: Mapping[str, Any],
    *,
    tz: tzinfo,
    currency: str | None,
) -> dict[str, Any]:
    """The answer of the `plan_charging` action."""
    money = currency_digits(currency)
    targets = list(plan.get("targets") or [])
    summary: dict[str, Any] = {
        "status": plan.get("status"),
        "switch_times": [
            {
                "start": _local(window["start"], tz),
                "end": _local(window["end"], tz),
                "mode": window.get("mode", "charge"),
                "power_kw": _round(window.get("kw", 0.0), POWER_DIGITS),
            }
            for window in plan.get("switch_times") or []
        ],
        "currency": currency,
        "cost": _round(plan.get("cost"), money),
        "charge_now_cost": _round(plan.get("charge_now_cost"), money),
        "savings": _round(plan.get("savings"), money),
        "energy_charged_kwh": _round(plan.get("energy_charged_kwh"), ENERGY_DIGITS),
        "energy_discharged_kwh": _round(plan.get("energy_discharged_kwh"), ENERGY_DIGITS),
    }
    if targets:
        first = targets[0]
        summary["departure"] = _local(first["by"], tz)
        summary["target_soc_pct"] = _round(first.get("soc_pct"), SOC_DIGITS)
        summary["expected_soc_at_departure_pct"] = _round(first.get("expected_soc_pct"), SOC_DIGITS)
        summary["target_met"] = bool(first.get("met"))
    return {
        "summary": summary,
        "planned_from": _readable_request(request, tz),
        "slots": [
            {
                "start": _local(slot["start"], tz),
                "end": _local(slot["end"], tz),
                "charge_kw": _round(slot.get("charge_kw", 0.0), POWER_DIGITS),
                "discharge_kw": _round(slot.get("discharge_kw", 0.0), POWER_DIGITS),
                "soc_pct_end": _round(slot.get("soc_pct_end"), SOC_DIGITS),
                "import_price": _round(slot.get("import"), PRICE_DIGITS),
                "export_price": _round(slot.get("export"), PRICE_DIGITS),
            }
            for slot in plan.get("slots") or []
        ],
    }


def _readable_request(request: Mapping[str, Any], tz: tzinfo) -> dict[str, Any]:
    """The request without its prices, times local (the numbers are the planner's own)."""
    readable: dict[str, Any] = {}
    for key, value in request.items():
        if key == "prices":
            continue
        if key == "now":
            readable[key] = _local(value, tz)
        elif key == "targets":
            readable[key] = [{**target, "by": _local(target["by"], tz)} for target in value]
        else:
            readable[key] = value
    return readable
