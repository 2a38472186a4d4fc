"""Fixtures shared by the Home Assistant tests."""

from collections.abc import AsyncGenerator, Generator
import importlib
import pkgutil
from typing import Any
from unittest.mock import AsyncMock, PropertyMock, patch

from aiohttp.test_utils import TestClient
from homeassistant.const import CONF_NAME, Platform
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
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_COMMAND_DELAY,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_VEHICLE_PRESET,
    DOMAIN,
)
from custom_components.ev_flex.core.simulator import Simulation
from tests.fakes.enode_server import FakeEnodeServer

from .enode_site import ENODE_USER, EXTERNAL_URL, enode_entry_data, without_webhook_url
from .priced_simulator import PRICE_ENTITY, START, set_up

PRICED_SIMULATOR = "priced_simulator"


def _import_the_whole_project() -> None:
    """Load every project module before the first test.

    Hypothesis also draws numbers it finds in the project's loaded modules. With
    all of them loaded up front, each worker draws the same examples whichever
    tests it happens to run first, so a random test can't pass in one run and fail
    in the next.
    """
    package = importlib.import_module("custom_components.ev_flex")
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if not module.name.endswith(".__main__"):
            importlib.import_module(module.name)
    for script in ("scripts.browser", "scripts.dev_instance"):
        importlib.import_module(script)


_import_the_whole_project()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that prices the simulated account."""
    config.addinivalue_line(
        "markers",
        f"{PRICED_SIMULATOR}: the simulated account reads a day-ahead price entity, in Oslo "
        "from 18:00 on a Tuesday (tests/priced_simulator.py)",
    )


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
def platforms() -> list[Platform] | None:
    """The platforms an entry sets up (None: all); a module about one platform narrows it."""
    return None


@pytest.fixture(autouse=True)
def only_these_platforms(platforms: list[Platform] | None) -> Generator[None]:
    """Set up only the `platforms` of the module, so its snapshots hold nothing else."""
    if platforms is None:
        yield
        return
    with patch("custom_components.ev_flex.PLATFORMS", platforms):
        yield


@pytest.fixture
def skip_entry_setup() -> Generator[AsyncMock]:
    """For flow tests, which check the flow only: the entry is created but not set up."""
    with patch("custom_components.ev_flex.async_setup_entry", return_value=True) as setup:
        yield setup


@pytest.fixture
def vehicle_preset() -> str:
    """Which simulated car the entry uses."""
    return "sedan"


@pytest.fixture
def command_delay() -> float:
    """Seconds before a simulated command takes effect."""
    return 0.0


def _priced(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker(PRICED_SIMULATOR) is not None


@pytest.fixture
def simulator_entry(
    request: pytest.FixtureRequest, vehicle_preset: str, command_delay: float
) -> MockConfigEntry:
    """A config entry for a simulated vehicle and charger; marked priced_simulator, it reads
    the price entity and the clock stands at 18:00 in Oslo."""
    options: dict[str, Any] = {}
    if _priced(request):
        request.getfixturevalue("freezer").move_to(START)
        options = {"price_entity": PRICE_ENTITY}
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
        options=options,
        version=1,
        minor_version=1,
    )


@pytest.fixture
async def loaded_entry(
    request: pytest.FixtureRequest, hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> MockConfigEntry:
    """The simulated account, set up (marked priced_simulator: in Oslo, with prices)."""
    if _priced(request):
        await set_up(hass, simulator_entry)
        return simulator_entry
    simulator_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await hass.async_block_till_done()
    return simulator_entry


@pytest.fixture
def v2g_entry(simulator_entry: MockConfigEntry) -> MockConfigEntry:
    """A bidirectional car and charger, exporting at the spot price."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data={**simulator_entry.data, CONF_VEHICLE_PRESET: "suv_v2g"},
        options={
            "price_entity": PRICE_ENTITY,
            "tariff": {"export": {"kind": "spot", "factor": 1.0, "fee_per_kwh": 0.0}},
            "notify_v2g": True,
        },
    )


@pytest.fixture
def simulation(loaded_entry: MockConfigEntry) -> Simulation:
    """The simulation behind the loaded entry, to plug, unplug and inject faults."""
    return loaded_entry.runtime_data.account.simulation  # type: ignore[no-any-return]


# Enode: the fake Enode API over loopback, and Home Assistant reachable over HTTP for its
# Link redirects and webhook deliveries.


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


@pytest.fixture
async def webhook_client(
    hass: HomeAssistant, ha_client: TestClient, fake_enode: FakeEnodeServer
) -> TestClient:
    """Home Assistant with an external HTTPS address the fake Enode delivers webhooks to."""
    await async_process_ha_core_config(hass, {"external_url": EXTERNAL_URL})
    fake_enode.webhook_proxy = str(ha_client.make_url("/")).rstrip("/")
    return ha_client


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
