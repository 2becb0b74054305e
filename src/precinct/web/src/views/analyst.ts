// The analyst's workspace: ANPR queries (association, series, trajectory, convoy, cloned plates,
// one person many vehicles) built from the server's own route descriptions, each bound to a case
// and purpose, results in a table, on the map and exportable as CSV.
import { api, latLonOf, type Op, rowsOf } from "../api";
import { caseContext, askCaseContext } from "../casectx";
import { clear, dateTimeInput, download, field, h, parseLocalDateTime, toCsv } from "../dom";
import { t, tOr } from "../i18n";
import { params, type Param } from "../schema";
import { autoCols, errorText, table, unavailable } from "./common";
import type { View, ViewCtx } from "./index";

const KINDS: [string, RegExp][] = [
  ["associate", /associat/], ["series", /series/], ["trajectory", /trajector|track/], ["convoy", /convoy|companion/],
  ["cloned", /clon/], ["person", /person|many/], ["alerts", /alerts/], ["hotlist", /hotlist/], ["pin", /case-reads|pin/],
];

export function kindOf(op: Op): string {
  for (const [k, re] of KINDS) if (re.test(op.path)) return k;
  return "other";
}

export function queryOps(): Op[] {
  const ops = api.ops.filter((o) => /^\/(anpr|analytics|intel)\//.test(o.path) && api.isPersonal(o) && ["GET", "POST"].includes(o.method));
  const order = KINDS.map(([k]) => k);
  return ops.sort((a, b) => (order.indexOf(kindOf(a)) + 99 * Number(kindOf(a) === "other")) - (order.indexOf(kindOf(b)) + 99 * Number(kindOf(b) === "other")));
}

function label(p: Param): string {
  const k = `p.${p.name}`;
  const s = t(k);
  return s === k ? (p.schema?.title ?? p.name) : s;
}

const TIME_NAMES = /^(start|end|since|until|from_ts|to_ts|ts|t0|t1|at|window_start|window_end)$/;

function isTime(p: Param): boolean {
  return p.schema?.format === "date-time" || (p.schema?.type === "string" && TIME_NAMES.test(p.name));
}

/** "2026-05-01 08:30" (or "2026-05-01T08:30"), local time, as ISO 8601 with this browser's offset. */
export function isoLocal(v: string): string {
  const d = parseLocalDateTime(v);
  if (!d) return v;
  v = v.trim().replace(" ", "T");
  if (/T\d:/.test(v)) v = v.replace("T", "T0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const base = v.length === 16 ? `${v}:00` : v;
  return `${base}${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

function inputFor(p: Param): HTMLElement {
  const s = p.schema ?? {};
  const id = `q-${p.name}`;
  if (s.type === "boolean") return h("input", { id, name: p.name, type: "checkbox", checked: s.default === true });
  if (Array.isArray(s.enum)) return h("select", { id, name: p.name }, s.enum.map((v: string) => h("option", { value: v, selected: v === s.default }, tOr(`enum.${v}`, v))));
  if (s.type === "number" || s.type === "integer") {
    return h("input", { id, name: p.name, type: "number", step: s.type === "integer" ? 1 : "any", min: s.minimum ?? s.exclusiveMinimum, max: s.maximum, value: s.default ?? "", required: p.required });
  }
  if (isTime(p)) return dateTimeInput(id, { name: p.name, required: p.required });
  if (s.type === "array" || s.type === "object") return h("textarea", { id, name: p.name, rows: 3, placeholder: s.type === "array" ? "a, b, c  /  JSON" : "JSON", required: p.required });
  return h("input", { id, name: p.name, value: s.default ?? "", required: p.required });
}

function readValue(p: Param, el: HTMLInputElement): unknown {
  const s = p.schema ?? {};
  if (s.type === "boolean") return el.checked;
  const v = el.value.trim();
  if (v === "") return undefined;
  if (s.type === "number" || s.type === "integer") return Number(v);
  if (isTime(p)) return isoLocal(v);
  if (s.type === "array" || s.type === "object") {
    try { return JSON.parse(v); } catch { return s.type === "array" ? v.split(/[,，\s]+/).filter(Boolean) : v; }
  }
  return v;
}

/** Paths in a result: a top-level "path", or per-row "path"/"geometry" arrays of [lat, lon]. */
function pathsOf(data: any, rows: any[]): [number, number][][] {
  const out: [number, number][][] = [];
  const take = (p: any) => { if (Array.isArray(p) && p.length > 1 && Array.isArray(p[0])) out.push(p as [number, number][]); };
  take(data?.path); take(data?.route); take(data?.likely_path);
  for (const r of rows.slice(0, 200)) { take(r?.path); take(r?.route); }
  const reads = rowsOf(data, "reads");
  if (!out.length && reads.length > 1) {
    const pts = reads.map(latLonOf).filter(Boolean) as [number, number][];
    if (pts.length > 1) out.push(pts);
  }
  return out;
}

function pointsOf(data: any, rows: any[]): any[] {
  const pts = rows.filter((r) => latLonOf(r));
  if (pts.length) return pts;
  const reads = rowsOf(data, "reads");
  if (reads.length) return reads.filter((r: any) => latLonOf(r));
  return rows.flatMap((r) => rowsOf(r, "reads", "sightings").filter((x: any) => latLonOf(x))).slice(0, 5000);
}

/** The query chosen and the last answer of each, kept for the session: a tab or language switch
 * shows them again (in the new language) instead of wiping them. */
const kept: { path: string | null; results: Map<string, unknown> } = { path: null, results: new Map() };

/** Forget the kept answers (logout: they are personal data). */
export function forgetAnalyst(): void { kept.path = null; kept.results.clear(); }

export const analystView: View = {
  key: "analyst",
  roles: ["analyst", "supervisor"],
  render(panel, ctx: ViewCtx) {
    panel.append(h("h2", t("analyst.title")));
    const ops = queryOps();
    if (!ops.length) { panel.append(unavailable("/api/v1/anpr/…")); return; }
    const tabs = h("div.tabs#query-tabs");
    const formBox = h("div#query-form");
    const results = h("div#query-results");
    panel.append(tabs, formBox, results);
    let active = ops.find((o) => `${o.method} ${o.path}` === kept.path) ?? ops[0];

    function paintTabs(): void {
      clear(tabs, ops.map((op) => h("button.tab", {
        class: op === active ? "tab active" : "tab", dataset: { kind: kindOf(op), path: op.path },
        title: `${op.method} /api/v1${op.path}`, onclick: () => { active = op; kept.path = `${op.method} ${op.path}`; paintTabs(); paintForm(); showKept(); },
      }, kindOf(op) === "other" ? (op.spec.summary ?? op.path) : t(`q.${kindOf(op)}`))));
    }

    function paintForm(): void {
      const ps = params(active);
      const inputs = new Map<string, HTMLInputElement>();
      const fields = ps.map((p) => { const el = inputFor(p) as HTMLInputElement; inputs.set(p.name, el); return field(label(p) + (p.required ? " *" : ""), el, p.description); });
      const hasLatLon = inputs.has("lat") && inputs.has("lon");
      const form = h("form.form.query", {
        onsubmit: async (e: Event) => {
          e.preventDefault();
          if (!caseContext() || !["investigation", "missing_person", "hotlist_alert"].includes(caseContext()!.purpose)) {
            if (!(await askCaseContext("investigation"))) return;
          }
          const query: Record<string, any> = {}, body: Record<string, any> = {};
          let path = active.path;
          for (const p of ps) {
            const v = readValue(p, inputs.get(p.name)!);
            if (v === undefined) continue;
            if (p.in === "path") path = path.replace(`{${p.name}}`, encodeURIComponent(String(v)));
            else if (p.in === "query") query[p.name] = Array.isArray(v) ? v.join(",") : v;
            else body[p.name] = v;
          }
          clear(results, h("p.muted", t("common.loading")));
          const op = active;
          try {
            const data = await api.request(op.method, path, { query, body: op.method === "POST" ? body : undefined, personal: true });
            kept.results.set(`${op.method} ${op.path}`, data);
            if (op === active) showResults(data);
          } catch (ex) {
            clear(results, h("p.error#query-error", t("common.error", { msg: errorText(ex) })));
          }
        },
      }, fields,
        hasLatLon && ctx.map ? h("button", { type: "button", onclick: () => ctx.map!.pick((la, lo) => { inputs.get("lat")!.value = String(la); inputs.get("lon")!.value = String(lo); }) }, t("common.pickOnMap")) : null,
        h("div.actions", h("button.primary#query-run", { type: "submit" }, t("analyst.run"))));
      clear(formBox, form);
    }

    function showResults(data: any): void {
      const rows = rowsOf(data, "candidates", "reads", "results", "people", "pairs");
      const flat = rows.map((r) => (r && typeof r === "object" ? r : { value: r }));
      const scanned = data?.scanned_reads;
      clear(results,
        h("h3", t("analyst.results"), " ", h("span.muted#query-count", t("common.rows", { n: flat.length }))),
        scanned !== undefined ? h("p.muted", t("analyst.scanned", { n: scanned })) : null,
        h("div.actions",
          h("button#export-csv", { type: "button", disabled: !flat.length, onclick: () => download(`precinct-${kindOf(active)}-${caseContext()?.caseId ?? ""}.csv`, toCsv(flat)) }, t("common.exportCsv"))),
        h("div.scroll", table(autoCols(flat, 12), flat.slice(0, 1000), { id: "query-table" })));
      if (ctx.map) ctx.map.showResults(pointsOf(data, flat), pathsOf(data, flat));
    }

    function showKept(): void {
      const data = kept.results.get(`${active.method} ${active.path}`);
      if (data !== undefined) showResults(data); else { clear(results); ctx.map?.showResults([], []); }
    }

    paintTabs();
    paintForm();
    showKept();
  },
};
