// Patrol and risk: risk grids, posts, zones and isochrones from the patrol routes, drawn on the map.
import { api, type Op, rowsOf } from "../api";
import { clear, h } from "../dom";
import { t } from "../i18n";
import type { LayerKey } from "../map";
import { autoCols, errorText, table, unavailable } from "./common";
import type { View } from "./index";

function layerFor(op: Op): LayerKey {
  if (/risk|grid/.test(op.path)) return "risk";
  if (/zone/.test(op.path)) return "zones";
  if (/isochron/.test(op.path)) return "isochrones";
  return "posts";
}

export const patrolView: View = {
  key: "patrol",
  roles: ["dispatcher", "patrol", "analyst", "supervisor", "admin"],
  render(panel, { map }) {
    panel.append(h("h2", t("patrol.title")));
    const ops = api.ops.filter((o) => o.method === "GET" && /^\/(patrol|city)\//.test(o.path) && !/\{/.test(o.path) && !api.isPersonal(o)
      && !/roads|network|edges|graph/.test(o.path));
    if (!ops.length) { panel.append(unavailable("/api/v1/patrol/…")); return; }
    const out = h("div#patrol-out");
    panel.append(h("div.actions", ops.map((op) => h("button", { dataset: { path: op.path }, onclick: () => show(op) }, op.spec.summary ?? op.path))), out);

    async function show(op: Op): Promise<void> {
      clear(out, h("p.muted", t("common.loading")));
      try {
        const data = await api.get(op.path);
        const key = layerFor(op);
        const rows = rowsOf(data, "cells", "posts", "zones", "grids");
        if (data?.type === "FeatureCollection" || data?.type === "Feature") map?.setGeo(key, data);
        else if (rows.length && rows[0]?.geometry) map?.setGeo(key, { type: "FeatureCollection", features: rows.map((r: any) => ({ type: "Feature", geometry: r.geometry, properties: r })) });
        else if (rows.length && map) map.setPoints(key, rows);
        const feats = data?.features ?? rows;
        const counts: Record<string, number> = {};
        for (const f of feats) { const r = String((f.properties ?? f).rating ?? (f.properties ?? f).colour ?? ""); counts[r] = (counts[r] ?? 0) + 1; }
        const flat = feats.map((f: any) => ({ ...(f.properties ?? f), geometry: undefined }));
        clear(out, key === "risk" ? h("p#risk-counts", t("patrol.counts", { r: counts.red ?? 0, y: counts.yellow ?? 0, g: counts.green ?? 0 })) : null,
          h("div.scroll", table(autoCols(flat), flat.slice(0, 300))));
      } catch (e) { clear(out, h("p.error", errorText(e))); }
    }
  },
};
