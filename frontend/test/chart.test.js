// The chart's geometry, checked without a browser: `npm test` (node's own test runner).
import assert from "node:assert/strict";
import { test } from "node:test";
import { barBoxes, guessedFrom, peakPower, scales } from "../src/chart.js";

const slot = (hour, charge, discharge = 0) => ({
  start: `2026-01-14T${String(hour).padStart(2, "0")}:00:00+00:00`,
  end: `2026-01-14T${String(hour + 1).padStart(2, "0")}:00:00+00:00`,
  charge_kw: charge,
  discharge_kw: discharge,
  soc_pct_end: 50,
});

const data = {
  prices: [0, 1, 2, 3].map((hour) => ({ start: slot(hour).start, end: slot(hour).end, price: 1 + hour })),
  plan: { slots: [slot(0, 11), slot(1, 5.5), slot(2, 0, 11), slot(3, 0)] },
};

test("charging rises from the zero line and discharging hangs below it, sized by power", () => {
  const s = scales(data, 400, 200);
  const boxes = barBoxes(data, s);
  assert.deepEqual(
    boxes.map((box) => [box.kind, box.kw]),
    [["charge", 11], ["charge", 5.5], ["discharge", 11]],
  );
  const [full, half, out] = boxes;
  assert.equal(full.y + full.height, s.zero);
  assert.ok(Math.abs(half.height * 2 - full.height) < 1e-9);
  assert.equal(out.y, s.zero);
  assert.equal(out.height, full.height);
  assert.ok(s.zero < s.plotBottom, "room below the zero line when the plan discharges");
});

test("slots sit side by side on the time axis, across the plot", () => {
  const s = scales(data, 400, 200);
  const boxes = barBoxes(data, s);
  assert.ok(boxes[0].x < boxes[1].x && boxes[1].x < boxes[2].x);
  assert.ok(boxes[2].x + boxes[2].width <= s.plotRight);
});

test("without discharging, charging stands on the bottom of the plot", () => {
  const charging = { ...data, plan: { slots: [slot(0, 11), slot(1, 0)] } };
  const s = scales(charging, 360, 190);
  assert.equal(s.zero, s.plotBottom);
  assert.deepEqual(barBoxes(charging, s).map((box) => box.kind), ["charge"]);
});

test("a plan that runs past the known prices marks where they end", () => {
  const s = scales(data, 400, 200);
  assert.equal(guessedFrom(data, s), null, "all four slots have prices");
  const unknown = { ...data, prices: data.prices.slice(0, 2) };
  const t = scales(unknown, 400, 200);
  assert.equal(guessedFrom(unknown, t), t.x(new Date(data.prices[1].end).getTime()));
});

test("the legend's power scale is the tallest bar: the peak charging and discharging power", () => {
  assert.deepEqual(peakPower(data), { charge: 11, discharge: 11 });
  const barsOnly = { plan: { slots: [slot(0, 7.4), slot(1, 3.7), slot(2, Number.NaN)] } };
  assert.deepEqual(peakPower(barsOnly), { charge: 7.4, discharge: 0 });
  const s = scales(barsOnly, 360, 190);
  const [tallest] = barBoxes(barsOnly, s);
  assert.ok(barBoxes(barsOnly, s).every((box) => box.height <= tallest.height));
  assert.deepEqual(peakPower({}), { charge: 0, discharge: 0 });
});
