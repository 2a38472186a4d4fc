"""Calendar: the planned charge and discharge windows of a vehicle."""

from datetime import datetime, timedelta

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import EvFlexConfigEntry
from .core.controller import Decision, SmartChargingState
from .entity import SmartChargingEntity, async_setup_smart_charging_entities
from .helpers import power_text
from .texts import cached_texts

PARALLEL_UPDATES = 0
MIN_EVENT = timedelta(minutes=1)

PLAN_CALENDAR = CalendarEntityDescription(key="plan", translation_key="plan")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a plan calendar for every vehicle."""
    async_setup_smart_charging_entities(
        entry, async_add_entities, lambda charging: [PlanCalendar(charging, PLAN_CALENDAR)]
    )


class PlanCalendar(SmartChargingEntity, CalendarEntity):
    """Each planned switch-on interval of the current plan is an event."""

    def _events(self) -> list[CalendarEvent]:
        decision = self.decision
        if decision is not None and decision.status is SmartChargingState.CHARGING_NOW:
            return self._charge_now_event(decision)
        plan = self.charging.controller.state.plan
        if plan is None:
            return []
        events = []
        texts = cached_texts(self.hass)
        vehicle = self.charging.display_name
        for window in plan.switch_times:
            mode = window.mode
            action = "discharge" if mode == "discharge" else "charge"
            power = power_text(window.kw, texts)
            start, end = dt_util.as_utc(window.start), dt_util.as_utc(window.end)
            if end - start < MIN_EVENT:
                # A sliver of a slot (seconds of charging) is no event worth showing.
                continue
            events.append(
                CalendarEvent(
                    start=start,
                    end=end,
                    summary=texts(f"calendar_{action}", vehicle=vehicle, power=power),
                    description=texts("calendar_planned"),
                    uid=f"{self.charging.vehicle_id}-{window.start.isoformat()}-{mode}",
                )
            )
        return events

    def _charge_now_event(self, decision: Decision) -> list[CalendarEvent]:
        """Charge now replaces the plan: one event until the target is reached."""
        requested = self.charging.controller.settings.charge_now_requested_at
        start = requested or decision.status_changed_at
        end = decision.next_stop or dt_util.utcnow() + MIN_EVENT
        texts = cached_texts(self.hass)
        return [
            CalendarEvent(
                start=start,
                end=max(end, start + MIN_EVENT),
                summary=texts("calendar_charge_now", vehicle=self.charging.display_name),
                description=texts("calendar_charge_now_asked"),
                uid=f"{self.charging.vehicle_id}-{start.isoformat()}-charge_now",
            )
        ]

    @property
    def event(self) -> CalendarEvent | None:
        """The window in progress, or the next one."""
        now = dt_util.utcnow()
        upcoming = [event for event in self._events() if event.end_datetime_local > now]
        return min(upcoming, key=lambda event: event.start_datetime_local, default=None)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The windows that overlap the asked range."""
        return [
            event
            for event in self._events()
            if event.start_datetime_local < end_date and event.end_datetime_local > start_date
        ]
