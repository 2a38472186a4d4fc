"""Stored data that cannot be trusted: the entry loads, what was reset is named in a repair."""

from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ev_flex import SIMULATIONS
from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.controller import VehicleController

from .priced_simulator import (
    CAR,
    START,
    STATE,
    VEHICLE_ID,
    advance,
    controller_store_key,
    set_up,
    settle,
    store_controller,
    turn_on_smart_charging,
    vehicle_device,
)

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator

TARGET = f"number.{CAR}_target_charge"
NAIVE = "2026-01-14T07:00:00"
AWARE = START.isoformat()
EVERYTHING = "everything it had saved"
RELEARNED = "capabilities a charger unlocked for a car (learned again)"


def store_issues(issue_registry: ir.IssueRegistry) -> dict[str, ir.IssueEntry]:
    """The store issues raised, by id."""
    return {
        ident: issue
        for (domain, ident), issue in issue_registry.issues.items()
        if domain == DOMAIN and ident.startswith("store_")
    }


def raised(
    issue_registry: ir.IssueRegistry, kind: str, entry: MockConfigEntry, subject: str
) -> dict[str, str]:
    """The placeholders of the fixable store issue raised about `subject`."""
    issue = store_issues(issue_registry)[f"{kind}_{entry.entry_id}_{subject}"]
    assert issue.is_fixable
    assert issue.translation_key == kind
    return dict(issue.translation_placeholders or {})


def raw_store(hass_storage: dict[str, Any], key: str, data: Any, version: int = 1) -> None:
    """A store file as Home Assistant keeps it."""
    hass_storage[key] = {"version": version, "minor_version": 1, "key": key, "data": data}


