"""Repair issues for problems only the user can solve, and their fix flows.

Conditions that follow from the account's data (a car that needs a charger, a car plugged in
away from the charging location) are re-evaluated on every update and cleared by themselves.
Interference (another schedule or app) is raised when a command is refused with 422, when the
device later does the opposite of a confirmed command, or when smart charging notices someone
else's start or stop (see core/interference.py); the next command that goes through clears it.
A reset store only needs the user to have read what was reset, so its fix flow is a
confirmation.
"""

from collections.abc import Mapping

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .core.enode import InterferenceError
from .core.interference import OverrideWatch
from .core.model import AccountSnapshot, CommandKind
from .core.pairing import CommandPath, EvSystem, RoutedCommand
from .enode import InterventionText
from .helpers import charger_name, store_key_part, vehicle_name
from .location import ChargingLocation
from .texts import cached_texts

ISSUE_CHARGER_REQUIRED = "charger_required"
ISSUE_NOT_AT_CHARGING_LOCATION = "not_at_charging_location"
# One issue for every sign that something else steers a device: a command refused for it, a
# reading against a confirmed command, or the controller noticing someone else's start or stop.
ISSUE_INTERFERENCE = "interference"
# What earlier versions called it when a command was refused or undone.
OLDER_INTERFERENCE = "controlled_elsewhere"
ISSUE_VENDOR_RELINK = "vendor_relink"
# A capability blocked at the vendor until the user does something (Enode interventions).
ISSUE_VENDOR_INTERVENTION = "vendor_intervention"

# Issues that follow from the data and are rebuilt after every reload.
_DERIVED = (ISSUE_CHARGER_REQUIRED, ISSUE_NOT_AT_CHARGING_LOCATION)


def charging_after(kind: CommandKind) -> bool | None:
    """Whether a confirmed command leaves the device charging (None: says nothing)."""
    if kind is CommandKind.START:
        return True
    if kind is CommandKind.STOP:
        return False
    return None


def issue_id(kind: str, entry_id: str, subject: str) -> str:
    """The id of one issue of one entry."""
    return f"{kind}_{entry_id}_{subject}"


