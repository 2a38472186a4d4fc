"""The integration's metadata agrees with itself and with Home Assistant, as hassfest and HACS
expect: manifest, hacs.json, services.yaml, translations, icons and the quality scale."""

import json
from pathlib import Path
import re
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant import const as ha_const
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util.yaml import load_yaml
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.ev_flex.const import DOMAIN

REPO = Path(__file__).resolve().parents[1]
INTEGRATION = REPO / "custom_components" / DOMAIN

# Every rule of every tier of the Integration Quality Scale (54 since July 2026).
QUALITY_SCALE_RULES = {
    # Bronze
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow",
    "config-flow-test-coverage",
    "dependency-transparency",
    "docs-actions",
    "docs-conditions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "docs-triggers",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
    # Silver
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
    # Gold
    "devices",
    "diagnostics",
    "discovery",
    "discovery-update-info",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
    # Platinum
    "async-dependency",
    "inject-websession",
    "strict-typing",
}


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_has_what_hassfest_asks_in_its_order() -> None:
    manifest = _json(INTEGRATION / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == DOMAIN
    for key in ("version", "iot_class", "integration_type", "config_flow", "documentation"):
        assert manifest[key], key
    assert manifest["issue_tracker"].startswith("https://")
    assert manifest["codeowners"]
    assert all(owner.startswith("@") for owner in manifest["codeowners"])
    assert AwesomeVersion(manifest["version"]).valid
    assert manifest["iot_class"] in {
        "assumed_state",
        "calculated",
        "cloud_polling",
        "cloud_push",
        "local_polling",
        "local_push",
    }
    assert manifest["integration_type"] in {"device", "hub", "service"}
    # Nothing to install: the core package is pure Python shipped with the integration.
    assert manifest["requirements"] == []


def test_hacs_targets_the_home_assistant_we_test_against() -> None:
    hacs = _json(REPO / "hacs.json")
    assert hacs["name"] == "EV Flex"
    assert hacs["homeassistant"] == ha_const.__version__


def test_quality_scale_lists_every_rule_with_an_honest_status() -> None:
    rules = load_yaml(INTEGRATION / "quality_scale.yaml")["rules"]  # type: ignore[index]
    assert len(QUALITY_SCALE_RULES) == 54
    assert set(rules) == QUALITY_SCALE_RULES
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, rule
        if status == "exempt":
            assert isinstance(value, dict), f"{rule}: say why it is exempt"
            assert value.get("comment"), f"{rule}: say why it is exempt"


async def test_every_action_is_described_translated_and_has_an_icon(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    described = load_yaml(INTEGRATION / "services.yaml")
    assert isinstance(described, dict)
    assert set(described) == registered
    translations = _json(INTEGRATION / "translations" / "en.json")["services"]
    icons = _json(INTEGRATION / "icons.json")["services"]
    assert set(translations) == registered
    assert set(icons) == registered
    for service, spec in described.items():
        assert translations[service]["name"]
        assert translations[service]["description"]
        translated = translations[service].get("fields", {})
        for field in (spec or {}).get("fields", {}):
            assert translated[field]["name"], (service, field)
            assert translated[field]["description"], (service, field)


async def test_every_entity_has_a_translated_name_and_an_icon(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Entities are named by translation_key; a missing key would show the platform name."""
    translations = _json(INTEGRATION / "translations" / "en.json")["entity"]
    icons = _json(INTEGRATION / "icons.json")["entity"]
    entries = er.async_entries_for_config_entry(er.async_get(hass), loaded_entry.entry_id)
    assert entries
    for entity in entries:
        key = entity.translation_key
        assert key, entity.entity_id
        assert translations[entity.domain][key]["name"], entity.entity_id
        if entity.original_device_class is None and entity.domain != "device_tracker":
            # Without a device class Home Assistant has no fitting default icon.
            assert icons[entity.domain][key]["default"], entity.entity_id


def test_every_form_field_has_a_description() -> None:
    """Each config and options field explains itself under the field (data_description)."""
    translations = _json(INTEGRATION / "translations" / "en.json")
    for flow in ("config", "options"):
        for name, step in translations[flow]["step"].items():
            forms = [step, *step.get("sections", {}).values()]
            for form in forms:
                missing = set(form.get("data", {})) - set(form.get("data_description", {}))
                assert not missing, f"{flow} step {name}: no description for {sorted(missing)}"


def test_translation_placeholders_are_balanced() -> None:
    """Every {placeholder} is a plain name; a stray brace breaks the frontend's formatter."""
    text = (INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8")

    def strings(node: Any) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [s for value in node.values() for s in strings(value)]
        return []

    for string in strings(json.loads(text)):
        without_placeholders = re.sub(r"\{[a-z_][a-z0-9_]*\}", "", string)
        assert "{" not in without_placeholders, string
        assert "}" not in without_placeholders, string


async def test_readme_dashboard_uses_real_entities_and_actions(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The README's dashboard, with my_car replaced, names a simulated car's own entities."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Dashboard", 1)[1]
    dashboard = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    text = json.dumps(dashboard)
    entity_ids = set(re.findall(r"\b[a-z_]+\.my_car_[a-z0-9_]+\b", text))
    actions = set(re.findall(r'"perform_action": "ev_flex\.([a-z_]+)"', text))
    assert len(entity_ids) >= 10
    assert actions == {"charge_now", "cancel_override"}

    registry = er.async_get(hass)
    registered = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(registry, loaded_entry.entry_id)
    }
    # The car's own battery level, not the estimated one.
    battery = min((entity for entity in registered if entity.endswith("_battery_level")), key=len)
    car = battery.removeprefix("sensor.").removesuffix("_battery_level")
    missing = {entity.replace("my_car", car) for entity in entity_ids} - registered
    assert not missing
    assert actions <= set(hass.services.async_services_for_domain(DOMAIN))
