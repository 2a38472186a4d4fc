"""One joint plan for the cars of one house.

Each car's controller asks for its plan with its own request; the Home Assistant layer completes
it with the house (its load, solar, fuse and capacity tariff, the charger's minimum power and the
car's solar mode) into a `CarAsk`. `HousePlans` keeps the latest ask of every car that takes
part, says when the joint plan must be made again, and hands each car its own plan once it is
made. `plan_house` makes it; it is slow (a second or so on a small machine), so the Home
Assistant layer runs it off the event loop.

Cars whose prices agree (one price source, one solar mode) are planned together through
`plan_site`: they share the fuse and the capacity tariff, and the cheap slots go where the
targets need them. A car whose prices differ, or one with vehicle-to-grid that leaves before
the others, is planned after them around their planned power, as part of the house's load.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import math

from .controller_plan import PlanPendingError
from .planner import Plan, PlannedSlot, PlanRequest, PriceSlot, SiteSpec, plan
from .planner.multi import SiteRequest, VehicleRequest, plan_site
from .site import current_switch_times

# A newer ask that differs from the one the joint plan was made for by no more than this (time
# passing, the SoC creeping while charging) gets the same plan: the controller's own checks ask
# again when the car strays from it.
SAME_SOC_PCT = 0.1
SAME_TIME = timedelta(minutes=5)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CarAsk:
    """A car's request as its controller asked (real prices) and completed with the house."""

    vehicle_id: str
    request: PlanRequest
    completed: PlanRequest
    # The power of one amp on the charger's phases (kW), where it takes a current.
    amp_kw: float | None = None


def _timeless(request: PlanRequest) -> PlanRequest:
    # The hour's import so far grows as time passes; a plan made minutes ago already expected it.
    site = None if request.site is None else replace(request.site, hour_import_kwh=0.0)
    return replace(request, now=_EPOCH, battery=replace(request.battery, soc_pct=0.0), site=site)


def same_ask(made: CarAsk, asked: CarAsk) -> bool:
    """Whether the plan made for `made` still answers `asked`."""
    return (
        made.vehicle_id == asked.vehicle_id
        and abs(asked.request.now - made.request.now) <= SAME_TIME
        and abs(asked.request.battery.soc_pct - made.request.battery.soc_pct) <= SAME_SOC_PCT
        and _timeless(made.completed) == _timeless(asked.completed)
        and _timeless(made.request) == _timeless(asked.request)
    )


class HousePlans:
    """The latest ask of every car of the house, and the joint plan made for them."""

    def __init__(self) -> None:
        self._asks: dict[str, CarAsk] = {}
        self._made: dict[str, CarAsk] = {}
        self._plans: dict[str, Plan | None] = {}
        self._failed: dict[str, CarAsk] | None = None

    @property
    def asks(self) -> Mapping[str, CarAsk]:
        """The cars taking part, by vehicle id, with what each asked last."""
        return self._asks

    def ask(self, ask: CarAsk) -> Plan:
        """The car's plan from the joint plan made for what every car asks now.

        Raises PlanPendingError while that plan is still to be made, and ValueError when the
        planner refused this car's request.
        """
        self._asks[ask.vehicle_id] = ask
        if not self._answers(self._made):
            raise PlanPendingError
        planned = self._plans.get(ask.vehicle_id)
        if planned is None:
            raise ValueError(f"no plan for {ask.vehicle_id}")
        return planned

    def leave(self, vehicle_id: str) -> bool:
        """The car takes part no more (unplugged, away, removed); whether it did."""
        return self._asks.pop(vehicle_id, None) is not None

    def wanted(self) -> tuple[CarAsk, ...] | None:
        """What to plan together now; None when the joint plan (or its failure) is current."""
        if not self._asks or self._answers(self._made):
            return None
        if self._failed is not None and self._answers(self._failed):
            return None
        return tuple(self._asks.values())

    def deliver(self, asks: Sequence[CarAsk], plans: Mapping[str, Plan | None]) -> bool:
        """Keep the joint plan made for `asks`, unless the cars asked otherwise meanwhile."""
        made = {ask.vehicle_id: ask for ask in asks}
        if not self._answers(made):
            return False
        self._made, self._plans, self._failed = made, dict(plans), None
        return True

    def fail(self, asks: Sequence[CarAsk]) -> None:
        """Planning `asks` failed: not again until a car asks otherwise."""
        self._failed = {ask.vehicle_id: ask for ask in asks}

    def _answers(self, made: Mapping[str, CarAsk]) -> bool:
        return made.keys() == self._asks.keys() and all(
            same_ask(made[vehicle_id], ask) for vehicle_id, ask in self._asks.items()
        )


# --------------------------------------------------------------------------------------------
# Making the joint plan


def plan_house(asks: Sequence[CarAsk]) -> dict[str, Plan | None]:
    """Every car's plan, made together; None for a car whose request the planner refused."""
    if not asks:
        return {}
    now = max(ask.request.now for ask in asks)
    plans: dict[str, Plan | None] = {}
    for group in _groups(_in_whole_slots(asks), now):
        plans.update(_plan_group(group, now, [p for p in plans.values() if p is not None]))
    return {ask.vehicle_id: plans[ask.vehicle_id] for ask in asks}


