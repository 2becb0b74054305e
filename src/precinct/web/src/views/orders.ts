// Orders (一键下达): compose one order to many recipients, watch acknowledgements, overdue flagged;
// patrol officers see their own orders and acknowledge them.
import { api, rowsOf, str } from "../api";
import { clear, field, fmtTime, h, toast } from "../dom";
import { t, tOr } from "../i18n";
import { bodyProps, buildBody } from "../schema";
import { session } from "../session";
import { callsignOf, idOf, refreshAll, routes, store, subscribe } from "../store";
import { errorText, table, unavailable, uuid } from "./common";
import type { View } from "./index";

export function recipientsOf(o: any): any[] {
  return rowsOf(o, "recipients", "acknowledgements", "acks", "deliveries");
}

export function ackCount(o: any): [number, number] {
  if (typeof o.acknowledged === "number" && typeof o.total === "number") return [o.acknowledged, o.total];
  const rs = recipientsOf(o);
  if (rs.length && typeof rs[0] === "object") {
    const a = rs.filter((r) => r.acknowledged_at || r.acked_at || r.acknowledged === true || /ack/i.test(String(r.status ?? ""))).length;
    return [a, rs.length];
  }
  const n = Number(o.recipient_count ?? rs.length ?? 0);
  const a = Number(o.ack_count ?? o.acknowledged_count ?? rowsOf(o, "acknowledged").length ?? 0);
  return [a, n];
}

/** A recipient as people say it: a unit's callsign, a user's name. */
export function recipientName(r: unknown): string {
  return String(r ?? "").replace(/^unit:(.+)$/, (_m: string, u: string) => callsignOf(u)).replace(/^user:/, "");
}

/** The order's last reminder (催办) as a line: when (local, 24 h), by whom, to whom; null if none. */
export function reminderLine(o: any): HTMLElement | null {
  const last = o?.last_reminder;
  if (!last?.at) return null;
  const to = (Array.isArray(last.to) ? last.to : []).map(recipientName).filter(Boolean);
  return h("span.last-reminder", { dataset: { at: String(last.at), by: String(last.by ?? "") } },
    t(to.length ? "orders.remindedTo" : "orders.reminded", { time: fmtTime(last.at), by: String(last.by ?? ""), to: to.join("、") }));
}

export function orderOverdue(o: any): boolean {
  if (typeof o.overdue === "boolean") return o.overdue;
  const due = o.deadline ?? o.due_at;
  const [a, n] = ackCount(o);
  return !!due && new Date(due).getTime() < Date.now() && a < n;
}

