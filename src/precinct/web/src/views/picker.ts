// A point chosen on the map (or typed): two inputs and a "pick on map" button.
import { h } from "../dom";
import { t } from "../i18n";
import type { OpsMap } from "../map";

export interface PointPicker {
  el: HTMLElement;
  get(): [number, number] | null;
  set(lat: number, lon: number): void;
}

export function pointPicker(map: OpsMap | null, prefix: string, label: string, onPick?: () => void): PointPicker {
  const lat = h(`input#${prefix}-lat`, { type: "number", step: "any", min: -90, max: 90, placeholder: "lat" }) as HTMLInputElement;
  const lon = h(`input#${prefix}-lon`, { type: "number", step: "any", min: -180, max: 180, placeholder: "lon" }) as HTMLInputElement;
  const set = (la: number, lo: number) => { lat.value = String(la); lon.value = String(lo); };
  const pick = map ? h(`button#${prefix}-pick`, { type: "button", onclick: () => map.pick((la, lo) => { set(la, lo); onPick?.(); }) },
    t("common.pickOnMap")) : null;
  const el = h("div.field", h("span.label", label), h("div.row", lat, lon, pick));
  return {
    el, set,
    get: () => {
      const la = Number(lat.value), lo = Number(lon.value);
      if (lat.value.trim() === "" || lon.value.trim() === "" || !isFinite(la) || !isFinite(lo)) return null;
      if (Math.abs(la) > 90 || Math.abs(lo) > 180) return null;
      return [la, lo];
    },
  };
}

/** Minutes before now, as ISO 8601 (UTC). */
export function minutesAgoIso(minutes: number, now = Date.now()): string {
  return new Date(now - minutes * 60_000).toISOString();
}
