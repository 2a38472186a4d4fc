"""Options of an Enode entry: link and unlink chargers, link vehicles, the charging location."""

import logging
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.ev_flex.const import (
    CONF_CHARGING_ZONE,
    CONF_ENODE_LOCATION_ID,
    CONF_ENODE_LOCATION_PLACE,
    CONF_ENODE_LOCATION_ZONE,
    DOMAIN,
)
from custom_components.ev_flex.core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS, ChargerSpec
from tests.fakes.enode_server import FakeEnodeServer, VirtualSite

from .enode_site import ENODE_USER, link_site, poll, setup_entry, without_webhook_url

ENODE_MENU = ["charging_location", "link_charger", "unlink_charger", "link_vehicle"]


async def open_options(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> ConfigFlowResult:
    """Open the options and choose one menu item."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert set(ENODE_MENU) <= set(result["menu_options"])
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


async def open_link(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> ConfigFlowResult:
    """Choose "Link a charger" or "Link a vehicle", read what will happen, and go on to Link."""
    result = await open_options(hass, entry, step)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    return await hass.config_entries.options.async_configure(result["flow_id"], {})


async def link_again(hass: HomeAssistant, flow_id: str) -> ConfigFlowResult:
    """From "Linking did not finish": Link for a charger once more, past its explanation."""
    await hass.config_entries.options.async_configure(flow_id, {"next_step_id": "link_charger"})
    return await hass.config_entries.options.async_configure(flow_id, {})


async def browse(link_url: str, query: str) -> str:
    """The browser in Enode Link; returns where Link sends it back to."""
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(f"{link_url}?{query}", allow_redirects=False) as link,
    ):
        assert link.status == 302
        return str(URL(link.headers["Location"]).path_qs)


async def come_back(
    hass: HomeAssistant, ha_client: TestClient, flow_id: str, redirect: str
) -> ConfigFlowResult:
    page = await ha_client.get(redirect)
    assert page.status == 200
    return await hass.config_entries.options.async_configure(flow_id)


def device(hass: HomeAssistant, entry: MockConfigEntry, device_id: str) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier((DOMAIN, device_id), entry.entry_id)


@pytest.fixture
async def car_only(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> Any:
    """A capable car linked alone; its home charger waits to be linked."""
    site = fake_enode.add_site(vehicle=VEHICLE_PRESETS["sedan"], charger=CHARGER_PRESETS["sedan"])
    fake_enode.link(ENODE_USER, site.vehicle_id or "")
    await setup_entry(hass, enode_entry)
    return site


async def test_link_charger(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    car_only: Any,
) -> None:
    """Linking a charger in the options adds it at once and names it; from there another
    charger can be linked, or the options go on."""
    result = await open_link(hass, enode_entry, "link_charger")
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["step_id"] == "enode_link"
    flow_id = result["flow_id"]
    # A stray call without the state does not move the flow.
    again = await hass.config_entries.options.async_configure(flow_id, {"state": "x"})
    assert again["type"] is FlowResultType.EXTERNAL_STEP

    result = await come_back(hass, ha_client, flow_id, await browse(result["url"], "autolink=1"))
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "linked"
    assert result["menu_options"] == ["link_charger", "init"]
    assert result["description_placeholders"] == {
        "new_devices": "- EV Flex Simulator Wallbox 22 kW",
        "known_devices": "—",
    }
    assert device(hass, enode_entry, car_only.charger_id) is not None
    system = hass.states.async_all("sensor")
    assert any(state.state == "active" for state in system)

    # Back to the options: the other changes are still to be saved.
    result = await hass.config_entries.options.async_configure(flow_id, {"next_step_id": "init"})
    assert result["step_id"] == "init"


async def test_link_vehicle_clears_relink_issue(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    car_only: Any,
) -> None:
    """Linking a vehicle adds it, and settles a request to sign in to a vendor again."""
    enode_entry.runtime_data.interventions.async_vendor_relink("TESLA")
    other = fake_enode.add_vehicle(VEHICLE_PRESETS["suv_v2g"])
    result = await open_link(hass, enode_entry, "link_vehicle")
    result = await come_back(
        hass, ha_client, result["flow_id"], await browse(result["url"], f"device={other}")
    )
    assert result["step_id"] == "linked"
    assert result["menu_options"] == ["link_vehicle", "init"]
    new, known = device(hass, enode_entry, other), device(hass, enode_entry, car_only.vehicle_id)
    assert new is not None
    assert known is not None
    assert result["description_placeholders"] == {
        "new_devices": f"- {new.name}",
        "known_devices": f"- {known.name}",
    }
    assert not [
        issue
        for issue in ir.async_get(hass).issues.values()
        if issue.issue_id.startswith("vendor_relink")
    ]


async def test_a_relink_for_an_unnamed_vendor_says_so_in_the_servers_language(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, enode_entry: MockConfigEntry
) -> None:
    """A vendor Enode doesn't name is an unknown vendor, in German on a German server."""
    hass.config.language = "de"
    link_site(fake_enode, "sedan")
    await setup_entry(hass, enode_entry)
    enode_entry.runtime_data.interventions.async_vendor_relink(None)
    [issue] = [
        issue
        for issue in ir.async_get(hass).issues.values()
        if issue.issue_id.startswith("vendor_relink")
    ]
    assert issue.translation_placeholders["vendor"] == "unbekannter Hersteller"


async def test_the_found_devices_are_named_plainly_and_not_without_end(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    car_only: Any,
) -> None:
    """A vendor's names are shown as plain text, cut short, and a long list says how many more."""
    hostile = ChargerSpec(make="**Loud** [click](http://example.invalid)", model="<b>" + "x" * 99)
    all_markup = ChargerSpec(make="###", model="***")
    for spec in [hostile] * 20 + [all_markup]:
        fake_enode.link(ENODE_USER, fake_enode.add_charger(spec))
    result = await open_link(hass, enode_entry, "link_charger")
    result = await come_back(
        hass, ha_client, result["flow_id"], await browse(result["url"], "autolink=1")
    )
    assert result["step_id"] == "linked"
    lines = result["description_placeholders"]["new_devices"].split("\n")
    assert len(lines) == 21
    assert lines[-1] == "- … (+2)"
    assert "- ?" in lines
    for line in lines[:-1]:
        assert not set("*[]()<>#") & set(line), line
        assert len(line) <= 2 + 60
    assert "- Loud click http://example.invalid b " + "x" * 24 in lines


@pytest.mark.parametrize(
    ("language", "device_words", "cancelled", "nothing"),
    [
        ("en", "charger", "linking was cancelled", "nothing was linked"),
        ("de", "Wallbox", "das Verknüpfen wurde abgebrochen", "es wurde nichts verknüpft"),
    ],
)
async def test_link_cancelled_or_empty(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    car_only: Any,
    language: str,
    device_words: str,
    cancelled: str,
    nothing: str,
) -> None:
    """Cancelling Link, or coming back with nothing, says why in the server's language, each
    reason its own way, and offers Link again; the second time it links."""
    hass.config.language = language
    result = await open_link(hass, enode_entry, "link_charger")
    flow_id = result["flow_id"]
    result = await come_back(hass, ha_client, flow_id, await browse(result["url"], "cancel=1"))
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "link_failed"
    assert result["menu_options"] == ["link_charger", "init"]
    assert result["description_placeholders"] == {"device": device_words, "reason": cancelled}

    result = await link_again(hass, flow_id)
    token = URL(result["url"]).name
    redirect = str(URL(fake_enode._link_sessions[token].redirect_uri).relative())
    result = await come_back(hass, ha_client, flow_id, redirect)
    assert result["step_id"] == "link_failed"
    assert result["description_placeholders"] == {"device": device_words, "reason": nothing}

    result = await link_again(hass, flow_id)
    result = await come_back(hass, ha_client, flow_id, await browse(result["url"], "autolink=1"))
    assert result["step_id"] == "linked"
    assert device(hass, enode_entry, car_only.charger_id) is not None


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("en", "Enode answered with HTTP error 500: Internal server error"),
        ("de", "Enode antwortete mit dem HTTP-Fehler 500: Internal server error"),
    ],
)
async def test_link_session_refused(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    car_only: Any,
    language: str,
    reason: str,
) -> None:
    """Enode failing to open a Link session says why in the server's language, with Enode's
    status and its own words as they are, and offers to try again."""
    hass.config.language = language
    fake_enode.faults.server_error_rate = 1.0
    result = await open_link(hass, enode_entry, "link_charger")
    fake_enode.faults.server_error_rate = 0.0
    assert result["step_id"] == "link_failed"
    assert result["description_placeholders"]["reason"] == reason


