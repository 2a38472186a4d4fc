"""The README's dashboard names real entities and actions."""

import json
from pathlib import Path
import re

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import slugify
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.ev_flex.const import DOMAIN

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator


README = Path(__file__).resolve().parents[1] / "README.md"


async def test_readme_dashboard_uses_real_entities_and_actions(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """With my_car and my_entry replaced, every entity is a priced simulated account's own."""
    section = README.read_text(encoding="utf-8").split("### Dashboard", 1)[1]
    dashboard = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    text = json.dumps(dashboard)
    domains = "sensor|binary_sensor|switch|number|time|calendar|device_tracker"
    entity_ids = set(re.findall(rf"\b(?:{domains})\.[a-z0-9_]+\b", text))
    actions = set(re.findall(r'"perform_action": "ev_flex\.([a-z_]+)"', text))
    assert len(entity_ids) >= 10
    assert actions == {"charge_now", "cancel_override"}

    registered = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
    }
    # The car's own battery level, not the estimated one.
    battery = min((entity for entity in registered if entity.endswith("_battery_level")), key=len)
    car = battery.removeprefix("sensor.").removesuffix("_battery_level")
    named = {
        entity.replace("my_car", car).replace("my_entry", slugify(loaded_entry.title))
        for entity in entity_ids
    }
    assert not named - registered
    assert actions <= set(hass.services.async_services_for_domain(DOMAIN))
