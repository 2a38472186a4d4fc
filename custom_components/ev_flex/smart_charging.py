"""Runs each vehicle's smart-charging controller inside Home Assistant.

The controller itself (core/controller.py) decides; this module feeds it readings and prices,
wakes it when it asks, carries out its decisions through the EV system's unified control,
stores its state so nothing is lost over a restart, and tells entities when it changed.
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
import math
from typing import Any

from homeassistant.components.persistent_notification import async_create as notify
from homeassistant.const import STATE_ON
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import CONF_NOTIFY_V2G, CONF_OUTAGE_ENTITY, DOMAIN, LOGGER
from .coordinator import EvFlexConfigEntry
from .core.account import CommandRejectedError
from .core.controller import (
    STORAGE_VERSION,
    ControllerEvent,
    Decision,
    EventKind,
    Observation,
    VehicleController,
)
from .core.executor import (
    POLL_FOLLOW_DELAYS_S,
    WEBHOOK_FOLLOW_DELAYS_S,
    CommandExecutor,
    RetryPolicy,
    follow_delays,
)
from .core.model import CommandKind, CommandResult, Reason, ReasonCode
from .core.pairing import EvSystem, command_outcome
from .core.planner import Plan, PlanRequest, plan as make_plan
from .core.site import GRID_VOLTAGE_V
from .core.site_plan import CarAsk
from .core.tariff import PricedSlot
from .helpers import store_key_part, vehicle_name
from .repairs import issue_id
from .shown_plan import ShownPlans
from .stores import (
    ISSUE_STORE_OTHER_VERSION,
    ISSUE_STORE_UNREADABLE,
    async_load_store,
    async_report_reset,
    device_known,
)
from .texts import UNKNOWN_FACT, cached_texts, reason_text

STORE_VERSION = 1
SAVE_DELAY_SECONDS = 10
EVENT_DISCHARGE_STARTED = f"{DOMAIN}_discharge_started"
EVENT_STATE_CHANGED = f"{DOMAIN}_smart_charging_state_changed"


# One attempt per run: a failed command is tried again when the controller wakes at the
# retry time (Home Assistant's timers), soon at first, then less often. No task sleeps.
# A pending command is checked at growing intervals for up to 30 minutes (Enode's slowest
# vendors), and at once when a webhook says it changed.
RETRY_POLICY = RetryPolicy(
    poll_delays_s=follow_delays(POLL_FOLLOW_DELAYS_S),
    attempts=1,
    cooldown_s=(30.0, 120.0, 300.0, 900.0, 1800.0),
)
WEBHOOK_RETRY_POLICY = replace(RETRY_POLICY, poll_delays_s=follow_delays(WEBHOOK_FOLLOW_DELAYS_S))
# Runs in a row that failed (about 20 minutes of trying) before the user is asked to look.
FAILED_RUNS_FOR_ISSUE = 4


class VehicleSmartCharging:
    """One vehicle's controller, wired to its account, prices and entities."""

    def __init__(self, hass: HomeAssistant, entry: EvFlexConfigEntry, vehicle_id: str) -> None:
        """Create the controller; `async_start` loads what was stored and starts it."""
        self.hass = hass
        self.entry = entry
        self.vehicle_id = vehicle_id
        self.coordinator = entry.runtime_data.coordinator
        self._store: Store[dict[str, Any]] = Store(
            hass,
            STORE_VERSION,
            f"{DOMAIN}.controller.{entry.entry_id}.{store_key_part(vehicle_id)}",
        )
        executor = CommandExecutor(
            send_command=self._async_send,
            command_status=self._async_command_status,
            cancel_command=self._async_cancel_command,
            clock=dt_util.utcnow,
            on_change=lambda _state: self._executor_changed(),
            policy=RETRY_POLICY,
        )
        self.controller = VehicleController(
            executor=executor,
            tz=dt_util.get_time_zone(hass.config.time_zone) or dt_util.UTC,
            planner=self._plan,
        )
        self.last_routed_path: str | None = None
        # The plan shown while the car follows none (the card, `plan_charging`).
        self.shown_plans = ShownPlans(hass, entry, lambda: self.display_name)
        # When a command last reached a car or charger (readings before it may be outdated).
        self._command_reached_device_at: datetime | None = None
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsub_wake: CALLBACK_TYPE | None = None
        self._rerun_pending = False
        self._stopped = False
        self._loaded = False

    # Lifecycle

    async def async_load(self, *, expected: bool) -> None:
        """Restore the stored state; parts that cannot be read start afresh and are reported.

        `expected`: the vehicle was set up before, so a missing store was lost.
        """
        self._loaded = True
        vehicle = self.coordinator.data.vehicles.get(self.vehicle_id)
        name = vehicle_name(vehicle) if vehicle is not None else self.entry.title
        saved: object = await async_load_store(
            self.hass,
            self._store,
            entry_id=self.entry.entry_id,
            subject=self.vehicle_id,
            name=name,
            expected=expected,
        )
        if saved is None:
            return
        if reset := self.controller.restore(saved):
            other_version = isinstance(saved, Mapping) and saved.get("version") != STORAGE_VERSION
            async_report_reset(
                self.hass,
                self.entry.entry_id,
                self.vehicle_id,
                name,
                reset,
                ISSUE_STORE_OTHER_VERSION if other_version else ISSUE_STORE_UNREADABLE,
            )

    async def async_start(self) -> None:
        """Restore the stored state (unless loaded already) and take the first step."""
        if not self._loaded:
            await self.async_load(expected=False)
        self.entry.async_on_unload(self.coordinator.async_add_listener(self.async_run))
        if (prices := self.entry.runtime_data.prices) is not None:
            self.entry.async_on_unload(prices.async_add_listener(self.async_run))
        if outage := self.entry.options.get(CONF_OUTAGE_ENTITY):

            @callback
            def outage_changed(_event: Event[EventStateChangedData]) -> None:
                self.async_run()

            self.entry.async_on_unload(
                async_track_state_change_event(self.hass, outage, outage_changed)
            )
        self.entry.async_on_unload(self._async_stop)
        self.async_run()

    async def _async_stop(self) -> None:
        """Stop stepping and store the state now, so a reload picks it up."""
        if self._stopped:
            return
        self._stopped = True
        if (site := self.entry.runtime_data.site) is not None:
            site.leave_house_plan(self.vehicle_id)
        if self._unsub_wake is not None:
            self._unsub_wake()
            self._unsub_wake = None
        await self._store.async_save(self.controller.to_dict())

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Be told after every step; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # Inputs

    @property
    def system(self) -> EvSystem | None:
        """The vehicle's EV system, as the pairing rules see it now."""
        return self.coordinator.systems.get(self.vehicle_id)

    def _at_charging_location(self) -> bool:
        system = self.system
        return system is None or self.entry.runtime_data.charging_location.contains(system)

    def observation(self) -> Observation:
        """The readings the controller needs, from the EV system."""
        system = self.system
        return Observation.from_states(
            system.vehicle if system else None,
            system.charger if system else None,
            at_charging_location=self._at_charging_location(),
            grid_outage=self._grid_outage(),
        )

    def _grid_outage(self) -> bool:
        outage = self.entry.options.get(CONF_OUTAGE_ENTITY)
        state = self.hass.states.get(outage) if outage else None
        return state is not None and state.state == STATE_ON

    def price_slots(self) -> tuple[PricedSlot, ...]:
        """Every known price slot, tariff applied; empty without usable prices."""
        prices = self.entry.runtime_data.prices
        if prices is None or prices.data is None:
            return ()
        return prices.priced_slots

    def _ask(self, request: PlanRequest) -> CarAsk | None:
        """The request completed with the house (site, current control, solar mode)."""
        site = self.entry.runtime_data.site
        if site is None:
            return None
        system = self.system
        charger = system.charger if system is not None else None
        completed = site.planner_request(self.vehicle_id, request, charger)
        # One amp on the charger's phases: a current-controlled plan runs in whole amps.
        amp_kw = ((charger.phases if charger is not None else None) or 3) * GRID_VOLTAGE_V / 1000.0
        return CarAsk(self.vehicle_id, request, completed, amp_kw=amp_kw)

    def _plan(self, request: PlanRequest) -> Plan:
        """The car's plan: from the house's joint plan where there is a house (made off the
        event loop: PlanPendingError until it is), else at once."""
        ask = self._ask(request)
        site = self.entry.runtime_data.site
        if ask is None or site is None:
            return make_plan(request)
        return site.house_planner.plan_for(self, ask)

    def display_ask(self, now: datetime) -> CarAsk | None:
        """What the plan shown for a car that follows none is made for: the request the car
        would plan with now, with the house but without its other cars. None without a battery
        size, a SoC or prices."""
        request = self.controller.display_request(now, self.observation(), self.price_slots())
        if request is None:
            return None
        return self._ask(request) or CarAsk(self.vehicle_id, request, request)

    @callback
    def _take_part(self, decision: Decision) -> None:
        """In the house's joint plan while plugged in at home with smart charging on."""
        site = self.entry.runtime_data.site
        if site is None:
            return
        considered = decision.considerations
        if not (
            self.controller.settings.smart_charging
            and considered.plugged_in
            and considered.at_charging_location
        ):
            site.leave_house_plan(self.vehicle_id)
        elif self.controller.state.plan is not None and not site.takes_part(self.vehicle_id):
            # A plan from before a restart, or made without the others: ask the house.
            self.hass.loop.call_soon(self.async_replan)

    @callback
    def async_replan(self) -> None:
        """What the house expects changed: plan again now."""
        self.controller.state.plan_key = None
        self.async_run()

    async def async_remove(self) -> None:
        """The vehicle left the account: stop, and forget what was stored for it."""
        await self._async_stop()
        await self._store.async_remove()

    # The loop

    @callback
    def async_run(self) -> None:
        """Take a step: decide, schedule the next wake-up, act, store and tell entities."""
        if self._stopped or self.coordinator.data is None:
            return
        now = dt_util.utcnow()
        self.coordinator.update_systems(now)
        previous = self.controller.decision
        decision = self.controller.update(now, self.observation(), self.price_slots())
        self._take_part(decision)
        self._schedule_wake(decision.wake_at)
        for event in decision.events:
            self._announce(event)
        if previous is None or previous.status is not decision.status:
            self.hass.bus.async_fire(
                EVENT_STATE_CHANGED,
                {"vehicle_id": self.vehicle_id, "state": decision.status.value},
            )
        self._update_interference_issue(decision)
        self._update_command_issue()
        self.entry.async_create_background_task(
            self.hass, self._async_execute(), f"{DOMAIN} execute {self.vehicle_id}"
        )
        self._async_save()
        for listener in list(self._listeners):
            listener()

    async def _async_execute(self) -> None:
        enode = self.entry.runtime_data.enode
        webhook = enode is not None and enode.webhook_active
        self.controller.executor.policy = WEBHOOK_RETRY_POLICY if webhook else RETRY_POLICY
        await self.controller.async_execute()

    @callback
    def _async_save(self) -> None:
        # A command in flight is stored at once (a later save must not postpone it): after a
        # restart it is followed, not resent.
        in_flight = self.controller.executor.state.in_flight is not None
        self._store.async_delay_save(
            self.controller.to_dict, 0 if in_flight else SAVE_DELAY_SECONDS
        )

    @callback
    def _executor_changed(self) -> None:
        """A command settled or was sent: step again soon so the state follows."""
        self._async_save()
        if self._rerun_pending or self._stopped:
            return
        self._rerun_pending = True

        @callback
        def rerun() -> None:
            self._rerun_pending = False
            self.async_run()

        self.hass.loop.call_soon(rerun)

    @callback
    def _schedule_wake(self, wake_at: datetime) -> None:
        if self._unsub_wake is not None:
            self._unsub_wake()
        self._unsub_wake = async_track_point_in_utc_time(self.hass, self._wake, wake_at)

    @callback
    def _wake(self, _now: datetime) -> None:
        self._unsub_wake = None
        self.async_run()

    # Commands through unified control

    async def _async_send(
        self, kind: CommandKind, value: float | None, tried: tuple[str, ...]
    ) -> CommandResult:
        system = self.system
        if system is None:
            raise CommandRejectedError(
                f"vehicle {self.vehicle_id} is not known to the account",
                Reason(ReasonCode.VEHICLE_NOT_KNOWN, {"vehicle": self.display_name}),
            )
        read_at, sent_at = self.coordinator.data_read_at, self._command_reached_device_at
        sending_at = dt_util.utcnow()
        routed = await self.entry.runtime_data.commands.async_route(
            system,
            kind,
            value,
            tried=tried,
            # Only readings taken after a command reached a device show what it does now.
            skip_redundant=read_at is not None and (sent_at is None or sent_at < read_at),
        )
        if not routed.skipped:
            self.last_routed_path = routed.path.value if routed.path else None
        if not routed.skipped and routed.result is not None:
            self._command_reached_device_at = sending_at
        return command_outcome(routed, tried=tried)

    async def _async_command_status(self, command_id: str, target_id: str) -> CommandResult:
        return await self.entry.runtime_data.commands.async_command_status(
            self.system, command_id, target_id
        )

    async def _async_cancel_command(self, command_id: str, target_id: str) -> CommandResult:
        LOGGER.debug("Cancelling %s: not confirmed in time", command_id)
        return await self.entry.runtime_data.commands.async_cancel_command(command_id, target_id)

    @callback
    def async_action_updated(self, command_id: str) -> None:
        """Enode says an action changed: check it now if it is the one in flight."""
        if self.controller.executor.expedite(command_id):
            self.async_run()

    # Announcements and repairs

    def _announce(self, event: ControllerEvent) -> None:
        if event.kind is not EventKind.DISCHARGE_STARTED:
            return
        self.hass.bus.async_fire(
            EVENT_DISCHARGE_STARTED,
            {"vehicle_id": self.vehicle_id, "at": event.at.isoformat(), "detail": event.detail},
        )
        if self.entry.options.get(CONF_NOTIFY_V2G):
            texts = cached_texts(self.hass)
            notify(
                self.hass,
                texts("v2g_started_message", vehicle=self.display_name),
                title=texts("v2g_started_title"),
                notification_id=f"{DOMAIN}_v2g_{self.vehicle_id}",
            )

    def _update_command_issue(self) -> None:
        """Commands that keep failing need the user: the car or charger may be offline."""
        executor = self.controller.executor.state
        if executor.failed is None or executor.controlled_elsewhere:
            # A schedule elsewhere has its own repair issue; nothing is broken.
            self._clear_issue("commands_failing")
        elif executor.failed_runs >= FAILED_RUNS_FOR_ISSUE:
            self._raise_issue(
                "commands_failing",
                "commands_failing",
                ir.IssueSeverity.ERROR,
                {
                    "vehicle": self.display_name,
                    "error": reason_text(cached_texts(self.hass), executor.failure_reason)
                    if executor.failure_reason is not None
                    else UNKNOWN_FACT,
                },
            )

    def _update_interference_issue(self, decision: Decision) -> None:
        """Someone else started or stopped the charge: the interference issue, the same one a
        refused command raises; EV Flex's next command that goes through clears it."""
        if any(event.kind is EventKind.INTERFERENCE for event in decision.events):
            self.entry.runtime_data.interventions.async_interference(
                self.vehicle_id, self.display_name
            )

    def _raise_issue(
        self,
        kind: str,
        translation_key: str,
        severity: ir.IssueSeverity,
        placeholders: dict[str, str],
    ) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(kind),
            is_fixable=False,
            severity=severity,
            translation_key=translation_key,
            translation_placeholders=placeholders,
        )

    def _clear_issue(self, kind: str) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(kind))

    def _issue_id(self, kind: str) -> str:
        return issue_id(kind, self.entry.entry_id, self.vehicle_id)

    @property
    def display_name(self) -> str:
        """The vehicle's name as its device shows it."""
        system = self.system
        return vehicle_name(system.vehicle) if system is not None else self.entry.title


