// The analyst's workspace: ANPR queries (association, series, trajectory, convoy, cloned plates,
// one person many vehicles) built from the server's own route descriptions, each bound to a case
// and purpose, results in a table, on the map and exportable as CSV.
import { api, type Op } from "../api";
import { caseContext, askCaseContext } from "../casectx";
import { clear, dateTimeInput, download, field, fmtTime, h, parseLocalDateTime, toCsv } from "../dom";
import { t, tOr } from "../i18n";
import { params, type Param } from "../schema";
import { csvRecords, fmtCount, resultView, type ResultView } from "./analystcols";
import { drawQuery } from "./analystmap";
import { sceneEditor, scenesBody, type SceneEditor } from "./analystscenes";
import { errorText, unavailable } from "./common";
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

/** The series' scenes: rows to fill in, not JSON (the body's ``cases``, a list of objects with a place). */
function isScenes(op: Op, p: Param): boolean {
  return kindOf(op) === "series" && p.name === "cases" && p.schema?.type === "array";
}

function readValue(p: Param, el: HTMLInputElement, scenes = false): unknown {
  if (scenes) return scenesBody(el.value, isoLocal);
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

/** The query chosen and the last answer of each, kept for the session: a tab or language switch
 * shows them again (in the new language) instead of wiping them. */
interface Answer { data: unknown; sent: Record<string, unknown> }
type Typed = Map<string, { value: string; checked: boolean }>;
const kept: { path: string | null; results: Map<string, Answer>; forms: Map<string, Typed> } = {
  path: null, results: new Map(), forms: new Map(),
};

/** "YYYY-MM-DD HH:MM" in local time, as the time fields take it. */
function typedTime(v: unknown, shiftS = 0): string {
  const d = new Date(String(v));
  if (isNaN(d.getTime())) return "";
  return fmtTime(new Date(d.getTime() + shiftS * 1000).toISOString()).slice(0, 16);
}

/** The window to follow a plate found by another query: the query's own, else the row's first and
 * last sightings (or its read) with an hour either side. */
function windowFor(row: any, sent: Record<string, unknown>): [string, string] {
  const now = new Date().toISOString();
  const start = sent.start ? typedTime(sent.start) : typedTime(row.first_seen ?? row.read?.ts ?? row.raised_at ?? now, -3600 * (row.first_seen || row.read ? 1 : 24));
  const end = sent.end ? typedTime(sent.end, 60) : typedTime(row.last_seen ?? row.read?.ts ?? row.raised_at ?? now, 3600);
  return [start, end];
}

/** The result table: headers as the view names them, each cell marked with its column. */
function resultTable(view: ResultView): HTMLElement {
  if (!view.rows.length) return h("p.muted#query-empty", t("common.none"));
  const rows = view.rows.slice(0, 1000);
  return h("table.grid#query-table",
    h("thead", h("tr", view.cols.map((c) => h("th", { dataset: { col: c.key } }, c.label)))),
    h("tbody", rows.map((r, i) => h("tr", view.cols.map((c) => h("td", { dataset: { col: c.key },
      style: c.nowrap ? "white-space:nowrap" : undefined }, c.render(r, i)))))));
}

/** Forget the kept answers (logout: they are personal data). */
export function forgetAnalyst(): void { kept.path = null; kept.results.clear(); kept.forms.clear(); }

/** Queries whose plates can be followed to their trajectory with a click. */
const FOLLOW = new Set(["associate", "series", "convoy", "cloned", "alerts", "hotlist"]);

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
        title: `${op.method} /api/v1${op.path}`, onclick: () => openTab(op),
      }, kindOf(op) === "other" ? (op.spec.summary ?? op.path) : t(`q.${kindOf(op)}`))));
    }

    /** Keep what is typed in the form of the tab being left (each tab keeps its own). */
    function keepTyped(): void {
      const typed: Typed = new Map();
      for (const el of formBox.querySelectorAll<HTMLInputElement>("input[name], select[name], textarea[name]")) {
        typed.set(el.name, { value: el.value, checked: el.checked });
      }
      kept.forms.set(`${active.method} ${active.path}`, typed);
    }

    function openTab(op: Op, values: Record<string, string> = {}): HTMLFormElement | null {
      keepTyped();
      active = op;
      kept.path = `${op.method} ${op.path}`;
      paintTabs();
      const form = paintForm();
      for (const [name, v] of Object.entries(values)) {
        const el = form.querySelector<HTMLInputElement>(`[name="${CSS.escape(name)}"]`);
        if (el) el.value = v;
      }
      showKept();
      return form;
    }

    /** The reads of a trajectory, offered to the pin tab (the analyst still runs it: it changes
     * what retention keeps). */
    function pinButton(kind: string, rows: any[]): HTMLElement | null {
      const op = ops.find((o) => kindOf(o) === "pin");
      const rids = rows.map((r) => r?.rid).filter((x) => Number.isInteger(x));
      if (kind !== "trajectory" || !op || !rids.length) return null;
      return h("button#pin-reads", { type: "button", onclick: () => openTab(op, { rids: `[${rids.join(", ")}]` }) },
        t("an.pinThese", { n: fmtCount(rids.length) }));
    }

    /** Follow a plate found by this query: its trajectory in the query's window, run at once. */
    function followPlate(row: any, sent: Record<string, unknown>): void {
      const op = ops.find((o) => kindOf(o) === "trajectory");
      if (!op || !row?.plate) return;
      const [start, end] = windowFor(row, sent);
      openTab(op, { plate: String(row.plate), start, end })?.requestSubmit();
    }

    function paintForm(): HTMLFormElement {
      const ps = params(active);
      const inputs = new Map<string, HTMLInputElement>();
      const op0 = active;
      let editor: SceneEditor | null = null;
      const fields = ps.map((p) => {
        if (isScenes(op0, p)) {
          editor = sceneEditor(p.name, ctx.map);
          inputs.set(p.name, editor.value as unknown as HTMLInputElement);
          return editor.box;
        }
        const el = inputFor(p) as HTMLInputElement; inputs.set(p.name, el); return field(label(p) + (p.required ? " *" : ""), el, p.description);
      });
      const hasLatLon = inputs.has("lat") && inputs.has("lon");
      const form = h("form.form.query", {
        onsubmit: async (e: Event) => {
          e.preventDefault();
          if (!caseContext() || !["investigation", "missing_person", "hotlist_alert"].includes(caseContext()!.purpose)) {
            if (!(await askCaseContext("investigation"))) return;
          }
          keepTyped();
          const query: Record<string, any> = {}, body: Record<string, any> = {};
          let path = active.path;
          for (const p of ps) {
            const v = readValue(p, inputs.get(p.name)!, isScenes(op0, p));
            if (v === undefined) continue;
            if (p.in === "path") path = path.replace(`{${p.name}}`, encodeURIComponent(String(v)));
            else if (p.in === "query") query[p.name] = Array.isArray(v) ? v.join(",") : v;
            else body[p.name] = v;
          }
          clear(results, h("p.muted", t("common.loading")));
          drawQuery(ctx.map, kindOf(active), {}, undefined); // the last query's layers go now
          const op = active;
          try {
            const data = await api.request(op.method, path, { query, body: op.method === "POST" ? body : undefined, personal: true });
            const answer = { data, sent: { ...query, ...body } };
            kept.results.set(`${op.method} ${op.path}`, answer);
            if (op === active) showResults(answer);
          } catch (ex) {
            clear(results, h("p.error#query-error", t("common.error", { msg: errorText(ex) })));
          }
        },
      }, fields,
        hasLatLon && ctx.map ? h("button", { type: "button", onclick: () => ctx.map!.pick((la, lo) => { inputs.get("lat")!.value = String(la); inputs.get("lon")!.value = String(lo); }) }, t("common.pickOnMap")) : null,
        h("div.actions", h("button.primary#query-run", { type: "submit" }, t("analyst.run"))));
      const typed = kept.forms.get(`${active.method} ${active.path}`);
      for (const [name, el] of inputs) {
        const v = typed?.get(name);
        if (!v) continue;
        if (el.type === "checkbox") el.checked = v.checked; else el.value = v.value;
      }
      (editor as SceneEditor | null)?.load();
      clear(formBox, form);
      return form as HTMLFormElement;
    }

    function showResults(answer: Answer): void {
      if (!results.isConnected) return; // a language or tab switch drew the screen again: it shows the kept answer
      const kind = kindOf(active);
      const view = resultView(kind, answer.data);
      const plateCol = view.cols.find((c) => c.key === "plate");
      if (plateCol && FOLLOW.has(kind) && ops.some((o) => kindOf(o) === "trajectory")) {
        const shown = plateCol.render;
        plateCol.render = (r, i) => h("button.link.follow-plate", { type: "button", title: t("an.follow"),
          dataset: { plate: String(r.plate ?? "") }, onclick: () => followPlate(r, answer.sent) }, shown(r, i));
        plateCol.text = (r) => String(r.plate ?? "");
      }
      const records = csvRecords(view);
      clear(results,
        h("h3", t("analyst.results"), " ", view.message ? null : h("span.muted#query-count", t("common.rows", { n: fmtCount(view.rows.length) }))),
        view.message ? h("p#query-message", view.message) : null,
        view.notes.map((n) => h("p.muted.query-note", n)),
        view.message ? null : h("div.actions",
          h("button#export-csv", { type: "button", disabled: !records.length,
            onclick: () => download(`precinct-${kind}-${caseContext()?.caseId ?? ""}.csv`, toCsv(records)) }, t("common.exportCsv")),
          pinButton(kind, view.rows)),
        view.message ? null : h("div.scroll", resultTable(view)));
      drawQuery(ctx.map, kind, answer.sent, answer.data);
    }

    function showKept(): void {
      const answer = kept.results.get(`${active.method} ${active.path}`);
      if (answer !== undefined) showResults(answer); else { clear(results); drawQuery(ctx.map, kindOf(active), {}, undefined); }
    }

    paintTabs();
    paintForm();
    showKept();
  },
};