async def test_clean_restart_reports_nothing(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Everything EV Flex writes (a session, a plan, learned values, commands) reads back."""
    await set_up(hass, simulator_entry)
    await turn_on_smart_charging(hass, freezer)
    device_id = vehicle_device(hass, simulator_entry)
    for action, data in (
        ("set_departure", {"departure": "2026-01-20 06:30", "target_soc": 90}),
        ("set_departure_schedule", {"monday": "07:00", "friday": "08:15"}),
    ):
        await hass.services.async_call(
            DOMAIN, action, {"device_id": device_id, **data}, blocking=True
        )
    # 03:00, charging in the cheap night hours.
    await advance(hass, freezer, START + timedelta(hours=9))
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.config_entries.async_unload(simulator_entry.entry_id)
    hass.data[SIMULATIONS].clear()
    stored = hass_storage[controller_store_key(simulator_entry)]["data"]
    assert stored["state"]["plan"] is not None
    assert stored["state"]["session"] is not None
    assert stored["settings"]["departure_override"] is not None
    assert stored["settings"]["weekly_departures"] is not None

    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await settle(hass)
    assert store_issues(issue_registry) == {}
    assert hass.states.get(f"switch.{CAR}_smart_charging").state == "on"


@pytest.mark.parametrize(
    ("stored", "reset"),
    [
        # A naive one-off departure: only that setting goes.
        (
            {"departure_override": {"at": NAIVE, "target_soc_pct": 90}},
            "one-off departure",
        ),
        # Wrong shapes: text where a flag belongs, a list where a number belongs.
        ({"v2g": "yes", "reserve_soc_pct": [1]}, "Vehicle-to-grid reserve, Vehicle-to-grid"),
        ({"weekly_departures": {"monday": "07:00"}}, "weekly departure schedule"),
        ({"discharge_requests": [{"power_kw": 5, "until": NAIVE, "requested_at": NAIVE}]}, None),
    ],
)
async def test_unreadable_settings_are_reset_one_by_one(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    stored: dict[str, Any],
    reset: str | None,
) -> None:
    """A setting that does not read back is reset and named; the others are kept."""
    store_controller(
        hass_storage,
        simulator_entry,
        {"version": 1, "settings": {"target_soc_pct": 65, "smart_charging": True, **stored}},
    )
    await set_up(hass, simulator_entry)
    assert simulator_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(TARGET).state == "65.0"
    assert hass.states.get(f"switch.{CAR}_smart_charging").state == "on"
    placeholders = raised(issue_registry, "store_unreadable", simulator_entry, VEHICLE_ID)
    assert placeholders["name"] == "EV Flex Simulator Sedan 75 kWh"
    assert placeholders["reset"] == (reset or "discharge requests")


async def test_what_was_reset_is_named_in_the_servers_language(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """On a German server the issue names the reset settings in German, as their entities are
    named there."""
    hass.config.language = "de"
    stored = {"departure_override": {"at": NAIVE}, "weekly_departures": [], "v2g": "yes"}
    store_controller(hass_storage, simulator_entry, {"version": 1, "settings": stored})
    await set_up(hass, simulator_entry)
    placeholders = raised(issue_registry, "store_unreadable", simulator_entry, VEHICLE_ID)
    assert placeholders["reset"] == "einmalige Abfahrt, Vehicle-to-Grid, Wochenplan der Abfahrten"


@pytest.mark.parametrize(
    ("state", "reset"),
    [
        # A plan that is not a plan, one with naive times, one with a slot missing its fields.
        ({"plan": ["charge"]}, "charging plan"),
        (
            {"plan": {"switch_times": [{"start": NAIVE, "end": NAIVE, "kw": 11}]}},
            "charging plan",
        ),
        ({"plan": {"slots": [{"start": AWARE, "end": AWARE}]}}, "charging plan"),
        (
            {"plan": {"slots": [{"start": AWARE, "end": START.replace(year=2025).isoformat()}]}},
            "charging plan",
        ),
        (
            {
                "plan": {
                    "slots": [
                        {
                            "start": AWARE,
                            "end": AWARE,
                            "soc_pct_end": 50,
                            "import": 0.3,
                            "export": "plenty",
                        }
                    ]
                }
            },
            "charging plan",
        ),
        ({"plan": {"targets": ["met"]}}, "charging plan"),
        ({"session": {"started_at": NAIVE}}, "smart charging state, plan and totals: session"),
        ({"totals": {"cost": "NaN"}}, "charging totals"),
        ({"status": "SOMETHING_NEW"}, "smart charging state, plan and totals: status"),
        # Not even a mapping: all of the state starts afresh.
        ("junk", "smart charging state, plan and totals"),
    ],
)
async def test_unreadable_state_is_reset_and_the_entry_loads(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    state: Any,
    reset: str,
) -> None:
    """Bad state never fails the setup (which left entities behind with stale values)."""
    store_controller(
        hass_storage,
        simulator_entry,
        {"version": 1, "settings": {"smart_charging": True}, "state": state},
    )
    await set_up(hass, simulator_entry)
    assert simulator_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(STATE).state not in (STATE_UNAVAILABLE, "unknown")
    placeholders = raised(issue_registry, "store_unreadable", simulator_entry, VEHICLE_ID)
    assert placeholders["reset"] == reset


@pytest.mark.parametrize(
    ("wrapper_version", "inner_version"),
    [(2, 1), (0, 1), (1, 2), (1, None)],
)
async def test_store_of_another_version_is_reported(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    wrapper_version: int,
    inner_version: int | None,
) -> None:
    """A store from a newer (or unknown) version is not read, and the user is told."""
    raw_store(
        hass_storage,
        controller_store_key(simulator_entry),
        {"version": inner_version, "settings": {"target_soc_pct": 65}},
        version=wrapper_version,
    )
    await set_up(hass, simulator_entry)
    assert simulator_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(TARGET).state == "80.0"
    placeholders = raised(issue_registry, "store_other_version", simulator_entry, VEHICLE_ID)
    assert placeholders["reset"] == EVERYTHING


async def test_store_of_the_wrong_shape_is_reported(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A file without Home Assistant's wrapper cannot even be opened as a store."""
    hass_storage[controller_store_key(simulator_entry)] = {"settings": {}}
    await set_up(hass, simulator_entry)
    assert simulator_entry.state is ConfigEntryState.LOADED
    assert f"store_unreadable_{simulator_entry.entry_id}_{VEHICLE_ID}" in store_issues(
        issue_registry
    )


async def test_deleted_stores_are_reported(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Stores that vanish while the devices stay (a partial backup restore, a deleted file)
    are reported rather than silently started afresh."""
    await set_up(hass, simulator_entry)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.config_entries.async_unload(simulator_entry.entry_id)
    await settle(hass)
    hass.data[SIMULATIONS].clear()
    entry_id = simulator_entry.entry_id
    del hass_storage[controller_store_key(simulator_entry)]
    del hass_storage[f"{DOMAIN}.simulation.{entry_id}"]

    assert await hass.config_entries.async_setup(entry_id)
    await settle(hass)
    assert set(store_issues(issue_registry)) == {
        f"store_missing_{entry_id}_{VEHICLE_ID}",
        f"store_missing_{entry_id}_simulation",
    }


def saved_car(saved_at: datetime, **changes: Any) -> dict[str, Any]:
    """A simulated car as it is stored: plugged in and charging at 10 %."""
    return {
        "saved_at": saved_at.isoformat(),
        "soc_pct": 10.0,
        "charge_limit_pct": 90.0,
        "plugged_in": True,
        "plugged_in_at": saved_at.isoformat(),
        "wants_charge": True,
        "odometer_km": 1000.0,
        "energy_delivered_kwh": 0.0,
        "charger_enabled": True,
        "max_current_a": 16.0,
        "discharge_request_kw": 0.0,
        **changes,
    }


@pytest.mark.parametrize(
    ("store", "saved", "reset"),
    [
        ("simulation", saved_car(START, soc_pct="lots"), EVERYTHING),
        ("simulation", saved_car(START, soc_pct=float("nan")), EVERYTHING),
        ("simulation", saved_car(START, soc_pct=1e9), EVERYTHING),
        ("simulation", saved_car(START, soc_pct=-5), EVERYTHING),
        ("simulation", saved_car(START, max_current_a=float("inf")), EVERYTHING),
        ("simulation", saved_car(START, plugged_in="yes"), EVERYTHING),
        ("simulation", saved_car(START.replace(tzinfo=None)), EVERYTHING),
        ("simulation", {"soc_pct": 50.0}, EVERYTHING),
        ("simulation", ["not", "a", "car"], EVERYTHING),
        ("pairing", {"vehicle_id": "car"}, RELEARNED),
        (
            "pairing",
            [{"vehicle_id": "car", "charger_id": "box", "unlocked_at": NAIVE}],
            RELEARNED,
        ),
        ("pairing", ["junk"], RELEARNED),
    ],
)
async def test_unreadable_car_and_pairing_stores_are_reported(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    store: str,
    saved: Any,
    reset: str,
) -> None:
    """The simulated car starts afresh from its entry, capabilities a charger unlocked are
    learned again, and the user is told."""
    raw_store(hass_storage, f"{DOMAIN}.{store}.{simulator_entry.entry_id}", saved)
    await set_up(hass, simulator_entry)
    assert simulator_entry.state is ConfigEntryState.LOADED
    assert simulator_entry.runtime_data.account.simulation.vehicle_state().battery_level_pct == 40
    assert raised(issue_registry, "store_unreadable", simulator_entry, store) == {
        "name": "Garage",
        "reset": reset,
    }


async def test_unreadable_pairing_records_are_written_back_without_them(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
) -> None:
    """Readable records stay, unreadable ones leave the store (and are reported only once)."""
    good = {
        "vehicle_id": "simulator-garage-vehicle",
        "charger_id": "simulator-garage-charger",
        "start_stop": True,
        "location": True,
        "unlocked_at": AWARE,
    }
    key = f"{DOMAIN}.pairing.{simulator_entry.entry_id}"
    raw_store(hass_storage, key, [good, "junk"])
    await set_up(hass, simulator_entry)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await settle(hass)
    assert hass_storage[key]["data"] == [good]


async def test_store_issue_is_acknowledged_through_its_repair(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    hass_client: ClientSessionGenerator,
) -> None:
    """The repair shows what was reset; confirming it closes the issue."""
    store_controller(hass_storage, simulator_entry, {"version": 1, "settings": {"v2g": "yes"}})
    await set_up(hass, simulator_entry)
    ident = f"store_unreadable_{simulator_entry.entry_id}_{VEHICLE_ID}"
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": ident}
    )
    assert response.status == 200
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"]["reset"] == "Vehicle-to-grid"
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert (await response.json())["type"] == "create_entry"
    assert ident not in store_issues(issue_registry)


async def test_simulated_car_saved_long_ago_catches_up(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A car saved a year ago while charging has since charged to its limit, and the energy
    it drew is what that charge takes (idle time adds nothing)."""
    raw_store(
        hass_storage,
        f"{DOMAIN}.simulation.{simulator_entry.entry_id}",
        saved_car(START - timedelta(days=365)),
    )
    await set_up(hass, simulator_entry)
    assert hass.states.get(f"sensor.{CAR}_battery_level").state == "90.0"
    simulation = simulator_entry.runtime_data.account.simulation
    # 80 % of 75 kWh stored at 90 % charging efficiency.
    assert simulation.energy_delivered_kwh == pytest.approx(60.0 / 0.9)
    assert store_issues(issue_registry) == {}


async def test_failed_setup_leaves_no_stale_entities(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
) -> None:
    """Should the first smart charging step fail (a bug), the entry's entities are taken down
    with it instead of showing their first values for ever."""
    with patch.object(VehicleController, "update", side_effect=RuntimeError("a bug")):
        await hass.config.async_set_time_zone("Europe/Oslo")
        simulator_entry.add_to_hass(hass)
        assert not await hass.config_entries.async_setup(simulator_entry.entry_id)
        await settle(hass)
    assert simulator_entry.state is ConfigEntryState.SETUP_ERROR
    assert hass.states.get(f"sensor.{CAR}_battery_level").state == STATE_UNAVAILABLE
