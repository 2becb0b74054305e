// The anti-fraud centre's boards: stop-payment and freeze requests with the legal clock (time left,
// overdue in red), warning leads and tasks (每条线索都显示其关联依据), and the monthly statistics.
// Requests, leads and warnings name accounts and phones: personal-data reads under the case context.
import { api } from "../api";
import { clear, download, field, fmtDuration, h, toast, toCsv } from "../dom";
import { lang, t, tOr } from "../i18n";
import { errorText, table } from "./common";

const TRANSITIONS: Record<string, string[]> = {
  drafted: ["sent"], sent: ["confirmed", "rejected"], confirmed: ["renewed", "released", "expired"],
  renewed: ["renewed", "released", "expired"],
};

/** The legal clock of a request: the deadline that matters now and how far it is (seconds, < 0 past). */
export function clockOf(r: any, now = Date.now()): { text: string; late: boolean } | null {
  const due = r.state === "drafted" || r.state === "sent" ? r.due_at : r.expires_at;
  if (!due || !(r.state in TRANSITIONS)) return null;
  const secs = (new Date(due).getTime() - now) / 1000;
  const span = fmtDuration(Math.abs(secs));
  if (r.expires_at && due === r.expires_at) {
    return secs >= 0 ? { text: t("fr.expiresIn", { t: span }), late: false } : { text: t("fr.expiredAgo", { t: span }), late: true };
  }
  return secs >= 0 ? { text: t("fr.left", { t: span }), late: false } : { text: t("fr.overdueBy", { t: span }), late: true };
}

export function requestsBoard(box: HTMLElement): { draft: (account: string, bank: string, caseId: string) => void; stop: () => void } {
  const err = h("p.error#fr-req-error");
  const list = h("div#fr-requests");
  const form = h("div#fr-req-form");
  let rows: any[] = [];
  let loaded = false;

  function paint(): void {
    clear(list, table([
      { key: "id", label: "ID" },
      { key: "kind", label: t("fr.reqKind"), render: (r) => tOr(`fr.kind.${r.kind}`, r.kind) },
      { key: "state", label: t("fr.state"), render: (r) => (lang() === "en" ? r.state : r.state_zh ?? r.state) },
      { key: "bank", label: t("fr.bank") },
      { key: "account", label: t("fr.account") },
      { key: "amount_requested", label: t("fr.amount") },
      { key: "amount_held", label: t("fr.held") },
      { key: "amount_returned", label: t("fr.returned") },
      { key: "clock", label: t("fr.clock"), render: (r) => {
        const c = clockOf(r);
        return c ? h(c.late ? "b.overdue-flag.fr-late" : "span", c.text) : "";
      } },
      { key: "flag", label: "", render: (r) => (r.flag ? h("b.overdue-flag", tOr(`fr.flag.${r.flag}`, r.flag)) : "") },
      { key: "move", label: t("fr.move"), render: (r) => {
        const next = TRANSITIONS[r.state] ?? [];
        if (!next.length) return "";
        const sel = h("select.fr-move", next.map((s) => h("option", { value: s }, tOr(`fr.st.${s}`, s)))) as HTMLSelectElement;
        const amount = h("input.fr-amount", { type: "number", min: 0, step: "0.01", placeholder: t("fr.amount"), style: "width:7em" }) as HTMLInputElement;
        return h("span", sel, amount, h("button", { onclick: async (e: Event) => {
          e.stopPropagation();
          err.textContent = "";
          const body: Record<string, unknown> = { state: sel.value };
          if (amount.value && sel.value === "confirmed") body.amount_held = amount.value;
          if (amount.value && sel.value === "released") body.amount_returned = amount.value;
          try { await api.post(`/fraud/requests/${encodeURIComponent(r.id)}/state`, body); await load(); }
          catch (ex) { err.textContent = errorText(ex); }
        } }, t("fr.go")));
      } },
    ], rows, { id: "fr-requests-table", rowClass: (r) => (clockOf(r)?.late ? "overdue" : "") }));
  }

  async function load(): Promise<void> {
    err.textContent = "";
    try {
      rows = (await api.get<{ requests: any[] }>("/fraud/requests", { personal: true })).requests;
      loaded = true;
      paint();
    } catch (e) { err.textContent = errorText(e); }
  }

  function exportCsv(): void { download("fraud-requests.csv", toCsv(rows)); }

  clear(box, h("div.row",
    h("button#fr-load-requests", { onclick: () => void load() }, t("fr.loadRequests")),
    h("button#fr-export", { onclick: () => exportCsv() }, t("fr.exportCsv"))), form, err, list);
  const timer = window.setInterval(() => { if (loaded) paint(); }, 30000);
  return {
    stop: () => clearInterval(timer),
    draft: (account, bank, caseId) => {
      const kind = h("select#fr-req-kind", ["stop_payment", "freeze"].map((k) => h("option", { value: k }, t(`fr.kind.${k}`)))) as HTMLSelectElement;
      const bankIn = h("input#fr-req-bank", { value: bank || "", maxlength: 64 }) as HTMLInputElement;
      const amount = h("input#fr-req-amount", { type: "number", min: 0, step: "0.01", value: 0 }) as HTMLInputElement;
      clear(form, h("form.inline", { onsubmit: async (e: Event) => {
        e.preventDefault();
        err.textContent = "";
        try {
          const r = await api.post<any>("/fraud/requests", { kind: kind.value, account, bank: bankIn.value.trim() || "unknown",
            case_id: caseId, amount: amount.value || "0" });
          toast(`${r.id}`, "ok");
          clear(form);
          await load();
        } catch (ex) { err.textContent = errorText(ex); }
      } }, h("b", account), field(t("fr.reqKind"), kind), field(t("fr.bank"), bankIn), field(t("fr.amount"), amount),
      h("button.primary#fr-req-submit", { type: "submit" }, t("fr.requestFreeze"))));
      box.scrollIntoView({ block: "nearest" });
    },
  };
}

