// The card's editor: one choice, the vehicle.
import { LitElement, html, css } from "lit";
import { translator } from "./words.js";

export class EvFlexCardEditor extends LitElement {
  static properties = {
    hass: { attribute: false },
    _config: { state: true },
    _vehicles: { state: true },
  };

  setConfig(config) {
    this._config = config;
  }

  updated() {
    if (this.hass && this._vehicles === undefined) {
      this._vehicles = null;
      this.hass
        .callWS({ type: "ev_flex/vehicles" })
        .then((vehicles) => (this._vehicles = vehicles))
        .catch(() => (this._vehicles = []));
    }
  }

  _schema() {
    const options = (this._vehicles || []).map((vehicle) => ({ value: vehicle.device_id, label: vehicle.name }));
    return [{ name: "device_id", required: true, selector: { select: { mode: "dropdown", options } } }];
  }

  _changed(event) {
    const config = { ...this._config, ...event.detail.value };
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }

  render() {
    if (!this.hass || !this._config) return html``;
    const t = translator(this.hass.locale?.language || this.hass.language);
    if (Array.isArray(this._vehicles) && !this._vehicles.length) {
      return html`<p class="empty">${t("no_vehicles")}</p>`;
    }
    return html`<ha-form
      .hass=${this.hass}
      .data=${this._config}
      .schema=${this._schema()}
      .computeLabel=${() => t("vehicle")}
      @value-changed=${this._changed}
    ></ha-form>`;
  }

  static styles = css`
    .empty {
      color: var(--secondary-text-color);
    }
  `;
}
