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
