// The chart: price per slot, planned charging and discharging power, the battery level up to the
// departure, and markers for now and the departure. Plain SVG, drawn to the card's own width.
import { svg, nothing } from "lit";

const MARGIN = { left: 40, right: 34, top: 20, bottom: 22 };
const HOUR_STEPS = [1, 2, 3, 4, 6, 12, 24];
const MIN_LABEL_SPACING_PX = 44;

const time = (iso) => new Date(iso).getTime();

function localHour(date, timeZone) {
  const parts = new Intl.DateTimeFormat("en-GB", { hour: "numeric", hourCycle: "h23", timeZone }).formatToParts(date);
  return Number(parts.find((part) => part.type === "hour")?.value ?? date.getHours());
}

/** Nice round numbers for the price axis. */
export function priceTicks(low, high) {
  const span = high - low || 1;
  const raw = span / 3;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) || raw;
  const ticks = [];
  const top = Math.ceil(high / step - 1e-9);
  for (let index = Math.floor(low / step + 1e-9); index <= top; index += 1) {
    ticks.push(Number((index * step).toPrecision(12)));
  }
  return ticks;
}

/** Everything needed to place a value on the chart. */
export function scales(data, width, height) {
  const prices = data.prices || [];
  const slots = data.plan?.slots || [];
  const starts = [...prices.map((p) => time(p.start)), ...slots.map((s) => time(s.start))];
  const ends = [...prices.map((p) => time(p.end)), ...slots.map((s) => time(s.end))];
  const t0 = Math.min(...starts);
  const t1 = Math.max(...ends);
  const values = prices.map((p) => p.price);
  const ticks = priceTicks(Math.min(0, ...values), Math.max(...values, 0.01));
  const low = ticks[0];
  const high = ticks[ticks.length - 1];
  const plotRight = width - MARGIN.right;
  const plotBottom = height - MARGIN.bottom;
  const plotHeight = plotBottom - MARGIN.top;
  const discharges = slots.some((slot) => slot.discharge_kw > 0);
  const zero = discharges ? MARGIN.top + plotHeight * 0.72 : plotBottom;
  const maxKw = Math.max(...slots.map((slot) => Math.max(slot.charge_kw || 0, slot.discharge_kw || 0)), 0.1);
  return {
    t0,
    t1,
    ticks,
    plotRight,
    plotBottom,
    zero,
    x: (t) => MARGIN.left + ((t - t0) / (t1 - t0 || 1)) * (plotRight - MARGIN.left),
    price: (value) => plotBottom - ((value - low) / (high - low || 1)) * plotHeight,
    soc: (pct) => plotBottom - (pct / 100) * plotHeight,
    kw: (kw) => (kw / maxKw) * (zero - MARGIN.top) * 0.62,
  };
}

function hourTicks(s, formats, timeZone) {
  const hours = (s.t1 - s.t0) / 3_600_000;
  const perHour = (s.plotRight - MARGIN.left) / (hours || 1);
  const step = HOUR_STEPS.find((candidate) => candidate * perHour >= MIN_LABEL_SPACING_PX) || 24;
  const ticks = [];
  for (let t = Math.ceil(s.t0 / 3_600_000) * 3_600_000; t <= s.t1; t += 3_600_000) {
    const date = new Date(t);
    if (localHour(date, timeZone) % step === 0) ticks.push({ x: s.x(t), label: formats.hour(date) });
  }
  return ticks;
}

function pricePath(data, s) {
  let path = "";
  for (const slot of data.prices || []) {
    const y = s.price(slot.price);
    path += path ? ` V${y.toFixed(1)}` : `M${s.x(time(slot.start)).toFixed(1)} ${y.toFixed(1)}`;
    path += ` H${s.x(time(slot.end)).toFixed(1)}`;
  }
  return path;
}

/** The highest planned charging and discharging power (kW): the top of the bars' scale, which
 * the legend names. Zero when the plan has none. */
export function peakPower(data) {
  const slots = data.plan?.slots || [];
  const peak = (key) => Math.max(0, ...slots.map((slot) => (Number.isFinite(slot[key]) ? slot[key] : 0)));
  return { charge: peak("charge_kw"), discharge: peak("discharge_kw") };
}

/** Where each slot's planned power goes: charging rises from the zero line, discharging hangs
 * below it. Plain numbers, so they can be checked without a browser. */
export function barBoxes(data, s) {
  const boxes = [];
  for (const slot of data.plan?.slots || []) {
    const x = s.x(time(slot.start));
    const width = Math.max(1, s.x(time(slot.end)) - x - 0.5);
    if (slot.charge_kw > 0) {
      const height = s.kw(slot.charge_kw);
      boxes.push({ kind: "charge", start: slot.start, kw: slot.charge_kw, x, y: s.zero - height, width, height });
    }
    if (slot.discharge_kw > 0) {
      const height = s.kw(slot.discharge_kw);
      boxes.push({ kind: "discharge", start: slot.start, kw: slot.discharge_kw, x, y: s.zero, width, height });
    }
  }
  return boxes;
}

