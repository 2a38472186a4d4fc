// What the card says in words: the reason for the state, the departure line, the messages.

/** The zone the user asked times to be shown in (their profile's "Time zone": the browser's
 * own, or the server's); undefined means the browser's. */
export function displayTimeZone(hass) {
  return hass?.locale?.time_zone === "server" ? hass?.config?.time_zone || undefined : undefined;
}

/** Times and numbers in the user's language and chosen time zone. */
export class Formats {
  constructor(hass) {
    const language = hass?.locale?.language || hass?.language || "en";
    const timeZone = displayTimeZone(hass);
    const hour12 = hass?.locale?.time_format === "12" ? true : hass?.locale?.time_format === "24" ? false : undefined;
    this._time = new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit", hour12, timeZone });
    this._hour = new Intl.DateTimeFormat(language, { hour: "2-digit", hour12, timeZone });
    this._day = new Intl.DateTimeFormat(language, { weekday: "short", timeZone });
    this._dateKey = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone });
    this._money = new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    this._whole = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });
    this._price = new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    this._power = new Intl.NumberFormat(language, { maximumFractionDigits: 1 });
  }

  time(iso) {
    return this._time.format(new Date(iso));
  }

  hour(date) {
    return this._hour.format(date);
  }

  /** "07:30", or "Tue 07:30" when the moment is not today. */
  moment(iso, now = new Date()) {
    const date = new Date(iso);
    const sameDay = this._dateKey.format(date) === this._dateKey.format(now);
    return sameDay ? this.time(iso) : `${this._day.format(date)} ${this.time(iso)}`;
  }

  money(value) {
    return this._money.format(value);
  }

  price(value) {
    return this._price.format(value);
  }

  power(kw) {
    return `${this._power.format(kw)}\u00a0kW`;
  }

  percent(value) {
    // A no-break space: "80 %" never breaks across lines.
    return `${this._whole.format(value)}\u00a0%`;
  }
}

/** A legend key for the power bars with their scale: the tallest bar is the peak,
 * "Charging (up to 11 kW)"; just the unit when nothing is planned. */
export function powerKey(label, peak, formats) {
  return peak > 0 ? `${label} (up to ${formats.power(peak)})` : `${label} (kW)`;
}

const MESSAGES = {
  not_found: "This vehicle is not (or no longer) in EV Flex. Pick another vehicle in the card's settings.",
  no_vehicle: "Pick a vehicle in the card's settings.",
  unavailable: "EV Flex is not running for this vehicle right now (it may be reloading).",
  no_reading: "No battery level from the car yet: the plan appears once the car reports one.",
  no_prices: "No electricity prices yet: pick a price sensor in EV Flex's options, or wait for today's prices.",
  no_plan: "No plan yet: EV Flex plans as soon as it knows the battery size, the battery level and the prices.",
};

export function problemMessage(problem) {
  return MESSAGES[problem] || MESSAGES.unavailable;
}

/** The first planned charging window: from the plan's switch times, else the next start/stop. */
function chargingWindow(data) {
  const windows = data.plan?.summary?.switch_times || [];
  const charge = windows.find((window) => (window.mode || "charge") === "charge");
  if (charge) return { start: charge.start, end: charge.end };
  if (data.next_start) return { start: data.next_start, end: data.next_stop };
  return null;
}

function savingsClause(data, formats) {
  const cost = data.estimated_cost;
  const now = data.charge_now_cost;
  if (cost == null || now == null || !(now > 0)) return "";
  const clause = `costs ${formats.money(cost)}\u00a0${data.currency}`;
  const less = Math.round(((now - cost) / now) * 100);
  return less >= 1 ? `${clause}, ${formats.percent(less)} less than now` : clause;
}

// The controller's reasons that say more than its state does.
const REASONS = {
  behind: "Charging now to catch up: at the planned pace the car would not be ready on time.",
  protective: "Charging now: the battery is below your protective minimum.",
  probe: "Charging for a moment to measure the car's real charging power.",
  no_capacity: "Charging at once: the car does not report its battery size, so EV Flex cannot plan.",
  away: "The car is away from its charging location: smart charging waits until it is back.",
  no_readings: "Waiting for the car to report its battery level.",
  waiting_for_soc: "Waiting for the car to report its battery level.",
  pause_for_soc: "Pausing until the car reports its new battery level.",
  demand_response: "Discharging on request (a demand-response event), never below the reserve.",
  demand_response_reserve: "Holding the reserve for a demand-response request.",
};

/** One plain sentence: why the car does what it does now. */
export function reasonSentence(data, formats, now = new Date()) {
  if (data.status !== "disabled" && REASONS[data.reason]) return REASONS[data.reason];
  const status = data.status || "unknown";
  const window = chargingWindow(data);
  const span = window ? `${formats.moment(window.start, now)}–${formats.time(window.end)}` : "";
  switch (status) {
    case "disabled":
    case "plan_ended_disabled":
      return "Smart charging is off: the car charges as soon as it is plugged in.";
    case "plan_executing_stopped":
    case "plan_executing_stopped_awaiting_prices": {
      if (!window) return "Waiting: nothing needs charging before the departure.";
      const savings = savingsClause(data, formats);
      return `Waiting for cheaper prices: charging ${span}${savings ? ` ${savings}` : ""}.`;
    }
    case "plan_executing_starting":
    case "plan_executing_started": {
      const until = window?.end ? ` until ${formats.time(window.end)}` : "";
      const savings = savingsClause(data, formats);
      return `Charging now, in the cheapest hours${until}${savings ? `: the plan ${savings}` : ""}.`;
    }
    case "plan_executing_stopping":
      return "Stopping the charge: the cheap hours are over for now.";
    case "plan_executing_charging_now":
      return "Charging now, as you asked, until the target or until you cancel.";
    case "plan_executing_overridden":
      return "Someone else took over charging (an app or the car's own schedule). Cancel the override to follow the plan again.";
    case "plan_executing_discharging":
      return "Discharging to the grid while prices are high, never below the reserve.";
    case "plan_executing_start_failed":
    case "plan_executing_stop_failed":
    case "plan_executing_charge_interrupted":
    case "plan_ended_failed":
      return "The car or charger did not follow the last command; EV Flex keeps trying.";
    case "plan_ended_unplugged":
      return "The car is unplugged: the plan starts again when it is plugged in.";
    case "plan_ended_finished":
    case "fully_charged":
      return "Charged: the car reached its target.";
    case "considering":
      return "Working out the cheapest plan.";
    default:
      return data.plugged_in === false ? "The car is unplugged." : "Waiting for the car.";
  }
}

/** "Departure Tue 07:30: 78 % of 80 %", and the shortfall, if any. */
export function departureLine(data, formats, now = new Date()) {
  if (!data.departure) return null;
  const summary = data.plan?.summary || {};
  const expected = data.expected_soc_at_departure_pct ?? summary.expected_soc_at_departure_pct;
  const target = data.target_soc_pct ?? summary.target_soc_pct;
  const shortfall = data.shortfall_pct ?? (expected != null && target != null ? Math.max(0, target - expected) : null);
  return {
    when: formats.moment(data.departure, now),
    expected: expected == null ? null : formats.percent(expected),
    target: target == null ? null : formats.percent(target),
    shortfall: shortfall != null && shortfall >= 0.5 ? formats.percent(shortfall) : null,
  };
}
