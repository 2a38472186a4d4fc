"""Time: the vehicle's daily departure, and its departure on each weekday."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import time

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import WEEKDAYS
from .coordinator import EvFlexConfigEntry
from .core.controller import ControllerSettings, week_of
from .departures import with_day
from .entity import SmartChargingEntity, async_setup_smart_charging_entities

PARALLEL_UPDATES = 0

DEPARTURE_TIME = TimeEntityDescription(
    key="departure_time", translation_key="departure_time", entity_category=EntityCategory.CONFIG
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a daily departure time and one per weekday for every vehicle."""
    async_setup_smart_charging_entities(
        entry,
        async_add_entities,
        lambda charging: [
            DepartureTime(charging, DEPARTURE_TIME),
            *(WeekdayDepartureTime(charging, description) for description in WEEKDAY_TIMES),
        ],
    )


class DepartureTime(SmartChargingEntity, TimeEntity):
    """When the car must be ready every day (local time)."""

    @property
    def native_value(self) -> time | None:
        """The daily departure."""
        return self.settings.departure_time

    async def async_set_value(self, value: time) -> None:
        """Change the daily departure; the plan follows at once. A daily time is the user's
        latest word, so it ends a weekly schedule."""
        self.change_settings(
            replace(
                self.settings,
                departure_time=value.replace(second=0, microsecond=0),
                weekly_departures=None,
            )
        )


@dataclass(frozen=True, kw_only=True)
class WeekdayTimeDescription(TimeEntityDescription):
    """One weekday's departure in the weekly schedule."""

    value_fn: Callable[[ControllerSettings], time | None]
    set_fn: Callable[[ControllerSettings, time], ControllerSettings]


def _weekday_time(weekday: int, name: str) -> WeekdayTimeDescription:
    return WeekdayTimeDescription(
        key=f"departure_{name}",
        translation_key=f"departure_{name}",
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda settings: week_of(settings)[weekday],
        set_fn=lambda settings, value: with_day(settings, weekday, value),
    )


WEEKDAY_TIMES = tuple(_weekday_time(weekday, name) for weekday, name in enumerate(WEEKDAYS))


class WeekdayDepartureTime(SmartChargingEntity, TimeEntity):
    """When the car leaves on one weekday; unknown while that day has no departure (its
    switch turns the day on and off)."""

    entity_description: WeekdayTimeDescription

    @property
    def native_value(self) -> time | None:
        """That day's departure."""
        return self.entity_description.value_fn(self.settings)

    async def async_set_value(self, value: time) -> None:
        """Set that day's departure (which also gives the day one); the plan follows."""
        minute = value.replace(second=0, microsecond=0)
        self.change_settings(self.entity_description.set_fn(self.settings, minute))
