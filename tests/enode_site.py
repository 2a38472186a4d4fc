"""An Enode account in Home Assistant against the fake Enode API (tests/fakes): the data, the
linked car and charger, and the look-ups its tests share. The fixtures are in conftest.py."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_ENODE,
    CONF_ACCOUNT_TYPE,
    CONF_BASE_URL,
    CONF_ENODE_USER_ID,
    CONF_ENVIRONMENT,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from custom_components.ev_flex.core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS
from tests.fakes.enode_server import FakeEnodeServer, VirtualSite

from .priced_simulator import PRICE_ENTITY, START, TZ_NAME, set_prices

ENODE_USER = "ha-user-1"


# Home Assistant's external address as Enode sees it; the fake delivers to it through a
# TLS-terminating proxy that forwards to the test server.
EXTERNAL_URL = "https://ev-flex-home.example"


# The hatchback of the Enode smart-charging tests: a car that cannot stop itself.
HATCHBACK = "ev_flex_simulator_hatchback_40_kwh"


async def without_webhook_url(hass: HomeAssistant) -> None:
    """Home Assistant has no URL Enode could post webhooks to: Enode accounts poll."""
    assert await async_setup_component(hass, "http", {})
    hass.config.internal_url = hass.config.external_url = None
    hass.config.api = None


def enode_entry_data(server: FakeEnodeServer, **changes: Any) -> dict[str, Any]:
    """Entry data for an Enode account on the fake server."""
    return {
        CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_ENODE,
        CONF_CLIENT_ID: server.client_id,
        CONF_CLIENT_SECRET: server.client_secret,
        CONF_ENVIRONMENT: "custom",
        CONF_BASE_URL: server.base_url,
        CONF_ENODE_USER_ID: ENODE_USER,
        CONF_WEBHOOK_ID: "enode-webhook-id",
        **changes,
    }


def link_site(server: FakeEnodeServer, preset: str = "sedan", **kwargs: Any) -> VirtualSite:
    """A car and its home charger of a simulator preset, both linked to ENODE_USER."""
    site = server.add_site(
        vehicle=VEHICLE_PRESETS[preset], charger=CHARGER_PRESETS[preset], **kwargs
    )
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    server.link(ENODE_USER, site.vehicle_id)
    server.link(ENODE_USER, site.charger_id)
    return site


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """The entity id of one of our entities, by unique id."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None, unique_id
    return found


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float = 2.1) -> None:
    """Let the regular poll happen."""
    freezer.tick(timedelta(minutes=minutes))
    async_fire_time_changed(hass)
    # The poll runs as a background task doing real HTTP to the fake.
    await hass.async_block_till_done(wait_background_tasks=True)


async def turn_on_smart_charging(hass: HomeAssistant, vehicle_id: str) -> None:
    """Switch smart charging on for a vehicle, through its switch."""
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": entity_id(hass, "switch", f"{vehicle_id}_smart_charging")},
        blocking=True,
    )
    await hass.async_block_till_done()


async def set_up_hatchback(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    freezer: FrozenDateTimeFactory,
    preset: str = "hatchback",
) -> tuple[MockConfigEntry, VirtualSite]:
    """A hatchback (or another preset's car) at 40 % plugged into its charger at 18:00, linked
    and priced."""
    freezer.move_to(START)
    await hass.config.async_set_time_zone(TZ_NAME)
    # Home is where the fake site's car and charger stand.
    await hass.config.async_update(latitude=59.91, longitude=10.75)
    set_prices(hass)
    site = link_site(fake_enode, preset, soc_pct=40.0)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hatchback",
        unique_id=f"enode-{fake_enode.client_id}-smart",
        data=enode_entry_data(fake_enode),
        options={"price_entity": PRICE_ENTITY},
        version=1,
        minor_version=1,
    )
    await setup_entry(hass, entry)
    return entry, site