def _in_whole_slots(asks: Sequence[CarAsk]) -> list[CarAsk]:
    """The asks with every switched car (a charger that takes no current) planned in whole
    slots at full power where the fuse asks for it.

    Switched on, such a car draws its full power, so a slot planned at part power runs at full
    power for part of the slot: its average keeps to the fuse, the moments it runs need not.
    Where the switched cars' full power with the house's highest load could pass the fuse,
    each is planned with its full power as its minimum: every slot it charges in then runs
    whole at the planned power (but the one that fills the battery), so what the plan keeps to
    on average it keeps to at every moment.
    """
    together = sum(ask.completed.charge.max_kw for ask in asks if _switched(ask))
    out: list[CarAsk] = []
    for ask in asks:
        completed = ask.completed
        site = completed.site
        charge = completed.charge
        if (
            not _switched(ask)
            or site is None
            or site.import_limit_kw is None
            or charge.max_kw > site.import_limit_kw
            or _highest_load_kw(site) + together <= site.import_limit_kw
        ):
            out.append(ask)
            continue
        whole = replace(completed, charge=replace(charge, min_kw=charge.max_kw))
        # Its charger takes no current: nothing to round to whole amps.
        out.append(replace(ask, completed=whole, amp_kw=None))
    return out


def _switched(ask: CarAsk) -> bool:
    """Whether the car's charger takes no current (no minimum power): switched on and off."""
    return ask.completed.charge.min_kw <= 0.0


def _highest_load_kw(site: SiteSpec) -> float:
    """The house's highest expected grid power without the cars (kW, at least 0)."""
    solar = site.solar_kw
    return max(
        0.0,
        *(load - (solar[t] if t < len(solar) else 0.0) for t, load in enumerate(site.base_load_kw)),
    )


def _from_now(request: PlanRequest, now: datetime) -> list[PriceSlot]:
    return [slot for slot in request.prices if slot.end > now]


def _fits(leader: PlanRequest, member: PlanRequest, now: datetime, *, exports: bool) -> bool:
    """Whether `member` can share the leader's prices: the same slots and import prices (its
    last slot may end earlier, at its departure) and, with `exports`, the same export prices."""
    ours, theirs = _from_now(leader, now), _from_now(member, now)
    if member.site is None or leader.site is None or not theirs or len(theirs) > len(ours):
        return False
    if member.discharge is not None and len(theirs) < len(ours):
        # Planned past its departure, it would discharge for the others while away.
        return False
    last = len(theirs) - 1
    for index, (own, shared) in enumerate(zip(theirs, ours, strict=False)):
        if own.start != shared.start or own.import_price != shared.import_price:
            return False
        if own.end != shared.end and (index < last or own.end > shared.end):
            return False
        if exports and own.export_price != shared.export_price:
            return False
    return True


def _groups(asks: Sequence[CarAsk], now: datetime) -> list[list[CarAsk]]:
    """Cars that can share one price list, led by the one planning furthest ahead."""
    left = sorted(asks, key=lambda ask: -len(_from_now(ask.completed, now)))
    groups: list[list[CarAsk]] = []
    while left:
        leader, *rest = left
        group, left = [leader], []
        discharging = leader.completed if leader.completed.discharge is not None else None
        for ask in rest:
            member = ask.completed
            exports = discharging is not None and member.discharge is not None
            if _fits(leader.completed, member, now, exports=False) and (
                discharging is None or not exports or _fits(discharging, member, now, exports=True)
            ):
                group.append(ask)
                if discharging is None and member.discharge is not None:
                    discharging = member
            else:
                left.append(ask)
        groups.append(group)
    return groups


def _with_load(request: PlanRequest, others: Sequence[Plan]) -> PlanRequest:
    """The request with the cars planned before it as part of the house's load."""
    site = request.site
    if site is None or not others:
        return request
    base = list(site.base_load_kw) or [0.0] * len(request.prices)
    for index, slot in enumerate(request.prices[: len(base)]):
        base[index] += sum(planned_average_kw(other, slot.start, slot.end) for other in others)
    # Rounded to a watt for stable plan keys, upwards: the car planned next then can't pass the
    # fuse (or the export limit) by the rounding.
    rounded = tuple(math.ceil(kw * 1000.0 - 1e-6) / 1000.0 for kw in base)
    return replace(request, site=replace(site, base_load_kw=rounded))


