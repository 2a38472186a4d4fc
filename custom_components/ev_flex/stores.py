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
from .texts import Texts, cached_texts

ISSUE_STORE_UNREADABLE = "store_unreadable"
ISSUE_STORE_OTHER_VERSION = "store_other_version"
ISSUE_STORE_MISSING = "store_missing"
EVERYTHING = "*"

# How reset parts are named in the repair issue: by a text of the translation files (settings by
# their entities' names), in the server's language.
PART_TEXTS = {
    "*": "reset_everything",
    "settings.smart_charging": "reset_smart_charging",
    "settings.departure_time": "reset_departure_time",
    "settings.departure_override": "reset_departure_override",
    "settings.weekly_departures": "reset_weekly_departures",
    "settings.target_soc_pct": "reset_target_soc",
    "settings.protective_soc_pct": "reset_protective_soc",
    "settings.v2g": "reset_v2g",
    "settings.reserve_soc_pct": "reset_reserve_soc",
    "settings.discharge_price_threshold": "reset_discharge_price_threshold",
    "settings.discharge_requests": "reset_discharge_requests",
    "settings.charge_now_requested_at": "reset_charge_now",
    "settings.*": "reset_settings",
    "state.plan": "reset_plan",
    "state.learner": "reset_learner",
    "state.totals": "reset_totals",
    "state.*": "reset_state",
    "executor.*": "reset_executor",
    "pairing.*": "reset_pairing",
    "sessions.records": "reset_sessions",
    "settings.calendar_departures": "reset_calendar_departures",
}


def part_names(parts: Iterable[str], texts: Texts) -> str:
    """The reset parts as the repair issue lists them."""
    names: list[str] = []
    for part in parts:
        section, _, key = part.partition(".")
        if part in PART_TEXTS:
            name = texts(PART_TEXTS[part])
        else:
            # A part this version doesn't know: its section, and the stored key as it is.
            whole = PART_TEXTS.get(f"{section}.*")
            name = f"{texts(whole) if whole else section}: {key.replace('_', ' ')}"
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
    reset = part_names(parts, cached_texts(hass))
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
