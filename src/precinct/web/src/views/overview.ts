// Map overview: counts by priority and unit status, and the open incidents.
import { h, clear, fmtDuration, fmtTime } from "../dom";
import { lang, t, tOr } from "../i18n";
import { PRIORITY_COLOURS, priorityOf, unitColour, unitOutOfService } from "../map";
import { latLonOf } from "../api";
import { store, subscribe, idOf, routes, incidentTypeName } from "../store";
import type { View } from "./index";
import { unavailable } from "./common";
import { reachCard } from "./reach";

export function ageSeconds(r: any): number {
  const ts = r.created_at ?? r.received_at ?? r.ts ?? r.opened_at;
  const d = ts ? new Date(ts).getTime() : NaN;
  return isNaN(d) ? NaN : (Date.now() - d) / 1000;
}

export function isOpen(r: any): boolean {
  return !/^(closed|cleared|merged|cancelled)$/i.test(String(r.status ?? r.state ?? ""));
}

/** The latest hotlist hits, each once (the stream and a reload may both bring one). */
function alertRows(): any[] {
  const seen = new Set<string>();
  const out: any[] = [];
  for (const a of store.alerts) {
    const k = String(a.id ?? a.alert_id ?? `${a.plate}|${a.camera_id}|${a.ts}`);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(a);
    if (out.length >= 10) break;
  }
  return out;
}

export const mapView: View = {
  key: "map",
  roles: ["call_taker", "dispatcher", "patrol", "analyst", "supervisor", "admin"],
  render(panel, { map }) {
    const body = h("div");
    panel.append(h("h2", t("nav.map")), reachCard(map) ?? "", body);
    const paint = () => {
      const open = [...store.incidents.values()].filter(isOpen);
      const byP: Record<string, number> = {};
      for (const r of open) byP[priorityOf(r)] = (byP[priorityOf(r)] ?? 0) + 1;
      const byS: Record<string, number> = {};
      for (const u of store.units.values()) { const s = String(u.status ?? "available"); byS[s] = (byS[s] ?? 0) + 1; }
      const top = open.sort((a, b) => Object.keys(PRIORITY_COLOURS).indexOf(priorityOf(a)) - Object.keys(PRIORITY_COLOURS).indexOf(priorityOf(b))).slice(0, 30);
      clear(body,
        !routes.incidents() ? unavailable("GET /api/v1/incidents") : null,
        h("div.stats#stats-priority", Object.keys(PRIORITY_COLOURS).map((p) =>
          h("div.stat", { dataset: { priority: p }, style: `border-color:${PRIORITY_COLOURS[p]}` }, h("b", String(byP[p] ?? 0)), h("span", t(`prio.${p}`))))),
        h("h3", t("board.units")),
        h("div.stats#stats-units", Object.entries(byS).map(([s, n]) =>
          h(unitOutOfService(s) ? "div.stat.out-of-service" : "div.stat", { dataset: { status: s },
            style: `border-color:${unitColour(s)}` }, h("b", String(n)), h("span", tOr(`status.${s}`, s))))),
        h("h3", t("board.title")),
        h("ul.incident-list", top.map((r) => h("li.clickable", {
          onclick: () => { const ll = latLonOf(r); if (ll && map) map.highlight(ll[0], ll[1]); },
        }, h("i.dot", { style: `background:${PRIORITY_COLOURS[priorityOf(r)]}` }),
          ` ${idOf(r)} · ${incidentTypeName(r, lang())} · ${fmtDuration(ageSeconds(r))}`))),
        store.alerts.length ? h("h3", t("map.alerts")) : null,
        h("ul.alert-list#alert-list", alertRows().map((a) => h("li", { dataset: { alert: String(a.id ?? a.alert_id ?? "") } },
          h("span.muted", fmtTime(a.ts ?? a.read_at ?? a.created_at)), " ", h("b", String(a.plate ?? "")),
          a.camera_id ? ` · ${t("col.camera_id")} ${a.camera_id}` : "", a.reason ? ` · ${a.reason}` : ""))));
    };
    paint();
    const offs = [subscribe("incidents", paint), subscribe("units", paint), subscribe("alerts", paint)];
    const timer = window.setInterval(paint, 5000);
    return () => { offs.forEach((f) => f()); clearInterval(timer); };
  },
};
