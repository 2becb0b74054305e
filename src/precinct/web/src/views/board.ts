// The dispatcher's board: open incidents with timers, recommended units with travel times,
// one-click dispatch, state transitions, unit status.
import { api, latLonOf, rowsOf, str, num } from "../api";
import { clear, fmtDuration, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";
import { PRIORITY_COLOURS, priorityOf, unitColour, unitOutOfService } from "../map";
import { buildBody } from "../schema";
import { idOf, refreshAll, routes, store, subscribe, incidentTypeName } from "../store";
import { errorText, table, unavailable, uuid } from "./common";
import type { View } from "./index";
import { ageSeconds, isOpen } from "./overview";

// Fallback response targets (seconds) by priority when the server does not send one.
const TARGET_S: Record<string, number> = { red: 5 * 60, orange: 10 * 60, yellow: 20 * 60, blue: 45 * 60, green: 120 * 60 };
const ORDER = Object.keys(PRIORITY_COLOURS);

export function targetOf(r: any): number {
  const tm = r.timers ?? {};
  const fromServer = r.dispatched_at ? num(tm, "arrival_target_s") : num(tm, "dispatch_target_s");
  return fromServer ?? num(r, "target_s", "target_seconds", "response_target_s") ?? TARGET_S[priorityOf(r)];
}

export function overdue(r: any): boolean {
  if (typeof r.timers?.overdue === "boolean") return r.timers.overdue;
  if (typeof r.overdue === "boolean") return r.overdue;
  const due = r.due_at ?? r.deadline;
  if (due) return new Date(due).getTime() < Date.now();
  return ageSeconds(r) > targetOf(r) && /^(new|open|pending|received)$/i.test(String(r.status ?? r.state ?? "new"));
}

export const boardView: View = {
  key: "board",
  roles: ["dispatcher", "supervisor"],
  render(panel, { map }) {
    panel.append(h("h2", t("board.title")));
    if (!routes.incidents()) { panel.append(unavailable("GET /api/v1/incidents")); return; }
    const listBox = h("div#board-incidents");
    const detail = h("div.detail#board-detail", h("p.muted", t("board.select")));
    const unitsBox = h("div#board-units");
    panel.append(listBox, detail, h("h3", t("board.units")), unitsBox);
    let selected: string | null = null;

    const recOp = api.find("GET", /^\/incidents\/\{[^}]+\}\/recommend/);
    const dispatchOp = api.find("POST", /^\/incidents\/\{[^}]+\}\/dispatch/, /^\/dispatch(es)?\/?$/, /^\/dispatch\//);
    // Per-unit steps (acknowledge, arrive, clear) and closing with a disposition.
    const unitSteps = api.findAll("POST", /^\/incidents\/\{[^}]+\}\/(acknowledge|arrive|clear)$/);
    const closeOp = api.find("POST", /^\/incidents\/\{[^}]+\}\/close$/);
    const getOp = api.find("GET", /^\/incidents\/\{[^}/]+\}$/);

    function paintList(): void {
      const open = [...store.incidents.values()].filter(isOpen).sort((a, b) =>
        ORDER.indexOf(priorityOf(a)) - ORDER.indexOf(priorityOf(b)) || ageSeconds(b) - ageSeconds(a));
      clear(listBox, table([
        { key: "priority", label: t("col.priority"), render: (r) => h("span.prio", { style: `background:${PRIORITY_COLOURS[priorityOf(r)]}` }, t(`prio.${priorityOf(r)}`)) },
        { key: "id", label: t("col.id"), render: (r) => idOf(r) },
        { key: "type", label: t("col.type"), render: (r) => incidentTypeName(r, lang()) },
        { key: "status", label: t("col.status"), render: (r) => tOr(`status.${r.status ?? r.state}`, String(r.status ?? r.state ?? "")) },
        { key: "age", label: t("board.age"), render: (r) => h("span.timer", { dataset: { since: String(r.created_at ?? r.received_at ?? r.ts ?? "") } }, fmtDuration(ageSeconds(r))) },
        { key: "target", label: t("board.target"), render: (r) => fmtDuration(targetOf(r)) },
      ], open.slice(0, 300), {
        id: "incident-table",
        rowClass: (r) => [overdue(r) ? "overdue" : "", idOf(r) === selected ? "selected" : ""].join(" "),
        onRow: (r) => select(idOf(r)),
      }));
    }

    function tick(): void {
      listBox.querySelectorAll<HTMLElement>(".timer").forEach((el) => {
        const since = new Date(el.dataset.since ?? "").getTime();
        if (!isNaN(since)) el.textContent = fmtDuration((Date.now() - since) / 1000);
      });
    }

    async function select(id: string): Promise<void> {
      selected = id;
      paintList();
      let inc = store.incidents.get(id);
      if (!inc) return;
      if (getOp && !inc.units) {
        try { inc = { ...inc, ...(await api.get(getOp.path.replace(/\{[^}]+\}/, encodeURIComponent(id)))) }; } catch { /* list data will do */ }
      }
      if (selected !== id || !inc) return;
      const units: any[] = Array.isArray(inc.units) ? inc.units : [];
      const ll = latLonOf(inc);
      if (ll && map) map.highlight(ll[0], ll[1]);
      clear(detail, h("h3", `${t("map.incidents")} ${id} · ${incidentTypeName(inc, lang())}`),
        h("p.muted", `${t(`prio.${priorityOf(inc)}`)} · ${tOr(`status.${inc.status}`, String(inc.status ?? ""))}` +
          (inc.address ? ` · ${inc.address}` : "") + (inc.summary || inc.description ? ` · ${inc.summary ?? inc.description}` : "")),
        units.length ? table([
          { key: "unit", label: t("col.unit"), render: (a) => String(a.unit_id ?? "") },
          { key: "status", label: t("col.status"), render: (a) => tOr(`status.${a.status}`, String(a.status ?? "")) },
          { key: "eta", label: t("board.eta"), render: (a) => fmtDuration(num(a, "eta_s") ?? NaN) },
          { key: "steps", label: "", render: (a) => h("span", unitSteps.map((op) => {
            const verb = op.path.split("/").pop()!;
            return h("button.small", { dataset: { step: verb, unit: String(a.unit_id) },
              onclick: (e: Event) => { e.stopPropagation(); void step(op.path, id, String(a.unit_id)); } }, t(`step.${verb}`));
          })) },
        ], units, { id: "assigned-units" }) : null,
        closeOp && /cleared|new/.test(String(inc.status)) ? h("div.actions",
          h("select#close-disposition", ["resolved", "no_crime", "referred", "false_alarm"].map((d) => h("option", { value: d }, t(`disp.${d}`)))),
          h("button.small#close-incident", { onclick: () => close(id) }, t("step.close"))) : null,
        h("h3", t("board.recommend")),
        recOp ? h("p.muted#recs-loading", t("common.loading")) : unavailable("GET /incidents/{id}/recommendations"));
      if (!recOp) return;
      try {
        const data = await api.get(recOp.path.replace(/\{[^}]+\}/, encodeURIComponent(id)));
        if (selected !== id) return;
        const recs = rowsOf(data, "recommendations");
        detail.querySelector("#recs-loading")?.remove();
        detail.querySelector("#response-plan")?.remove();
        detail.querySelector("#recommendations")?.remove();
        detail.querySelector("#recs-empty")?.remove();
        const plan = planBox(data);
        if (plan) detail.appendChild(plan);
        detail.appendChild(recs.length ? table([
          { key: "unit", label: t("col.unit"), render: (r) => str(r, "callsign", "call_sign", "unit_name", "unit_id", "id") ?? "" },
          { key: "kind", label: t("col.type"), render: (r) => tOr(`ut.${str(r, "unit_type", "kind", "type")}`, str(r, "unit_type", "kind", "type") ?? "") },
          { key: "eta", label: t("board.eta"), render: (r) => fmtDuration(num(r, "eta_s", "travel_time_s", "time_s") ?? NaN) },
          { key: "dispatch", label: "", render: (r) => dispatchOp ? h("button.primary.small.dispatch", {
            dataset: { unit: String(str(r, "unit_id", "id")) },
            onclick: (e: Event) => { e.stopPropagation(); void dispatch(id, String(str(r, "unit_id", "id")), e.target as HTMLButtonElement); },
          }, t("board.dispatch")) : "" },
        ], recs, { id: "recommendations" }) : h("p.muted#recs-empty", t("board.noRecs")));
      } catch (e) {
        detail.querySelector("#recs-loading")?.replaceWith(h("p.error", errorText(e)));
      }
    }

    async function dispatch(incidentId: string, unitId: string, btn: HTMLButtonElement): Promise<void> {
      if (!dispatchOp) return;
      btn.disabled = true;
      try {
        const path = dispatchOp.path.replace(/\{[^}]+\}/, encodeURIComponent(incidentId));
        await api.post(path, buildBody(dispatchOp, { unit_id: unitId, unit_ids: [unitId], units: [unitId], incident_id: incidentId }),
          { idempotencyKey: uuid() });
        toast(t("board.dispatched", { unit: unitId, id: incidentId }), "ok");
        await refreshAll();
        void select(incidentId);
      } catch (e) {
        if ((e as { status?: number }).status === 409) {
          // The recommendation went stale (the unit was taken, the incident changed): say so in
          // words and show the current list.
          toast(t("board.stale", { unit: unitId, why: (e as Error).message }), "error");
          await refreshAll();
          if (selected === incidentId) await select(incidentId);
          detail.querySelector("#recs-stale")?.remove();
          detail.querySelector("#response-plan, #recommendations, #recs-empty")?.before(
            h("p.error#recs-stale", t("board.stale", { unit: unitId, why: (e as Error).message })));
          return;
        }
        toast(errorText(e), "error");
        btn.disabled = false;
      }
    }

    function planBox(data: any): HTMLElement | null {
      const plan: any[] = Array.isArray(data?.plan) ? data.plan : [];
      if (!plan.length && data?.response_level === undefined) return null;
      const met = data.meets_arrival_target;
      const short = plan.reduce((n, p) => n + (Number(p.short) || 0), 0);
      return h("div.plan#response-plan", { dataset: { met: String(!!met), short: String(short) } },
        h("h4", t("board.plan")),
        h("p", t("board.planLevel", { level: String(data.response_level_name ?? data.response_level ?? "–"),
          target: fmtDuration(Number(data.arrival_target_s)) }), " · ",
          h("b", { class: met ? "ok" : "error" }, met ? t("board.targetMet") : t("board.targetMissed"))),
        plan.length ? table([
          { key: "unit_type", label: t("col.type"), render: (p) => tOr(`ut.${p.unit_type}`, String(p.unit_type ?? "")) },
          { key: "needed", label: t("board.needed"), render: (p) => String(p.needed ?? "") },
          { key: "assigned", label: t("board.assigned"), render: (p) => String(p.assigned ?? "") },
          { key: "suggested", label: t("board.suggested"), render: (p) => (p.suggested ?? []).join(", ") },
          { key: "short", label: t("board.short"), render: (p) => Number(p.short) ? h("b.error", String(p.short)) : "0" },
        ], plan, { id: "plan-table" }) : null,
        short ? h("p.error#plan-short", t("board.shortfall", { n: short })) : null);
    }

    async function step(path: string, id: string, unitId: string): Promise<void> {
      try {
        await api.post(path.replace(/\{[^}]+\}/, encodeURIComponent(id)), { unit_id: unitId }, { idempotencyKey: uuid() });
        await refreshAll();
        void select(id);
      } catch (e) { toast(errorText(e), "error"); }
    }

    async function close(id: string): Promise<void> {
      if (!closeOp) return;
      const disposition = (detail.querySelector("#close-disposition") as HTMLSelectElement | null)?.value ?? "resolved";
      try {
        await api.post(closeOp.path.replace(/\{[^}]+\}/, encodeURIComponent(id)), buildBody(closeOp, { disposition, notes: "" }));
        await refreshAll();
        selected = null;
        clear(detail, h("p.muted", t("board.select")));
      } catch (e) { toast(errorText(e), "error"); }
    }

    function paintUnits(): void {
      const units = [...store.units.values()];
      clear(unitsBox, routes.units() ? table([
        { key: "unit", label: t("col.unit"), render: (r) => str(r, "callsign", "call_sign", "name", "unit_id", "id") ?? "" },
        { key: "kind", label: t("col.type"), render: (r) => tOr(`ut.${str(r, "unit_type", "kind", "type")}`, str(r, "unit_type", "kind", "type") ?? "") },
        { key: "status", label: t("col.status"), render: (r) => h("span.status", { style: `color:${unitColour(r.status)}`, dataset: { status: String(r.status ?? "") } },
          unitOutOfService(r.status) ? "✕ " : "■ ", tOr(`status.${r.status}`, String(r.status ?? ""))) },
        { key: "incident", label: t("map.incidents"), render: (r) => str(r, "incident_id", "assignment") ?? "" },
      ], units.slice(0, 500), {
        id: "unit-table",
        rowClass: (r) => unitOutOfService(r.status) ? "out-of-service" : "",
        onRow: (r) => { const ll = latLonOf(r); if (ll && map) map.highlight(ll[0], ll[1]); },
      }) : unavailable("GET /api/v1/units"));
    }

    paintList();
    paintUnits();
    if (map) map.onSelect = (kind, row) => { if (kind === "incidents") void select(idOf(row)); };
    const offs = [subscribe("incidents", () => { paintList(); }), subscribe("units", paintUnits)];
    const timer = window.setInterval(tick, 1000);
    return () => { offs.forEach((f) => f()); clearInterval(timer); if (map) map.onSelect = null; };
  },
};
