// The card's words, checked without a browser: `npm test` (node's own test runner).
import assert from "node:assert/strict";
import { test } from "node:test";
import { priceTicks } from "../src/chart.js";
import {
  Formats,
  departureLine,
  displayTimeZone,
  errorMessage,
  numberLocale,
  powerKey,
  problemMessage,
  reasonSentence,
} from "../src/text.js";
import { WORDS, cardLanguage, translator } from "../src/words.js";

const hass = {
  locale: { language: "en", time_format: "24", time_zone: "server" },
  config: { time_zone: "Europe/Oslo" },
};
const formats = new Formats(hass);
// 18:00 in Oslo on a Tuesday.
const NOW = new Date("2026-01-13T17:00:00Z");

const waiting = {
  status: "plan_executing_stopped",
  currency: "NOK",
  estimated_cost: 12.4,
  charge_now_cost: 20,
  departure: "2026-01-14T07:00:00+01:00",
  target_soc_pct: 80,
  expected_soc_at_departure_pct: 80,
  shortfall_pct: null,
  plan: {
    summary: {
      switch_times: [{ start: "2026-01-14T01:00:00+01:00", end: "2026-01-14T05:00:00+01:00", mode: "charge" }],
    },
    slots: [],
  },
};

test("waiting names the window, its cost and the saving", () => {
  assert.equal(
    reasonSentence(waiting, formats, NOW),
    "Waiting for cheaper prices: charging Wed 01:00–05:00. The plan costs NOK\u00a012.40, 38\u00a0% less than charging now.",
  );
});

test("no saving to speak of leaves the comparison out", () => {
  const data = { ...waiting, estimated_cost: 19.99 };
  assert.equal(reasonSentence(data, formats, NOW), "Waiting for cheaper prices: charging Wed 01:00–05:00. The plan costs NOK\u00a019.99.");
});

test("a window today is named without its day", () => {
  const data = {
    ...waiting,
    plan: { summary: { switch_times: [{ start: "2026-01-13T22:00:00+01:00", end: "2026-01-13T23:30:00+01:00" }] } },
  };
  assert.match(reasonSentence(data, formats, NOW), /charging 22:00–23:30\. The plan costs/);
});

test("without a plan the next start and stop make the window", () => {
  const data = { ...waiting, plan: null, next_start: "2026-01-14T02:00:00+01:00", next_stop: "2026-01-14T04:00:00+01:00" };
  assert.match(reasonSentence(data, formats, NOW), /charging Wed 02:00–04:00/);
});

test("every state has a sentence of its own", () => {
  const states = [
    "disabled", "plan_ended_disabled", "plan_executing_stopped", "plan_executing_started",
    "plan_executing_stopping", "plan_executing_charging_now", "plan_executing_overridden",
    "plan_executing_discharging", "plan_executing_start_failed", "plan_ended_unplugged",
    "fully_charged", "considering",
  ];
  for (const status of states) {
    const sentence = reasonSentence({ ...waiting, status }, formats, NOW);
    assert.match(sentence, /^[A-Z].*\.$/, status);
  }
  assert.match(reasonSentence({ ...waiting, status: "plan_executing_started" }, formats, NOW), /until 05:00/);
  assert.equal(reasonSentence({ status: "unknown", plugged_in: false }, formats, NOW), "The car is unplugged.");
});

test("a reason that says more than the state wins", () => {
  const behind = { ...waiting, status: "plan_executing_started", reason: "behind" };
  assert.match(reasonSentence(behind, formats, NOW), /^Charging now to catch up/);
  const away = { ...waiting, status: "considering", reason: "away" };
  assert.match(reasonSentence(away, formats, NOW), /away from its charging location/);
  const plan = { ...waiting, reason: "plan" };
  assert.match(reasonSentence(plan, formats, NOW), /^Waiting for cheaper prices/);
  const off = { ...waiting, status: "disabled", reason: "away" };
  assert.match(reasonSentence(off, formats, NOW), /^Smart charging is off/);
});