function powerBars(data, s) {
  return barBoxes(data, s).map(
    (box) => svg`<rect class=${box.kind} data-start=${box.start} data-kw=${box.kw}
      x=${box.x.toFixed(1)} y=${box.y.toFixed(1)} width=${box.width.toFixed(1)} height=${box.height.toFixed(1)}></rect>`,
  );
}

/** Where the known prices end, when the plan runs on past them (on prices it guessed from the day
 * before); null when every planned slot has a known price. */
export function guessedFrom(data, s) {
  const prices = data.prices || [];
  if (!prices.length) return null;
  const known = Math.max(...prices.map((slot) => time(slot.end)));
  return known < s.t1 ? s.x(known) : null;
}

function guessedPrices(data, s, formats) {
  const x = guessedFrom(data, s);
  if (x == null) return nothing;
  const width = s.plotRight - x;
  return svg`<g class="guessed">
    <rect x=${x} y=${MARGIN.top} width=${width} height=${s.plotBottom - MARGIN.top}></rect>
    ${width > 70 ? svg`<text x=${x + 4} y=${MARGIN.top + 12}>${formats.t("prices_unknown")}</text>` : nothing}
  </g>`;
}

function socPoints(data, s) {
  const slots = data.plan?.slots || [];
  if (!slots.length) return "";
  const first = data.soc_pct ?? slots[0].soc_pct_end;
  const points = [`${s.x(time(slots[0].start)).toFixed(1)},${s.soc(first).toFixed(1)}`];
  for (const slot of slots) {
    if (slot.soc_pct_end == null) continue;
    points.push(`${s.x(time(slot.end)).toFixed(1)},${s.soc(slot.soc_pct_end).toFixed(1)}`);
  }
  return points.join(" ");
}

function departureMarker(data, s, formats) {
  if (!data.departure) return nothing;
  const at = time(data.departure);
  if (at < s.t0 || at > s.t1) return nothing;
  const x = s.x(at);
  const target = data.target_soc_pct ?? data.plan?.summary?.target_soc_pct;
  const anchor = x > s.plotRight - 60 ? "end" : "middle";
  return svg`<g class="departure">
    <line x1=${x} x2=${x} y1=${MARGIN.top} y2=${s.plotBottom}></line>
    ${target == null ? nothing : svg`<circle cx=${x} cy=${s.soc(target)} r="4"></circle>`}
    <text x=${x} y=${MARGIN.top - 6} text-anchor=${anchor}>${formats.time(data.departure)}${target == null ? "" : ` · ${formats.percent(target)}`}</text>
  </g>`;
}

function nowMarker(s, now, formats) {
  const at = now.getTime();
  if (at < s.t0 || at > s.t1) return nothing;
  const x = s.x(at);
  return svg`<g class="now"><line x1=${x} x2=${x} y1=${MARGIN.top} y2=${s.plotBottom}></line>
    <text x=${x + 3} y=${s.plotBottom - 4}>${formats.t("now")}</text></g>`;
}

/** The chart's SVG for a card `width` pixels wide; nothing without prices. */
export function chart(data, { width, formats, timeZone, now = new Date() }) {
  if (!data.prices?.length && !data.plan?.slots?.length) return nothing;
  const height = width < 500 ? 190 : 230;
  const s = scales(data, width, height);
  const soc = socPoints(data, s);
  return svg`<svg class="chart" viewBox="0 0 ${width} ${height}" width=${width} height=${height} role="img"
      aria-label=${formats.t("chart_label")}>
    <g class="grid">
      ${s.ticks.map((tick) => svg`<line x1=${MARGIN.left} x2=${s.plotRight} y1=${s.price(tick)} y2=${s.price(tick)}></line>
        <text class="axis" x=${MARGIN.left - 4} y=${s.price(tick) + 3} text-anchor="end">${formats.price(tick)}</text>`)}
      ${[0, 50, 100].map((pct) => svg`<text class="axis soc-axis" x=${s.plotRight + 4} y=${s.soc(pct) + 3}>${pct}%</text>`)}
      ${hourTicks(s, formats, timeZone).map((tick) => svg`<text class="axis" x=${tick.x} y=${s.plotBottom + 15} text-anchor="middle">${tick.label}</text>`)}
    </g>
    ${guessedPrices(data, s, formats)}
    <g class="bars">${powerBars(data, s)}</g>
    <path class="price" d=${pricePath(data, s)}></path>
    ${soc ? svg`<polyline class="soc" points=${soc}></polyline>` : nothing}
    ${nowMarker(s, now, formats)}
    ${departureMarker(data, s, formats)}
  </svg>`;
}
