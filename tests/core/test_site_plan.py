"""The house's joint plan: who takes part, when it is made again, and each car's part of it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_flex.core.controller import PlanPendingError
from custom_components.ev_flex.core.planner import (
    Battery,
    ChargeSettings,
    DischargeSettings,
    Plan,
    PlanRequest,
    PriceSlot,
    SiteSpec,
    Target,
    plan,
)
from custom_components.ev_flex.core.site_plan import (
    CarAsk,
    HousePlans,
    plan_house,
    planned_average_kw,
)

START = datetime(2026, 6, 16, 16, 0, tzinfo=UTC)
# Two cheap hours first, then dear ones, then cheap again overnight.
IMPORTS = [0.01, 0.01, 0.30, 0.30, 0.30, 0.30, 0.05, 0.05, 0.05, 0.05]
FUSE_KW = 17.25


def _prices(hours: int, imports: list[float] = IMPORTS) -> tuple[PriceSlot, ...]:
    return tuple(
        PriceSlot(START + timedelta(hours=h), START + timedelta(hours=h + 1), imports[h], 0.02)
        for h in range(hours)
    )


def _ask(
    vehicle_id: str,
    hours: int,
    *,
    soc_pct: float = 45.0,
    target_pct: float = 80.0,
    now: datetime = START,
    penalty: float = 0.0,
    discharge: DischargeSettings | None = None,
) -> CarAsk:
    """A car whose prices (and departure) end after `hours`, with an 11 kW charger."""
    prices = _prices(hours)
    request = PlanRequest(
        now=now,
        battery=Battery(capacity_kwh=75.0, soc_pct=soc_pct),
        charge=ChargeSettings(max_kw=11.0, efficiency=0.9),
        prices=prices,
        targets=(Target(by=prices[-1].end, soc_pct=target_pct),),
        discharge=discharge,
    )
    completed = replace(
        request,
        prices=tuple(replace(slot, import_price=slot.import_price + penalty) for slot in prices),
        site=SiteSpec(
            base_load_kw=(0.5,) * hours, solar_kw=(0.0,) * hours, import_limit_kw=FUSE_KW
        ),
    )
    return CarAsk(vehicle_id, request, completed)


def _planned(plans: dict[str, Plan | None], *vehicle_ids: str) -> list[Plan]:
    """These cars' plans, each one there."""
    found = [plans[vehicle_id] for vehicle_id in vehicle_ids]
    for vehicle_plan in found:
        assert vehicle_plan is not None
    return [p for p in found if p is not None]


def test_two_cars_share_the_fuse_and_the_early_one_gets_the_cheap_hours() -> None:
    """Alone first, the car leaving later would take both cheap hours at full power and the
    other would fall short; together both reach their targets under the fuse."""
    early, late = _ask("early", 2, target_pct=70.0), _ask("late", 10)
    plans = plan_house([late, early])
    early_plan, late_plan = _planned(plans, "early", "late")
    assert early_plan.targets[0].met
    assert late_plan.targets[0].met
    assert len(early_plan.slots) == 2
    for index, slot in enumerate(early_plan.slots):
        # Summed as the house sums it: its load, then the car planning furthest ahead first.
        assert 0.5 + late_plan.slots[index].charge_kw + slot.charge_kw <= FUSE_KW
    # Planned one after the other, the early car falls short.
    alone = plan(late.completed)
    loaded = SiteSpec(
        base_load_kw=tuple(0.5 + s.charge_kw for s in alone.slots[:2]),
        solar_kw=(0.0, 0.0),
        import_limit_kw=FUSE_KW,
    )
    assert not plan(replace(early.completed, site=loaded)).targets[0].met


def _highest_moment_kw(plans: list[Plan], load_kw: float) -> float:
    """The house's highest power at any moment, each car running as its switch times say."""
    moments = {window.start for p in plans for window in p.switch_times}
    return load_kw + max(
        sum(w.kw for p in plans for w in p.switch_times if w.start <= moment < w.end)
        for moment in moments
    )


