"""The config flow: choosing an account kind and linking a simulated account."""

from unittest.mock import AsyncMock

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_SIMULATED_HOME,
    CONF_VEHICLE_PRESET,
    DOMAIN,
)

# Flow tests check the flow only; setting the entry up is tested elsewhere.
pytestmark = pytest.mark.usefixtures("skip_entry_setup")


async def _open_simulator_step(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert ACCOUNT_TYPE_SIMULATOR in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ACCOUNT_TYPE_SIMULATOR}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == ACCOUNT_TYPE_SIMULATOR
    return result["flow_id"]


GOOD_INPUT = {
    CONF_NAME: "  Driveway ",
    CONF_VEHICLE_PRESET: "hatchback",
    CONF_INITIAL_SOC: 30,
    CONF_PLUGGED_IN: False,
}


async def test_simulator_creates_entry(hass: HomeAssistant, skip_entry_setup: AsyncMock) -> None:
    """A valid form creates an entry holding exactly what was asked."""
    flow_id = await _open_simulator_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, GOOD_INPUT)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Driveway"
    assert result["data"] == {
        CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_SIMULATOR,
        CONF_NAME: "Driveway",
        CONF_VEHICLE_PRESET: "hatchback",
        CONF_INITIAL_SOC: 30.0,
        CONF_PLUGGED_IN: False,
        # Without a simulated home unless asked for.
        CONF_SIMULATED_HOME: False,
    }
    assert result["result"].unique_id == "simulator-driveway"
    assert result["options"] == {}
    assert len(skip_entry_setup.mock_calls) == 1


@pytest.mark.parametrize(
    ("bad_input", "field", "error"),
    [
        ({CONF_NAME: " !? "}, CONF_NAME, "name_required"),
        ({CONF_INITIAL_SOC: 101}, CONF_INITIAL_SOC, "invalid_soc"),
        ({CONF_INITIAL_SOC: -1}, CONF_INITIAL_SOC, "invalid_soc"),
    ],
)
async def test_simulator_errors_recover(
    hass: HomeAssistant, bad_input: dict[str, object], field: str, error: str
) -> None:
    """Bad values get a translated form error, and the same flow then finishes."""
    flow_id = await _open_simulator_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, GOOD_INPUT | bad_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}

    result = await hass.config_entries.flow.async_configure(flow_id, GOOD_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_simulator_name_in_use_asks_for_another(hass: HomeAssistant) -> None:
    """A name already taken (in any case) is a field error; the flow goes on with another."""
    MockConfigEntry(domain=DOMAIN, unique_id="simulator-driveway", data={}).add_to_hass(hass)
    flow_id = await _open_simulator_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, GOOD_INPUT | {CONF_NAME: "DRIVEWAY"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "name_in_use"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, GOOD_INPUT | {CONF_NAME: "Carport"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "simulator-carport"
