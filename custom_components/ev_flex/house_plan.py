"""The house's joint plan inside Home Assistant: made in the executor, handed to each car.

A car's controller asks through `HousePlanner.plan_for` while it steps. When the joint plan was
made for what every car of the house asks now, the car gets its own plan at once. Otherwise its
controller keeps the previous plan (core: PlanPendingError), the joint plan is made off the
event loop, and every car of the house steps again with it. A newer ask wins: a plan made for
asks that changed meanwhile is dropped and made again. The planning lives in
core/site_plan.py; this module only schedules it.
"""

from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .core.controller import PlanPendingError
from .core.planner import Plan
from .core.site_plan import CarAsk, HousePlans, plan_house

if TYPE_CHECKING:
    from .smart_charging import VehicleSmartCharging

# Before a joint plan is made, a car whose ask is older than this asks again (its SoC moved).
FRESH_ASK = timedelta(minutes=1)


class HousePlanner:
    """The joint plan of one house's cars, across entries."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Nothing asked yet."""
        self.hass = hass
        self.plans = HousePlans()
        self._cars: dict[str, VehicleSmartCharging] = {}
        self._scheduled = False
        self._running = False

    def plan_for(self, charging: VehicleSmartCharging, ask: CarAsk) -> Plan:
        """The car's plan; raises PlanPendingError while the joint plan is being made."""
        self._cars[ask.vehicle_id] = charging
        try:
            return self.plans.ask(ask)
        except PlanPendingError:
            self._schedule()
            raise

    @callback
    def leave(self, vehicle_id: str) -> None:
        """The car takes part no more: the others plan again without it."""
        if self.plans.leave(vehicle_id):
            self._cars.pop(vehicle_id, None)
            self._schedule()

    @callback
    def _schedule(self) -> None:
        """Plan soon: after the cars with an old ask asked again, in this turn of the loop."""
        if self._scheduled or self._running:
            # A running plan looks at what is wanted when it ends.
            return
        self._scheduled = True
        stale = dt_util.utcnow() - FRESH_ASK
        for vehicle_id, ask in self.plans.asks.items():
            if ask.request.now < stale and (charging := self._cars.get(vehicle_id)):
                self.hass.loop.call_soon(charging.async_replan)
        self.hass.loop.call_soon(self._start)

    @callback
    def _start(self) -> None:
        self._scheduled = False
        asks = self.plans.wanted()
        if asks is None:
            return
        self._running = True
        self.hass.async_create_background_task(
            self._async_make(asks), f"{DOMAIN} plan the house", eager_start=False
        )

    async def _async_make(self, asks: tuple[CarAsk, ...]) -> None:
        try:
            plans = await self.hass.async_add_executor_job(plan_house, asks)
        except Exception:  # noqa: BLE001 - a planner fault must not stop smart charging
            LOGGER.warning(
                "Planning the house's cars failed; each follows its previous plan",
                exc_info=True,
            )
            self.plans.fail(asks)
            self._running = False
            # Cars that asked otherwise meanwhile get a plan made for that.
            self._schedule()
            return
        self._running = False
        if not self.plans.deliver(asks, plans):
            # A car asked otherwise meanwhile: plan again for what is asked now.
            self._schedule()
            return
        for ask in asks:
            if (charging := self._cars.get(ask.vehicle_id)) is not None:
                charging.async_replan()
