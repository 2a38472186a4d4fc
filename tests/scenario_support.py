"""Shared by the long scenario tests: a user's calls, and which log records are problems."""

import logging

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

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
