// custom:ev-flex-card: one vehicle's smart charging at a glance, the plan against the prices,
// and its controls. The integration serves this module and adds it to every dashboard.
// The card follows the frontend's custom card interface as Home Assistant 2026.10 has it
// (setConfig, getCardSize, getGridOptions, getConfigElement, an awaited getStubConfig, and
// window.customCards for the card picker; see the frontend's get-card-stub-config.ts).
import { LitElement, html, css, nothing } from "lit";
import { chart, peakPower } from "./chart.js";
import { EvFlexCardEditor } from "./editor.js";
import {
  Formats,
  departureLine,
  displayTimeZone,
  errorMessage,
  powerKey,
  problemMessage,
  reasonSentence,
} from "./text.js";

// After the vehicle's entry unloads (a reload, say), ask again this long after.
const RESUBSCRIBE_MS = 15_000;
// States in which there is an override to cancel.
const OVERRIDES = new Set(["plan_executing_charging_now", "plan_executing_overridden", "plan_executing_discharging"]);

class EvFlexCard extends LitElement {
  static properties = {
    hass: { attribute: false },
    _config: { state: true },
    _data: { state: true },
    _problem: { state: true },
    _error: { state: true },
    _width: { state: true },
  };

  static getConfigElement() {
    return document.createElement("ev-flex-card-editor");
  }

  static async getStubConfig(hass) {
    const vehicles = await hass.callWS({ type: "ev_flex/vehicles" }).catch(() => []);
    return { device_id: vehicles[0]?.device_id ?? "" };
  }

  setConfig(config) {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    if (this._config?.device_id !== config.device_id) {
      this._unsubscribe();
      this._data = undefined;
      this._problem = config.device_id ? undefined : "no_vehicle";
    }
    this._config = { ...config };
  }

