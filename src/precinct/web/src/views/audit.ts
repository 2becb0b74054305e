// The audit log (督): filters, pages, and the hash chain's status. Reading the log is itself a
// purpose-bound, audited read (purpose audit_review).
import { api } from "../api";
import { askCaseContext, caseContext } from "../casectx";
import { clear, dateTimeInput, field, fmtTime, h, download, parseLocalDateTime, toCsv } from "../dom";
import { lang, t, tOr } from "../i18n";
import { session } from "../session";
import { errorText, table } from "./common";
import type { View } from "./index";

const ACTIONS = ["collection", "alteration", "consultation", "disclosure", "combination", "erasure", "login", "refusal", "administration"];

export async function chainStatus(el: HTMLElement): Promise<void> {
  clear(el, t("common.loading"));
  try {
    const r = await api.get<{ ok: boolean; checked: number; first_bad_seq: number | null; reason: string | null }>("/audit/verify");
    el.dataset.ok = String(r.ok);
    clear(el, r.ok ? h("span.ok", "✔ ", t("audit.chainOk", { n: r.checked }))
      : h("span.bad", "✖ ", t("audit.chainBad", { seq: r.first_bad_seq ?? "?", reason: r.reason ?? "" })));
  } catch (e) {
    clear(el, h("span.error", errorText(e)));
  }
}

/** Jobs and the system itself (no person behind them). */
export function isSystem(r: any): boolean {
  return r.role === "system" || r.actor === "system" || /^(system|job|sim|scheduler)[:.-]/.test(String(r.actor ?? ""));
}

/** A parameter's value as words: lists joined, times local (24 h), yes/no, operations named,
 * nested objects as "name: value" (never JSON). */
function paramValue(k: string, v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? t("audit.yes") : t("audit.no");
  if (Array.isArray(v)) return v.map((x) => paramValue(k, x)).filter(Boolean).join(lang() === "en" ? ", " : "、");
  if (typeof v === "object") {
    const inner = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== null && x !== undefined && x !== "")
      .map(([kk, x]) => `${tOr(`p.${kk}`, kk)}: ${paramValue(kk, x)}`).join(", ");
    return `(${inner})`;
  }
  if (k === "op") return tOr(`auditop.${v}`, String(v));
  if (typeof v === "string" && /^[a-z_]+$/.test(v)) return tOr(`auditval.${k}.${v}`, v);
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) return fmtTime(v);
  return String(v);
}

