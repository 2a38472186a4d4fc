"""The one rule for "at the charging location"."""

import pytest

from custom_components.ev_flex.core.location import at_charging_location


@pytest.mark.parametrize(
    ("plugged", "in_location", "distance_m", "radius_m", "expected"),
    [
        # Its own charger or the account's word settle it, wherever the position says.
        (True, False, 450.0, 100.0, True),
        (False, True, 450.0, 100.0, True),
        # Otherwise the zone's radius decides.
        (False, False, 99.0, 100.0, True),
        (False, False, 101.0, 100.0, False),
        # Unknown whereabouts or no zone: no reason to think it is away.
        (False, False, None, 100.0, True),
        (False, False, 450.0, None, True),
        (False, False, float("nan"), 100.0, True),
    ],
)
def test_at_charging_location(
    plugged: bool,
    in_location: bool,
    distance_m: float | None,
    radius_m: float | None,
    expected: bool,
) -> None:
    assert (
        at_charging_location(
            plugged_into_home_charger=plugged,
            in_account_location=in_location,
            distance_m=distance_m,
            radius_m=radius_m,
        )
        is expected
    )