def finite_or_none(value: float | None) -> float | None:
    """A value fit for a sensor: None instead of NaN or infinity."""
    if value is None or not math.isfinite(value):
        return None
    return value


def new_vehicle_signal(entry: EvFlexConfigEntry) -> str:
    """Dispatched with a VehicleSmartCharging when a vehicle appears after setup."""
    return f"{DOMAIN}_{entry.entry_id}_new_smart_charging"


async def async_setup_smart_charging(
    hass: HomeAssistant, entry: EvFlexConfigEntry
) -> dict[str, VehicleSmartCharging]:
    """A controller for every vehicle the account has now."""
    controllers: dict[str, VehicleSmartCharging] = {}
    for vehicle_id in entry.runtime_data.coordinator.data.vehicles:
        controller = VehicleSmartCharging(hass, entry, vehicle_id)
        # Before the platforms: nothing stored can fail the setup once entities exist.
        await controller.async_load(expected=device_known(hass, entry.entry_id, vehicle_id))
        controllers[vehicle_id] = controller
    return controllers


@callback
def async_follow_new_vehicles(hass: HomeAssistant, entry: EvFlexConfigEntry) -> None:
    """Give vehicles that join the account later smart charging and its entities; stop it for
    vehicles that leave (their devices and entities are removed with them)."""
    coordinator = entry.runtime_data.coordinator
    controllers = entry.runtime_data.smart_charging

    @callback
    def add_new_vehicles() -> None:
        for vehicle_id in coordinator.data.vehicles.keys() - controllers.keys():
            charging = VehicleSmartCharging(hass, entry, vehicle_id)
            controllers[vehicle_id] = charging
            async_dispatcher_send(hass, new_vehicle_signal(entry), charging)
            entry.async_create_background_task(
                hass, charging.async_start(), f"{DOMAIN} start smart charging {vehicle_id}"
            )
        for vehicle_id in controllers.keys() - coordinator.data.vehicles.keys():
            gone = controllers.pop(vehicle_id)
            entry.async_create_background_task(
                hass, gone.async_remove(), f"{DOMAIN} stop smart charging {vehicle_id}"
            )

    entry.async_on_unload(coordinator.async_add_listener(add_new_vehicles))
