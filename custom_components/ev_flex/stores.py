"""EV Flex's stores: loading never stops an entry, and nothing is dropped silently.

A store that is missing when it should exist, was written by another version, or holds parts
that cannot be read is reported with a warning and a repair issue that names what was reset to
its defaults; the entry loads all the same.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, UnsupportedStorageVersionError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER
from .core.stored import READ_ERRORS
from .repairs import issue_id

ISSUE_STORE_UNREADABLE = "store_unreadable"
ISSUE_STORE_OTHER_VERSION = "store_other_version"
ISSUE_STORE_MISSING = "store_missing"
EVERYTHING = "*"

# How reset parts are named in the repair issue: settings by their entities' names.
PART_NAMES = {
    "*": "everything it had saved",
    "settings.smart_charging": "Smart charging",
    "settings.departure_time": "Departure time",
    "settings.departure_override": "one-off departure",
    "settings.weekly_departures": "weekly departure schedule",
    "settings.target_soc_pct": "Target charge",
    "settings.protective_soc_pct": "Protective minimum charge",
    "settings.v2g": "Vehicle-to-grid",
    "settings.reserve_soc_pct": "Vehicle-to-grid reserve",
    "settings.discharge_price_threshold": "Discharge price threshold",
    "settings.discharge_requests": "discharge requests",
    "settings.charge_now_requested_at": "charge now",
    "settings.*": "all smart charging settings",
    "state.plan": "charging plan",
    "state.learner": "learned charging power and efficiency",
    "state.totals": "charging totals",
    "state.*": "smart charging state, plan and totals",
    "executor.*": "record of sent commands",
    "pairing.*": "capabilities a charger unlocked for a car (learned again)",
    "sessions.records": "charging session history (the records that could not be read)",
    "settings.calendar_departures": "departures read from the calendar (read again)",
}


def part_names(parts: Iterable[str]) -> str:
    """The reset parts as the repair issue lists them."""
    names: list[str] = []
    for part in parts:
        section, _, key = part.partition(".")
        name = PART_NAMES.get(part) or (
            f"{PART_NAMES.get(f'{section}.*', section)}: {key.replace('_', ' ')}"
        )
        if name not in names:
            names.append(name)
    return ", ".join(names)


async def async_load_store[T: Mapping[str, Any] | Sequence[Any]](
    hass: HomeAssistant,
    store: Store[T],
    *,
    entry_id: str,
    subject: str,
    name: str,
    expected: bool,
) -> T | None:
    """The store's data; None when there is none or it cannot be read (reported, unless the
    store is simply new)."""
    try:
        data = await store.async_load()
    except (UnsupportedStorageVersionError, NotImplementedError) as err:
        # Newer than this version reads, or older without a migration.
        async_report_reset(
            hass, entry_id, subject, name, [EVERYTHING], ISSUE_STORE_OTHER_VERSION, repr(err)
        )
        return None
    except (HomeAssistantError, *READ_ERRORS) as err:
        # A wrapper of the wrong shape.
        async_report_reset(
            hass, entry_id, subject, name, [EVERYTHING], ISSUE_STORE_UNREADABLE, repr(err)
        )
        return None
    if data is None and expected:
        async_report_reset(
            hass, entry_id, subject, name, [EVERYTHING], ISSUE_STORE_MISSING, store.key
        )
    return data


def device_known(hass: HomeAssistant, entry_id: str, device_id: str) -> bool:
    """Whether the entry set this device up before: its stores should then exist."""
    registry = dr.async_get(hass)
    return registry.async_get_device_by_identifier((DOMAIN, device_id), entry_id) is not None


@callback
def async_report_reset(
    hass: HomeAssistant,
    entry_id: str,
    subject: str,
    name: str,
    parts: Iterable[str],
    kind: str = ISSUE_STORE_UNREADABLE,
    detail: str = "",
) -> None:
    """Warn and raise a repair issue that says what started afresh."""
    reset = part_names(parts)
    LOGGER.warning("Saved data of %s was reset (%s): %s. %s", name, kind, reset, detail)
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(kind, entry_id, subject),
        is_fixable=True,
        is_persistent=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=kind,
        translation_placeholders={"name": name, "reset": reset},
    )
