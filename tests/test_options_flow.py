"""The options flow: price entity, import tariff, grid-fee periods, export price, preview."""

from datetime import datetime, timedelta
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.price_source import CONF_PRICE_ENTITY, CONF_TARIFF

from .prices_common import (
    HACS_NORDPOOL,
    IMPORT_SENSOR,
    START,
    TODAY,
    TZ,
    TZ_NAME,
    day_slots,
    hacs_nordpool_attributes,
    set_hacs_nordpool,
)

TODAY_SLOTS = day_slots(TODAY)
EXPORT_ENTITY = "sensor.export_prices"
GOOD_IMPORT = {
    "spot_multiplier": 1,
    "fixed_per_kwh": 0.1,
    "grid_fee_default": 0.2,
    "vat_percent": 25,
}
PEAK = {
    "name": "Peak",
    "per_kwh": 0.5,
    "start": "17:00:00",
    "end": "20:00:00",
    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
    "months": [str(month) for month in range(1, 13)],
}


@pytest.fixture
def platforms() -> list[Platform]:
    """The sensor platform only."""
    return [Platform.SENSOR]


@pytest.fixture(autouse=True)
async def stockholm(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Tuesday 7 October 2025, 00:20 in Stockholm, with a HACS nordpool sensor."""
    await hass.config.async_set_time_zone(TZ_NAME)
    freezer.move_to(START)
    set_hacs_nordpool(hass, TODAY_SLOTS)


async def open_menu(hass: HomeAssistant, entry: MockConfigEntry) -> FlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "init"
    return result


async def choose(hass: HomeAssistant, result: FlowResult, step: str) -> FlowResult:
    assert step in result["menu_options"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


async def submit(hass: HomeAssistant, result: FlowResult, data: dict[str, Any]) -> FlowResult:
    return await hass.config_entries.options.async_configure(result["flow_id"], data)


async def save(hass: HomeAssistant, menu: FlowResult) -> FlowResult:
    result = await choose(hass, menu, "save")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return result


async def error_text(hass: HomeAssistant, key: str) -> str:
    strings = await async_get_translations(hass, "en", "options", {DOMAIN})
    return strings[f"component.{DOMAIN}.options.error.{key}"]


# --------------------------------------------------------------------------------------------
# Price entity and import tariff


async def test_menu_without_prices(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """A new entry has no price entity: the preview shows nothing yet."""
    menu = await open_menu(hass, loaded_entry)
    assert menu["menu_options"] == [
        "price_source",
        "import_tariff",
        "grid_fees",
        "export",
        "smart_charging",
        "site",
        "departures",
        "save",
    ]
    assert menu["description_placeholders"] == {
        "price_entity": "—",
        "price_status": "—",
        "import_price": "—",
        "export_price": "—",
        "entity_price": "—",
        "vat_advice": "",
        "periods": "—",
        "details": "",
    }


async def test_price_entity_and_tariff_are_saved_and_applied(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Choosing the entity and the tariff previews the price, saves, and reloads the entry."""
    menu = await open_menu(hass, loaded_entry)
    form = await choose(hass, menu, "price_source")
    assert form["type"] is FlowResultType.FORM
    menu = await submit(hass, form, {CONF_PRICE_ENTITY: HACS_NORDPOOL})
    assert menu["type"] is FlowResultType.MENU
    assert menu["description_placeholders"]["price_entity"] == HACS_NORDPOOL
    assert menu["description_placeholders"]["import_price"] == "0.5100 SEK/kWh"
    assert "tomorrow's are not published" in menu["description_placeholders"]["price_status"]

    form = await choose(hass, menu, "import_tariff")
    assert form["type"] is FlowResultType.FORM
    assert form["description_placeholders"]["import_price"] == "0.5100 SEK/kWh"
    menu = await submit(hass, form, GOOD_IMPORT)
    # (0.51 + 0.1 + 0.2) x 1.25
    assert menu["description_placeholders"]["import_price"] == "1.0125 SEK/kWh"

    result = await save(hass, menu)
    assert result["data"] == {
        CONF_PRICE_ENTITY: HACS_NORDPOOL,
        CONF_TARIFF: {
            "import": {
                "spot_multiplier": 1.0,
                "adders": [{"name": "fixed", "per_kwh": 0.1}],
                "grid_fees": {"default_per_kwh": 0.2, "periods": []},
                "vat_percent": 25.0,
            },
            "export": {"kind": "none"},
        },
    }
    assert loaded_entry.runtime_data.prices is not None
    assert float(hass.states.get(IMPORT_SENSOR).state) == pytest.approx(1.0125)


async def test_menu_reads_well_with_and_without_prices(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The menu's text names no missing entity's prices and gives times on the local clock."""
    strings = await async_get_translations(hass, "en", "options", {DOMAIN})
    text = strings[f"component.{DOMAIN}.options.step.init.description"]

    menu = await open_menu(hass, loaded_entry)
    shown = text.format(**menu["description_placeholders"])
    assert "**Price entity:** —" in shown
    assert "prices of" not in shown

    form = await choose(hass, menu, "price_source")
    menu = await submit(hass, form, {CONF_PRICE_ENTITY: HACS_NORDPOOL})
    shown = text.format(**menu["description_placeholders"])
    # Today's prices end at midnight in Stockholm (22:00 UTC).
    assert f"**Price data:** {HACS_NORDPOOL}: prices until 2025-10-08 00:00;" in shown
    assert "+00:00" not in shown


def _registry_nordpool(hass: HomeAssistant) -> str:
    source = MockConfigEntry(domain="nordpool")
    source.add_to_hass(hass)
    entity = er.async_get(hass).async_get_or_create(
        "sensor", "nordpool", "SE3-current_price", config_entry=source
    )
    hass.states.async_set(entity.entity_id, "0.51")
    return entity.entity_id


def _bad_entity(hass: HomeAssistant, kind: str) -> str:
    """An entity that is wrong in the given way."""
    match kind:
        case "wrong_entity_type":
            hass.states.async_set("switch.garage", "on")
            return "switch.garage"
        case "entity_not_found":
            return "sensor.nope"
        case "no_price_data":
            hass.states.async_set("sensor.outdoor", "12", {"unit_of_measurement": "°C"})
            return "sensor.outdoor"
        case "invalid_price_data":
            attributes = hacs_nordpool_attributes(TODAY_SLOTS, [])
            attributes["raw_today"][3]["value"] = "expensive"
            hass.states.async_set("sensor.broken_prices", "1", attributes)
            return "sensor.broken_prices"
        case "no_prices_now":
            hass.states.async_set("sensor.down_prices", STATE_UNAVAILABLE)
            return "sensor.down_prices"
        case "stale_prices":
            old = day_slots(TODAY - timedelta(days=1))
            hass.states.async_set("sensor.old_prices", "1", hacs_nordpool_attributes(old, []))
            return "sensor.old_prices"
    assert kind == "price_action_failed"
    return _registry_nordpool(hass)


ENTITY_ERRORS = [
    "wrong_entity_type",
    "entity_not_found",
    "no_price_data",
    "invalid_price_data",
    "no_prices_now",
    "stale_prices",
    "price_action_failed",
]


@pytest.mark.parametrize("error", ENTITY_ERRORS)
async def test_price_entity_errors_recover(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, error: str
) -> None:
    """Each unusable entity gets its translated error; a good entity then goes through."""
    entity_id = _bad_entity(hass, error)
    form = await choose(hass, await open_menu(hass, loaded_entry), "price_source")
    form = await submit(hass, form, {CONF_PRICE_ENTITY: entity_id})
    assert form["type"] is FlowResultType.FORM
    assert form["errors"] == {CONF_PRICE_ENTITY: error}
    assert entity_id in form["description_placeholders"]["details"]
    assert await error_text(hass, error)

    menu = await submit(hass, form, {CONF_PRICE_ENTITY: HACS_NORDPOOL})
    assert menu["type"] is FlowResultType.MENU
    result = await save(hass, menu)
    assert result["data"][CONF_PRICE_ENTITY] == HACS_NORDPOOL


@pytest.mark.parametrize(
    ("error", "german"),
    [
        (
            "invalid_price_data",
            "sensor.broken_prices: bei raw_today[3] hat value einen Wert, der sich nicht lesen "
            "lässt: expensive",
        ),
        ("no_prices_now", "sensor.down_prices ist nicht verfügbar"),
        ("stale_prices", "sensor.old_prices: Die Preise endeten am 2025-10-07 00:00"),
        (
            "price_action_failed",
            "sensor.nordpool_se3_current_price: Die Aktion nordpool.get_prices_for_date ist "
            "fehlgeschlagen: Aktion nordpool.get_prices_for_date nicht gefunden",
        ),
    ],
)
async def test_why_a_price_entity_is_refused_is_said_in_the_servers_language(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, error: str, german: str
) -> None:
    """A German server words why an entity can't be used in German, each reason its own way,
    with the entity, the time and the value found as they are."""
    hass.config.language = "de"
    entity_id = _bad_entity(hass, error)
    form = await choose(hass, await open_menu(hass, loaded_entry), "price_source")
    form = await submit(hass, form, {CONF_PRICE_ENTITY: entity_id})
    assert form["errors"] == {CONF_PRICE_ENTITY: error}
    assert form["description_placeholders"]["details"].startswith(german)


async def test_the_menu_and_the_periods_read_in_the_servers_language(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The price data, the periods' days and months, and a limit broken read in German."""
    hass.config.language = "de"
    form = await choose(hass, await open_menu(hass, loaded_entry), "price_source")
    menu = await submit(hass, form, {CONF_PRICE_ENTITY: HACS_NORDPOOL})
    assert menu["description_placeholders"]["price_status"] == (
        f"{HACS_NORDPOOL}: Preise bis 2025-10-08 00:00; die von morgen sind noch nicht "
        "veröffentlicht"
    )
    # Prices are written with the language's decimal comma.
    assert re.fullmatch(r"\d+,\d{4} SEK/kWh", menu["description_placeholders"]["import_price"])

    form = await submit(hass, await choose(hass, menu, "import_tariff"), GOOD_IMPORT)
    form = await submit(
        hass, await choose(hass, form, "import_tariff"), GOOD_IMPORT | {"vat_percent": 150}
    )
    assert form["errors"] == {"vat_percent": "tariff_too_high"}
    strings = await async_get_translations(hass, "de", "options", {DOMAIN})
    text = strings[f"component.{DOMAIN}.options.error.tariff_too_high"]
    assert text.format(**form["description_placeholders"]) == (
        "Dieser Wert ist zu hoch: Gib höchstens 100 ein."
    )

    menu = await submit(hass, form, GOOD_IMPORT)
    fees = await choose(hass, menu, "grid_fees")
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    night = PEAK | {"name": "Night", "weekdays": every_day, "months": ["12", "1"]}
    night |= {"start": "22:00:00", "end": "06:00:00"}
    fees = await submit(hass, await choose(hass, fees, "add_period"), night)
    assert fees["description_placeholders"]["periods"] == (
        "- Night: jeden Tag 22:00-06:00, 0,5 SEK/kWh (Januar, Dezember)"
    )
    late = PEAK | {"start": "23:00:00", "end": "23:30:00", "months": ["1"]}
    form = await submit(hass, await choose(hass, fees, "add_period"), late)
    assert form["errors"] == {"base": "tariff_overlap"}
    assert form["description_placeholders"]["details"] == "Night (Montag, Januar)"


@pytest.mark.parametrize(
    ("bad", "field", "error", "limit"),
    [
        ({"vat_percent": 150}, "vat_percent", "tariff_too_high", "100"),
        ({"vat_percent": -1}, "vat_percent", "tariff_too_low", "0"),
        ({"spot_multiplier": -0.5}, "spot_multiplier", "tariff_too_low", "0"),
    ],
)
async def test_import_tariff_errors_recover(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    bad: dict[str, Any],
    field: str,
    error: str,
    limit: str,
) -> None:
    """Out-of-range tariff values are rejected on their field, with the limit in the text."""
    form = await choose(hass, await open_menu(hass, loaded_entry), "import_tariff")
    form = await submit(hass, form, GOOD_IMPORT | bad)
    assert form["type"] is FlowResultType.FORM
    assert form["errors"] == {field: error}
    assert form["description_placeholders"]["details"] == limit
    assert "{details}" in await error_text(hass, error)

    menu = await submit(hass, form, GOOD_IMPORT)
    assert menu["type"] is FlowResultType.MENU
    result = await save(hass, menu)
    assert result["data"][CONF_TARIFF]["import"]["vat_percent"] == 25.0
    assert CONF_PRICE_ENTITY not in result["data"]


@pytest.mark.parametrize(
    "price_options",
    [{CONF_PRICE_ENTITY: HACS_NORDPOOL, CONF_TARIFF: {"import": {"vat_percent": 25}}}],
)
async def test_clearing_the_price_entity(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """An empty price entity turns prices off; the tariff is kept for later."""
    menu = await open_menu(hass, priced_entry)
    assert menu["description_placeholders"]["import_price"] == "0.6375 SEK/kWh"
    form = await choose(hass, menu, "price_source")
    menu = await submit(hass, form, {})
    assert menu["description_placeholders"]["price_entity"] == "—"
    assert menu["description_placeholders"]["import_price"] == "—"
    result = await save(hass, menu)
    assert CONF_PRICE_ENTITY not in result["data"]
    assert result["data"][CONF_TARIFF]["import"]["vat_percent"] == 25.0
    assert priced_entry.runtime_data.prices is None
    assert hass.states.get(IMPORT_SENSOR) is None


NORDPOOL_WITHOUT_VAT = "sensor.nordpool_kwh_se3_sek_3_10_0"


async def vat_advice(hass: HomeAssistant, kind: str) -> str:
    strings = await async_get_translations(hass, "en", "selector", {DOMAIN})
    return strings[f"component.{DOMAIN}.selector.price_vat.options.{kind}"]


@pytest.mark.parametrize(
    "price_options",
    [{CONF_PRICE_ENTITY: NORDPOOL_WITHOUT_VAT, CONF_TARIFF: {"import": {"vat_percent": 25}}}],
)
async def test_prices_with_vat_set_the_tariff_vat_to_zero(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """HACS Nord Pool with VAT on (its id ends in _025): VAT is not counted a second time.

    The preview shows the entity's price next to the total, and says whether VAT is in it.
    """
    set_hacs_nordpool(hass, TODAY_SLOTS, entity_id=NORDPOOL_WITHOUT_VAT)
    spot = TODAY_SLOTS[1][2]
    menu = await open_menu(hass, priced_entry)
    placeholders = menu["description_placeholders"]
    assert placeholders["vat_advice"] == await vat_advice(hass, "excluded")
    assert placeholders["entity_price"] == f"{spot:.4f} SEK/kWh"
    assert placeholders["import_price"] == f"{spot * 1.25:.4f} SEK/kWh"
    # Choosing the same entity again changes nothing.
    menu = await submit(
        hass, await choose(hass, menu, "price_source"), {CONF_PRICE_ENTITY: NORDPOOL_WITHOUT_VAT}
    )
    assert menu["description_placeholders"]["import_price"] == f"{spot * 1.25:.4f} SEK/kWh"

    menu = await submit(
        hass, await choose(hass, menu, "price_source"), {CONF_PRICE_ENTITY: HACS_NORDPOOL}
    )
    placeholders = menu["description_placeholders"]
    assert placeholders["vat_advice"] == await vat_advice(hass, "included")
    assert placeholders["entity_price"] == f"{spot:.4f} SEK/kWh"
    assert placeholders["import_price"] == f"{spot:.4f} SEK/kWh"
    form = await choose(hass, menu, "import_tariff")
    assert form["description_placeholders"]["vat_advice"] == await vat_advice(hass, "included")
    schema_vat = next(key for key in form["data_schema"].schema if key == "vat_percent")
    assert schema_vat.description == {"suggested_value": 0.0}

    result = await save(hass, await submit(hass, form, GOOD_IMPORT | {"vat_percent": 0}))
    assert result["data"][CONF_TARIFF]["import"]["vat_percent"] == 0.0
    assert result["data"][CONF_PRICE_ENTITY] == HACS_NORDPOOL


# --------------------------------------------------------------------------------------------
# Grid-fee periods


@pytest.fixture
def price_options() -> dict[str, Any]:
    """Prices from the HACS nordpool sensor, plain spot price."""
    return {CONF_PRICE_ENTITY: HACS_NORDPOOL, CONF_TARIFF: {}}


@pytest.fixture
async def priced_entry(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, price_options: dict[str, Any]
) -> MockConfigEntry:
    """The simulated account with price options, set up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options=price_options,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_grid_fee_periods_add_remove_and_preview(
    hass: HomeAssistant, priced_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Periods are added and removed from a menu; the preview applies the one in force."""
    freezer.move_to(datetime(2025, 10, 7, 17, 30, tzinfo=TZ))  # Tuesday, peak time
    menu = await open_menu(hass, priced_entry)
    spot = menu["description_placeholders"]["import_price"]
    assert spot == "1.2000 SEK/kWh"  # quarter 70 of the day: 0.5 + 70 x 0.01

    fees = await choose(hass, menu, "grid_fees")
    assert fees["type"] is FlowResultType.MENU
    assert fees["menu_options"] == ["add_period", "init"]
    assert fees["description_placeholders"]["periods"] == "—"

    form = await choose(hass, fees, "add_period")
    assert form["type"] is FlowResultType.FORM
    fields = {str(key): key for key in form["data_schema"].schema}
    fee_field = form["data_schema"].schema[fields["per_kwh"]].config
    assert fee_field["unit_of_measurement"] == "SEK/kWh"
    for clock in ("start", "end"):
        # Whole minutes: no seconds in the picker, nor in the suggested times.
        assert form["data_schema"].schema[fields[clock]].serialize() == {
            "selector": {"time": {"no_second": True}}
        }
        assert fields[clock].description == {"suggested_value": PEAK[clock][:5]}
    fees = await submit(hass, form, PEAK)
    assert fees["type"] is FlowResultType.MENU
    assert fees["step_id"] == "grid_fees"
    assert fees["menu_options"] == ["add_period", "remove_period", "init"]
    assert fees["description_placeholders"]["periods"] == (
        "- Peak: Monday, Tuesday, Wednesday, Thursday, Friday 17:00-20:00, 0.5 SEK/kWh"
    )
    assert fees["description_placeholders"]["import_price"] == "1.7000 SEK/kWh"

    night = PEAK | {
        "name": "Night",
        "per_kwh": 0.05,
        "start": "22:00:00",
        "end": "06:00:00",
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "months": ["11", "12", "1"],
    }
    fees = await submit(hass, await choose(hass, fees, "add_period"), night)
    assert fees["description_placeholders"]["periods"].splitlines()[1] == (
        "- Night: every day 22:00-06:00, 0.05 SEK/kWh (January, November, December)"
    )

    form = await choose(hass, fees, "remove_period")
    assert form["type"] is FlowResultType.FORM
    fees = await submit(hass, form, {"periods": ["Peak"]})
    assert fees["step_id"] == "grid_fees"
    assert fees["description_placeholders"]["periods"].startswith("- Night")
    assert fees["description_placeholders"]["import_price"] == spot

    menu = await choose(hass, fees, "init")
    assert menu["step_id"] == "init"
    result = await save(hass, menu)
    assert result["data"][CONF_TARIFF]["import"]["grid_fees"]["periods"] == [
        {
            "name": "Night",
            "per_kwh": 0.05,
            "start": "22:00",
            "end": "06:00",
            "months": [1, 11, 12],
        }
    ]


@pytest.mark.parametrize(
    ("bad", "errors"),
    [
        ({"name": "  "}, {"name": "tariff_empty_name"}),
        ({"name": "Peak"}, {"name": "tariff_duplicate_name"}),
        ({"name": "Evening", "start": "19:00:00", "end": "21:00"}, {"base": "tariff_overlap"}),
        ({"name": "Evening", "weekdays": []}, {"weekdays": "tariff_invalid_weekday"}),
        ({"name": "Evening", "months": []}, {"months": "tariff_invalid_month"}),
    ],
)
async def test_add_period_errors_recover(
    hass: HomeAssistant, priced_entry: MockConfigEntry, bad: dict[str, Any], errors: dict[str, str]
) -> None:
    """A bad period is refused with a translated error; a good one is then added."""
    fees = await choose(hass, await open_menu(hass, priced_entry), "grid_fees")
    fees = await submit(hass, await choose(hass, fees, "add_period"), PEAK)

    form = await submit(hass, await choose(hass, fees, "add_period"), PEAK | bad)
    assert form["type"] is FlowResultType.FORM
    assert form["errors"] == errors
    assert await error_text(hass, next(iter(errors.values())))
    if errors == {"base": "tariff_overlap"}:
        # The period overlapped, and the first day and month it does, by their names.
        assert form["description_placeholders"]["details"] == "Peak (Monday, January)"

    fees = await submit(hass, form, PEAK | {"name": "Evening", "start": "20:00", "end": "22:00"})
    assert fees["step_id"] == "grid_fees"
    menu = await choose(hass, fees, "init")
    result = await save(hass, menu)
    names = [p["name"] for p in result["data"][CONF_TARIFF]["import"]["grid_fees"]["periods"]]
    assert names == ["Peak", "Evening"]


# --------------------------------------------------------------------------------------------
# Export price


def _export_entity(hass: HomeAssistant) -> None:
    hass.states.async_set(
        EXPORT_ENTITY,
        "0.03",
        {
            "unit_of_measurement": "SEK/kWh",
            "prices": [{"start": s.isoformat(), "price": 0.03} for s, _, _ in TODAY_SLOTS],
        },
    )


@pytest.mark.parametrize(
    ("export", "preview", "stored"),
    [
        (
            {"export_kind": "spot", "export_factor": 0.9, "export_fee": 0.05},
            "0.4090 SEK/kWh",
            {"kind": "spot", "factor": 0.9, "fee_per_kwh": 0.05},
        ),
        (
            {"export_kind": "spot"},
            "0.5100 SEK/kWh",
            {"kind": "spot", "factor": 1.0, "fee_per_kwh": 0.0},
        ),
        (
            {"export_kind": "fixed", "export_fixed": 0.07},
            "0.0700 SEK/kWh",
            {"kind": "fixed", "fixed_per_kwh": 0.07},
        ),
        (
            {"export_kind": "entity", "export_entity": EXPORT_ENTITY},
            "0.0300 SEK/kWh",
            {"kind": "entity", "entity_id": EXPORT_ENTITY},
        ),
        ({"export_kind": "none", "export_fixed": 0.07}, "—", {"kind": "none"}),
    ],
)
async def test_export_kinds(
    hass: HomeAssistant,
    priced_entry: MockConfigEntry,
    export: dict[str, Any],
    preview: str,
    stored: dict[str, Any],
) -> None:
    """Each export kind previews the current export price and stores only its own fields."""
    _export_entity(hass)
    form = await choose(hass, await open_menu(hass, priced_entry), "export")
    assert form["type"] is FlowResultType.FORM
    menu = await submit(hass, form, export)
    assert menu["type"] is FlowResultType.MENU
    assert menu["description_placeholders"]["export_price"] == preview
    result = await save(hass, menu)
    assert result["data"][CONF_TARIFF]["export"] == stored


@pytest.mark.parametrize(
    ("export", "errors"),
    [
        ({"export_kind": "spot", "export_factor": -1}, {"export_factor": "tariff_too_low"}),
        ({"export_kind": "fixed"}, {"export_fixed": "tariff_required"}),
        ({"export_kind": "entity"}, {"export_entity": "tariff_required"}),
        (
            {"export_kind": "entity", "export_entity": "switch.garage"},
            {"export_entity": "wrong_entity_type"},
        ),
        (
            {"export_kind": "entity", "export_entity": "sensor.outdoor"},
            {"export_entity": "no_price_data"},
        ),
    ],
)
async def test_export_errors_recover(
    hass: HomeAssistant,
    priced_entry: MockConfigEntry,
    export: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A bad export setting is refused on its field; a good one then saves."""
    hass.states.async_set("sensor.outdoor", "12", {"unit_of_measurement": "°C"})
    _export_entity(hass)
    form = await choose(hass, await open_menu(hass, priced_entry), "export")
    form = await submit(hass, form, export)
    assert form["type"] is FlowResultType.FORM
    assert form["errors"] == errors
    assert await error_text(hass, next(iter(errors.values())))

    menu = await submit(hass, form, {"export_kind": "entity", "export_entity": EXPORT_ENTITY})
    assert menu["type"] is FlowResultType.MENU
    result = await save(hass, menu)
    assert result["data"][CONF_TARIFF]["export"] == {"kind": "entity", "entity_id": EXPORT_ENTITY}


@pytest.mark.parametrize(
    "price_options",
    [
        {
            CONF_PRICE_ENTITY: HACS_NORDPOOL,
            CONF_TARIFF: {"export": {"kind": "entity", "entity_id": EXPORT_ENTITY}},
        }
    ],
)
async def test_stored_export_entity_is_previewed(
    hass: HomeAssistant, priced_entry: MockConfigEntry
) -> None:
    """Opening the flow reads the stored export entity too, and the form shows the stored kind."""
    _export_entity(hass)
    menu = await open_menu(hass, priced_entry)
    assert menu["description_placeholders"]["export_price"] == "0.0300 SEK/kWh"
    form = await choose(hass, menu, "export")
    schema_keys = {str(key): key for key in form["data_schema"].schema}
    assert schema_keys["export_kind"].description == {"suggested_value": "entity"}
    assert schema_keys["export_entity"].description == {"suggested_value": EXPORT_ENTITY}


# --------------------------------------------------------------------------------------------
# Smart charging


async def test_smart_charging_options(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """The V2G notification and outage sensor are checked, kept and saved with the rest."""
    hass.states.async_set("binary_sensor.grid_outage", "off")
    menu = await open_menu(hass, loaded_entry)
    form = await choose(hass, menu, "smart_charging")
    assert form["type"] is FlowResultType.FORM

    result = await submit(hass, form, {"notify_v2g": True, "outage_entity": "sensor.grid"})
    assert result["errors"] == {"outage_entity": "wrong_domain"}
    result = await submit(
        hass, result, {"notify_v2g": True, "outage_entity": "binary_sensor.nothing"}
    )
    assert result["errors"] == {"outage_entity": "entity_not_found"}
    menu = await submit(
        hass, result, {"notify_v2g": True, "outage_entity": "binary_sensor.grid_outage"}
    )
    assert menu["type"] is FlowResultType.MENU
    await save(hass, menu)
    assert loaded_entry.options["notify_v2g"] is True
    assert loaded_entry.options["outage_entity"] == "binary_sensor.grid_outage"

    # Reopened, the form shows what was saved; without a sensor the option is dropped.
    form = await choose(hass, await open_menu(hass, loaded_entry), "smart_charging")
    menu = await submit(hass, form, {"notify_v2g": False})
    await save(hass, menu)
    assert loaded_entry.options["notify_v2g"] is False
    assert "outage_entity" not in loaded_entry.options


# --------------------------------------------------------------------------------------------
# The house


def _house_sensors(hass: HomeAssistant) -> None:
    hass.states.async_set("sensor.grid_power", "1.2", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.pv_power", "3100", {"unit_of_measurement": "W"})
    hass.states.async_set("sensor.outdoor", "12", {"unit_of_measurement": "°C"})
    hass.states.async_set(
        "sensor.solcast_pv_forecast_forecast_today",
        "21.4",
        {"detailedForecast": [{"period_start": "2025-10-07T12:00:00+02:00", "pv_estimate": 2}]},
    )


SITE_INPUT = {
    "house_entity": "sensor.grid_power",
    "house_kind": "grid",
    "solar_entity": "sensor.pv_power",
    "forecast_entity": "sensor.solcast_pv_forecast_forecast_today",
    "fuse_a": 25,
    "phases": "3",
    "peak_price_per_kw": 83.0,
    "peak_counting": "top_three_days",
}


async def test_site_options_are_checked_and_saved(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Sensors must exist and measure power, the forecast must be one EV Flex reads, the fuse
    must allow a charger; then the house is saved with the other options."""
    _house_sensors(hass)
    form = await choose(hass, await open_menu(hass, loaded_entry), "site")
    assert form["type"] is FlowResultType.FORM

    result = await submit(
        hass,
        form,
        {
            **SITE_INPUT,
            "house_entity": "sensor.missing",
            "solar_entity": "sensor.outdoor",
            "forecast_entity": "sensor.pv_power",
        },
    )
    assert result["errors"] == {
        "house_entity": "entity_not_found",
        "solar_entity": "not_power",
        "forecast_entity": "not_a_solar_forecast",
    }
    result = await submit(hass, result, {**SITE_INPUT, "fuse_a": 2})
    assert result["errors"] == {"fuse_a": "site_out_of_range"}
    without_fuse = {key: value for key, value in SITE_INPUT.items() if key != "fuse_a"}
    result = await submit(hass, result, {**without_fuse, "fuse_kw": 1.0})
    assert result["errors"] == {"fuse_kw": "site_fuse_too_low"}
    assert "6 A" in await error_text(hass, "site_fuse_too_low")

    menu = await submit(hass, result, SITE_INPUT)
    assert menu["type"] is FlowResultType.MENU
    await save(hass, menu)
    assert loaded_entry.options["site"] == {
        "house_entity": "sensor.grid_power",
        "house_kind": "grid",
        "solar_entity": "sensor.pv_power",
        "forecast_entity": "sensor.solcast_pv_forecast_forecast_today",
        "fuse_a": 25.0,
        "phases": 3,
        "peak_price_per_kw": 83.0,
        "peak_counting": "top_three_days",
    }
    # The reloaded entry has its house.
    assert loaded_entry.runtime_data.site is not None
    assert loaded_entry.runtime_data.site.settings.import_limit_kw == pytest.approx(17.25)

    # Reopened, the form shows what was saved; emptied, the house is gone.
    form = await choose(hass, await open_menu(hass, loaded_entry), "site")
    schema_keys = {str(key): key for key in form["data_schema"].schema}
    assert schema_keys["fuse_a"].description == {"suggested_value": 25.0}
    assert schema_keys["phases"].description == {"suggested_value": "3"}
    menu = await submit(hass, form, {"house_kind": "grid", "phases": "1"})
    await save(hass, menu)
    assert "site" not in loaded_entry.options
    assert loaded_entry.runtime_data.site is None
