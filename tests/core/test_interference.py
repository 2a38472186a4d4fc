"""Spotting another controller undoing EV Flex's confirmed commands."""

from datetime import UTC, datetime, timedelta

from custom_components.ev_flex.core.interference import OverrideWatch

T0 = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)


def test_contradiction_after_grace_is_reported_once() -> None:
    """A stopped car that charges again after the grace period is an override, once."""
    watch = OverrideWatch(grace=timedelta(minutes=5))
    watch.expect("car", False, T0)
    early = T0 + timedelta(minutes=2)
    assert not watch.observe("car", plugged_in=True, charging=True, finished=False, now=early)
    late = T0 + timedelta(minutes=6)
    assert watch.observe("car", plugged_in=True, charging=True, finished=False, now=late)
    assert not watch.observe("car", plugged_in=True, charging=True, finished=False, now=late)


def test_agreement_unknown_and_unwatched_are_not_overrides() -> None:
    """Matching readings, missing readings and devices never commanded say nothing."""
    watch = OverrideWatch()
    late = T0 + timedelta(hours=1)
    assert not watch.observe("other", plugged_in=True, charging=True, finished=None, now=late)
    watch.expect("car", True, T0)
    assert not watch.observe("car", plugged_in=True, charging=True, finished=False, now=late)
    assert not watch.observe("car", plugged_in=True, charging=None, finished=None, now=late)


def test_finished_or_unknown_end_of_charge_is_not_an_override() -> None:
    """A started charge that stopped because the battery is full (or may be) is fine."""
    watch = OverrideWatch()
    watch.expect("car", True, T0)
    late = T0 + timedelta(hours=1)
    assert not watch.observe("car", plugged_in=True, charging=False, finished=True, now=late)
    assert not watch.observe("car", plugged_in=True, charging=False, finished=None, now=late)
    assert watch.observe("car", plugged_in=True, charging=False, finished=False, now=late)


def test_unplugging_ends_the_expectation() -> None:
    """After an unplug the next session is free of the old command."""
    watch = OverrideWatch()
    watch.expect("car", False, T0)
    late = T0 + timedelta(hours=1)
    assert not watch.observe("car", plugged_in=False, charging=False, finished=None, now=late)
    assert not watch.observe("car", plugged_in=True, charging=True, finished=False, now=late)
