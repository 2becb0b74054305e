// The supervisor's view: overdue incidents and orders, and the audit chain at a glance. On each
// overdue item the supervisor acts (issue 21): remind an order's silent recipients (催办; when and
// by whom the last reminder went is shown), reassign an order's silent recipient or an incident's
// late unit (改派), open the incident on the board. The server checks every rule (core/policy.py).
import { api, latLonOf, rowsOf } from "../api";
import { clear, field, fmtDuration, fmtTime, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";
import { PRIORITY_COLOURS, priorityOf } from "../map";
import { applyEvent, callsignOf, idOf, routes, store, subscribe, incidentTypeName } from "../store";
import { chainStatus } from "./audit";
import { errorText, table, unavailable } from "./common";
import type { View } from "./index";
import { overdue, targetOf } from "./board";
import { ackCount, orderOverdue, recipientName, recipientsOf } from "./orders";
import { ageSeconds, isOpen } from "./overview";

const enc = encodeURIComponent;

function pendingOf(o: any): string[] {
  return recipientsOf(o).filter((r: any) => typeof r === "object" && !r.acknowledged_at)
    .map((r: any) => String(r.recipient ?? "")).filter(Boolean);
}

/** The incident's units that have not reached the scene (a reassignment may replace one). */
function movableUnits(r: any): string[] {
  return rowsOf(r, "units", "assignments").filter((a: any) => a && ["dispatched", "en_route"].includes(String(a.status)))
    .map((a: any) => String(a.unit_id ?? ""));
}

function reminderText(o: any): string {
  const last = o.last_reminder;
  return last?.at ? t("sup.reminderAt", { time: fmtTime(last.at), user: String(last.by ?? "") }) : "—";
}

async function run(fn: () => Promise<any>, ok: string, topic: string): Promise<boolean> {
  try {
    const view = await fn();
    applyEvent(topic, view);
    toast(ok, "ok");
    return true;
  } catch (e) { toast(errorText(e), "error"); return false; }
}

/** The form that hands an order's silent recipient to another unit or user. */
function orderReassignForm(box: HTMLElement, o: any): void {
  const oid = idOf(o);
  const from = h("select#sup-order-from", pendingOf(o).map((r) => h("option", { value: r }, recipientName(r)))) as HTMLSelectElement;
  const units = [...store.units.values()].filter((u) => u.status !== "out_of_service");
  const to = h("input#sup-order-to", { required: true, maxlength: 128, list: "sup-unit-ids", autocomplete: "off",
    placeholder: t("sup.toHint") }) as HTMLInputElement;
  const dl = h("datalist#sup-unit-ids", units.map((u) => h("option", { value: idOf(u) }, callsignOf(idOf(u)))));
  const minutes = h("input#sup-order-minutes", { type: "number", min: 1, max: 10080, value: 15 }) as HTMLInputElement;
  const form = h("form.form#sup-order-reassign", { onsubmit: async (e: Event) => {
    e.preventDefault();
    const target = to.value.trim();
    const done = await run(() => api.post(`/orders/${enc(oid)}/reassign`, {
      from_recipient: from.value, to_recipient: target.includes(":") ? target : `unit:${target}`,
      deadline_minutes: Number(minutes.value) || null }), t("sup.reassignedOk"), "orders.updated");
    if (done) clear(box);
  } },
  h("h4", t("sup.reassignOrder", { id: oid })),
  field(t("sup.from"), from), field(t("sup.to"), to), dl, field(t("sup.newDeadline"), minutes, t("sup.minutesHint")),
  h("div.actions", h("button.primary#sup-order-ok", { type: "submit" }, t("sup.reassign")),
    h("button#sup-order-cancel", { type: "button", onclick: () => clear(box) }, t("sup.cancel"))));
  clear(box, form);
  to.focus();
}

/** The form that sends another available unit to an incident in place of a late one. */
function incidentReassignForm(box: HTMLElement, r: any): void {
  const iid = idOf(r);
  const movable = movableUnits(r);
  const from = movable.length ? h("select#sup-inc-from", movable.map((u) => h("option", { value: u }, callsignOf(u)))) as HTMLSelectElement : null;
  const to = h("select#sup-inc-to", { required: true }, h("option", { value: "" }, t("common.loading"))) as HTMLSelectElement;
  const form = h("form.form#sup-inc-reassign", { onsubmit: async (e: Event) => {
    e.preventDefault();
    if (!to.value) return;
    const done = await run(() => api.post(`/incidents/${enc(iid)}/reassign`, { to_unit_id: to.value,
      from_unit_id: from?.value || null }), t("sup.reassignedOk"), "incidents.updated");
    if (done) clear(box);
  } },
  h("h4", t("sup.reassignIncident", { id: iid })),
  from ? field(t("sup.replace"), from) : h("p.muted.small", t("sup.noUnitYet")),
  field(t("sup.sendUnit"), to),
  h("div.actions", h("button.primary#sup-inc-ok", { type: "submit" }, t("sup.reassign")),
    h("button#sup-inc-cancel", { type: "button", onclick: () => clear(box) }, t("sup.cancel"))));
  clear(box, form);
  // available units ranked by road time (the dispatcher's recommendations); else every available unit
  void (async () => {
    let opts: [string, string][] = [];
    try {
      const rec = await api.get<any>(`/incidents/${enc(iid)}/recommendations?limit=15&all_types=true`);
      opts = rowsOf(rec, "recommendations").map((x: any) => [String(x.unit_id),
        `${callsignOf(x.unit_id)} · ${fmtDuration(Number(x.eta_s ?? 0))}`]);
    } catch { /* fall back to the units the board knows */ }
    if (!opts.length) opts = [...store.units.values()].filter((u) => u.status === "available").map((u) => [idOf(u), callsignOf(idOf(u))]);
    clear(to, opts.length ? opts.map(([v, label]) => h("option", { value: v }, label)) : h("option", { value: "" }, t("sup.noAvailable")));
  })();
}

export const supervisionView: View = {
  key: "supervision",
  roles: ["supervisor"],
  render(panel, { map }) {
    const chain = h("span.chain#chain-status");
    const incBox = h("div#overdue-incidents");
    const incForm = h("div#sup-inc-form");
    const ordBox = h("div#overdue-orders");
    const ordForm = h("div#sup-order-form");
    panel.append(h("h2", t("sup.title")), h("p", h("b", t("audit.chain"), ": "), chain),
      h("h3", t("sup.overdueIncidents")), incBox, incForm, h("h3", t("sup.overdueOrders")), ordBox, ordForm);
    void chainStatus(chain);
    const serverOverdue = api.find("GET", /overdue/);
    const stop = (e: Event) => e.stopPropagation();

    async function paint(): Promise<void> {
      let incs = [...store.incidents.values()].filter((r) => isOpen(r) && overdue(r));
      let ords = [...store.orders.values()].filter(orderOverdue);
      if (serverOverdue && !api.isPersonal(serverOverdue)) {
        try {
          const data = await api.get(serverOverdue.path);
          const rows = rowsOf(data, "incidents", "orders", "items");
          if (/order/.test(serverOverdue.path)) ords = rows; else incs = rows;
        } catch { /* fall back to the client's view */ }
      }
      clear(incBox, !routes.incidents() ? unavailable("GET /api/v1/incidents") : incs.length ? table([
        { key: "priority", label: t("col.priority"), render: (r) => h("span.prio", { style: `background:${PRIORITY_COLOURS[priorityOf(r)]}` }, t(`prio.${priorityOf(r)}`)) },
        { key: "id", label: t("col.id"), render: (r) => idOf(r) },
        { key: "type", label: t("col.type"), render: (r) => incidentTypeName(r, lang()) },
        { key: "status", label: t("col.status"), render: (r) => tOr(`status.${r.status ?? r.state}`, String(r.status ?? r.state ?? "")) },
        { key: "age", label: t("board.age"), render: (r) => `${fmtDuration(ageSeconds(r))} / ${fmtDuration(targetOf(r))}` },
        { key: "actions", label: t("sup.actions"), render: (r) => h("span.actions",
          h("button.small.sup-reassign", { type: "button", onclick: (e: Event) => { stop(e); incidentReassignForm(incForm, r); } }, t("sup.reassign")),
          h("a.small.open-incident", { href: `#/board?incident=${enc(idOf(r))}`, onclick: stop }, t("sup.open"))) },
      ], incs, { id: "overdue-incident-table", rowClass: () => "overdue", onRow: (r) => { const ll = latLonOf(r); if (ll && map) map.highlight(ll[0], ll[1]); } }) : h("p.muted", t("sup.none")));
      clear(ordBox, !routes.orders() ? unavailable("GET /api/v1/orders") : ords.length ? table([
        { key: "id", label: t("col.id"), render: (o) => idOf(o) },
        { key: "title", label: t("orders.subject"), render: (o) => String(o.title ?? o.subject ?? "") },
        { key: "acks", label: t("status.acknowledged"), render: (o) => { const [a, n] = ackCount(o); return t("orders.acks", { a, n }); } },
        { key: "pending", label: t("sup.notAcked"), render: (o) => pendingOf(o).map(recipientName).join("、") },
        { key: "due", label: t("orders.due"), render: (o) => fmtTime(o.deadline ?? o.due_at) },
        { key: "reminder", label: t("sup.lastReminder"), render: (o) => h("span.last-reminder", reminderText(o)) },
        { key: "actions", label: t("sup.actions"), render: (o) => {
          const live = ["assign", "handle"].includes(String(o.state)) && pendingOf(o).length > 0;
          return h("span.actions",
            live ? h("button.small.sup-remind", { type: "button", onclick: () => void run(
              () => api.post(`/orders/${enc(idOf(o))}/remind`), t("sup.remindedOk", { n: pendingOf(o).length }), "orders.reminded") },
            t("sup.remind")) : null,
            live ? h("button.small.sup-reassign", { type: "button", onclick: () => orderReassignForm(ordForm, o) }, t("sup.reassign")) : null,
            o.incident_id ? h("a.small.open-incident", { href: `#/board?incident=${enc(String(o.incident_id))}` }, t("sup.open")) : null);
        } },
      ], ords, { id: "overdue-order-table", rowClass: () => "overdue" }) : h("p.muted", t("sup.none")));
    }
    void paint();
    const offs = [subscribe("incidents", () => void paint()), subscribe("orders", () => void paint())];
    const timer = window.setInterval(() => void paint(), 15000);
    return () => { offs.forEach((f) => f()); clearInterval(timer); };
  },
};
