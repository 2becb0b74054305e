// Checkpoints for a fleeing suspect (设卡盘查、群狼合围): from the last sighting, checkpoints on
// the escape routes that an available unit reaches before the suspect can, drawn on the map with
// the units sent to them, then issued as one order per unit in one click (一键下达).
import L from "leaflet";
import { api, latLonOf, str } from "../api";
import { clear, field, fmtDuration, fmtTime, h, toast } from "../dom";
import { lang, t } from "../i18n";
import { priorityOf, PRIORITY_COLOURS } from "../map";
import { callsignOf, idOf, incidentTypeName, type Row, store, subscribe } from "../store";
import { errorText, table, unavailable } from "./common";
import type { View } from "./index";
import { isOpen, ageSeconds } from "./overview";
import { minutesAgoIso, pointPicker } from "./picker";

function availableUnits(): { id: string; lat: number; lon: number }[] {
  const out: { id: string; lat: number; lon: number }[] = [];
  for (const u of store.units.values()) {
    if (String(u.status ?? "available").toLowerCase() !== "available") continue;
    const ll = latLonOf(u);
    const id = str(u, "id", "unit_id");
    if (ll && id) out.push({ id, lat: ll[0], lon: ll[1] });
  }
  return out;
}

const pct = (v: unknown) => (typeof v === "number" ? (100 * v).toFixed(0) : "–");

