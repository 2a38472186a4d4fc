"""The integration's own translations: English is complete, the other languages translate the
smart-charging state (which the card's header shows) and fall back to English for the rest."""

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN

TRANSLATIONS = Path(__file__).resolve().parents[1] / "custom_components" / DOMAIN / "translations"
# The languages of EV Flex's markets, as the card has them too.
LANGUAGES = ("da", "de", "fi", "fr", "nb", "nl", "sv")
STATE = "component.ev_flex.entity.sensor.smart_charging_state"


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_every_translation_is_of_an_english_text_with_its_placeholders() -> None:
    english = _flat(json.loads((TRANSLATIONS / "en.json").read_text(encoding="utf-8")))
    found = sorted(path.stem for path in TRANSLATIONS.glob("*.json") if path.stem != "en")
    assert found == sorted(LANGUAGES)
    for language in LANGUAGES:
        texts = _flat(json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")))
        assert set(texts) <= set(english), language
        for key, text in texts.items():
            assert text.strip(), (language, key)
            placeholders = set(re.findall(r"\{\w+\}", text))
            assert placeholders == set(re.findall(r"\{\w+\}", english[key])), (language, key)
        states = {
            key for key in english if key.startswith("entity.sensor.smart_charging_state.state.")
        }
        assert states <= set(texts), f"{language} lacks a smart-charging state"


async def test_a_german_home_sees_the_state_in_german_and_the_rest_in_english(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Entity names stay English (entity ids come from them); the states are German."""
    german = await async_get_translations(hass, "de", "entity", {DOMAIN})
    assert german[f"{STATE}.state.plan_executing_stopped"] == "Wartet auf günstigere Preise"
    assert german[f"{STATE}.name"] == "Smart charging state"
