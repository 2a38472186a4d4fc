"""The plan shown for a car that follows none, made in the executor.

For a car with smart charging off, or not plugged in at home, the card and the `plan_charging`
action show the plan it would follow now. With a house that plan can take a fraction of a
second, so it is made off the event loop, once per change of what it depends on (the same test
as the house's joint plan: core/site_plan.py `same_ask`). A newer ask wins: a plan made for an
ask that changed meanwhile is dropped and made again. The card gets it when it is ready; the
action waits for it.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .const import DOMAIN, LOGGER
from .core.controller import PlanPendingError
from .core.planner import Plan, PlanRequest, PlanValidationError, plan as make_plan
from .core.site_plan import CarAsk, finish_plan, same_ask

if TYPE_CHECKING:
    from .coordinator import EvFlexConfigEntry
    from .smart_charging import VehicleSmartCharging


@dataclass(frozen=True, slots=True)
class ShownPlan:
    """A plan made for an ask, or why there is none."""

    ask: CarAsk
    plan: Plan | None
    # Why the planner made none: it refused the request, or failed.
    error: Exception | None = None


class ShownPlanUnavailableError(Exception):
    """No plan to show: the planner failed, or the entry unloaded before it was made."""

    def __init__(self, detail: str, *, unloaded: bool = False) -> None:
        super().__init__(detail)
        self.unloaded = unloaded


def plan_alone(ask: CarAsk) -> Plan:
    """The car's plan with the house (where there is one) but without the house's other cars."""
    return finish_plan(ask, make_plan(ask.completed))


class ShownPlans:
    """One car's shown plan: the latest ask, the plan made for it, and who waits for it."""

    def __init__(
        self, hass: HomeAssistant, entry: EvFlexConfigEntry, name: Callable[[], str]
    ) -> None:
        """Nothing asked yet."""
        self.hass = hass
        self.entry = entry
        self._name = name
        self._made: ShownPlan | None = None
        self._wanted: CarAsk | None = None
        self._running = False
        self._waiters: list[asyncio.Future[ShownPlan]] = []
        self._listeners: list[CALLBACK_TYPE] = []
        entry.async_on_unload(self._unloaded)

    @callback
    def get(self, ask: CarAsk) -> ShownPlan | None:
        """The plan made for `ask`; None while it is being made (listeners hear when ready)."""
        self._wanted = ask
        if self._made is not None and same_ask(self._made.ask, ask):
            return self._made
        self._start()
        return None

    async def async_get(self, ask: CarAsk) -> ShownPlan:
        """The plan made for `ask`, or for a newer ask that came while it was made."""
        # Waiting before asking: the plan may be ready before `get` returns.
        waiter: asyncio.Future[ShownPlan] = self.hass.loop.create_future()
        self._waiters.append(waiter)
        if (shown := self.get(ask)) is not None:
            self._waiters.remove(waiter)
            return shown
        return await waiter

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> Callable[[], None]:
        """Be told when a plan is ready; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _start(self) -> None:
        if self._running or self._wanted is None:
            # A running plan looks at what is wanted when it ends.
            return
        self._running = True
        self.entry.async_create_background_task(
            self.hass, self._async_make(self._wanted), f"{DOMAIN} show the plan of {self._name()}"
        )

    async def _async_make(self, ask: CarAsk) -> None:
        planned: Plan | None = None
        error: Exception | None = None
        try:
            planned = await self.hass.async_add_executor_job(plan_alone, ask)
        except PlanValidationError as err:
            # A request the planner refuses shows no plan (the action says why); nothing stops.
            LOGGER.debug("The planner refused the plan shown for %s: %s", self._name(), err)
            error = err
        except Exception as err:  # noqa: BLE001 - a planner fault shows no plan, never stops HA
            LOGGER.warning("Planning the plan shown for %s failed", self._name(), exc_info=True)
            error = err
        finally:
            self._running = False
        wanted = self._wanted
        if wanted is None or not same_ask(ask, wanted):
            # Asked otherwise meanwhile: make the plan for what is asked now.
            self._start()
            return
        self._made = ShownPlan(ask, planned, error)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(self._made)
        for listener in list(self._listeners):
            listener()

    @callback
    def _unloaded(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(
                    ShownPlanUnavailableError(
                        "EV Flex unloaded before the plan was made", unloaded=True
                    )
                )


def shown_plan(charging: VehicleSmartCharging, now: datetime) -> tuple[PlanRequest, Plan] | None:
    """The request (without prices) and plan to show for the car: the one it follows, else the
    one it would follow now. None: no plan (no reading or prices, or the planner failed).
    Raises PlanPendingError while that plan is made; listeners hear when it is ready."""
    if (followed := charging.controller.followed_plan()) is not None:
        return followed
    if (ask := charging.display_ask(now)) is None:
        return None
    if (shown := charging.shown_plans.get(ask)) is None:
        raise PlanPendingError
    return _request_and_plan(shown)


async def async_shown_plan(
    charging: VehicleSmartCharging, now: datetime
) -> tuple[PlanRequest, Plan] | None:
    """As `shown_plan`, waiting for a plan that is being made. Raises PlanValidationError when
    the planner refused the request, ShownPlanUnavailableError when it failed or the entry
    unloaded meanwhile."""
    if (followed := charging.controller.followed_plan()) is not None:
        return followed
    if (ask := charging.display_ask(now)) is None:
        return None
    shown = await charging.shown_plans.async_get(ask)
    if isinstance(shown.error, PlanValidationError):
        raise shown.error
    if shown.plan is None:
        why = str(shown.error) or type(shown.error).__name__
        raise ShownPlanUnavailableError(why) from shown.error
    return _request_and_plan(shown)


def _request_and_plan(shown: ShownPlan) -> tuple[PlanRequest, Plan] | None:
    if shown.plan is None:
        return None
    return replace(shown.ask.request, prices=()), shown.plan