export const pursuitView: View = {
  key: "pursuit",
  roles: ["dispatcher", "supervisor", "admin"],
  render(panel, { map }) {
    panel.append(h("h2", t("pursuit.title")));
    const op = api.find("POST", "/patrol/checkpoints");
    if (!op) { panel.append(unavailable("POST /api/v1/patrol/checkpoints")); return; }
    const point = pointPicker(map, "pursuit", t("pursuit.lastSeen"));
    const incident = h("select#pursuit-incident") as HTMLSelectElement;
    const ago = h("input#pursuit-ago", { type: "number", min: 0, max: 600, step: "any", value: 3 }) as HTMLInputElement;
    const mode = h("select#pursuit-mode", ["vehicle", "foot"].map((m) => h("option", { value: m }, t(`pursuit.mode.${m}`)))) as HTMLSelectElement;
    const heading = h("input#pursuit-heading", { type: "number", min: 0, max: 359, step: "any" }) as HTMLInputElement;
    const k = h("input#pursuit-k", { type: "number", min: 1, max: 100, value: 6 }) as HTMLInputElement;
    const horizon = h("input#pursuit-horizon", { type: "number", min: 1, max: 120, value: 15 }) as HTMLInputElement;
    const deadline = h("input#pursuit-deadline", { type: "number", min: 1, max: 120, value: 5 }) as HTMLInputElement;
    const unitsNote = h("p.small.muted#pursuit-units");
    const out = h("div#pursuit-out");
    const planBtn = h("button.primary#pursuit-plan", { onclick: () => void plan(false) }, t("pursuit.plan")) as HTMLButtonElement;
    const issueBtn = h("button#pursuit-issue", { disabled: true, onclick: () => void plan(true) }, t("pursuit.issue")) as HTMLButtonElement;
    let lastBody: Record<string, unknown> | null = null;

    const fillIncidents = () => {
      const keep = incident.value;
      const open = [...store.incidents.values()].filter(isOpen)
        .sort((a, b) => Object.keys(PRIORITY_COLOURS).indexOf(priorityOf(a)) - Object.keys(PRIORITY_COLOURS).indexOf(priorityOf(b)))
        .slice(0, 200);
      clear(incident, h("option", { value: "" }, t("pursuit.noIncident")),
        open.map((r) => h("option", { value: idOf(r) }, `${idOf(r)} · ${incidentTypeName(r, lang())} · ${t(`prio.${priorityOf(r)}`)}`)));
      incident.value = open.some((r) => idOf(r) === keep) ? keep : "";
      unitsNote.textContent = t("pursuit.units", { n: availableUnits().length });
    };
    incident.addEventListener("change", () => {
      const r: Row | undefined = store.incidents.get(incident.value);
      const ll = r ? latLonOf(r) : null;
      if (!r || !ll) return;
      point.set(ll[0], ll[1]);
      const age = ageSeconds(r);
      if (isFinite(age)) ago.value = String(Math.max(0, Math.round(age / 6) / 10));
      map?.highlight(ll[0], ll[1]);
    });
    fillIncidents();
    const offs = [subscribe("incidents", fillIncidents), subscribe("units", fillIncidents)];

    async function plan(issue: boolean): Promise<void> {
      let body: Record<string, unknown>;
      if (issue && lastBody) body = { ...lastBody, issue: true };
      else {
        const ll = point.get();
        if (!ll) { clear(out, h("p.error#pursuit-error", t("pursuit.noPoint"))); return; }
        const units = availableUnits();
        if (!units.length) { clear(out, h("p.error#pursuit-error", t("pursuit.noUnits"))); return; }
        const now = Date.now();
        body = {
          lat: ll[0], lon: ll[1], seen_at: minutesAgoIso(Number(ago.value || 0), now), now: new Date(now).toISOString(),
          units, k: Number(k.value || 6), mode: mode.value, horizon_min: Number(horizon.value || 15),
          deadline_min: Number(deadline.value || 5), issue: false,
        };
        if (heading.value.trim() !== "") body.heading_deg = Number(heading.value);
        if (incident.value) body.incident_id = incident.value;
      }
      planBtn.disabled = issueBtn.disabled = true;
      clear(out, h("p.muted", t("common.loading")));
      try {
        const res = await api.post(op!.path, body);
        // Only a plan with checkpoints can be issued (the server refuses an empty one too).
        if (!issue) lastBody = (res?.checkpoints ?? []).length ? body : null;
        show(res, body);
        if (issue) {
          const ids: string[] = res.order_ids ?? [];
          out.prepend(h("p.ok#pursuit-issued", { dataset: { orders: ids.join(",") } }, t("pursuit.issued", { n: ids.length, ids: ids.join(", ") }), " ",
            h("a", { href: "#/orders" }, t("nav.orders"))));
          toast(t("pursuit.issued", { n: ids.length, ids: "" }), "ok");
          lastBody = null;
        }
      } catch (e) {
        clear(out, h("p.error#pursuit-error", errorText(e)));
      } finally {
        planBtn.disabled = false;
        issueBtn.disabled = !lastBody;
      }
    }

    function show(res: any, body: Record<string, unknown>): void {
      const cps: any[] = res.checkpoints ?? [];
      const units = new Map((body.units as { id: string; lat: number; lon: number }[]).map((u) => [u.id, u]));
      const lines: L.Layer[] = [];
      for (const c of cps) {
        const u = units.get(String(c.unit_id));
        if (u) lines.push(L.polyline([[u.lat, u.lon], [c.lat, c.lon]], { pane: "geoPoints", renderer: map?.panes.points, color: "#dc2626", weight: 2, dashArray: "6 5", opacity: 0.9 }));
      }
      if (map) { map.setGeo("checkpoints", res.geojson ?? { type: "FeatureCollection", features: [] }, [], lines); map.fitTo("checkpoints"); }
      const ev = res.evaluation;
      clear(out,
        h("p#pursuit-summary", t("pursuit.summary", { n: cps.length, c: pct(res.covered_share), e: res.exits ?? "–",
          s: res.status ?? "–", t: fmtDuration(Number(res.elapsed_s)) })),
        ev ? h("p.small#pursuit-evaluation", t("pursuit.evaluation", { ours: pct(ev.intercepted_share), base: pct(ev.nearest_junction_share) })) : null,
        cps.length ? table([
          { key: "n", label: "#", render: (c) => String(cps.indexOf(c) + 1) },
          { key: "unit_id", label: t("col.unit"), render: (c) => h("span", { dataset: { unit: String(c.unit_id) }, title: String(c.unit_id) }, callsignOf(c.unit_id)) },
          { key: "ready_at", label: t("pursuit.readyAt"), render: (c) => fmtTime(c.ready_at) },
          { key: "suspect_earliest_at", label: t("pursuit.suspectAt"), render: (c) => fmtTime(c.suspect_earliest_at) },
          { key: "margin_s", label: t("pursuit.margin"), render: (c) => fmtDuration(Number(c.margin_s)) },
          { key: "route_share", label: t("pursuit.share"), render: (c) => `${pct(c.route_share)}%` },
        ], cps, { id: "checkpoint-table", onRow: (c) => map?.highlight(c.lat, c.lon) })
          : h("div", h("p.error", t("pursuit.none")), h("p.muted#pursuit-nothing", t("pursuit.nothingToIssue"))));
    }

    panel.append(h("p.muted.small", t("pursuit.hint")),
      field(t("pursuit.fromIncident"), incident),
      point.el,
      h("div.row", field(t("pursuit.minutesAgo"), ago), field(t("pursuit.mode"), mode), field(t("pursuit.heading"), heading)),
      h("div.row", field(t("pursuit.k"), k), field(t("pursuit.horizon"), horizon), field(t("pursuit.deadline"), deadline)),
      unitsNote,
      h("div.actions", planBtn, issueBtn),
      out);
    return () => offs.forEach((f) => f());
  },
};
