"""Learn how a car really charges: its power, its taper near full, and its efficiency.

Advertised figures are often wrong (a car that takes 7.4 kW on an 11 kW charger, losses that
differ from the brochure), and the planner is only as good as its model. The learner turns
measurements into a `ChargeModel`:

- power is kept per SoC band (2.5 % wide), so the taper near full shows up as lower bands;
- the taper becomes a concave, non-increasing two-point curve (flat, then a straight fall to
  100 %), the shape the planner accepts;
- efficiency (battery energy gained per kWh from the grid) comes from SoC reports and the energy
  measured at the charger between them, with a prior so one noisy sample can't swing it;
- each estimate carries an uncertainty that shrinks with evidence, which the SoC estimator uses
  to stay on the safe side while the car is silent.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
from typing import Any

BAND_WIDTH_PCT = 2.5
# A band counts as "full power" when within this share of the best band.
FULL_POWER_SHARE = 0.97
# Power below this share of the best band is not trusted as taper (the car is about to stop).
MIN_TAPER_SHARE = 0.05
# Bands not refreshed for this long are forgotten (another charger, a new car).
BAND_MAX_AGE = timedelta(days=60)
# Until taught otherwise, assume a generic taper: full power to 80 %, 30 % of it at 100 %.
PRIOR_KNEE_PCT = 80.0
PRIOR_END_SHARE = 0.3
PRIOR_EFFICIENCY = 0.9
PRIOR_DISCHARGE_EFFICIENCY = 0.9
# How many kWh of evidence the prior is worth.
PRIOR_WEIGHT_KWH = 4.0
# Older evidence fades so a change (winter, new charger) is picked up.
EVIDENCE_DECAY = 0.97
# Relative uncertainty of the efficiency with no evidence, and its floor.
PRIOR_UNCERTAINTY = 0.05
MIN_UNCERTAINTY = 0.004
MIN_EFFICIENCY = 0.5
MAX_EFFICIENCY = 1.0
# With this much evidence, an efficiency sample this far off (relative) is treated as an outlier.
OUTLIER_EVIDENCE_KWH = 20.0
OUTLIER_MIN_DEVIATION = 0.08
OUTLIERS_BEFORE_ACCEPTING = 3
# Weight of a new power reading in its band.
POWER_SMOOTHING = 0.4


@dataclass(frozen=True, kw_only=True)
class ChargeModel:
    """What the planner and the safety checks assume about charging this car."""

    max_kw: float
    efficiency: float
    # Relative uncertainty of `efficiency` (0.02 means +-2 %).
    efficiency_uncertainty: float
    discharge_efficiency: float
    taper_knee_pct: float
    taper_end_kw: float
    # SoC bands (index = SoC // BAND_WIDTH_PCT) where power was measured recently.
    measured_bands: frozenset[int] = frozenset()

    def is_measured_at(self, soc_pct: float) -> bool:
        """Whether the power at this SoC is known from measurement rather than assumed.

        Below the knee one measurement anywhere below the knee is enough (the power is flat).
        """
        if not self.measured_bands:
            return False
        band = band_of(soc_pct)
        if band in self.measured_bands:
            return True
        knee_band = band_of(self.taper_knee_pct)
        return band < knee_band and any(b < knee_band for b in self.measured_bands)

    def taper(self) -> list[list[float]]:
        """The planner's taper points [[SoC %, max kW], ...]: concave and non-increasing."""
        end_kw = min(self.taper_end_kw, self.max_kw)
        return [[self.taper_knee_pct, self.max_kw], [100.0, end_kw]]

    def power_at(self, soc_pct: float) -> float:
        """The most grid power the car takes at this SoC."""
        if soc_pct <= self.taper_knee_pct:
            return self.max_kw
        end_kw = min(self.taper_end_kw, self.max_kw)
        share = min(1.0, (soc_pct - self.taper_knee_pct) / (100.0 - self.taper_knee_pct))
        return self.max_kw + share * (end_kw - self.max_kw)

    def hours_to_charge(
        self,
        soc_from_pct: float,
        soc_to_pct: float,
        capacity_kwh: float,
        *,
        efficiency: float | None = None,
        power_share: float = 1.0,
        unmeasured_share: float = 1.0,
    ) -> float:
        """Hours at full power from one SoC to another, following the taper.

        `unmeasured_share` scales the power where it was never measured, for a cautious answer.
        """
        if soc_to_pct <= soc_from_pct:
            return 0.0
        eta = self.efficiency if efficiency is None else efficiency
        hours = 0.0
        soc = soc_from_pct
        step = 0.5
        while soc < soc_to_pct - 1e-9:
            width = min(step, soc_to_pct - soc)
            # The power at the end of the step is the lowest in it: err on the slow side.
            share = power_share
            if unmeasured_share != 1.0 and not self.is_measured_at(soc):
                share *= unmeasured_share
            power = max(0.05, self.power_at(soc + width) * share)
            hours += width / 100.0 * capacity_kwh / (power * eta)
            soc += width
        return hours