  getCardSize() {
    return 7;
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6, rows: "auto" };
  }

  connectedCallback() {
    super.connectedCallback();
    this._resize = new ResizeObserver((entries) => {
      const width = Math.floor(entries[0].contentRect.width);
      if (width > 0 && width !== this._width) this._width = width;
    });
    this.updateComplete.then(() => {
      const frame = this.renderRoot.querySelector(".frame");
      if (frame && this._resize) this._resize.observe(frame);
    });
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._resize?.disconnect();
    this._resize = undefined;
    this._unsubscribe();
  }

  // Home Assistant hands every card a new `hass` on any state change in the house; redraw only
  // when one of this vehicle's entities, the language or the theme changed.
  shouldUpdate(changed) {
    if (!changed.has("hass") || changed.size > 1) return true;
    const before = changed.get("hass");
    if (!before || !this._data?.entities || !this._subscription) return true;
    if (before.locale !== this.hass.locale || before.themes !== this.hass.themes) return true;
    return Object.values(this._data.entities).some((id) => id && before.states[id] !== this.hass.states[id]);
  }

  updated() {
    if (this.hass && this._config?.device_id && !this._subscription && this.isConnected) this._subscribe();
    const frame = this.renderRoot.querySelector(".frame");
    if (frame && this._resize && frame !== this._observed) {
      this._observed = frame;
      this._resize.observe(frame);
    }
  }

  _subscribe() {
    const deviceId = this._config.device_id;
    this._subscription = this.hass.connection
      .subscribeMessage((message) => this._received(message), { type: "ev_flex/vehicle_plan/subscribe", device_id: deviceId })
      .catch((error) => {
        this._subscription = undefined;
        this._problem = error?.code === "not_found" ? "not_found" : "unavailable";
        if (this._problem === "unavailable") this._retryLater();
        return undefined;
      });
  }

  _received(message) {
    if (message.problem === "unavailable" && !message.prices) {
      // The server ended this subscription; forget it here too, so a reconnect does not renew it.
      this._unsubscribe();
      this._problem = "unavailable";
      this._retryLater();
      return;
    }
    this._data = message;
    this._problem = message.problem || undefined;
  }

  _retryLater() {
    clearTimeout(this._retry);
    this._retry = setTimeout(() => this.requestUpdate(), RESUBSCRIBE_MS);
  }

  _unsubscribe() {
    clearTimeout(this._retry);
    const subscription = this._subscription;
    this._subscription = undefined;
    subscription?.then((unsubscribe) => unsubscribe?.()).catch(() => undefined);
  }

  _state(name) {
    const entityId = this._data?.entities?.[name];
    return entityId ? this.hass.states[entityId] : undefined;
  }

  async _call(domain, service, data) {
    this._error = undefined;
    try {
      await this.hass.callService(domain, service, data);
    } catch (error) {
      this._error = await errorMessage(this.hass, error);
    }
  }

  _toggle(name) {
    const state = this._state(name);
    if (!state) return;
    this._call("switch", state.state === "on" ? "turn_off" : "turn_on", { entity_id: state.entity_id });
  }

  _setDeparture(event) {
    const state = this._state("departure_time");
    if (state && event.target.value) this._call("time", "set_value", { entity_id: state.entity_id, time: `${event.target.value}:00` });
  }

  _setTarget(event) {
    const state = this._state("target_soc");
    const value = Number(event.target.value);
    if (state && Number.isFinite(value)) this._call("number", "set_value", { entity_id: state.entity_id, value });
  }

  _action(service) {
    this._call("ev_flex", service, { device_id: this._config.device_id });
  }

  render() {
    if (!this._config || !this.hass) return nothing;
    const data = this._data;
    const formats = new Formats(this.hass);
    const now = new Date();
    const blocking = this._problem && (!data || ["not_found", "no_vehicle", "unavailable"].includes(this._problem));
    return html`<ha-card>
      <div class="frame">
        ${data && !blocking ? this._header(data, formats, now) : html`<div class="name">${formats.t("name")}</div>`}
        ${this._problem ? html`<div class="message ${this._problem}">${problemMessage(this._problem, formats)}</div>` : nothing}
        ${data && !blocking && this._width
          ? html`<div class="chart-box">${chart(data, { width: this._width, formats, timeZone: displayTimeZone(this.hass), now })}</div>
              ${this._legend(data, formats)}`
          : nothing}
        ${data && !blocking ? this._controls(data, formats) : nothing}
        ${this._error ? html`<div class="message error">${this._error}</div>` : nothing}
      </div>
    </ha-card>`;
  }

  _header(data, formats, now) {
    const state = this._state("state");
    const words = state ? (this.hass.formatEntityState?.(state) ?? state.state) : (data.status ?? "");
    const departure = departureLine(data, formats, now);
    return html`<div class="header">
      <div class="title"><span class="name">${data.name}</span><span class="state">${words}</span></div>
      <div class="reason">${reasonSentence(data, formats, now)}</div>
      ${departure
        ? html`<div class="departure-line">
            ${departure.text}
            ${departure.short ? html`<span class="shortfall">${departure.short}</span>` : nothing}
          </div>`
        : nothing}
    </div>`;
  }

  _legend(data, formats) {
    const peak = peakPower(data);
    return html`<div class="legend">
      <span class="key price">${formats.t("price_key", { unit: `${data.currency}/kWh` })}</span>
      <span class="key charge">${powerKey(formats.t("charging"), peak.charge, formats)}</span>
      ${peak.discharge > 0 ? html`<span class="key discharge">${powerKey(formats.t("discharging"), peak.discharge, formats)}</span>` : nothing}
      <span class="key soc">${formats.t("battery_key")}</span>
    </div>`;
  }

  _switch(name, label, formats) {
    const state = this._state(name);
    if (!state) return nothing;
    const on = state.state === "on";
    return html`<button class="toggle ${on ? "on" : ""}" role="switch" aria-checked=${on ? "true" : "false"}
      ?disabled=${state.state === "unavailable"} @click=${() => this._toggle(name)}>${formats.t(on ? "switch_on" : "switch_off", { label })}</button>`;
  }

  _controls(data, formats) {
    const t = formats.t;
    const departure = this._state("departure_time");
    const target = this._state("target_soc");
    const overridden = OVERRIDES.has(data.status);
    return html`<div class="controls">
      ${this._switch("smart_charging", t("smart_charging"), formats)}
      ${data.can_discharge ? this._switch("v2g", t("v2g"), formats) : nothing}
      ${departure
        ? html`<label>${t("departure_time")} <input type="time" .value=${(departure.state || "").slice(0, 5)} @change=${this._setDeparture} /></label>`
        : nothing}
      ${target
        ? html`<label>${t("target")} <input type="number" min=${target.attributes.min ?? 10} max=${target.attributes.max ?? 100}
            step=${target.attributes.step ?? 1} .value=${String(Math.round(Number(target.state)) || "")} @change=${this._setTarget} /> %</label>`
        : nothing}
      <button class="action" @click=${() => this._action("charge_now")}>${t("charge_now")}</button>
      <button class="action" ?disabled=${!overridden} @click=${() => this._action("cancel_override")}>${t("cancel_override")}</button>
    </div>`;
  }

  static styles = css`
    :host {
      --ev-flex-price: var(--orange-color, #ff9800);
      --ev-flex-charge: var(--success-color, #43a047);
      --ev-flex-discharge: var(--purple-color, #926bc7);
      --ev-flex-soc: var(--primary-color, #03a9f4);
    }
    .frame {
      padding: 16px;
    }
    .title {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      justify-content: space-between;
      gap: 4px 12px;
    }
    .name {
      font-size: var(--ha-font-size-xl, 20px);
      color: var(--primary-text-color);
    }
    .state {
      font-weight: var(--ha-font-weight-medium, 500);
      color: var(--primary-color);
    }
    .reason,
    .departure-line {
      margin-top: 6px;
      color: var(--primary-text-color);
      line-height: 1.4;
    }
    .departure-line {
      color: var(--secondary-text-color);
    }
    .shortfall {
      color: var(--warning-color, #ffa600);
      font-weight: var(--ha-font-weight-medium, 500);
      margin-left: 4px;
    }
    .message {
      margin-top: 8px;
      padding: 8px 12px;
      border-radius: var(--ha-card-border-radius, 12px);
      background: var(--secondary-background-color);
      color: var(--primary-text-color);
    }
    .message.error,
    .message.not_found {
      color: var(--error-color, #db4437);
    }
    .chart-box {
      margin: 12px -4px 0;
      overflow: hidden;
    }
    .chart {
      display: block;
      font-size: 11px;
      font-family: inherit;
    }
    .chart .grid line {
      stroke: var(--divider-color);
      stroke-width: 1;
    }
    .chart .axis {
      fill: var(--secondary-text-color);
    }
    .chart .price {
      fill: none;
      stroke: var(--ev-flex-price);
      stroke-width: 2;
    }
    .chart rect.charge {
      fill: var(--ev-flex-charge);
      opacity: 0.75;
    }
    .chart rect.discharge {
      fill: var(--ev-flex-discharge);
      opacity: 0.75;
    }
    .chart .soc {
      fill: none;
      stroke: var(--ev-flex-soc);
      stroke-width: 2;
      stroke-dasharray: 5 3;
    }
    .chart .now line {
      stroke: var(--primary-text-color);
      stroke-width: 1;
    }
    .chart .now text,
    .chart .departure text {
      fill: var(--primary-text-color);
    }
    .chart .guessed rect {
      fill: var(--secondary-text-color);
      opacity: 0.08;
    }
    .chart .guessed text {
      fill: var(--secondary-text-color);
      font-style: italic;
    }
    .chart .departure line {
      stroke: var(--error-color, #db4437);
      stroke-dasharray: 3 3;
    }
    .chart .departure circle {
      fill: var(--ev-flex-soc);
      stroke: var(--card-background-color, #fff);
      stroke-width: 2;
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 14px;
      margin-top: 4px;
      font-size: 12px;
      color: var(--secondary-text-color);
    }
    .key::before {
      content: "";
      display: inline-block;
      width: 12px;
      height: 8px;
      margin-right: 5px;
      border-radius: 2px;
      vertical-align: middle;
    }
    .key.price::before {
      height: 2px;
      background: var(--ev-flex-price);
    }
    .key.charge::before {
      background: var(--ev-flex-charge);
    }
    .key.discharge::before {
      background: var(--ev-flex-discharge);
    }
    .key.soc::before {
      height: 0;
      border-top: 2px dashed var(--ev-flex-soc);
    }
    .controls {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
      margin-top: 14px;
      align-items: center;
    }
    button,
    input {
      font: inherit;
      color: var(--primary-text-color);
      background: var(--secondary-background-color);
      border: 1px solid var(--divider-color);
      border-radius: 18px;
      padding: 6px 12px;
    }
    input {
      border-radius: 8px;
      padding: 4px 6px;
      color-scheme: light dark;
    }
    input[type="number"] {
      width: 3.5em;
    }
    button {
      cursor: pointer;
    }
    button:disabled {
      opacity: 0.5;
      cursor: default;
    }
    button.toggle.on {
      background: var(--primary-color);
      border-color: var(--primary-color);
      color: var(--text-primary-color, #fff);
    }
    label {
      color: var(--secondary-text-color);
      display: inline-flex;
      align-items: center;
      gap: 6px;
    }
  `;
}

if (!customElements.get("ev-flex-card-editor")) customElements.define("ev-flex-card-editor", EvFlexCardEditor);
if (!customElements.get("ev-flex-card")) {
  customElements.define("ev-flex-card", EvFlexCard);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: "ev-flex-card",
    name: "EV Flex",
    description: "A car's charging plan against the prices, with its smart-charging controls.",
    preview: true,
    documentationURL: "https://github.com/ev-flex/ev-flex#the-ev-flex-card",
  });
}
