// Isochrones on the map: bands of the area reachable from a point within T minutes, driving or
// walking (GET /api/v1/map/isochrone, computed on Precinct's own road graph).
import { api } from "../api";
import { clear, field, h } from "../dom";
import { t } from "../i18n";
import type { OpsMap } from "../map";
import { errorText, table } from "./common";
import { pointPicker } from "./picker";

const MAX_MIN: Record<string, number> = { drive: 60, walk: 240 };

/** Parse "5, 10, 15" into sorted distinct minutes, or null when any value is out of range. */
export function parseMinutes(text: string, max: number): number[] | null {
  const parts = text.split(/[,，\s]+/).filter(Boolean);
  const vals = parts.map(Number);
  if (!vals.length || vals.length > 6 || vals.some((v) => !isFinite(v) || v <= 0 || v > max)) return null;
  return [...new Set(vals)].sort((a, b) => a - b);
}

export function reachCard(map: OpsMap | null): HTMLElement | null {
  const op = api.find("GET", "/map/isochrone");
  if (!op || !map) return null;
  const point = pointPicker(map, "reach", t("common.pickOnMap"));
  const minutes = h("input#reach-minutes", { value: "5, 10, 15" }) as HTMLInputElement;
  const mode = h("select#reach-mode", ["drive", "walk"].map((m) => h("option", { value: m }, t(`reach.mode.${m}`)))) as HTMLSelectElement;
  const out = h("div#reach-out");
  const run = async () => {
    const ll = point.get();
    if (!ll) { clear(out, h("p.error", t("reach.noPoint"))); return; }
    const mins = parseMinutes(minutes.value, MAX_MIN[mode.value]);
    if (!mins) { clear(out, h("p.error#reach-error", t("reach.bad", { max: MAX_MIN[mode.value] }))); return; }
    const qs = new URLSearchParams({ lat: String(ll[0]), lon: String(ll[1]), mode: mode.value });
    for (const m of mins) qs.append("seconds", String(Math.round(m * 60)));
    clear(out, h("p.muted", t("common.loading")));
    try {
      const res = await api.get(`${op.path}?${qs}`);
      map.setGeo("isochrones", res, mins);
      map.fitTo("isochrones");
      const rows = [...(res.features ?? [])].reverse().map((f: any) => f.properties);
      clear(out, table([
        { key: "minutes", label: t("reach.colMinutes"), render: (p) => t("reach.band", { m: p.minutes }) },
        { key: "area_km2", label: t("reach.area"), render: (p) => Number(p.area_km2).toFixed(2) },
      ], rows, { id: "reach-table" }));
    } catch (e) { clear(out, h("p.error#reach-error", errorText(e))); }
  };
  return h("div.card#reach-card", h("h3", t("reach.title")), h("p.muted.small", t("reach.hint")),
    point.el,
    h("div.row", field(t("reach.minutes"), minutes), field(t("reach.mode"), mode)),
    h("div.actions", h("button.primary#reach-run", { onclick: run }, t("reach.run")),
      h("button#reach-clear", { onclick: () => { map.setGeo("isochrones", { type: "FeatureCollection", features: [] }); clear(out); } },
        t("reach.clear"))),
    out);
}
