// The anti-fraud centre (反诈中心): import reports, the linked clusters with a graph of each, the
// identifiers ranked by reports linked, then the stop-payment/freeze board, warnings and monthly
// statistics (fraudboards.ts). Every read of victims, phones and accounts is a personal-data read
// under the current case and purpose (X-Case-Id, X-Purpose; the prompt asks when none is set),
// audited by the server, exactly as on the cases screen.
import { api, ApiError } from "../api";
import { clear, field, fmtTime, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";
import { session } from "../session";
import { errorText, table } from "./common";
import { requestsBoard, statsBoard, warningsBoard } from "./fraudboards";
import { clusterGraph, KIND_COLOURS } from "./fraudgraph";
import type { View } from "./index";

/** POST a CSV file's text to the import route (a text/csv body, not JSON). */
async function importCsv(text: string): Promise<any> {
  const r = await fetch("/api/v1/fraud/reports/import", { method: "POST", body: text,
    headers: { "Content-Type": "text/csv", Accept: "application/json", Authorization: `Bearer ${api.token ?? ""}` } });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, data?.error ?? "http_error", data?.message ?? r.statusText, data?.detail);
  return data;
}

function legend(): HTMLElement {
  return h("p.small", Object.entries(KIND_COLOURS).map(([k, c]) => h("span", { style: "margin-right:10px" },
    h("span", { style: `display:inline-block;width:10px;height:10px;background:${c};margin-right:3px` }),
    k === "report" ? t("fr.legendReport") : tOr(`fr.ik.${k}`, k))));
}

async function showCluster(box: HTMLElement, id: number, onFreeze: (account: string, bank: string, caseId: string) => void): Promise<void> {
  clear(box, t("common.loading"));
  try {
    const c = await api.get<any>(`/fraud/clusters/${id}`, { personal: true });
    clear(box,
      h("h3", t("fr.cluster", { id: c.cluster_id })),
      h("p", `${t("fr.case")}: ${c.case_id ?? "—"} · ${t("fr.reports")}: ${c.report_count} · ${t("fr.loss")}: ${Number(c.loss_total).toFixed(2)}`,
        ` · ${fmtTime(c.first_ts)} – ${fmtTime(c.last_ts)}`),
      h("h4", t("fr.graph")), legend(), h("div#fr-graph", clusterGraph(c.graph)),
      h("h4", t("fr.idents")),
      table([
        { key: "kind", label: t("fr.kind"), render: (i) => tOr(`fr.ik.${i.kind}`, i.kind) },
        { key: "value", label: t("fr.value") },
        { key: "bank", label: t("fr.bank") },
        { key: "reports", label: t("fr.linked") },
        { key: "act", label: "", render: (i) => i.kind === "account" && session.me?.role !== "dispatcher"
          ? h("button.fr-freeze", { onclick: (e: Event) => { e.stopPropagation(); onFreeze(i.value, i.bank ?? "", c.case_id ?? ""); } },
            t("fr.requestFreeze")) : "" },
      ], c.identifiers, { id: "fr-idents" }),
      h("h4", t("fr.victims")),
      table([
        { key: "report_id", label: "ID" }, { key: "name", label: t("fr.name") }, { key: "phone", label: t("fr.phone") },
        { key: "case_id", label: t("fr.case") },
      ], c.victims, { id: "fr-victims" }),
      h("h4", t("fr.timeline")),
      table([
        { key: "ts", label: t("fr.time"), render: (r) => fmtTime(r.ts) },
        { key: "report_id", label: "ID" },
        { key: "type", label: t("fr.type"), render: (r) => (lang() === "en" ? r.type : r.type_zh || r.type) },
        { key: "channel", label: t("fr.channel") },
        { key: "loss", label: t("fr.loss"), render: (r) => `${r.loss} ${r.currency}` },
      ], c.timeline, { id: "fr-timeline" }));
  } catch (e) { clear(box, h("p.error", errorText(e))); }
}

export const fraudView: View = {
  key: "fraud",
  roles: ["analyst", "supervisor", "dispatcher", "admin"],
  render(panel) {
    const err = h("p.error#fr-error");
    const listBox = h("div#fr-clusters");
    const detail = h("div#fr-cluster");
    const requests = h("div#fr-requests-box");
    const warnings = h("div#fr-warnings-box");
    const stats = h("div#fr-stats-box");
    const file = h("input#fr-import-file", { type: "file", accept: ".csv,text/csv" }) as HTMLInputElement;
    const summary = h("span#fr-import-result.muted");
    const mayImport = ["analyst", "supervisor", "admin"].includes(session.me?.role ?? "");
    const reqBoard = requestsBoard(requests);

    async function loadClusters(): Promise<void> {
      err.textContent = "";
      try {
        const r = await api.get<{ clusters: any[] }>("/fraud/clusters", { personal: true, query: { limit: 200 } });
        clear(listBox, table([
          { key: "cluster_id", label: "ID" },
          { key: "reports", label: t("fr.reports"), render: (c) => String(c.report_ids.length) },
          { key: "loss_total", label: t("fr.loss"), render: (c) => Number(c.loss_total).toFixed(2) },
          { key: "top", label: t("fr.topIdent"), render: (c) => c.identifier_kinds[0]
            ? `${c.identifier_kinds[0].value} (${c.identifier_kinds[0].reports})` : "" },
          { key: "case_id", label: t("fr.case") },
        ], r.clusters, { id: "fr-cluster-table", onRow: (c) => void showCluster(detail, c.cluster_id, reqBoard.draft) }));
        if (r.clusters.length) void showCluster(detail, r.clusters[0].cluster_id, reqBoard.draft);
      } catch (e) { if (!(e instanceof ApiError && e.code === "cancelled")) err.textContent = errorText(e); else err.textContent = t("fr.noCase"); }
    }

    panel.append(h("h2", t("fr.title")), h("div",
      mayImport ? h("form.inline#fr-import", { onsubmit: async (e: Event) => {
        e.preventDefault();
        err.textContent = "";
        const f = file.files?.[0];
        if (!f) return;
        try {
          const r = await importCsv(await f.text());
          summary.textContent = t("fr.imported", { stored: r.stored ?? 0, duplicates: r.duplicates ?? 0, rejected: r.rejected ?? 0 });
          toast(summary.textContent ?? "", "ok");
          await loadClusters();
        } catch (ex) { err.textContent = errorText(ex); }
      } }, field(t("fr.import"), file), h("button", { type: "submit", id: "fr-import-btn" }, t("fr.importBtn")), summary) : null),
      err,
      h("h3", t("fr.clusters")),
      h("button#fr-load", { onclick: () => void loadClusters() }, t("fr.loadClusters")),
      listBox, detail,
      h("h3", t("fr.requests")), requests,
      h("h3", t("fr.warnings")), warnings,
      h("h3", t("fr.stats")), stats);
    warningsBoard(warnings);
    statsBoard(stats);
    return () => reqBoard.stop();
  },
};