def test_switched_cars_that_would_pass_the_fuse_together_charge_in_whole_slots() -> None:
    """Two 11 kW cars whose chargers take no current, on a 17.25 kW fuse: a slot planned at
    part power runs at full power for part of it, so the second car's 6 kW average ran at
    11 kW beside the first car's 11 kW (22.5 kW with the house). Each now charges in whole
    slots at full power; the fuse holds at every moment, and both reach their targets."""
    plans = _planned(plan_house([_ask("a", 10), _ask("b", 10)]), "a", "b")
    assert all(p.targets[0].met for p in plans)
    assert _highest_moment_kw(plans, 0.5) <= FUSE_KW
    for p in plans:
        assert {round(s.charge_kw, 6) for s in p.slots} <= {0.0, 11.0}


def test_switched_cars_that_fit_the_fuse_together_keep_part_slots() -> None:
    """Under a fuse both cars fit together, part slots can't pass it: the plan is as before."""
    wide = SiteSpec(base_load_kw=(0.5,) * 10, solar_kw=(0.0,) * 10, import_limit_kw=22.5)
    asks = [_ask("a", 10, target_pct=70.0), _ask("b", 10)]
    asks = [replace(ask, completed=replace(ask.completed, site=wide)) for ask in asks]
    plans = _planned(plan_house(asks), "a", "b")
    assert all(ask.completed.charge.min_kw == 0.0 for ask in asks)
    assert any(0.0 < s.charge_kw < 11.0 - 1e-6 for p in plans for s in p.slots)
    assert _highest_moment_kw(plans, 0.5) <= 22.5


def test_a_car_in_another_solar_mode_plans_around_the_others() -> None:
    """Prices that differ (the solar mode's dear grid) can't share one site request: that car
    plans after the others, with their planned power as part of the house's load."""
    cheapest, solar = _ask("cheapest", 10), _ask("solar", 10, penalty=1000.0)
    plans = plan_house([cheapest, solar])
    first, second = _planned(plans, "cheapest", "solar")
    # Shown in real prices, planned around the first car.
    assert second.slots[0].import_price == pytest.approx(0.01)
    for index, slot in enumerate(second.slots):
        assert slot.charge_kw + first.slots[index].charge_kw <= FUSE_KW - 0.5 + 1e-6


def test_a_car_planned_around_another_keeps_the_fuse_despite_the_rounding_of_its_load() -> None:
    """The earlier car's load is rounded to a watt for the next car's request: rounded down,
    the next car would take the 0.4 W the rounding left and pass the fuse."""
    charge = ChargeSettings(max_kw=11.0004, efficiency=0.9)
    first = _ask("cheapest", 10, soc_pct=10.0, target_pct=100.0)
    first = replace(
        first,
        request=replace(first.request, charge=charge),
        completed=replace(first.completed, charge=charge),
    )
    second = _ask("solar", 10, soc_pct=10.0, target_pct=100.0, penalty=1000.0)
    plans = plan_house([first, second])
    planned_first, planned_second = _planned(plans, "cheapest", "solar")
    assert planned_first.slots[0].charge_kw == pytest.approx(11.0004)
    for index, slot in enumerate(planned_second.slots):
        assert 0.5 + planned_first.slots[index].charge_kw + slot.charge_kw <= FUSE_KW + 1e-9


def test_a_discharging_car_leaving_first_plans_after_the_others() -> None:
    """Planned past its departure it would discharge for the others while away."""
    v2g = DischargeSettings(max_kw=11.0, efficiency=0.9)
    plans = plan_house([_ask("stays", 10), _ask("leaves", 4, discharge=v2g)])
    (leaving,) = _planned(plans, "leaves")
    assert len(leaving.slots) == 4


def test_a_refused_request_gives_that_car_no_plan() -> None:
    """Cars the planner refuses (no battery, prices and target passed) get None; the other
    still gets its plan."""
    broken = _ask("broken", 10)
    broken = replace(
        broken, completed=replace(broken.completed, battery=Battery(capacity_kwh=0, soc_pct=45))
    )
    gone = _ask("gone", 2, now=START + timedelta(hours=3))
    plans = plan_house([_ask("stays", 10), broken, gone])
    assert plans["broken"] is None
    assert plans["gone"] is None
    (stays,) = _planned(plans, "stays")
    assert stays.targets[0].met
    assert plan_house([]) == {}