/** What was searched: the record's parameters as "name: value" (empty ones left out), in words. */
export function paramsText(p: unknown): string {
  if (!p || typeof p !== "object") return p === null || p === undefined ? "" : String(p);
  return Object.entries(p as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${tOr(`p.${k}`, k)}: ${paramValue(k, v)}`).join("; ");
}

export const auditView: View = {
  key: "audit",
  roles: ["auditor", "supervisor"],
  render(panel) {
    const chain = h("span.chain#chain-status");
    const actor = h("input#audit-actor", { name: "actor" }) as HTMLInputElement;
    const action = h("select#audit-action", { name: "action" }, h("option", { value: "" }, t("audit.any")),
      ACTIONS.map((a) => h("option", { value: a }, tOr(`act.${a}`, a)))) as HTMLSelectElement;
    const caseId = h("input#audit-case", { name: "case_id" }) as HTMLInputElement;
    const outcome = h("select#audit-outcome", { name: "outcome" }, h("option", { value: "" }, t("audit.any")),
      h("option", { value: "ok" }, t("outcome.ok")), h("option", { value: "refused" }, t("outcome.refused"))) as HTMLSelectElement;
    const since = dateTimeInput("audit-since");
    const until = dateTimeInput("audit-until");
    const hideSystem = h("input#audit-hide-system", { type: "checkbox" }) as HTMLInputElement;
    hideSystem.addEventListener("change", () => { if (rows.length || out.childElementCount) paint(lastHasMore); });
    let lastHasMore = false;
    const out = h("div#audit-out");
    let rows: any[] = [];

    async function load(more = false): Promise<void> {
      const ctx = caseContext();
      if (!ctx || ctx.purpose !== "audit_review") { if (!(await askCaseContext("audit_review"))) return; }
      const before = more && rows.length ? rows[rows.length - 1].seq : undefined;
      const from = since.value.trim() ? parseLocalDateTime(since.value) : null;
      const to = until.value.trim() ? parseLocalDateTime(until.value) : null;
      if ((since.value.trim() && !from) || (until.value.trim() && !to)) {
        clear(out, h("p.error#audit-error", t("common.badTime", { example: "2026-05-01 08:30" })));
        return;
      }
      try {
        const data = await api.get<{ records: any[] }>("/audit/records", {
          personal: true,
          query: { actor: actor.value.trim(), action: action.value, case_id: caseId.value.trim(), outcome: outcome.value,
            since: from ? from.toISOString() : undefined,
            until: to ? to.toISOString() : undefined, before_seq: before, limit: 100 },
        });
        rows = more ? [...rows, ...data.records] : data.records;
        paint(data.records.length === 100);
      } catch (e) {
        clear(out, h("p.error#audit-error", t("common.error", { msg: errorText(e) })));
      }
    }

    function paint(hasMore: boolean): void {
      lastHasMore = hasMore;
      // System actors (jobs, the simulator) hidden on request: the people's actions stand out.
      const shown = hideSystem.checked ? rows.filter((r) => !isSystem(r)) : rows;
      clear(out,
        h("div.actions", h("span.muted#audit-count", t("common.rows", { n: shown.length })),
          h("button#audit-export", { type: "button", onclick: () => download("precinct-audit.csv", toCsv(rows)) }, t("common.exportCsv"))),
        h("div.scroll", table([
          { key: "seq", label: t("audit.seq") },
          { key: "ts", label: t("audit.ts"), render: (r) => fmtTime(r.ts) },
          { key: "actor", label: t("audit.actor"), render: (r) => isSystem(r) && r.actor === "system" ? t("role.system") : String(r.actor ?? "") },
          { key: "role", label: t("audit.role"), render: (r) => tOr(`role.${r.role}`, String(r.role ?? "")) },
          { key: "action", label: t("audit.action"), render: (r) => tOr(`act.${r.action}`, String(r.action ?? "")) },
          { key: "resource", label: t("audit.resource"), render: (r) => h("span", { title: String(r.resource ?? "") },
            tOr(`res.${r.resource}`, String(r.resource ?? ""))) },
          { key: "params", label: t("audit.params"), render: (r) => paramsText(r.params) },
          { key: "case_id", label: t("audit.case") },
          { key: "purpose", label: t("audit.purpose"), render: (r) => (r.purpose ? tOr(`purpose.${r.purpose}`, String(r.purpose)) : "") },
          { key: "result_count", label: t("audit.results") },
          { key: "outcome", label: t("audit.outcome"), render: (r) => h(r.outcome === "ok" ? "span" : "b.refused", tOr(`outcome.${r.outcome}`, String(r.outcome ?? ""))) },
        ], shown, { id: "audit-table", rowClass: (r) => (r.outcome === "ok" ? "" : "refused-row") })),
        shown.length ? null : h("p.muted.small#audit-empty-hint", t("audit.emptyHint")),
        hasMore ? h("button#audit-more", { onclick: () => load(true) }, t("common.more")) : null);
    }

    const form = h("form.form.filters#audit-filters", { onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
      h("div.row", field(t("audit.actor"), actor), field(t("audit.action"), action), field(t("audit.case"), caseId), field(t("audit.outcome"), outcome)),
      h("div.row", field(t("audit.since"), since, t("common.timeHint")), field(t("audit.until"), until, t("common.timeHint"))),
      h("label.check", hideSystem, " ", t("audit.hideSystem")),
      h("div.actions", h("button.primary#audit-search", { type: "submit" }, t("common.search"))));
    panel.append(h("h2", t("audit.title")),
      h("p", h("b", t("audit.chain"), ": "), chain, " ", h("button.small#audit-verify", { onclick: () => chainStatus(chain) }, t("audit.verify"))),
      form, out);
    void chainStatus(chain);
    if (session.me?.role === "auditor" && caseContext()?.purpose === "audit_review") void load();
  },
};
