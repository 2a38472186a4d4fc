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
from custom_components.ev_flex.core.model import Reason, ReasonCode
from custom_components.ev_flex.texts import Texts

TRANSLATIONS = Path(__file__).parent.parent / "custom_components/ev_flex/translations/en.json"


@pytest.mark.parametrize(
    ("error", "key", "words"),
    [
        (AccountAuthError("token refused"), "auth_failed", None),
        (InterferenceError("controlled by a schedule"), "interference", None),
        (
            CommandRejectedError(
                "no device with id car-1", Reason(ReasonCode.NO_DEVICE, {"id": "car-1"})
            ),
            "command_rejected",
            "there is no vehicle or charger with the ID car-1",
        ),
        (
            AccountUnavailableError("timeout", Reason(ReasonCode.ENODE_UNREACHABLE)),
            "account_unreachable",
            "Enode could not be reached",
        ),
        (
            RateLimitedError("slow down", 30.0),
            "account_unreachable",
            "the account reported an error",
        ),
        # An account kind with its own error still gets a message, not a traceback.
        (AccountError("something else"), "command_failed", "the account reported an error"),
    ],
)
def test_every_account_error_has_a_translated_message(
    error: AccountError, key: str, words: str | None
) -> None:
    """The most specific translation wins, and its placeholders are all filled in with the
    account's reason in words, never its English log message."""
    english = json.loads(TRANSLATIONS.read_text())
    texts = Texts({f"component.{DOMAIN}.common.{k}": v for k, v in english["common"].items()})
    ha_error = account_error_to_ha(error, texts)
    assert isinstance(ha_error, HomeAssistantError)
    assert ha_error.translation_domain == DOMAIN
    assert ha_error.translation_key == key
    message = english["exceptions"][key]["message"]
    placeholders = ha_error.translation_placeholders or {}
    assert message.format(**placeholders)
    assert placeholders.get("error") == words
