"""Session records: stored, read back without trust, kept two years."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.ev_flex.core.session_history import (
    MAX_RECORDS,
    SessionRecord,
    SolarTally,
    between,
    pruned,
    read_records,
    read_tallies,
)

ENDED = datetime(2026, 1, 14, 6, 0, tzinfo=UTC)
RECORD = SessionRecord(
    vehicle_id="car",
    started_at=ENDED - timedelta(hours=10),
    ended_at=ENDED,
    energy_kwh=30.5,
    energy_out_kwh=0.0,
    cost=3.2,
    savings=1.1,
    solar_share=None,
    departure=ENDED + timedelta(hours=1),
    target_soc_pct=80.0,
    soc_at_end_pct=79.5,
)


def test_departure_met_within_a_percent() -> None:
    assert RECORD.departure_met is True
    assert replace(RECORD, soc_at_end_pct=78.0).departure_met is False
    assert replace(RECORD, soc_at_end_pct=None).departure_met is None
    assert replace(RECORD, target_soc_pct=None).departure_met is None


def test_records_read_back_and_bad_ones_are_counted() -> None:
    good = RECORD.to_dict()
    naive = {**good, "ended_at": "2026-01-14T06:00:00"}
    infinite = {**good, "cost": float("inf")}
    stored: dict[str, Any] = {
        "sessions": [good, naive, infinite, {"vehicle_id": "car"}, "junk", None]
    }
    records, dropped = read_records(stored)
    assert records == [RECORD]
    assert dropped == 5


@pytest.mark.parametrize(
    "data", [{"sessions": "many"}, ["sessions"], {"sessions": {}}, {"reminded": {}}]
)
def test_a_store_of_the_wrong_shape_is_one_loss(data: object) -> None:
    assert read_records(data) == ([], 1)


def test_nothing_stored_is_no_loss() -> None:
    assert read_records(None) == ([], 0)


def test_a_huge_store_keeps_only_the_newest() -> None:
    items = [RECORD.to_dict()] * (MAX_RECORDS + 5)
    records, dropped = read_records({"sessions": items})
    assert len(records) == MAX_RECORDS
    assert dropped == 5


def test_kept_two_years_and_selected_by_start() -> None:
    old = replace(RECORD, ended_at=ENDED - timedelta(days=732))
    assert pruned([old, RECORD], ENDED) == [RECORD]
    assert between([RECORD], RECORD.started_at, ENDED) == [RECORD]
    assert between([RECORD], RECORD.started_at + timedelta(seconds=1), ENDED) == []


def test_solar_tally_counts_what_the_surplus_covered() -> None:
    """10 kW into the car for an hour: half an hour with 4 kW surplus, half with 20 kW."""
    tally = SolarTally()
    tally.add(ENDED, 10.0, 4.0)
    tally.add(ENDED + timedelta(minutes=30), 10.0, 20.0)
    tally.add(ENDED + timedelta(hours=1), 0.0, 20.0)
    assert tally.car_kwh == pytest.approx(10.0)
    assert tally.solar_kwh == pytest.approx(7.0)
    assert tally.share == 0.7
    assert SolarTally.from_dict(tally.to_dict()) == tally


def test_solar_tally_unknown_while_charging_without_a_surplus_reading() -> None:
    idle = SolarTally()
    idle.add(ENDED, 0.0, None)
    assert idle.known
    assert idle.share is None  # nothing went in
    tally = SolarTally()
    tally.add(ENDED, 7.0, None)
    tally.add(ENDED + timedelta(hours=1), 7.0, 3.0)
    assert tally.share is None


def test_solar_tally_bridges_a_long_gap_only_briefly() -> None:
    tally = SolarTally()
    tally.add(ENDED, 10.0, 10.0)
    tally.add(ENDED + timedelta(days=2), 0.0, 0.0)
    assert tally.car_kwh == pytest.approx(10.0)


def test_stored_tallies_are_read_without_trust() -> None:
    tally = SolarTally(car_kwh=1.0, solar_kwh=0.5, last_at=ENDED, last_car_kw=7.0)
    stored = {"car": tally.to_dict(), "other": {**tally.to_dict(), "car_kwh": "x"}, 3: {}}
    assert read_tallies(stored) == {"car": tally}
    assert read_tallies(["car"]) == {}
