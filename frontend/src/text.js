// What the card says in words: the reason for the state, the departure line, the messages.
import { translator } from "./words.js";

/** The zone the user asked times to be shown in (their profile's "Time zone": the browser's
 * own, or the server's); undefined means the browser's. */
export function displayTimeZone(hass) {
  return hass?.locale?.time_zone === "server" ? hass?.config?.time_zone || undefined : undefined;
}

// The locales Home Assistant's number formats stand for (the user's profile, "Number format").
const NUMBER_LOCALES = {
  comma_decimal: ["en-US", "en"],
  decimal_comma: ["de", "es", "it"],
  space_comma: ["fr", "sv", "cs"],
  quote_decimal: ["de-CH"],
  system: undefined,
};

/** The locale numbers are written in: the user's number format, else their language. */
export function numberLocale(hass) {
  const language = hass?.locale?.language || hass?.language || "en";
  const format = hass?.locale?.number_format;
  return format && Object.hasOwn(NUMBER_LOCALES, format) ? NUMBER_LOCALES[format] : language;
}

/** Words, times, numbers and money in the user's language and chosen time zone. */
export class Formats {
  constructor(hass) {
    const language = hass?.locale?.language || hass?.language || "en";
    const timeZone = displayTimeZone(hass);
    const hour12 = hass?.locale?.time_format === "12" ? true : hass?.locale?.time_format === "24" ? false : undefined;
    const numbers = numberLocale(hass);
    const grouping = hass?.locale?.number_format === "none" ? { useGrouping: false } : {};
    this.language = language;
    this.t = translator(language);
    this._numbers = numbers;
    this._grouping = grouping;
    this._time = new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit", hour12, timeZone });
    this._hour = new Intl.DateTimeFormat(language, { hour: "2-digit", hour12, timeZone });
    this._day = new Intl.DateTimeFormat(language, { weekday: "short", timeZone });
    this._dateKey = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone });
    this._decimals = new Intl.NumberFormat(numbers, { ...grouping, minimumFractionDigits: 2, maximumFractionDigits: 2 });
    this._whole = new Intl.NumberFormat(numbers, { ...grouping, maximumFractionDigits: 0 });
    this._power = new Intl.NumberFormat(numbers, { ...grouping, maximumFractionDigits: 1 });
    this._currencies = new Map();
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

  /** An amount in its currency as the user's locale writes it ("12,40 kr", "€12.40", and
   * "NOK 12.40" where "kr" could be any of three crowns); a
   * currency that is not an ISO 4217 code is written after the number. */
  money(value, currency) {
    if (!this._currencies.has(currency)) {
      let format = null;
      try {
        const options = { ...this._grouping, style: "currency", currency };
        format = new Intl.NumberFormat(this._numbers, options);
      } catch {
        // Not a currency code Intl knows: the plain number and the code as given.
      }
      this._currencies.set(currency, format);
    }
    const format = this._currencies.get(currency);
    if (format) return format.format(value);
    const amount = this._decimals.format(value);
    return currency ? `${amount}\u00a0${currency}` : amount;
  }

  price(value) {
    return this._decimals.format(value);
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
  return peak > 0 ? formats.t("power_peak", { label, power: formats.power(peak) }) : `${label} (kW)`;
}

const PROBLEMS = new Set(["not_found", "no_vehicle", "unavailable", "no_reading", "no_prices", "no_plan"]);

export function problemMessage(problem, formats) {
  return formats.t(`problem.${PROBLEMS.has(problem) ? problem : "unavailable"}`);
}

/** What a failed action says, in the user's language. Home Assistant sends an integration's
 * error with its translation key and placeholders beside `message`, which is always English
 * (its websocket `call_service` command, 2026.10); the text comes from the integration's
 * `exceptions` translations, loaded through the frontend's `loadBackendTranslation`. */
export async function errorMessage(hass, error) {
  const domain = error?.translation_domain;
  const key = error?.translation_key;
  if (domain && key && typeof hass?.loadBackendTranslation === "function") {
    try {
      const localize = await hass.loadBackendTranslation("exceptions", domain);
      const text = localize(`component.${domain}.exceptions.${key}.message`, error.translation_placeholders || {});
      if (text) return text;
    } catch {
      // The English message below still says what happened.
    }
  }
  return error?.message || String(error);
}