async def test_link_without_url(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    car_only: Any,
) -> None:
    """Without a URL to come back to, linking explains itself."""
    hass.config.internal_url = hass.config.external_url = None
    hass.config.api = None
    result = await open_link(hass, enode_entry, "link_charger")
    assert result["reason"] == "no_url_available"


async def test_not_loaded(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """Enode actions need the entry to be running."""
    enode_entry.add_to_hass(hass)
    for step in ("link_charger", "unlink_charger"):
        result = await open_options(hass, enode_entry, step)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "not_loaded"


async def test_entry_unloaded_while_linking(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    car_only: Any,
) -> None:
    """An entry unloaded during Link ends the flow politely."""
    result = await open_link(hass, enode_entry, "link_charger")
    redirect = await browse(result["url"], "autolink=1")
    await hass.config_entries.async_unload(enode_entry.entry_id)
    result = await come_back(hass, ha_client, result["flow_id"], redirect)
    assert result["reason"] == "not_loaded"


async def test_unlink_optional_charger(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """A capable car's charger: the confirmation says smart charging stays; it is removed."""
    site = link_site(fake_enode, "sedan", charger_vendor="EASEE")
    await setup_entry(hass, enode_entry)
    result = await open_options(hass, enode_entry, "unlink_charger")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "unlink_confirm"
    assert result["description_placeholders"] == {
        "charger": "EV Flex Simulator Wallbox 22 kW",
        "vehicles": "EV Flex Simulator Sedan 75 kWh",
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "init"
    assert device(hass, enode_entry, site.charger_id) is None
    assert site.charger_user is None


async def test_unlink_mandatory_charger_warns(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """A car that needs its charger: the confirmation says smart charging turns off."""
    link_site(fake_enode, "hatchback")
    await setup_entry(hass, enode_entry)
    result = await open_options(hass, enode_entry, "unlink_charger")
    assert result["step_id"] == "unlink_confirm_required"


async def test_unlink_warns_for_a_car_whose_start_stop_enode_unlocked(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """With Enode's EV-charger pairing the car reports start/stop once its charger is linked;
    it still needs that charger, and unlinking it says so."""
    fake_enode.enode_pairing = True
    site = fake_enode.add_site(
        vehicle=VEHICLE_PRESETS["hatchback"], charger=CHARGER_PRESETS["hatchback"]
    )
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    fake_enode.link(ENODE_USER, site.vehicle_id)
    await setup_entry(hass, enode_entry)
    fake_enode.link(ENODE_USER, site.charger_id)
    await hass.config_entries.async_reload(enode_entry.entry_id)
    await hass.async_block_till_done()
    result = await open_options(hass, enode_entry, "unlink_charger")
    assert result["step_id"] == "unlink_confirm_required"


async def test_unlink_picks_among_chargers(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """With two chargers the user picks one; the other stays."""
    site = link_site(fake_enode, "hatchback")
    other = fake_enode.add_charger(charger_vendor="ZAPTEC")
    fake_enode.link(ENODE_USER, other)
    await setup_entry(hass, enode_entry)
    result = await open_options(hass, enode_entry, "unlink_charger")
    assert result["step_id"] == "unlink_charger"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"charger": other}
    )
    # Another charger remains, so smart charging goes on.
    assert result["step_id"] == "unlink_confirm"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert device(hass, enode_entry, other) is None
    assert device(hass, enode_entry, site.charger_id or "") is not None


async def test_unlink_a_charger_sharing_the_cars_vendor_account(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """One vendor account holds the car and the charger: only the charger is unlinked."""
    site = link_site(fake_enode, "sedan", vehicle_vendor="TESLA", charger_vendor="TESLA")
    await setup_entry(hass, enode_entry)
    result = await open_options(hass, enode_entry, "unlink_charger")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "init"
    assert site.charger_user is None
    assert site.vehicle_user == ENODE_USER
    assert device(hass, enode_entry, site.charger_id or "") is None
    assert device(hass, enode_entry, site.vehicle_id or "") is not None
    assert ("DELETE", f"/users/{ENODE_USER}/vendors/TESLA/charger", 204) in fake_enode.request_log


async def test_unlink_refusals(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """Enode errors, said in the server's language with Enode's status, and an entry unloaded
    meanwhile."""
    hass.config.language = "de"
    link_site(fake_enode, "sedan")
    await setup_entry(hass, enode_entry)
    result = await open_options(hass, enode_entry, "unlink_charger")
    fake_enode.faults.server_error_rate = 1.0
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    fake_enode.faults.server_error_rate = 0.0
    assert result["reason"] == "unlink_failed"
    assert result["description_placeholders"] == {
        "reason": "Enode antwortete mit dem HTTP-Fehler 500: Internal server error"
    }
    # Enode out of reach altogether.
    result = await open_options(hass, enode_entry, "unlink_charger")
    await fake_enode.stop()
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["description_placeholders"] == {"reason": "Enode war nicht erreichbar"}
    await fake_enode.start()

    result = await open_options(hass, enode_entry, "unlink_charger")
    await hass.config_entries.async_unload(enode_entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["reason"] == "not_loaded"


async def test_unlink_without_charger(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    car_only: Any,
) -> None:
    """Without a linked charger there is nothing to unlink."""
    result = await open_options(hass, enode_entry, "unlink_charger")
    assert result["reason"] == "no_charger"


async def test_charging_location(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """A new zone is saved with the options; the entry then moves the charger at Enode."""
    site = link_site(fake_enode, "sedan")
    await setup_entry(hass, enode_entry)
    old_location = enode_entry.data[CONF_ENODE_LOCATION_ID]
    hass.states.async_set(
        "zone.garage",
        "0",
        {"latitude": 59.91, "longitude": 10.75, "radius": 50, "friendly_name": "Garage"},
    )
    result = await open_options(hass, enode_entry, "charging_location")
    assert result["step_id"] == "charging_location"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CHARGING_ZONE: "zone.nowhere"}
    )
    assert result["errors"] == {CONF_CHARGING_ZONE: "zone_not_found"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CHARGING_ZONE: "zone.garage"}
    )
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "save"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CHARGING_ZONE] == "zone.garage"
    await hass.async_block_till_done()

    new_location = enode_entry.data[CONF_ENODE_LOCATION_ID]
    assert new_location != old_location
    assert enode_entry.data[CONF_ENODE_LOCATION_ZONE] == "zone.garage"
    assert list(fake_enode._locations) == [new_location]
    assert fake_enode._locations[new_location]["name"] == "Garage"
    assert fake_enode.charger_json(site.charger_id or "")["location"]["id"] == new_location


async def test_charging_zone_removed_later(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A chosen zone that no longer exists leaves the entry running, with a warning."""
    link_site(fake_enode, "sedan")
    enode_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(enode_entry, options={CONF_CHARGING_ZONE: "zone.gone"})
    await hass.config_entries.async_setup(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert "zone.gone does not exist" in caplog.text
    assert CONF_ENODE_LOCATION_ID not in enode_entry.data


GARAGE = {"latitude": 59.91, "longitude": 10.75, "radius": 50, "friendly_name": "Garage"}


async def change_garage(hass: HomeAssistant, **changes: Any) -> None:
    """The user edits the garage zone (its state changes as the zone component writes it)."""
    hass.states.async_set("zone.garage", "0", {**GARAGE, **changes})
    await hass.async_block_till_done()


def location_puts(fake_enode: FakeEnodeServer) -> list[str]:
    return [
        path
        for method, path, _ in fake_enode.request_log
        if method == "PUT" and "/locations/" in path
    ]


async def _set_up_charging_in_the_garage(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, entry: MockConfigEntry
) -> VirtualSite:
    """A sedan and its charger, polled, with the garage zone as the charging location."""
    site = link_site(fake_enode, "sedan")
    await without_webhook_url(hass)
    hass.states.async_set("zone.garage", "0", GARAGE)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_CHARGING_ZONE: "zone.garage"})
    await setup_entry(hass, entry)
    return site


async def test_the_enode_location_follows_the_zone_the_user_moves(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Moving or renaming the charging zone moves and renames the Location at Enode (the same
    one, chargers and all); a new radius means nothing to Enode; a refusal is tried again."""
    site = await _set_up_charging_in_the_garage(hass, fake_enode, enode_entry)
    location_id = enode_entry.data[CONF_ENODE_LOCATION_ID]

    await change_garage(hass, latitude=60.39, longitude=5.32)
    location = fake_enode._locations[location_id]
    assert (location["name"], location["latitude"], location["longitude"]) == (
        "Garage",
        60.39,
        5.32,
    )
    assert list(fake_enode._locations) == [location_id]
    assert fake_enode.charger_json(site.charger_id or "")["location"]["id"] == location_id

    await change_garage(hass, latitude=60.39, longitude=5.32, friendly_name="Cabin")
    assert fake_enode._locations[location_id]["name"] == "Cabin"
    puts = len(location_puts(fake_enode))
    await change_garage(hass, latitude=60.39, longitude=5.32, friendly_name="Cabin", radius=200)
    assert len(location_puts(fake_enode)) == puts, "Enode's Location has no radius"

    # Enode refuses the move: the entry carries on, and the move is made half an hour later.
    fake_enode.faults.failing_paths = {"/locations"}
    with caplog.at_level(logging.WARNING):
        await change_garage(hass, latitude=61.0)
    assert "Could not set the charging location at Enode" in caplog.text
    assert fake_enode._locations[location_id]["latitude"] == 60.39
    fake_enode.faults.failing_paths = set()
    await poll(hass, freezer)
    assert fake_enode._locations[location_id]["latitude"] == 60.39, "not hammering Enode"
    await poll(hass, freezer, minutes=30)
    await hass.async_block_till_done()
    assert fake_enode._locations[location_id]["latitude"] == 61.0
    assert enode_entry.state is ConfigEntryState.LOADED


async def test_a_zone_moved_while_home_assistant_was_off_is_followed_at_start(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The Location is moved when the entry starts, and not again on a start with nothing new;
    an entry from before EV Flex remembered the place sends it once."""
    link_site(fake_enode, "sedan")
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    location_id = enode_entry.data[CONF_ENODE_LOCATION_ID]
    await hass.config_entries.async_unload(enode_entry.entry_id)
    await hass.config.async_update(latitude=63.43, longitude=10.39)
    await hass.config_entries.async_setup(enode_entry.entry_id)
    await hass.async_block_till_done()
    location = fake_enode._locations[location_id]
    assert (location["latitude"], location["longitude"]) == (63.43, 10.39)
    puts = len(location_puts(fake_enode))
    assert await hass.config_entries.async_reload(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert len(location_puts(fake_enode)) == puts

    older = {
        key: value for key, value in enode_entry.data.items() if key != CONF_ENODE_LOCATION_PLACE
    }
    hass.config_entries.async_update_entry(enode_entry, data=older)
    assert await hass.config_entries.async_reload(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert len(location_puts(fake_enode)) == puts + 1
    assert list(fake_enode._locations) == [location_id]

    # A move the zone's own change did not carry over (it came while chargers were being put
    # in the Location) goes with the next update of the account.
    stale = {**enode_entry.data, CONF_ENODE_LOCATION_PLACE: {"name": "Home", "latitude": 0.0}}
    hass.config_entries.async_update_entry(enode_entry, data=stale)
    await poll(hass, freezer)
    await hass.async_block_till_done()
    assert len(location_puts(fake_enode)) == puts + 2
    assert enode_entry.data[CONF_ENODE_LOCATION_PLACE]["latitude"] == 63.43


async def test_the_enode_location_follows_the_home_location(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """The default charging zone is home: moving the home location (Settings → System →
    General) moves the Location at Enode, and a new time zone goes there too."""
    link_site(fake_enode, "sedan")
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    location_id = enode_entry.data[CONF_ENODE_LOCATION_ID]
    await hass.config.async_update(latitude=58.97, longitude=5.73)
    await hass.async_block_till_done()
    location = fake_enode._locations[location_id]
    assert (location["latitude"], location["longitude"]) == (58.97, 5.73)

    # A new time zone for the house is the Location's too (Enode reads deadlines in it).
    await hass.config.async_update(time_zone="Europe/Helsinki")
    await hass.async_block_till_done()
    assert fake_enode._locations[location_id]["timezoneName"] == "Europe/Helsinki"


async def test_a_location_deleted_at_enode_is_made_again_with_its_charger(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Someone deletes the Location at Enode (its dashboard, another app): at the next poll
    the charger is in none, EV Flex makes the Location again where the zone is, puts the
    charger in it and keeps the new id; then, deleted again, a zone move (404 on the move)
    makes it again at the new place."""
    site = await _set_up_charging_in_the_garage(hass, fake_enode, enode_entry)
    deleted = enode_entry.data[CONF_ENODE_LOCATION_ID]

    fake_enode.delete_location(deleted)
    with caplog.at_level(logging.WARNING):
        await poll(hass, freezer)
        await hass.async_block_till_done()
    made = enode_entry.data[CONF_ENODE_LOCATION_ID]
    assert made != deleted
    assert list(fake_enode._locations) == [made]
    location = fake_enode._locations[made]
    assert (location["name"], location["latitude"]) == ("Garage", GARAGE["latitude"])
    assert fake_enode.charger_json(site.charger_id or "")["location"]["id"] == made
    assert "The charging location was deleted at Enode" in caplog.text
    assert "Could not put a charger" not in caplog.text

    fake_enode.delete_location(made)
    await change_garage(hass, latitude=60.39, longitude=5.32)
    again = enode_entry.data[CONF_ENODE_LOCATION_ID]
    assert list(fake_enode._locations) == [again]
    assert fake_enode._locations[again]["latitude"] == 60.39
    assert fake_enode.charger_json(site.charger_id or "")["location"]["id"] == again
    assert enode_entry.state is ConfigEntryState.LOADED


async def test_a_location_without_chargers_deleted_at_enode_is_made_again_within_the_hour(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A car without a charger at Enode: no charger shows the Location is gone, so EV Flex
    asks Enode about it every hour and makes it again; a Location that is there is left."""
    site = fake_enode.add_site(vehicle=VEHICLE_PRESETS["sedan"], with_charger=False)
    fake_enode.link(ENODE_USER, site.vehicle_id or "")
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    kept = enode_entry.data[CONF_ENODE_LOCATION_ID]
    await poll(hass, freezer, minutes=61)
    assert enode_entry.data[CONF_ENODE_LOCATION_ID] == kept, "a Location that is there stays"

    fake_enode.delete_location(kept)
    await poll(hass, freezer, minutes=61)
    await hass.async_block_till_done()
    made = enode_entry.data[CONF_ENODE_LOCATION_ID]
    assert made != kept
    assert list(fake_enode._locations) == [made]