def _plan_group(
    group: list[CarAsk], now: datetime, earlier: Sequence[Plan]
) -> dict[str, Plan | None]:
    """One group's plans: alone as `plan` would, or together through `plan_site`."""
    if len(group) == 1:
        ask = group[0]
        try:
            return {ask.vehicle_id: finish_plan(ask, plan(_with_load(ask.completed, earlier)))}
        except ValueError, ArithmeticError:
            return {ask.vehicle_id: None}
    leader = _with_load(_shared_from(group[0].completed, now, group), earlier)
    assert leader.site is not None
    request = SiteRequest(
        now=now,
        prices=leader.prices,
        site=leader.site,
        vehicles=tuple(
            VehicleRequest(
                id=ask.vehicle_id,
                battery=ask.completed.battery,
                charge=ask.completed.charge,
                discharge=ask.completed.discharge,
                targets=ask.completed.targets,
                protective_soc_pct=ask.completed.protective_soc_pct,
            )
            for ask in group
        ),
    )
    try:
        joint = plan_site(request)
    except ValueError, ArithmeticError:
        # One car's request the site can't take: each plans alone, around those before it.
        plans: dict[str, Plan | None] = {}
        for ask in group:
            plans |= _plan_group([ask], now, [*earlier, *_plans(plans.values())])
        return plans
    own = {vehicle.id: vehicle.plan for vehicle in joint.vehicles}
    return {ask.vehicle_id: finish_plan(ask, _own_part(own[ask.vehicle_id], ask)) for ask in group}


def _plans(plans: Iterable[Plan | None]) -> list[Plan]:
    return [p for p in plans if p is not None]


def _shared_from(leader: PlanRequest, now: datetime, group: list[CarAsk]) -> PlanRequest:
    """The leader's prices and site from now, with the export prices of a car that discharges
    (the others' say nothing: they can't discharge)."""
    prices = leader.prices
    skipped = len(prices) - len(_from_now(leader, now))
    site = leader.site
    assert site is not None
    discharging = next((ask.completed for ask in group if ask.completed.discharge), None)
    shared = list(prices[skipped:])
    if discharging is not None:
        exports = _from_now(discharging, now)
        shared = [
            replace(slot, export_price=exports[i].export_price) for i, slot in enumerate(shared)
        ]
    return replace(
        leader,
        now=now,
        prices=tuple(shared),
        site=replace(
            site,
            base_load_kw=site.base_load_kw[skipped:],
            solar_kw=site.solar_kw[skipped:],
        ),
    )


def _own_part(planned: Plan, ask: CarAsk) -> Plan:
    """A car's part of the joint plan up to where its own prices end (its departure), with its
    own export prices (none where it may not discharge), so it matches the car's own slots."""
    own = ask.completed.prices
    end = own[-1].end if own else None
    slots = list(planned.slots)
    windows = planned.switch_times
    if end is not None and slots and slots[-1].end > end:
        slots = [slot for slot in slots if slot.start < end]
        slots[-1] = replace(slots[-1], end=end)
        windows = tuple(
            replace(window, end=min(window.end, end)) for window in windows if window.start < end
        )
    exports = {price.end: price.export_price for price in own}
    slots = [replace(slot, export_price=exports.get(slot.end, slot.export_price)) for slot in slots]
    return replace(planned, slots=tuple(slots), switch_times=windows)


def finish_plan(ask: CarAsk, planned: Plan) -> Plan:
    """A car's plan as it follows and shows it: through each slot at its planned power where
    the charger takes a current, and in real prices where the solar mode made the grid dear."""
    completed, request = ask.completed, ask.request
    if completed.charge.min_kw > 0:
        windows = current_switch_times(
            planned, completed.charge.min_kw, amp_kw=ask.amp_kw, max_kw=completed.charge.max_kw
        )
        planned = replace(planned, switch_times=windows)
    if completed.prices == request.prices:
        return planned
    without_penalty = plan(replace(completed, prices=request.prices))
    shown = plan_with_real_prices(planned, request.prices, completed.site)
    return replace(shown, charge_now_cost=without_penalty.charge_now_cost)


def planned_average_kw(planned: Plan | None, start: datetime, end: datetime) -> float:
    """A plan's average power at the grid over [start, end) (kW; discharging counts less)."""
    energy = 0.0
    for slot in () if planned is None else planned.slots:
        overlap = (min(end, slot.end) - max(start, slot.start)).total_seconds()
        if overlap > 0:
            energy += (slot.charge_kw - slot.discharge_kw) * overlap
    span = (end - start).total_seconds()
    return energy / span if span > 0 else 0.0


def plan_with_real_prices(
    planned: Plan, prices: Sequence[PriceSlot], site: SiteSpec | None
) -> Plan:
    """A plan made with the solar modes' grid penalty, showing the real prices and cost.

    The cost counts grid energy at its import price and solar surplus the car took at the
    export price it would otherwise have earned.
    """
    real = {price.end: price for price in prices}
    base = site.base_load_kw if site is not None else ()
    solar = site.solar_kw if site is not None else ()
    slots: list[PlannedSlot] = []
    cost = 0.0
    for index, slot in enumerate(planned.slots):
        price = real.get(slot.end)
        if price is None:
            slots.append(slot)
            continue
        hours = (slot.end - slot.start).total_seconds() / 3600.0
        surplus = max(0.0, solar[index] - base[index]) if index < min(len(base), len(solar)) else 0
        charge = slot.charge_kw
        from_solar = min(charge, surplus)
        export_price = price.export_price or 0.0
        cost += hours * (price.import_price * (charge - from_solar) + export_price * from_solar)
        cost -= hours * export_price * slot.discharge_kw
        slots.append(replace(slot, import_price=price.import_price))
    return replace(planned, slots=tuple(slots), cost=round(cost, 6))
