"""Fix flows: a reset store only needs the user to have read what was reset."""

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Confirming closes the issue."""
    return ConfirmRepairFlow()