/** The first planned charging window: from the plan's switch times, else the next start/stop. */
function chargingWindow(data) {
  const windows = data.plan?.summary?.switch_times || [];
  const charge = windows.find((window) => (window.mode || "charge") === "charge");
  if (charge) return { start: charge.start, end: charge.end };
  if (data.next_start) return { start: data.next_start, end: data.next_stop };
  return null;
}

/** What the plan costs, and how much less than charging now: a sentence, or "". */
function costSentence(data, formats) {
  const cost = data.estimated_cost;
  const now = data.charge_now_cost;
  if (cost == null || now == null || !(now > 0)) return "";
  const money = formats.money(cost, data.currency);
  const less = Math.round(((now - cost) / now) * 100);
  return less >= 1 ? formats.t("saving", { money, percent: formats.percent(less) }) : formats.t("cost", { money });
}

// The controller's reasons that say more than its state does.
const REASONS = {
  behind: "behind",
  protective: "protective",
  probe: "probe",
  no_capacity: "no_capacity",
  away: "away",
  no_readings: "no_readings",
  waiting_for_soc: "no_readings",
  pause_for_soc: "pause_for_soc",
  demand_response: "demand_response",
  demand_response_reserve: "demand_response_reserve",
};

// The sentence each controller state gets, where it needs no values.
const STATUSES = {
  disabled: "disabled",
  plan_ended_disabled: "disabled",
  plan_executing_stopping: "stopping",
  plan_executing_charging_now: "charging_now",
  plan_executing_overridden: "overridden",
  plan_executing_discharging: "discharging",
  plan_executing_start_failed: "failed",
  plan_executing_stop_failed: "failed",
  plan_executing_charge_interrupted: "failed",
  plan_ended_failed: "failed",
  plan_ended_unplugged: "unplugged",
  plan_ended_finished: "charged",
  fully_charged: "charged",
  considering: "considering",
};

const withCost = (sentence, data, formats) => [sentence, costSentence(data, formats)].filter(Boolean).join(" ");

/** Plain sentences: why the car does what it does now. */
export function reasonSentence(data, formats, now = new Date()) {
  const t = formats.t;
  if (data.status !== "disabled" && REASONS[data.reason]) return t(`reason.${REASONS[data.reason]}`);
  const status = data.status || "unknown";
  if (STATUSES[status]) return t(`status.${STATUSES[status]}`);
  const window = chargingWindow(data);
  switch (status) {
    case "plan_executing_stopped":
    case "plan_executing_stopped_awaiting_prices": {
      if (!window) return t("status.nothing_to_charge");
      const span = `${formats.moment(window.start, now)}–${formats.time(window.end)}`;
      return withCost(t("status.waiting", { window: span }), data, formats);
    }
    case "plan_executing_starting":
    case "plan_executing_started": {
      const sentence = window?.end ? t("status.charging_until", { end: formats.time(window.end) }) : t("status.charging");
      return withCost(sentence, data, formats);
    }
    default:
      return t(data.plugged_in === false ? "status.unplugged_short" : "status.waiting_for_car");
  }
}

/** "Departure Tue 07:30: 78 % expected, target 80 %", and the shortfall, if any. */
export function departureLine(data, formats, now = new Date()) {
  if (!data.departure) return null;
  const summary = data.plan?.summary || {};
  const expected = data.expected_soc_at_departure_pct ?? summary.expected_soc_at_departure_pct;
  const target = data.target_soc_pct ?? summary.target_soc_pct;
  const shortfall = data.shortfall_pct ?? (expected != null && target != null ? Math.max(0, target - expected) : null);
  const line = {
    when: formats.moment(data.departure, now),
    expected: expected == null ? null : formats.percent(expected),
    target: target == null ? null : formats.percent(target),
    shortfall: shortfall != null && shortfall >= 0.5 ? formats.percent(shortfall) : null,
  };
  const values = { when: line.when, expected: line.expected ?? "–", target: line.target };
  line.text = formats.t(line.target ? "departure_target" : "departure", values);
  line.short = line.shortfall ? formats.t("shortfall", { percent: line.shortfall }) : null;
  return line;
}
