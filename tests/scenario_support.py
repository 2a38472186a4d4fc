"""Shared by the long scenario tests: a user's calls, and which log records are problems."""

import logging
import random

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.sensor import STATE_OPTIONS

# Home Assistant's coordinator logs this once per outage (then "recovered"): the expected way to
# say an account could not be reached.
OUTAGE_LOG_START = "Error fetching ev_flex account"


async def call_as_user(
    hass: HomeAssistant, domain: str, service: str, data: dict[str, object]
) -> None:
    """A user's call; refusals are fine (they are translated errors), crashes are not."""
    refusal: HomeAssistantError | None = None
    try:
        await hass.services.async_call(domain, service, data, blocking=True)
    except HomeAssistantError as err:
        refusal = err
    if refusal is not None:
        assert refusal.translation_key, f"untranslated: {domain}.{service}: {refusal}"


def problems(records: list[logging.LogRecord], *, outages_expected: bool) -> list[str]:
    """Errors and tracebacks, except the coordinator's outage line where outages are made."""
    return [
        record.getMessage()
        for record in records
        if (record.levelno >= logging.ERROR or record.exc_info)
        and not (outages_expected and record.getMessage().startswith(OUTAGE_LOG_START))
    ]


async def maybe_steer(hass: HomeAssistant, rng: random.Random, car: str, device_id: str) -> None:
    """Now and then the user switches smart charging, asks to charge now, or cancels."""
    user = rng.randrange(6)
    if user == 0:
        await call_as_user(
            hass,
            "switch",
            rng.choice(["turn_on", "turn_off"]),
            {ATTR_ENTITY_ID: f"switch.{car}_smart_charging"},
        )
    elif user == 1:
        await call_as_user(hass, DOMAIN, "charge_now", {"device_id": device_id})
    elif user == 2:
        await call_as_user(hass, DOMAIN, "cancel_override", {"device_id": device_id})


def assert_still_sound(hass: HomeAssistant, entry: ConfigEntry, car: str) -> None:
    """The entry is loaded and the smart-charging state is one it may show."""
    assert entry.state is ConfigEntryState.LOADED
    state = hass.states.get(f"sensor.{car}_smart_charging_state")
    assert state is not None
    assert state.state in [*STATE_OPTIONS, "unavailable"], state.state