export const ordersView: View = {
  key: "orders",
  roles: ["call_taker", "dispatcher", "patrol", "analyst", "supervisor"],
  render(panel) {
    const role = session.me?.role ?? "";
    panel.append(h("h2", role === "patrol" ? t("orders.mine") : t("orders.title")));
    const create = api.find("POST", "/orders", /^\/orders\/?$/);
    const ackOp = api.find("POST", /^\/orders\/\{[^}]+\}\/(ack|acknowledge)/);
    if (!routes.orders() && !create) { panel.append(unavailable("/api/v1/orders")); return; }
    const list = h("div#orders-list");

    if (create && role !== "patrol") {
      const subject = h("input#order-subject", { required: true }) as HTMLInputElement;
      const body = h("textarea#order-body", { rows: 3 }) as HTMLTextAreaElement;
      const recips = h("input#order-recipients", { placeholder: t("orders.recipientsHint"), list: "unit-ids" }) as HTMLInputElement;
      const dl = h("datalist#unit-ids", h("option", { value: "all" }), [...store.units.values()].map((u) => h("option", { value: idOf(u) })));
      const prio = h("select#order-priority", ["", "red", "orange", "yellow", "blue", "green"].map((p) =>
        h("option", { value: p }, p ? t(`prio.${p}`) : t("calls.priorityDefault")))) as HTMLSelectElement;
      const deadline = h("input#order-deadline", { type: "number", min: 1, value: 10 }) as HTMLInputElement;
      const form = h("form.form#order-form", {
        onsubmit: async (e: Event) => {
          e.preventDefault();
          // "P-01" means a unit; "station:…", "group:…", "user:…" and "all" pass through.
          const ids = recips.value.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean)
            .map((s) => (s === "all" || s.includes(":") ? s : `unit:${s}`));
          const minutes = Number(deadline.value || 10);
          const values: Record<string, unknown> = { title: subject.value.trim(), body: body.value.trim(), recipients: ids,
            priority: prio.value || undefined };
          if ("deadline_minutes" in bodyProps(create)) values.deadline_minutes = minutes;
          else values.deadline = new Date(Date.now() + minutes * 60000).toISOString();
          try {
            const res = await api.post(create.path, buildBody(create, values, { subject: ["title"], message: ["body"], content: ["body"], targets: ["recipients"] }), { idempotencyKey: uuid() });
            toast(t("orders.sent", { id: str(res, "id", "order_id") ?? "?", n: ids.length }), "ok");
            subject.value = ""; body.value = "";
            await refreshAll();
          } catch (ex) { toast(errorText(ex), "error"); }
        },
      }, h("h3", t("orders.compose")),
        field(t("orders.subject"), subject), field(t("orders.body"), body),
        field(t("orders.recipients"), recips, t("orders.recipientsHint")), dl,
        h("div.row", field(t("orders.deadline"), deadline), field(t("calls.priority"), prio)),
        h("div.actions", h("button.primary#order-send", { type: "submit" }, t("orders.send"))));
      panel.append(form);
    }
    panel.append(list);

    async function ack(o: any): Promise<void> {
      if (!ackOp) return;
      try {
        await api.post(ackOp.path.replace(/\{[^}]+\}/, encodeURIComponent(idOf(o))),
          buildBody(ackOp, {}), { idempotencyKey: uuid() });
        toast(t("orders.acked", { id: idOf(o) }), "ok");
        await refreshAll();
      } catch (e) { toast(errorText(e), "error"); }
    }

    function mine(o: any): boolean {
      const me = session.me;
      if (!me) return false;
      const rs = recipientsOf(o);
      if (!rs.length || role === "patrol") return true; // the server sends a patrol only its own
      return rs.some((r) => isMe(r));
    }

    function isMe(r: any): boolean {
      const me = session.me;
      const own = [`user:${me?.username}`, `unit:${me?.unit_id}`, String(me?.unit_id), String(me?.username)];
      return [r, r?.unit_id, r?.recipient, r?.username].some((v) => own.includes(String(v)));
    }

    function myAck(o: any): boolean {
      const mine = recipientsOf(o).filter((x) => typeof x === "object" && isMe(x));
      return mine.length > 0 && mine.every((r) => r.acknowledged_at || r.acked_at || r.acknowledged === true);
    }

    const canAck = (o: any) => ackOp && mine(o) && recipientsOf(o).some(isMe) && !myAck(o) && /assign|handle/.test(String(o.state ?? "assign"));
    const stateText = (o: any) => tOr(`state.${o.state ?? o.status}`, String(o.state_zh ?? o.state ?? o.status ?? ""));

    /** A patrol officer's orders as cards: the instructions in full, the acknowledge button as
     * wide as the screen (a table put it off-screen on a phone). */
    function cards(orders: any[]): HTMLElement {
      if (!orders.length) return h("p.muted#orders-table", t("orders.none"));
      return h("div.order-cards#orders-table", orders.slice(0, 100).map((o) => {
        const [a, n] = ackCount(o);
        const body = str(o, "body", "text", "message");
        return h("article.order-card", { class: orderOverdue(o) ? "order-card overdue" : "order-card", dataset: { order: idOf(o) } },
          h("h4", str(o, "title", "subject") ?? idOf(o)),
          h("p.small.muted", `${idOf(o)} · ${stateText(o)} · ${t("orders.due")} ${fmtTime(o.deadline ?? o.due_at)} · ${t("orders.acks", { a, n })}`,
            orderOverdue(o) ? h("b.overdue-flag", " ", t("status.overdue")) : null),
          reminderLine(o) ? h("p.small.reminder", "⚠ ", reminderLine(o)) : null,
          body ? h("p.order-body", body) : h("p.muted.small", t("orders.noBody")),
          canAck(o) ? h("button.primary.ack", { type: "button", onclick: () => void ack(o) }, t("orders.ack")) : null);
      }));
    }

    function paint(): void {
      let orders = [...store.orders.values()].sort((a, b) => String(b.created_at ?? "").localeCompare(String(a.created_at ?? "")));
      if (role === "patrol") { orders = orders.filter(mine); clear(list, cards(orders)); return; }
      clear(list, h("h3", t("orders.title")), table([
        { key: "id", label: t("col.id"), render: (o) => idOf(o) },
        { key: "title", label: t("orders.subject"), render: (o) => h("span", { title: str(o, "body", "text") ?? "" }, str(o, "title", "subject", "body", "text") ?? "") },
        { key: "status", label: t("col.status"), render: (o) => h("span", stateText(o),
          orderOverdue(o) ? h("b.overdue-flag", " ", t("status.overdue")) : null, o.escalated_at ? h("span.overdue-flag", " ⇧", t("status.escalated")) : null) },
        { key: "acks", label: t("status.acknowledged"), render: (o) => { const [a, n] = ackCount(o); return h("span.acks", t("orders.acks", { a, n })); } },
        { key: "due", label: t("orders.due"), render: (o) => fmtTime(o.deadline ?? o.due_at) },
        { key: "reminder", label: t("sup.lastReminder"), render: (o) => reminderLine(o) ?? "—" },
        { key: "act", label: "", render: (o) => canAck(o) ? h("button.primary.small.ack", { onclick: (e: Event) => { e.stopPropagation(); void ack(o); } }, t("orders.ack")) : "" },
      ], orders.slice(0, 200), { id: "orders-table", rowClass: (o) => (orderOverdue(o) ? "overdue" : "") }));
    }
    paint();
    const off = subscribe("orders", paint);
    const timer = window.setInterval(paint, 10000);
    return () => { off(); clearInterval(timer); };
  },
};