test("the departure line shows the shortfall, and none when on target", () => {
  assert.deepEqual(departureLine(waiting, formats, NOW), {
    when: "Wed 07:00",
    expected: "80\u00a0%",
    target: "80\u00a0%",
    shortfall: null,
    text: "Departure Wed 07:00: 80\u00a0% expected, target 80\u00a0%",
    short: null,
  });
  const short = { ...waiting, expected_soc_at_departure_pct: 68, shortfall_pct: 12 };
  assert.equal(departureLine(short, formats, NOW).shortfall, "12\u00a0%");
  assert.equal(departureLine(short, formats, NOW).short, "12\u00a0% short");
  assert.equal(departureLine({ ...waiting, departure: null }, formats, NOW), null);
});

test("12-hour clocks where the user has them", () => {
  const twelve = new Formats({ ...hass, locale: { ...hass.locale, time_format: "12" } });
  assert.match(twelve.time("2026-01-14T13:00:00+01:00"), /^01:00\s?PM$/);
});

test("messages for a vehicle without a plan or one that is gone", () => {
  assert.match(problemMessage("no_prices", formats), /No electricity prices/);
  assert.match(problemMessage("not_found", formats), /not \(or no longer\) in EV Flex/);
  assert.equal(problemMessage("anything else", formats), problemMessage("unavailable", formats));
});

test("the price axis ends on round numbers above the dearest and below the cheapest price", () => {
  assert.deepEqual(priceTicks(0, 1.91), [0, 1, 2]);
  assert.deepEqual(priceTicks(0, 0.6), [0, 0.2, 0.4, 0.6]);
  assert.deepEqual(priceTicks(-0.12, 0.3), [-0.2, 0, 0.2, 0.4]);
});

test("times in the zone the user chose: the server's, or the browser's own", () => {
  assert.equal(displayTimeZone(hass), "Europe/Oslo");
  assert.equal(displayTimeZone({ ...hass, locale: { ...hass.locale, time_zone: "local" } }), undefined);
  const utc = new Formats({ ...hass, config: { time_zone: "UTC" } });
  assert.equal(utc.time("2026-01-14T01:00:00+01:00"), "00:00");
});

test("the power keys name the bars' scale in kW, in the user's language", () => {
  assert.equal(powerKey("Charging", 11, formats), "Charging (up to 11\u00a0kW)");
  assert.equal(powerKey("Discharging", 7.36, formats), "Discharging (up to 7.4\u00a0kW)");
  assert.equal(powerKey("Charging", 0, formats), "Charging (kW)");
  const norwegian = new Formats({ locale: { language: "nb", time_format: "24" } });
  assert.equal(powerKey(norwegian.t("charging"), 3.7, norwegian), "Lading (opptil 3,7\u00a0kW)");
});

const german = new Formats({ ...hass, locale: { ...hass.locale, language: "de" }, config: { time_zone: "Europe/Berlin" } });

test("in German the card speaks German, with German numbers and money", () => {
  const data = { ...waiting, currency: "EUR" };
  assert.equal(
    reasonSentence(data, german, NOW),
    `Wartet auf günstigere Preise: lädt ${german.moment("2026-01-14T01:00:00+01:00", NOW)}–05:00. Der Plan kostet 12,40\u00a0€, 38\u00a0% weniger als sofortiges Laden.`,
  );
  const line = departureLine({ ...data, expected_soc_at_departure_pct: 68, shortfall_pct: 12 }, german, NOW);
  assert.match(german.moment("2026-01-14T01:00:00+01:00", NOW), /^Mi\.? 01:00$/);
  assert.equal(line.text, `Abfahrt ${german.moment(data.departure, NOW)}: 68\u00a0% erwartet, Ziel 80\u00a0%`);
  assert.equal(line.short, "12\u00a0% zu wenig");
  assert.match(problemMessage("no_prices", german), /^Noch keine Strompreise/);
  assert.equal(german.t("switch_on", { label: german.t("smart_charging") }), "Intelligentes Laden: an");
});

