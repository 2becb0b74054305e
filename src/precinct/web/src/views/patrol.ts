// Patrol and risk (勤): the red/yellow/green risk grid rated from the open incidents, patrol posts
// (九宫格布警术: p-center / p-median / maximal covering) with before/after response times, and
// the patrol zones of those posts, all drawn on the map. Other patrol routes are listed.
import { api, latLonOf } from "../api";
import { clear, field, fmtDuration, h, toast } from "../dom";
import { t } from "../i18n";
import { store } from "../store";
import { errorText, unavailable } from "./common";
import type { View } from "./index";

function demand(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const r of store.incidents.values()) {
    const ll = latLonOf(r);
    if (ll) out.push({ lat: ll[0], lon: ll[1], priority: r.priority ?? null, ts: r.created_at ?? null });
  }
  return out;
}

function stat(o: any, k: string): string {
  const v = o?.[k];
  return typeof v === "number" ? fmtDuration(v) : "–";
}

export const patrolView: View = {
  key: "patrol",
  roles: ["dispatcher", "analyst", "supervisor", "admin"],
  render(panel, { map }) {
    panel.append(h("h2", t("patrol.title")));
    const riskOp = api.find("POST", "/patrol/risk-grid");
    const postsOp = api.find("POST", "/patrol/posts");
    const zonesOp = api.find("POST", "/patrol/zones");
    if (!riskOp && !postsOp) { panel.append(unavailable("/api/v1/patrol/…")); return; }
    const out = h("div#patrol-out");
    let lastPosts: { lat: number; lon: number }[] = [];

    const nPosts = h("input#posts-n", { type: "number", min: 1, max: 500, value: 9 }) as HTMLInputElement;
    const objective = h("select#posts-objective", ["pcenter", "pmedian", "mclp"].map((o) =>
      h("option", { value: o }, t(`patrol.obj.${o}`)))) as HTMLSelectElement;
    const minutes = h("input#posts-minutes", { type: "number", min: 1, max: 240, value: 5 }) as HTMLInputElement;

    async function risk(): Promise<void> {
      const pts = demand();
      if (!pts.length) { toast(t("patrol.noDemand"), "error"); return; }
      clear(out, h("p.muted", t("common.loading")));
      try {
        const res = await api.post(riskOp!.path, { incidents: pts });
        if (res.geojson && map) map.setGeo("risk", res.geojson);
        const c = res.counts ?? {};
        clear(out, h("p#risk-counts", t("patrol.counts", { r: c.red ?? 0, y: c.yellow ?? 0, g: c.green ?? 0 })),
          h("p.muted", t("patrol.changes", { n: Array.isArray(res.changes) ? res.changes.length : 0 })));
      } catch (e) { clear(out, h("p.error", errorText(e))); }
    }

    async function posts(): Promise<void> {
      const pts = demand();
      if (!pts.length) { toast(t("patrol.noDemand"), "error"); return; }
      clear(out, h("p.muted", t("common.loading")));
      try {
        const body: Record<string, unknown> = { demand: pts, posts: Number(nPosts.value || 9), objective: objective.value };
        if (objective.value === "mclp") body.minutes = Number(minutes.value || 5);
        const res = await api.post(postsOp!.path, body);
        lastPosts = (res.posts ?? []).map((p: any) => latLonOf(p)).filter(Boolean).map((ll: [number, number]) => ({ lat: ll[0], lon: ll[1] }));
        if (res.geojson && map) map.setGeo("posts", res.geojson);
        const before = res.before ?? {};
        clear(out, h("table.grid#posts-summary",
          h("thead", h("tr", h("th", ""), h("th", t("patrol.max")), h("th", "p90"), h("th", t("patrol.mean")))),
          h("tbody",
            h("tr", h("td", t("patrol.after")), h("td", stat(res, "max_response_s")), h("td", stat(res, "p90_response_s")), h("td", stat(res, "mean_response_s"))),
            Object.keys(before).length ? h("tr", h("td", t("patrol.before")), h("td", stat(before, "max_response_s") !== "–" ? stat(before, "max_response_s") : stat(before, "max_s")),
              h("td", stat(before, "p90_response_s") !== "–" ? stat(before, "p90_response_s") : stat(before, "p90_s")),
              h("td", stat(before, "mean_response_s") !== "–" ? stat(before, "mean_response_s") : stat(before, "mean_s"))) : null)),
          // A plan stopped by the time limit is shown as such, with its proven gap (never as "optimal").
          res.optimal === false
            ? h("p.error#posts-proof", { "data-optimal": "false" },
                `${t("patrol.notOptimal")} — ${t("patrol.gap")}: ${typeof res.gap === "number" ? (res.gap * 100).toFixed(2) + " %" : "–"}`)
            : h("p.muted#posts-proof", { "data-optimal": "true" }, t("patrol.optimal")),
          zonesOp && lastPosts.length ? h("button#zones-run", { onclick: zones }, t("patrol.zones")) : null);
      } catch (e) { clear(out, h("p.error", errorText(e))); }
    }

    async function zones(): Promise<void> {
      try {
        const res = await api.post(zonesOp!.path, { posts: lastPosts, segments: true });
        if (res.geojson && map) map.setGeo("zones", res.geojson);
        else if (res.type === "FeatureCollection" && map) map.setGeo("zones", res);
        toast(t("patrol.zonesDone"), "ok");
        // The zones overlay can be hidden and shown again without planning anew.
        if (map && !out.querySelector("#zones-toggle")) {
          const btn = h("button#zones-toggle", { type: "button", onclick: () => {
            const on = !map.enabled("zones");
            map.setEnabled("zones", on);
            btn.textContent = on ? t("patrol.hideZones") : t("patrol.showZones");
            map.renderPanel();
          } }, map.enabled("zones") ? t("patrol.hideZones") : t("patrol.showZones"));
          out.append(btn);
        }
      } catch (e) { toast(errorText(e), "error"); }
    }

    const others = api.ops.filter((o) => o.path.startsWith("/patrol/") &&
      !["/patrol/risk-grid", "/patrol/posts", "/patrol/zones"].includes(o.path));
    const cards: HTMLElement[] = [];
    if (riskOp) cards.push(h("div.card", h("h3", t("patrol.riskGrid")), h("p.muted", t("patrol.riskHint")),
      h("button.primary#risk-run", { onclick: risk }, t("patrol.rate"))));
    if (postsOp) cards.push(h("div.card", h("h3", t("patrol.posts")),
      h("div.row", field(t("patrol.nPosts"), nPosts), field(t("patrol.objective"), objective), field(t("patrol.minutes"), minutes)),
      h("button.primary#posts-run", { onclick: posts }, t("patrol.plan"))));
    cards.push(out);
    if (others.length) cards.push(h("p.small.muted", t("patrol.more"), " ", others.map((o) => `${o.method} ${o.path}`).join(" · ")));
    panel.append(...cards);
  },
};
