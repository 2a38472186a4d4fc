"""Fixtures shared by the Home Assistant tests."""

from collections.abc import AsyncGenerator, Generator
from typing import Any
from unittest.mock import PropertyMock, patch

from aiohttp.test_utils import TestClient
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_ENODE,
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_BASE_URL,
    CONF_COMMAND_DELAY,
    CONF_ENODE_USER_ID,
    CONF_ENVIRONMENT,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_VEHICLE_PRESET,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from custom_components.ev_flex.core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS, Simulation
from tests.fakes.enode_server import FakeEnodeServer, VirtualSite


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load EV Flex from custom_components."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format (ids and timestamps left out)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable entities that are disabled by default, so they show in snapshots."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def vehicle_preset() -> str:
    """Which simulated car the entry uses."""
    return "sedan"


@pytest.fixture
def command_delay() -> float:
    """Seconds before a simulated command takes effect."""
    return 0.0


@pytest.fixture
def simulator_entry(vehicle_preset: str, command_delay: float) -> MockConfigEntry:
    """A config entry for a simulated vehicle and charger."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        unique_id="simulator-garage",
        data={
            CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_SIMULATOR,
            CONF_NAME: "Garage",
            CONF_VEHICLE_PRESET: vehicle_preset,
            CONF_INITIAL_SOC: 40.0,
            CONF_PLUGGED_IN: True,
            CONF_COMMAND_DELAY: command_delay,
        },
        version=1,
        minor_version=1,
    )


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, simulator_entry: MockConfigEntry) -> MockConfigEntry:
    """The simulated account, set up."""
    simulator_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await hass.async_block_till_done()
    return simulator_entry


@pytest.fixture
def simulation(loaded_entry: MockConfigEntry) -> Simulation:
    """The simulation behind the loaded entry, to plug, unplug and inject faults."""
    return loaded_entry.runtime_data.account.simulation  # type: ignore[no-any-return]


# Enode: the fake Enode API over loopback, and Home Assistant reachable over HTTP for its
# Link redirects and webhook deliveries.

ENODE_USER = "ha-user-1"


async def without_webhook_url(hass: HomeAssistant) -> None:
    """Home Assistant has no URL Enode could post webhooks to: Enode accounts poll."""
    assert await async_setup_component(hass, "http", {})
    hass.config.internal_url = hass.config.external_url = None
    hass.config.api = None


@pytest.fixture
async def polling_only(hass: HomeAssistant, fake_enode: FakeEnodeServer) -> None:
    """For modules whose Enode tests all poll."""
    await without_webhook_url(hass)


@pytest.fixture
async def fake_enode(socket_enabled: None) -> AsyncGenerator[FakeEnodeServer]:
    """A fake Enode API on 127.0.0.1 whose clock is Home Assistant's (freezer moves both).
    Its actions take as long as Enode's do (mostly about 20 s, some up to half an hour)."""
    server = FakeEnodeServer(clock=dt_util.utcnow)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def ha_client(
    hass: HomeAssistant, socket_enabled: None, hass_client_no_auth: ClientSessionGenerator
) -> TestClient:
    """Home Assistant's HTTP server on loopback, known to Home Assistant as its own URL."""
    # EV Flex depends on http and webhook, and registers the Link return view.
    assert await async_setup_component(hass, DOMAIN, {})
    # Components that add HTTP views must be up before the server starts.
    assert await async_setup_component(hass, "calendar", {})
    client = await hass_client_no_auth()
    base_url = str(client.make_url("/")).rstrip("/")
    await async_process_ha_core_config(hass, {"internal_url": base_url})
    return client


# Home Assistant's external address as Enode sees it; the fake delivers to it through a
# TLS-terminating proxy that forwards to the test server.
EXTERNAL_URL = "https://ev-flex-home.example"


@pytest.fixture
async def webhook_client(
    hass: HomeAssistant, ha_client: TestClient, fake_enode: FakeEnodeServer
) -> TestClient:
    """Home Assistant with an external HTTPS address the fake Enode delivers webhooks to."""
    await async_process_ha_core_config(hass, {"external_url": EXTERNAL_URL})
    fake_enode.webhook_proxy = str(ha_client.make_url("/")).rstrip("/")
    return ha_client


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


@pytest.fixture
def enode_entry(fake_enode: FakeEnodeServer) -> MockConfigEntry:
    """An Enode config entry for ENODE_USER on the fake server (not added yet)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Model 3",
        unique_id=f"enode-{fake_enode.client_id}-{ENODE_USER}",
        data=enode_entry_data(fake_enode),
        version=1,
        minor_version=1,
    )


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
