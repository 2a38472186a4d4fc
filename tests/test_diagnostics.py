"""Diagnostics redact credentials, VINs and locations."""

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from tests.fakes.enode_server import FakeEnodeServer

from .enode_site import ENODE_USER, link_site, setup_entry


@pytest.mark.freeze_time("2026-11-22T06:00:00+00:00")
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """The dump matches the snapshot, and no VIN or coordinate leaks."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    assert diagnostics == snapshot(exclude=props("entry_id", "created_at", "modified_at"))
    text = str(diagnostics)
    assert "SIMSEDAN" not in text
    assert str(hass.config.latitude) not in text
    assert str(hass.config.longitude) not in text


async def test_enode_diagnostics_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
) -> None:
    """An Enode entry's dump has no client secret, webhook id, user id, VIN or position."""
    site = link_site(fake_enode, "sedan")
    await setup_entry(hass, enode_entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, enode_entry)
    text = str(diagnostics)
    for secret in (
        fake_enode.client_secret,
        fake_enode.client_id,
        "enode-webhook-id",
        ENODE_USER,
        fake_enode.base_url,
        site.simulation.vehicle_spec.vin,
        "59.91",
    ):
        assert secret not in text
    assert diagnostics["ev_systems"][site.vehicle_id]["state"] == "active"
    assert diagnostics["enode"]["charging_location_set"] is True