export function warningsBoard(box: HTMLElement): void {
  const err = h("p.error");
  const leads = h("div#fr-leads");
  const warnings = h("div#fr-warnings");

  async function load(): Promise<void> {
    err.textContent = "";
    try {
      const [l, w] = await Promise.all([
        api.get<{ leads: any[] }>("/fraud/leads", { personal: true }),
        api.get<{ warnings: any[] }>("/fraud/warnings", { personal: true })]);
      clear(leads, h("h4", t("fr.leads")), table([
        { key: "contact_id", label: "ID" },
        { key: "person_phone", label: t("fr.phone") },
        { key: "link", label: t("fr.link"), render: (x) => `${lang() === "en" ? x.link.en : x.link.zh} ${x.link.value} (${x.link.kind})` },
        { key: "cluster_id", label: t("fr.clusters") },
        { key: "act", label: t("fr.method"), render: (x) => {
          const m = h("select", ["call", "sms", "visit"].map((k) => h("option", { value: k }, t(`fr.method.${k}`)))) as HTMLSelectElement;
          return h("span", m, h("button", { onclick: async (e: Event) => {
            e.stopPropagation();
            try {
              await api.post("/fraud/warnings", { contact_id: x.contact_id, method: m.value, template: m.value === "sms" ? "generic" : undefined });
              await load();
            } catch (ex) { err.textContent = errorText(ex); }
          } }, t("fr.warn")));
        } },
      ], l.leads, { id: "fr-leads-table" }));
      clear(warnings, table([
        { key: "warning_id", label: "ID" },
        { key: "method", label: t("fr.method"), render: (x) => tOr(`fr.method.${x.method}`, x.method) },
        { key: "person_phone", label: t("fr.phone") },
        { key: "link", label: t("fr.link"), render: (x) => String(x.link ?? "") },
        { key: "state", label: t("fr.state"), render: (x) => tOr(`fr.st.${x.state}`, x.state) },
        { key: "outcome", label: t("fr.outcome"), render: (x) => {
          if (x.outcome) return tOr(`fr.out.${x.outcome}`, x.outcome);
          const o = h("select", ["reached", "not_reached", "confirmed_safe", "transfer_stopped"]
            .map((k) => h("option", { value: k }, t(`fr.out.${k}`)))) as HTMLSelectElement;
          return h("span", o, h("button", { onclick: async (e: Event) => {
            e.stopPropagation();
            try { await api.post(`/fraud/warnings/${x.warning_id}/outcome`, { outcome: o.value }); toast(t("fr.record"), "ok"); await load(); }
            catch (ex) { err.textContent = errorText(ex); }
          } }, t("fr.record")));
        } },
      ], w.warnings, { id: "fr-warnings-table" }));
    } catch (e) { err.textContent = errorText(e); }
  }

  clear(box, h("button#fr-load-warnings", { onclick: () => void load() }, t("fr.loadWarnings")), err, leads, warnings);
}

export function statsBoard(box: HTMLElement): void {
  void (async () => {
    try {
      const s = await api.get<{ months: any[]; totals: any }>("/fraud/stats");
      clear(box, table([
        { key: "month", label: t("fr.month") },
        { key: "reports", label: t("fr.reports") },
        { key: "loss", label: t("fr.loss") },
        { key: "warnings_issued", label: t("fr.warningsIssued") },
        { key: "warnings_reached", label: t("fr.warningsReached") },
        { key: "accounts", label: t("fr.accountsFrozen"), render: (m) => String((m.accounts_stopped ?? 0) + (m.accounts_frozen ?? 0)) },
        { key: "amount_held", label: t("fr.amountHeld") },
        { key: "amount_returned", label: t("fr.amountReturned") },
        { key: "by_type", label: t("fr.type"), render: (m) => m.by_type.map((x: any) =>
          `${lang() === "en" ? x.en : x.zh} ${x.reports}`).join(", ") },
      ], s.months, { id: "fr-stats" }));
    } catch (e) { clear(box, h("p.error", errorText(e))); }
  })();
}
