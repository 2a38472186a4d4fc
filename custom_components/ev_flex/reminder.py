"""The plug-in reminder: an event on Home Assistant's bus and, where the user chose one, a
notification through a notify entity (`notify.send_message`) or a legacy notify service."""

from datetime import datetime
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, split_entity_id
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import probatio

from .const import DOMAIN, LOGGER
from .core.reminder import Reminder, ReminderReason
from .core.tariff import WEEKDAY_NAMES
from .texts import Texts

EVENT_PLUG_IN_REMINDER = f"{DOMAIN}_plug_in_reminder"
NOTIFY_DOMAIN = "notify"
# Home Assistant's notify entity action (homeassistant/components/notify, 2026.10).
SERVICE_SEND_MESSAGE = "send_message"


def reminder_event_data(
    hass: HomeAssistant, entry_id: str, vehicle_id: str, vehicle: str, reminder: Reminder
) -> dict[str, Any]:
    """What the event carries, for automations."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, vehicle_id), entry_id)
    return {
        "vehicle_id": vehicle_id,
        "device_id": device.id if device is not None else None,
        "vehicle": vehicle,
        "reason": reminder.reason.value,
        "departure": reminder.departure.isoformat(),
        "target_soc": reminder.target_soc_pct,
        "soc": reminder.soc_pct,
        "plug_in_by": None if reminder.plug_in_by is None else reminder.plug_in_by.isoformat(),
        "shortfall": reminder.shortfall_pct,
    }


def _clock(moment: datetime, texts: Texts) -> str:
    """The local weekday and time, the weekday named in the server's language."""
    local = dt_util.as_local(moment)
    return f"{texts.option('weekday', WEEKDAY_NAMES[local.weekday()])} {local:%H:%M}"


def reminder_message(vehicle: str, reminder: Reminder, texts: Texts) -> tuple[str, str]:
    """The notification's title and text, in the server's language."""
    facts = {
        "vehicle": vehicle,
        "departure": _clock(reminder.departure, texts),
        "target": f"{texts.number(reminder.target_soc_pct)} %",
    }
    if reminder.reason is ReminderReason.SHORTFALL:
        missing = f"{reminder.shortfall_pct or 0:.0f} %"
        return (
            texts("reminder_shortfall_title", **facts),
            texts("reminder_shortfall_message", missing=missing, **facts),
        )
    by = (
        _clock(reminder.plug_in_by, texts)
        if reminder.plug_in_by is not None
        else texts("reminder_now")
    )
    return (
        texts("reminder_plug_in_title", **facts),
        texts("reminder_plug_in_message", by=by, **facts),
    )


async def async_send_reminder(hass: HomeAssistant, target: str, title: str, message: str) -> None:
    """Send through the notify entity or legacy notify service the user chose; a failure is
    logged, never raised (the event has been fired all the same)."""
    try:
        if hass.states.get(target) is not None and split_entity_id(target)[0] == NOTIFY_DOMAIN:
            await hass.services.async_call(
                NOTIFY_DOMAIN,
                SERVICE_SEND_MESSAGE,
                {ATTR_ENTITY_ID: target, "title": title, "message": message},
                blocking=True,
            )
            return
        service = target.removeprefix(f"{NOTIFY_DOMAIN}.")
        await hass.services.async_call(
            NOTIFY_DOMAIN, service, {"title": title, "message": message}, blocking=True
        )
    except (HomeAssistantError, probatio.Invalid) as err:
        LOGGER.warning("The plug-in reminder could not be sent through %s: %s", target, err)