class Interventions:
    """The repair issues of one config entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str, *, entry_title: str) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.entry_title = entry_title
        self.overrides = OverrideWatch()
        self._raised: set[str] = set()
        self._forget_older_interference_issues()

    def _forget_older_interference_issues(self) -> None:
        """Earlier versions raised interference under two names; the next sign raises it again
        under the one name."""
        prefixes = (
            f"{OLDER_INTERFERENCE}_{self.entry_id}_",
            f"{ISSUE_INTERFERENCE}_{self.entry_id}_",
        )
        for issue in list(ir.async_get(self.hass).issues.values()):
            older = issue.translation_key != ISSUE_INTERFERENCE
            if issue.domain == DOMAIN and issue.issue_id.startswith(prefixes) and older:
                ir.async_delete_issue(self.hass, DOMAIN, issue.issue_id)

    def _create(
        self,
        kind: str,
        subject: str,
        *,
        severity: ir.IssueSeverity,
        placeholders: dict[str, str],
        persistent: bool = False,
        translation_key: str | None = None,
    ) -> None:
        ident = issue_id(kind, self.entry_id, subject)
        self._raised.add(ident)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            ident,
            is_fixable=False,
            is_persistent=persistent,
            severity=severity,
            translation_key=translation_key or kind,
            translation_placeholders={"entry": self.entry_title, **placeholders},
        )

    def _delete(self, kind: str, subject: str) -> None:
        ident = issue_id(kind, self.entry_id, subject)
        self._raised.discard(ident)
        ir.async_delete_issue(self.hass, DOMAIN, ident)

    # Derived from data

    @callback
    def async_update(
        self,
        snapshot: AccountSnapshot,
        systems: dict[str, EvSystem],
        location: ChargingLocation,
    ) -> None:
        """Re-evaluate the data-driven issues and watch for overrides."""
        now = dt_util.utcnow()
        zone = location.zone
        for vehicle_id, system in systems.items():
            vehicle = system.vehicle
            name = vehicle_name(vehicle)
            # Without its own start/stop the car needs a charger to be steered.
            if system.own_capabilities.can_start_stop or system.established:
                self._delete(ISSUE_CHARGER_REQUIRED, vehicle_id)
            else:
                self._create(
                    ISSUE_CHARGER_REQUIRED,
                    vehicle_id,
                    severity=ir.IssueSeverity.ERROR,
                    placeholders={"vehicle": name},
                )
            # Plugged in somewhere EV Flex does not steer.
            if vehicle.is_plugged_in is True and not location.contains(system):
                self._create(
                    ISSUE_NOT_AT_CHARGING_LOCATION,
                    vehicle_id,
                    severity=ir.IssueSeverity.WARNING,
                    placeholders={"vehicle": name, "zone": zone.name if zone else "-"},
                )
            else:
                self._delete(ISSUE_NOT_AT_CHARGING_LOCATION, vehicle_id)
            if self.overrides.observe(
                vehicle_id,
                plugged_in=vehicle.is_plugged_in,
                charging=vehicle.is_charging,
                finished=vehicle.is_fully_charged,
                now=now,
            ):
                self.async_interference(vehicle_id, name)
        for charger_id, charger in snapshot.chargers.items():
            if self.overrides.observe(
                charger_id,
                plugged_in=charger.is_plugged_in,
                charging=charger.is_charging,
                finished=None,
                now=now,
            ):
                self.async_interference(charger_id, charger_name(charger))
        for kind in _DERIVED:
            prefix = f"{kind}_{self.entry_id}_"
            for ident in [i for i in self._raised if i.startswith(prefix)]:
                if ident.removeprefix(prefix) not in systems:
                    self._delete(kind, ident.removeprefix(prefix))

    # Raised by commands and events

    @callback
    def async_interference(self, device_id: str, device_name: str) -> None:
        """Another schedule or app controls this device."""
        self._create(
            ISSUE_INTERFERENCE,
            device_id,
            severity=ir.IssueSeverity.WARNING,
            placeholders={"device": device_name},
            persistent=True,
        )

    @callback
    def async_command_confirmed(self, device_id: str, *, charging: bool | None) -> None:
        """EV Flex's command went through: no interference now; watch that it sticks."""
        self._delete(ISSUE_INTERFERENCE, device_id)
        if charging is not None:
            self.overrides.expect(device_id, charging, dt_util.utcnow())

    @callback
    def async_command_routed(self, system: EvSystem, routed: RoutedCommand) -> None:
        """A command went down an EV system's paths (from a switch or from smart charging).

        Refusals for interference raise their issue; what went through is expected to stick,
        for the car too when the charger acted for it.
        """
        for attempt in routed.attempts:
            if isinstance(attempt.error, InterferenceError):
                name = vehicle_name(system.vehicle)
                if attempt.path is CommandPath.CHARGER and system.charger is not None:
                    name = charger_name(system.charger)
                self.async_interference(attempt.target_id, name)
        if routed.succeeded:
            self.async_command_confirmed_for(system, routed.attempts[-1].target_id, routed.kind)

    @callback
    def async_command_confirmed_for(
        self, system: EvSystem, target_id: str, kind: CommandKind
    ) -> None:
        """A command for an EV system was confirmed (at once or after following it): what it
        did is expected to stick, for the car too when the charger acted for it."""
        charging = charging_after(kind)
        self.async_command_confirmed(target_id, charging=charging)
        if target_id != system.vehicle.vehicle_id:
            self.async_command_confirmed(system.vehicle.vehicle_id, charging=charging)

    @callback
    def async_vendor_relink(self, vendor: str | None) -> None:
        """A vendor account's password changed: the user has to link it again."""
        self._create(
            ISSUE_VENDOR_RELINK,
            vendor or "unknown",
            severity=ir.IssueSeverity.ERROR,
            placeholders={
                "vendor": (
                    vendor.replace("_", " ").title()
                    if vendor
                    else cached_texts(self.hass)("vendor_unknown")
                )
            },
            persistent=True,
        )

    @callback
    def async_vendor_interventions(
        self, snapshot: AccountSnapshot, texts: Mapping[str, InterventionText]
    ) -> None:
        """One issue per device and intervention blocking one of its capabilities, in the
        vendor's own words where they are known; gone once the intervention is."""
        wanted: set[str] = set()
        devices = [
            *(
                (vehicle_name(v), v.vehicle_id, v.intervention_ids)
                for v in snapshot.vehicles.values()
            ),
            *(
                (charger_name(c), c.charger_id, c.intervention_ids)
                for c in snapshot.chargers.values()
            ),
        ]
        for name, device_id, intervention_ids in devices:
            for intervention_id in intervention_ids:
                subject = f"{store_key_part(device_id)}_{store_key_part(intervention_id)}"
                wanted.add(issue_id(ISSUE_VENDOR_INTERVENTION, self.entry_id, subject))
                text = texts.get(intervention_id)
                if text is None:
                    self._create(
                        ISSUE_VENDOR_INTERVENTION,
                        subject,
                        severity=ir.IssueSeverity.WARNING,
                        placeholders={"device": name},
                        translation_key=f"{ISSUE_VENDOR_INTERVENTION}_generic",
                    )
                else:
                    self._create(
                        ISSUE_VENDOR_INTERVENTION,
                        subject,
                        severity=ir.IssueSeverity.WARNING,
                        placeholders={
                            "device": name,
                            "title": text.title,
                            "description": text.description,
                        },
                    )
        prefix = f"{ISSUE_VENDOR_INTERVENTION}_{self.entry_id}_"
        for ident in [i for i in self._raised if i.startswith(prefix) and i not in wanted]:
            self._raised.discard(ident)
            ir.async_delete_issue(self.hass, DOMAIN, ident)

    @callback
    def async_vendors_relinked(self) -> None:
        """A link through the options finished: earlier relink requests are done."""
        prefix = f"{ISSUE_VENDOR_RELINK}_{self.entry_id}_"
        for issue in list(ir.async_get(self.hass).issues.values()):
            if issue.domain == DOMAIN and issue.issue_id.startswith(prefix):
                ir.async_delete_issue(self.hass, DOMAIN, issue.issue_id)

    @callback
    def async_unload(self) -> None:
        """Drop the issues that are rebuilt from data after a reload."""
        for ident in list(self._raised):
            if ident.startswith(
                tuple(f"{kind}_" for kind in (*_DERIVED, ISSUE_VENDOR_INTERVENTION))
            ):
                ir.async_delete_issue(self.hass, DOMAIN, ident)
        self._raised.clear()


@callback
def async_remove_entry_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Forget every issue of a removed entry."""
    for issue in list(ir.async_get(hass).issues.values()):
        if issue.domain == DOMAIN and f"_{entry_id}_" in issue.issue_id:
            ir.async_delete_issue(hass, DOMAIN, issue.issue_id)


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Confirming closes the issue."""
    return ConfirmRepairFlow()
