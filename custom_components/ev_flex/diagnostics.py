"""Diagnostics, with credentials, VINs and locations redacted."""

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import EvFlexConfigEntry
from .schedule import export_records
from .smart_charging import VehicleSmartCharging

TO_REDACT = {
    "client_id",
    "client_secret",
    "access_token",
    "token",
    "webhook_secret",
    "webhook_id",
    "cloudhook_url",
    "enode_user_id",
    "base_url",
    "vin",
    "serial_number",
    "location",
    "latitude",
    "longitude",
    "unique_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EvFlexConfigEntry
) -> dict[str, Any]:
    """Everything useful for a bug report, without secrets or whereabouts."""
    coordinator = entry.runtime_data.coordinator
    snapshot = asdict(coordinator.data)
    diagnostics: dict[str, Any] = {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "last_update_success": coordinator.last_update_success,
        "account": async_redact_data(snapshot, TO_REDACT),
        "ev_systems": {
            vehicle_id: {
                "state": system.state,
                "activation": system.activation,
                "charger_ids": list(system.charger_ids),
                "own_can_start_stop": system.own_capabilities.can_start_stop,
                "start_stop_unlocked": bool(system.unlocked and system.unlocked.start_stop),
                "location_unlocked": bool(system.unlocked and system.unlocked.location),
                "charge_rate_source": system.charge_rate_source,
            }
            for vehicle_id, system in coordinator.systems.items()
        },
    }
    if (enode := entry.runtime_data.enode) is not None:
        diagnostics["enode"] = {
            "webhook_active": enode.webhook_active,
            # Why Enode's updates do (not) arrive, e.g. "no_https_url" or "test_failed".
            "webhook_status": enode.webhook.status.value,
            "charging_location_set": enode.location_id is not None,
            "update_interval_s": coordinator.update_interval.total_seconds()
            if coordinator.update_interval
            else None,
        }
    if (prices := entry.runtime_data.prices) is not None and prices.data is not None:
        data = prices.data
        diagnostics["prices"] = {
            "status": data.status,
            "message": data.message,
            "price_entity": data.price_entity,
            "source_format": data.source_format,
            "currency": data.currency,
            "slots": len(data.priced),
            "first_slot": data.priced[0].start.isoformat() if data.priced else None,
            "last_slot": data.priced[-1].end.isoformat() if data.priced else None,
            "awaiting_tomorrow": data.awaiting_tomorrow,
            "export_kind": data.export_kind,
            "export_status": data.export_status,
        }
    diagnostics["smart_charging"] = {
        vehicle_id: _smart_charging(charging)
        for vehicle_id, charging in entry.runtime_data.smart_charging.items()
    }
    if (site := entry.runtime_data.site) is not None:
        diagnostics["site"] = {
            "settings": site.settings.to_dict(),
            "import_limit_kw": site.settings.import_limit_kw,
            "profile_learned_at": site.profile_learned_at,
            "profile_learned": site.profile.learned,
            "daily_peaks_kw": site.daily_peaks_kw,
            "forecast_periods": len(site.forecast.periods) if site.forecast else 0,
            "solar_modes": dict(site.solar_modes),
            "house_without_cars_kw": site.house_without_cars_kw,
            "live_load_kw": site.live_load_kw,
            "cars": [charging.vehicle_id for charging in site.house_cars()],
        }
    # The session history, to download: no places, nothing personal beyond the vehicle's name.
    currency = prices.data.currency if prices is not None and prices.data else hass.config.currency
    diagnostics["session_history"] = export_records(
        entry, None, datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), currency
    )
    return diagnostics


def _smart_charging(charging: VehicleSmartCharging) -> dict[str, Any]:
    """What the controller decided and why, and what it stores (settings, state, commands)."""
    decision = charging.controller.decision
    summary: dict[str, Any] | None = None
    if decision is not None:
        plan = decision.plan
        summary = {
            "status": decision.status.value,
            "reason": decision.reason,
            "action": asdict(decision.action) if decision.action is not None else None,
            "considerations": asdict(decision.considerations),
            "soc": asdict(decision.soc) if decision.soc is not None else None,
            "departure": decision.departure,
            "target_soc_pct": decision.target_soc_pct,
            "plan_status": None if plan is None else plan.status.value,
            "switch_times": None
            if plan is None
            else [window.to_dict() for window in plan.switch_times],
            "expected_soc_at_departure_pct": decision.expected_soc_at_departure_pct,
            "prices_guessed_after": decision.prices_guessed_after,
            "override": decision.override,
            "model": {
                **asdict(decision.model),
                "measured_bands": sorted(decision.model.measured_bands),
            },
            "wake_at": decision.wake_at,
            "interference_count": decision.interference_count,
        }
    return {
        "decision": summary,
        "last_command_path": charging.last_routed_path,
        "stored": async_redact_data(charging.controller.to_dict(), TO_REDACT),
    }
