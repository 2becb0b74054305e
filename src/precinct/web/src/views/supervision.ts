// The supervisor's view: overdue incidents and orders, and the audit chain at a glance.
import { api, latLonOf, rowsOf } from "../api";
import { clear, fmtDuration, fmtTime, h } from "../dom";
import { lang, t, tOr } from "../i18n";
import { PRIORITY_COLOURS, priorityOf } from "../map";
import { callsignOf, idOf, routes, store, subscribe, incidentTypeName } from "../store";
import { chainStatus } from "./audit";
import { table, unavailable } from "./common";
import type { View } from "./index";
import { overdue, targetOf } from "./board";
import { ackCount, orderOverdue, recipientsOf } from "./orders";
import { ageSeconds, isOpen } from "./overview";

export const supervisionView: View = {
  key: "supervision",
  roles: ["supervisor"],
  render(panel, { map }) {
    const chain = h("span.chain#chain-status");
    const incBox = h("div#overdue-incidents");
    const ordBox = h("div#overdue-orders");
    panel.append(h("h2", t("sup.title")), h("p", h("b", t("audit.chain"), ": "), chain),
      h("h3", t("sup.overdueIncidents")), incBox, h("h3", t("sup.overdueOrders")), ordBox);
    void chainStatus(chain);
    const serverOverdue = api.find("GET", /overdue/);

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
        { key: "open", label: "", render: (r) => h("a.small.open-incident", { href: `#/board?incident=${encodeURIComponent(idOf(r))}`,
          onclick: (e: Event) => e.stopPropagation() }, t("sup.open")) },
      ], incs, { id: "overdue-incident-table", rowClass: () => "overdue", onRow: (r) => { const ll = latLonOf(r); if (ll && map) map.highlight(ll[0], ll[1]); } }) : h("p.muted", t("sup.none")));
      clear(ordBox, !routes.orders() ? unavailable("GET /api/v1/orders") : ords.length ? table([
        { key: "id", label: t("col.id"), render: (o) => idOf(o) },
        { key: "title", label: t("orders.subject"), render: (o) => String(o.title ?? o.subject ?? "") },
        { key: "acks", label: t("status.acknowledged"), render: (o) => { const [a, n] = ackCount(o); return t("orders.acks", { a, n }); } },
        { key: "pending", label: t("sup.notAcked"), render: (o) => recipientsOf(o)
          .filter((r: any) => typeof r === "object" && !r.acknowledged_at)
          .map((r: any) => String(r.recipient ?? "").replace(/^unit:(.+)$/, (_m: string, u: string) => callsignOf(u))).join("、") },
        { key: "due", label: t("orders.due"), render: (o) => fmtTime(o.deadline ?? o.due_at) },
      ], ords, { id: "overdue-order-table", rowClass: () => "overdue" }) : h("p.muted", t("sup.none")));
    }
    void paint();
    const offs = [subscribe("incidents", () => void paint()), subscribe("orders", () => void paint())];
    const timer = window.setInterval(() => void paint(), 15000);
    return () => { offs.forEach((f) => f()); clearInterval(timer); };
  },
};
