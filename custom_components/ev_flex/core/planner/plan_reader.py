"""Reading a plan back from what `Plan.to_dict` wrote (the controller stores its plan).

A store can hold anything, so every field is checked: times must carry their offset, numbers
must be numbers, and a slot must not end before it starts. Anything else raises a ValueError,
KeyError or TypeError, and the caller starts without a plan.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from . import Plan, PlannedSlot, PlanStatus, SwitchInterval, TargetOutcome


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError("a plan and its parts are mappings")
    return value


def _time(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    if moment is None or moment.utcoffset() is None:
        raise ValueError(f"not a time with an offset: {value!r}")
    return moment


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _slot(value: Any) -> PlannedSlot:
    data = _mapping(value)
    start, end = _time(data["start"]), _time(data["end"])
    if end < start:
        raise ValueError("a plan slot ends before it starts")
    export = data.get("export")
    grid = data.get("grid_kw")
    return PlannedSlot(
        start=start,
        end=end,
        charge_kw=_number(data.get("charge_kw", 0.0)),
        discharge_kw=_number(data.get("discharge_kw", 0.0)),
        soc_pct_end=_number(data["soc_pct_end"]),
        import_price=_number(data["import"]),
        export_price=None if export is None else _number(export),
        grid_kw=None if grid is None else _number(grid),
    )


def _switch(value: Any) -> SwitchInterval:
    data = _mapping(value)
    mode = data.get("mode", "charge")
    if mode not in ("charge", "discharge"):
        raise ValueError(f"not a switch mode: {mode!r}")
    return SwitchInterval(
        start=_time(data["start"]),
        end=_time(data["end"]),
        mode=mode,
        kw=_number(data.get("kw", 0.0)),
    )


def _target(value: Any) -> TargetOutcome:
    data = _mapping(value)
    return TargetOutcome(
        by=_time(data["by"]),
        soc_pct=_number(data["soc_pct"]),
        expected_soc_pct=_number(data["expected_soc_pct"]),
        met=bool(data["met"]),
    )


def read_plan(value: Any) -> Plan:
    """The plan `Plan.to_dict` wrote; raises on anything else."""
    data = _mapping(value)
    return Plan(
        status=PlanStatus(data.get("status", PlanStatus.OK.value)),
        slots=tuple(_slot(item) for item in data.get("slots", ())),
        switch_times=tuple(_switch(item) for item in data.get("switch_times", ())),
        cost=_number(data.get("cost", 0.0)),
        charge_now_cost=_number(data.get("charge_now_cost", 0.0)),
        savings=_number(data.get("savings", 0.0)),
        energy_charged_kwh=_number(data.get("energy_charged_kwh", 0.0)),
        energy_discharged_kwh=_number(data.get("energy_discharged_kwh", 0.0)),
        targets=tuple(_target(item) for item in data.get("targets", ())),
        peak_kw=None if data.get("peak_kw") is None else _number(data["peak_kw"]),
        peak_cost=_number(data.get("peak_cost", 0.0)),
    )