test("a language the card lacks, and a phrase a language lacks, fall back to English", () => {
  const klingon = new Formats({ ...hass, locale: { ...hass.locale, language: "tlh" } });
  assert.equal(klingon.t("charge_now"), "Charge now");
  assert.match(reasonSentence({ status: "fully_charged" }, klingon, NOW), /^Charged: the car reached its target\.$/);
  assert.equal(cardLanguage("de-CH"), "de");
  assert.equal(cardLanguage("nn"), "nb");
  assert.equal(cardLanguage("pt-BR"), "en");
  assert.equal(cardLanguage(undefined), "en");
  // V2G is the same word everywhere, so only English has it.
  assert.equal(translator("fi")("v2g"), "V2G");
  assert.equal(translator("fr")("unknown.key"), "unknown.key");
});

test("every language has every phrase English has, with the same values put in", () => {
  const names = (phrase) => [...phrase.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
  assert.deepEqual(Object.keys(WORDS).sort(), ["da", "de", "en", "fi", "fr", "nb", "nl", "sv"]);
  for (const language of Object.keys(WORDS).filter((key) => key !== "en")) {
    for (const [key, phrase] of Object.entries(WORDS.en)) {
      if (key === "name" || key === "v2g") continue;
      assert.ok(Object.hasOwn(WORDS[language], key), `${language} lacks ${key}`);
      assert.deepEqual(names(WORDS[language][key]), names(phrase), `${language} ${key}`);
    }
    assert.deepEqual(Object.keys(WORDS[language]).filter((key) => !Object.hasOwn(WORDS.en, key)), [], language);
  }
});

test("numbers follow the user's number format; money follows their locale", () => {
  assert.equal(numberLocale({ locale: { language: "en", number_format: "decimal_comma" } })[0], "de");
  assert.equal(numberLocale({ locale: { language: "sv", number_format: "language" } }), "sv");
  const commas = new Formats({ locale: { language: "en", number_format: "decimal_comma" } });
  assert.equal(commas.price(1.5), "1,50");
  const swedish = new Formats({ locale: { language: "sv" } });
  assert.equal(swedish.money(12.4, "SEK"), "12,40\u00a0kr");
  const english = new Formats({ locale: { language: "en" } });
  assert.equal(english.money(12.4, "EUR"), "€12.40");
  assert.equal(english.money(12.4, "öre"), "12.40\u00a0öre", "not a currency code: written after the number");
  const plain = new Formats({ locale: { language: "en", number_format: "none" } });
  assert.equal(plain.money(1234.5, "EUR"), "€1234.50");
});

test("a failed action's error is shown in the user's language, else in Home Assistant's English", async () => {
  const asked = [];
  const german = {
    loadBackendTranslation: async (category, domain) => {
      asked.push([category, domain]);
      return (key, values) =>
        key === "component.ev_flex.exceptions.command_failed.message" ? `Der Befehl hat nicht gewirkt: ${values.error}` : "";
    },
  };
  const failed = {
    code: "home_assistant_error",
    message: "The command did not take effect: the device rejected the command",
    translation_domain: "ev_flex",
    translation_key: "command_failed",
    translation_placeholders: { error: "das Gerät hat den Befehl abgelehnt" },
  };
  assert.equal(await errorMessage(german, failed), "Der Befehl hat nicht gewirkt: das Gerät hat den Befehl abgelehnt");
  assert.deepEqual(asked, [["exceptions", "ev_flex"]]);
  const unknownKey = { ...failed, translation_key: "something_else" };
  assert.equal(await errorMessage(german, unknownKey), failed.message);
  assert.equal(await errorMessage({}, failed), failed.message, "a frontend without the loader");
  const broken = { loadBackendTranslation: async () => { throw new Error("offline"); } };
  assert.equal(await errorMessage(broken, failed), failed.message);
  assert.equal(await errorMessage(german, { message: "plain" }), "plain");
  assert.equal(await errorMessage(german, "text"), "text");
});
