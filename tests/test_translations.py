"""The integration's own translations: English is the source, and every other language
translates each English text with the same keys, placeholders, links, code and markdown."""

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.const import ATTR_FRIENDLY_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.model import CommandKind, ReasonCode
from custom_components.ev_flex.core.planner import PlanProblem

TRANSLATIONS = Path(__file__).resolve().parents[1] / "custom_components" / DOMAIN / "translations"
# The languages of EV Flex's markets, as the card has them too.
LANGUAGES = ("da", "de", "fi", "fr", "nb", "nl", "sv")
# The categories Home Assistant loads from a translation file.
CATEGORIES = (
    "config",
    "options",
    "selector",
    "entity",
    "device",
    "issues",
    "exceptions",
    "services",
)
STATE = "component.ev_flex.entity.sensor.smart_charging_state"

PLACEHOLDER = re.compile(r"\{\w+\}")
# What must come through a translation untouched: web addresses, paths and `code`.
LITERAL = re.compile(r"https?://[^\s)]*[^\s).,;:]|(?<![\w/])/[\w./]+\w|`[^`]+`")


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _texts(language: str) -> dict[str, str]:
    return _flat(json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")))


def test_the_translation_files_are_the_market_languages() -> None:
    found = sorted(path.stem for path in TRANSLATIONS.glob("*.json") if path.stem != "en")
    assert found == sorted(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_language_translates_every_english_text(language: str) -> None:
    english = _texts("en")
    texts = _texts(language)
    assert not set(texts) - set(english), f"{language} has texts English does not"
    missing = sorted(set(english) - set(texts))
    assert not missing, f"{language} lacks {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translation_keeps_the_placeholders_links_code_and_markdown(language: str) -> None:
    english = _texts("en")
    for key, text in _texts(language).items():
        assert isinstance(text, str), (language, key)
        assert text.strip(), (language, key)
        source = english[key]
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), (language, key)
        assert sorted(LITERAL.findall(text)) == sorted(LITERAL.findall(source)), (language, key)
        # The same markdown: as many bold marks and line breaks.
        for mark in ("**", "\n"):
            assert text.count(mark) == source.count(mark), (language, key, mark)
        # A stray brace breaks the frontend's message formatter.
        assert "{" not in PLACEHOLDER.sub("", text), (language, key)
        assert "}" not in PLACEHOLDER.sub("", text), (language, key)


def test_every_reason_plan_problem_and_command_has_words() -> None:
    """The codes the core gives for failed commands, refused plan requests and the commands
    they name each have an English text (a missing one would show its key)."""
    common = _texts("en")
    wanted = [
        *(f"common.reason_{code.value}" for code in ReasonCode if code is not ReasonCode.WORDS),
        *(f"common.plan_{problem.value}" for problem in PlanProblem),
        *(f"common.command_{kind.value}" for kind in CommandKind),
    ]
    assert [key for key in wanted if key not in common] == []


def test_the_literals_check_sees_what_it_guards() -> None:
    """The literal pattern finds the address, the path and the code that English texts hold."""
    text = "For example http://127.0.0.1:8765. Its token endpoint is /oauth2/token; call `x.y`."
    assert LITERAL.findall(text) == ["http://127.0.0.1:8765", "/oauth2/token", "`x.y`"]
    assert LITERAL.findall("Settings > System > Network, 17:00, 1/3 phases, W/kW") == []


@pytest.mark.parametrize("language", LANGUAGES)
async def test_home_assistant_loads_each_language_whole(hass: HomeAssistant, language: str) -> None:
    """Every text Home Assistant shows in a language comes from that language's own file:
    none falls back to English (Home Assistant fills a missing text with the English one)."""
    own = {f"component.{DOMAIN}.{key}": text for key, text in _texts(language).items()}
    for category in CATEGORIES:
        english = await async_get_translations(hass, "en", category, {DOMAIN})
        translated = await async_get_translations(hass, language, category, {DOMAIN})
        assert set(translated) == set(english), (language, category)
        fallen_back = sorted(key for key, text in translated.items() if own.get(key) != text)
        assert not fallen_back, (language, category, fallen_back)


async def test_a_home_switched_to_german_keeps_its_entity_ids_and_shows_german(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Entities made in English keep their ids (automations use them) when the home switches
    to German; the names and states shown turn German."""
    entries = er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
    english_ids = {(entry.domain, entry.unique_id): entry.entity_id for entry in entries}
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    hass.config.language = "de"
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()

    entries = er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
    assert {(entry.domain, entry.unique_id): entry.entity_id for entry in entries} == english_ids
    by_key = {entry.translation_key: entry.entity_id for entry in entries}
    state = hass.states.get(by_key["smart_charging_state"])
    assert state is not None
    assert state.entity_id.endswith("_smart_charging_state")
    assert state.attributes[ATTR_FRIENDLY_NAME].endswith(" Status intelligentes Laden")
    german = await async_get_translations(hass, "de", "entity", {DOMAIN})
    assert german[f"{STATE}.state.{state.state}"] != state.state
    switch = hass.states.get(by_key["smart_charging"])
    assert switch is not None
    assert switch.attributes[ATTR_FRIENDLY_NAME].endswith(" Intelligentes Laden")


async def test_a_new_german_home_gets_german_entity_ids(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """As with Home Assistant's own integrations, a German home's new entities are named,
    and get their ids, in German."""
    hass.config.language = "de"
    simulator_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await hass.async_block_till_done()

    entries = er.async_entries_for_config_entry(entity_registry, simulator_entry.entry_id)
    by_key = {entry.translation_key: entry.entity_id for entry in entries}
    assert by_key["smart_charging_state"].endswith("_status_intelligentes_laden")
    state = hass.states.get(by_key["smart_charging_state"])
    assert state is not None
    assert state.attributes[ATTR_FRIENDLY_NAME].endswith(" Status intelligentes Laden")