def test_house_plans_hand_out_the_plan_made_for_what_is_asked_now() -> None:
    """Pending until made; a newer ask wins over a stale result; time passing and the SoC
    creeping keep the plan; a car leaving makes it stale."""
    house = HousePlans()
    first, second = _ask("first", 10), _ask("second", 10, soc_pct=50.0)
    with pytest.raises(PlanPendingError):
        house.ask(first)
    with pytest.raises(PlanPendingError):
        house.ask(second)
    wanted = house.wanted()
    assert wanted == (first, second)
    plans = plan_house(wanted)
    # Meanwhile the second car's target changed: the result is dropped.
    changed = _ask("second", 10, soc_pct=50.0, target_pct=90.0)
    with pytest.raises(PlanPendingError):
        house.ask(changed)
    assert not house.deliver(wanted, plans)
    wanted = house.wanted()
    assert wanted == (first, changed)
    assert house.deliver(wanted, plan_house(wanted))
    assert house.wanted() is None
    later = _ask("first", 10, soc_pct=45.05, now=START + timedelta(minutes=2))
    assert house.ask(later).targets[0].met
    # A car that strays asks for a new plan.
    with pytest.raises(PlanPendingError):
        house.ask(_ask("first", 10, soc_pct=47.0))
    house.ask(first)
    assert house.wanted() is None
    assert house.leave("second")
    assert not house.leave("second")
    assert house.wanted() == (first,)


def test_a_failed_plan_is_not_tried_again_until_a_car_asks_otherwise() -> None:
    house = HousePlans()
    first = _ask("first", 10)
    with pytest.raises(PlanPendingError):
        house.ask(first)
    wanted = house.wanted()
    assert wanted is not None
    house.fail(wanted)
    assert house.wanted() is None
    with pytest.raises(PlanPendingError):
        house.ask(_ask("first", 10, target_pct=90.0))
    assert house.wanted() is not None


def test_a_refused_car_raises_a_value_error() -> None:
    house = HousePlans()
    first = _ask("first", 10)
    with pytest.raises(PlanPendingError):
        house.ask(first)
    assert house.deliver((first,), {"first": None})
    with pytest.raises(ValueError, match="no plan"):
        house.ask(first)


def test_planned_average_power_counts_discharging_against_charging() -> None:
    made = plan_house([_ask("car", 10, discharge=DischargeSettings(max_kw=5.0, efficiency=0.9))])
    planned = made["car"]
    assert planned is not None
    slot = planned.slots[0]
    half = slot.start + (slot.end - slot.start) / 2
    assert planned_average_kw(planned, slot.start, half) == pytest.approx(
        slot.charge_kw - slot.discharge_kw
    )
    assert planned_average_kw(None, slot.start, slot.end) == 0.0
    assert planned_average_kw(planned, slot.start, slot.start) == 0.0


def test_each_car_keeps_its_own_export_prices_and_departure() -> None:
    """A car that can't discharge plans with one that can: the house's export prices are the
    discharging car's, but each car's part shows its own slots (so it doesn't plan again at
    every step), cut at its departure."""
    v2g = DischargeSettings(max_kw=11.0, efficiency=0.9)
    plain = _ask("plain", 6)
    no_export = tuple(replace(slot, export_price=None) for slot in plain.request.prices)
    plain = CarAsk(
        "plain",
        replace(plain.request, prices=no_export),
        replace(plain.completed, prices=no_export),
    )
    plans = plan_house([_ask("v2g", 10, discharge=v2g), plain])
    mine, theirs = _planned(plans, "plain", "v2g")
    assert [slot.end for slot in mine.slots] == [slot.end for slot in no_export]
    assert all(slot.export_price is None for slot in mine.slots)
    assert all(slot.export_price == pytest.approx(0.02) for slot in theirs.slots)
    assert all(window.end <= no_export[-1].end for window in mine.switch_times)
