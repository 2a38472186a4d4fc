"""A calendar and a notify entity that live in memory, for the departure and reminder tests.

It follows Home Assistant's CalendarEntity contract (homeassistant/components/calendar,
2026.10): `event` is the current or next event, and `async_get_events` returns the events
that overlap the asked range. The `calendar.get_events` action of the real component calls it.
The notifier is a NotifyEntity (homeassistant/components/notify, 2026.10) with titles, reached
through the real `notify.send_message` action.
"""

from datetime import date, datetime

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.components.notify import NotifyEntity, NotifyEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util


def _local(moment: date | datetime) -> datetime:
    if isinstance(moment, datetime):
        return dt_util.as_local(moment)
    return dt_util.start_of_local_day(moment)


class MemoryCalendar(CalendarEntity):
    """A named calendar; tests change `events` and call `async_write_ha_state`."""

    _attr_should_poll = False

    def __init__(self, name: str, events: list[CalendarEvent] | None = None) -> None:
        """A calendar with these events."""
        self._attr_name = name
        self._attr_unique_id = f"memory_{name}"
        self.events: list[CalendarEvent] = list(events or [])
        self.reads = 0

    @property
    def event(self) -> CalendarEvent | None:
        """The event in progress, or the next one."""
        now = dt_util.now()
        upcoming = [event for event in self.events if _local(event.end) > now]
        return min(upcoming, key=lambda event: _local(event.start), default=None)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The events that overlap the range."""
        self.reads += 1
        return [
            event
            for event in self.events
            if _local(event.start) < end_date and _local(event.end) > start_date
        ]


class MemoryNotifier(NotifyEntity):
    """Keeps the (title, message) of every notification it is sent."""

    _attr_supported_features = NotifyEntityFeature.TITLE

    def __init__(self, name: str) -> None:
        """A notifier with an empty inbox."""
        self._attr_name = name
        self._attr_unique_id = f"memory_{name}"
        self.sent: list[tuple[str | None, str]] = []

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Keep the message."""
        self.sent.append((title, message))
