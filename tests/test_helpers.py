"""Account errors reach the user as translated Home Assistant errors."""

import json
from pathlib import Path

from homeassistant.exceptions import HomeAssistantError
import pytest

from custom_components.ev_flex.commands import account_error_to_ha
from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.account import (
    AccountAuthError,
    AccountError,
    AccountUnavailableError,
    CommandRejectedError,
)
from custom_components.ev_flex.core.enode import InterferenceError, RateLimitedError
from custom_components.ev_flex.texts import Texts

TRANSLATIONS = Path(__file__).parent.parent / "custom_components/ev_flex/translations/en.json"


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (AccountAuthError("token refused"), "auth_failed"),
        (InterferenceError("controlled by a schedule"), "interference"),
        (CommandRejectedError("not found"), "command_rejected"),
        (AccountUnavailableError("timeout"), "account_unreachable"),
        (RateLimitedError("slow down", 30.0), "account_unreachable"),
        # An account kind with its own error still gets a message, not a traceback.
        (AccountError("something else"), "command_failed"),
    ],
)
def test_every_account_error_has_a_translated_message(error: AccountError, key: str) -> None:
    """The most specific translation wins, and its placeholders are all filled in."""
    ha_error = account_error_to_ha(error, Texts({}))
    assert isinstance(ha_error, HomeAssistantError)
    assert ha_error.translation_domain == DOMAIN
    assert ha_error.translation_key == key
    message = json.loads(TRANSLATIONS.read_text())["exceptions"][key]["message"]
    placeholders = ha_error.translation_placeholders or {}
    assert message.format(**placeholders)
    if "{error}" in message:
        assert placeholders["error"] == str(error)
