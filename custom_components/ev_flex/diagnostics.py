"""Diagnostics, with credentials, VINs and locations redacted."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import EvFlexConfigEntry

TO_REDACT = {
    "client_id",
    "client_secret",
    "access_token",
    "token",
    "webhook_secret",
    "vin",
    "serial_number",
    "location",
    "latitude",
    "longitude",
    "unique_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EvFlexConfigEntry
) -> dict[str, Any]:
    """Everything useful for a bug report, without secrets or whereabouts."""
    coordinator = entry.runtime_data.coordinator
    snapshot = asdict(coordinator.data)
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "last_update_success": coordinator.last_update_success,
        "account": async_redact_data(snapshot, TO_REDACT),
    }