def band_of(soc_pct: float) -> int:
    """The SoC band a reading belongs to."""
    return max(0, min(int(soc_pct // BAND_WIDTH_PCT), int(100 // BAND_WIDTH_PCT) - 1))


@dataclass(kw_only=True)
class _Band:
    power_kw: float
    updated_at: datetime


@dataclass(kw_only=True)
class ChargeLearner:
    """Accumulates measurements; `model()` gives the current best knowledge."""

    # Decayed sums of evidence for the charge efficiency: battery kWh gained, grid kWh used.
    stored_kwh: float = 0.0
    grid_kwh: float = 0.0
    # Running spread of efficiency samples (weighted), to widen the uncertainty when noisy.
    efficiency_samples: int = 0
    efficiency_spread: float = 0.0
    outliers_in_a_row: int = 0
    discharge_drawn_kwh: float = 0.0
    discharge_grid_kwh: float = 0.0
    bands: dict[int, _Band] = field(default_factory=dict)

    # Efficiency

    def efficiency(self) -> float:
        """Charge efficiency, blending the prior with what was measured."""
        value = (PRIOR_EFFICIENCY * PRIOR_WEIGHT_KWH + self.stored_kwh) / (
            PRIOR_WEIGHT_KWH + self.grid_kwh
        )
        return min(MAX_EFFICIENCY, max(MIN_EFFICIENCY, value))

    def efficiency_uncertainty(self) -> float:
        """Relative uncertainty of `efficiency()`."""
        from_prior = PRIOR_UNCERTAINTY * PRIOR_WEIGHT_KWH / (PRIOR_WEIGHT_KWH + self.grid_kwh)
        spread = 2.0 * self.efficiency_spread / math.sqrt(max(1, self.efficiency_samples))
        return max(MIN_UNCERTAINTY, from_prior + spread)

    def discharge_efficiency(self) -> float:
        """Discharge efficiency: grid kWh delivered per battery kWh drawn."""
        value = (PRIOR_DISCHARGE_EFFICIENCY * PRIOR_WEIGHT_KWH + self.discharge_grid_kwh) / (
            PRIOR_WEIGHT_KWH + self.discharge_drawn_kwh
        )
        return min(MAX_EFFICIENCY, max(MIN_EFFICIENCY, value))

    def add_charge_sample(self, *, grid_kwh: float, stored_kwh: float) -> bool:
        """Learn from energy measured at the charger and the SoC gain the car reported."""
        if grid_kwh <= 0 or stored_kwh <= 0:
            return False
        sample = stored_kwh / grid_kwh
        if not MIN_EFFICIENCY <= sample <= 1.05:
            # A SoC jump that energy can't explain (a misread, a recalibration): ignore it.
            return False
        before = self.efficiency()
        deviation = abs(sample - before) / before
        if (
            self.grid_kwh >= OUTLIER_EVIDENCE_KWH
            and deviation > max(OUTLIER_MIN_DEVIATION, 4.0 * self.efficiency_uncertainty())
            and self.outliers_in_a_row < OUTLIERS_BEFORE_ACCEPTING
        ):
            # Well established and far off: more likely a bad reading than a changed car
            # (unless it keeps happening).
            self.outliers_in_a_row += 1
            return False
        self.outliers_in_a_row = 0
        self.stored_kwh = self.stored_kwh * EVIDENCE_DECAY + stored_kwh
        self.grid_kwh = self.grid_kwh * EVIDENCE_DECAY + grid_kwh
        # Small samples carry rounding noise of the SoC report; weigh the spread by energy.
        weight = min(1.0, grid_kwh / 5.0)
        self.efficiency_spread += weight * 0.3 * (deviation - self.efficiency_spread)
        self.efficiency_samples += 1
        return True

    def add_discharge_sample(self, *, grid_kwh: float, drawn_kwh: float) -> bool:
        """Learn from energy delivered to the grid and the SoC the car lost meanwhile."""
        if grid_kwh <= 0 or drawn_kwh <= 0:
            return False
        sample = grid_kwh / drawn_kwh
        if not MIN_EFFICIENCY <= sample <= 1.05:
            return False
        self.discharge_grid_kwh = self.discharge_grid_kwh * EVIDENCE_DECAY + grid_kwh
        self.discharge_drawn_kwh = self.discharge_drawn_kwh * EVIDENCE_DECAY + drawn_kwh
        return True

    # Power and taper

    def add_power_sample(self, *, now: datetime, soc_pct: float, power_kw: float) -> None:
        """A reading of grid power while the car was asked to charge at full power."""
        if power_kw <= 0 or not 0.0 <= soc_pct <= 100.0:
            return
        band = band_of(soc_pct)
        existing = self.bands.get(band)
        if existing is None or now - existing.updated_at > BAND_MAX_AGE:
            self.bands[band] = _Band(power_kw=power_kw, updated_at=now)
            return
        existing.power_kw += POWER_SMOOTHING * (power_kw - existing.power_kw)
        existing.updated_at = now

    def _fresh_bands(self, now: datetime | None) -> list[tuple[float, float]]:
        """(band centre SoC, power) of bands young enough to trust, by SoC."""
        return sorted(
            ((band + 0.5) * BAND_WIDTH_PCT, value.power_kw)
            for band, value in self.bands.items()
            if now is None or now - value.updated_at <= BAND_MAX_AGE
        )

    def model(self, *, advertised_kw: float, now: datetime | None = None) -> ChargeModel:
        """The best current model; `advertised_kw` is used until power was measured."""
        bands = self._fresh_bands(now)
        max_kw = max((power for _, power in bands), default=advertised_kw)
        knee, end_kw = _fit_taper(bands, max_kw)
        return ChargeModel(
            max_kw=max_kw,
            efficiency=self.efficiency(),
            efficiency_uncertainty=self.efficiency_uncertainty(),
            discharge_efficiency=self.discharge_efficiency(),
            taper_knee_pct=knee,
            taper_end_kw=end_kw,
            measured_bands=frozenset(
                band
                for band, value in self.bands.items()
                if now is None or now - value.updated_at <= BAND_MAX_AGE
            ),
        )

    # Persistence

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "stored_kwh": self.stored_kwh,
            "grid_kwh": self.grid_kwh,
            "efficiency_samples": self.efficiency_samples,
            "efficiency_spread": self.efficiency_spread,
            "outliers_in_a_row": self.outliers_in_a_row,
            "discharge_drawn_kwh": self.discharge_drawn_kwh,
            "discharge_grid_kwh": self.discharge_grid_kwh,
            "bands": {
                str(band): {"power_kw": value.power_kw, "updated_at": value.updated_at.isoformat()}
                for band, value in sorted(self.bands.items())
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChargeLearner:
        """Read what `to_dict` wrote."""
        bands = {
            int(band): _Band(
                power_kw=float(value["power_kw"]),
                updated_at=datetime.fromisoformat(value["updated_at"]),
            )
            for band, value in dict(data.get("bands", {})).items()
        }
        return cls(
            stored_kwh=float(data.get("stored_kwh", 0.0)),
            grid_kwh=float(data.get("grid_kwh", 0.0)),
            efficiency_samples=int(data.get("efficiency_samples", 0)),
            efficiency_spread=float(data.get("efficiency_spread", 0.0)),
            outliers_in_a_row=int(data.get("outliers_in_a_row", 0)),
            discharge_drawn_kwh=float(data.get("discharge_drawn_kwh", 0.0)),
            discharge_grid_kwh=float(data.get("discharge_grid_kwh", 0.0)),
            bands=bands,
        )

    def copy(self) -> ChargeLearner:
        """An independent copy."""
        return ChargeLearner(
            stored_kwh=self.stored_kwh,
            grid_kwh=self.grid_kwh,
            efficiency_samples=self.efficiency_samples,
            efficiency_spread=self.efficiency_spread,
            outliers_in_a_row=self.outliers_in_a_row,
            discharge_drawn_kwh=self.discharge_drawn_kwh,
            discharge_grid_kwh=self.discharge_grid_kwh,
            bands={
                band: _Band(power_kw=value.power_kw, updated_at=value.updated_at)
                for band, value in self.bands.items()
            },
        )


def _fit_taper(bands: list[tuple[float, float]], max_kw: float) -> tuple[float, float]:
    """Knee SoC and power at 100 % from band readings, falling back to the generic prior.

    Bands at full power push the knee up to where they end. Bands below full power are the
    taper; a least-squares line through them gives the knee (where it meets full power) and
    the power at 100 %.
    """
    prior_end = PRIOR_END_SHARE * max_kw
    full = [soc for soc, power in bands if power >= FULL_POWER_SHARE * max_kw]
    highest_full = max(full, default=0.0)
    tapered = [
        (soc, power)
        for soc, power in bands
        if soc > highest_full and MIN_TAPER_SHARE * max_kw <= power < FULL_POWER_SHARE * max_kw
    ]
    # The knee is at least where full power was last seen (band end).
    knee_floor = min(99.0, highest_full + BAND_WIDTH_PCT / 2.0) if full else 0.0
    if len(tapered) >= 2 and tapered[-1][0] - tapered[0][0] >= 2 * BAND_WIDTH_PCT:
        count = len(tapered)
        mean_soc = sum(soc for soc, _ in tapered) / count
        mean_power = sum(power for _, power in tapered) / count
        variance = sum((soc - mean_soc) ** 2 for soc, _ in tapered)
        slope = sum((soc - mean_soc) * (power - mean_power) for soc, power in tapered) / variance
        if slope < 0:
            knee = mean_soc + (max_kw - mean_power) / slope
            end_kw = mean_power + (100.0 - mean_soc) * slope
            return _clamp_taper(max(knee, knee_floor), end_kw, max_kw)
    if tapered:
        soc, power = tapered[0]
        end_kw = min(prior_end, power)
        if power > end_kw and soc < 100.0:
            # The line through this band and the prior's end point, up to full power.
            knee = soc - (max_kw - power) * (100.0 - soc) / (power - end_kw)
            return _clamp_taper(max(knee, knee_floor), end_kw, max_kw)
        return _clamp_taper(max(soc - BAND_WIDTH_PCT, knee_floor), end_kw, max_kw)
    return _clamp_taper(max(PRIOR_KNEE_PCT, knee_floor), prior_end, max_kw)


def _clamp_taper(knee: float, end_kw: float, max_kw: float) -> tuple[float, float]:
    knee = min(99.0, max(50.0, knee))
    end_kw = min(max_kw, max(0.05 * max_kw, end_kw))
    return round(knee, 2), round(end_kw, 3)
