"""Two cars of one Enode account in one house (the fake Enode API over loopback): one entry,
one joint plan under the fuse."""

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.planner import Plan
from custom_components.ev_flex.core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS
from tests.fakes.enode_server import FakeEnodeServer

from .enode_site import ENODE_USER, enode_entry_data, setup_entry, turn_on_smart_charging
from .priced_simulator import PRICE_ENTITY, START, TZ_NAME, set_prices, settle

# Enode is polled every 2 minutes: Home Assistant has no URL for webhooks here.
pytestmark = pytest.mark.usefixtures("polling_only")

# 16 A on three phases: 11.04 kW, less than two 11 kW cars.
FUSE_KW = 11.04


def _kw_at(plan: Plan, slot_start: object) -> float:
    return next((slot.charge_kw for slot in plan.slots if slot.start == slot_start), 0.0)


async def _two_cars_planned(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory, **site: Any
) -> list[Plan]:
    """Two sedans of one Enode account at 40 % in one house, smart charging: their plans."""
    freezer.move_to(START)
    await hass.config.async_set_time_zone(TZ_NAME)
    await hass.config.async_update(latitude=59.91, longitude=10.75)
    set_prices(hass)
    vehicle_ids = []
    for _ in range(2):
        linked = fake_enode.add_site(
            vehicle=VEHICLE_PRESETS["sedan"], charger=CHARGER_PRESETS["sedan"], soc_pct=40.0, **site
        )
        assert linked.vehicle_id is not None
        fake_enode.link(ENODE_USER, linked.vehicle_id)
        if linked.charger_id is not None:
            fake_enode.link(ENODE_USER, linked.charger_id)
        vehicle_ids.append(linked.vehicle_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        unique_id=f"enode-{fake_enode.client_id}-house",
        data=enode_entry_data(fake_enode),
        options={"price_entity": PRICE_ENTITY, "site": {"fuse_a": 16, "phases": 3}},
        version=1,
        minor_version=1,
    )
    await setup_entry(hass, entry)
    for vehicle_id in vehicle_ids:
        await turn_on_smart_charging(hass, vehicle_id)
    await settle(hass)
    house = entry.runtime_data.site
    assert house is not None
    plans: list[Plan] = []
    for vehicle_id in vehicle_ids:
        assert house.takes_part(vehicle_id)
        plan = entry.runtime_data.smart_charging[vehicle_id].controller.state.plan
        assert plan is not None
        assert plan.targets[0].met
        plans.append(plan)
    return plans


async def test_two_cars_of_one_entry_share_one_plan(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """Both cars take part in the house's plan; in every slot each plans around the other's
    power, and together they stay under the fuse."""
    first, second = await _two_cars_planned(hass, fake_enode, freezer)
    assert any(slot.charge_kw > 0 for slot in first.slots)
    for slot in first.slots:
        other = _kw_at(second, slot.start)
        assert slot.grid_kw is not None
        assert slot.grid_kw - slot.charge_kw == pytest.approx(other, abs=1e-3)
        assert slot.charge_kw + other <= FUSE_KW + 1e-6


async def test_two_cars_switched_on_and_off_never_run_together_past_the_fuse(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, freezer: FrozenDateTimeFactory
) -> None:
    """Cars without a linked charger are switched on and off through their own account, and
    draw full power when on: a slot's average under the fuse isn't enough. Each charges in
    whole slots at full power, so at no moment do both run past the 16 A fuse."""
    plans = await _two_cars_planned(hass, fake_enode, freezer, with_charger=False)
    windows = [w for plan in plans for w in plan.switch_times]
    # Each runs at its own full power, more than half the fuse: two at once would pass it.
    assert all(w.kw > FUSE_KW / 2 for w in windows)
    for moment in {w.start for w in windows}:
        assert sum(w.kw for w in windows if w.start <= moment < w.end) <= FUSE_KW + 1e-6
    # And each runs through its slots at the power planned for them: what the plan counted on.
    for plan in plans:
        for slot in plan.slots:
            running = [w.kw for w in plan.switch_times if w.start <= slot.start < w.end]
            assert running == ([pytest.approx(slot.charge_kw)] if slot.charge_kw > 0 else [])
