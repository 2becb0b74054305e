// The analyst's result tables: for each ANPR query the rows it answers with, and columns named in
// the UI's language with their units, values formatted for reading (local 24-h times, distances
// rounded, counts with separators, nested values as short sub-lists, never JSON in a cell).
import { fmtTime, h } from "../dom";
import { lang, t, tOr } from "../i18n";
import { fmtCell } from "./common";

export interface Col {
  key: string;
  label: string;
  /** What the cell shows (text or a sub-list). */
  render: (r: any, i: number) => Node | string;
  /** The cell as plain text (CSV export); defaults to the rendered text. */
  text?: (r: any, i: number) => string;
  /** Kept on one line (times, plates). */
  nowrap?: boolean;
}

export interface ResultView {
  rows: any[];
  cols: Col[];
  /** Lines above the table (scanned reads, last seen, likely next cameras...). */
  notes: (Node | string)[];
  /** A result that is one figure, not a table (pinning reads). */
  message?: string;
}

// --- number and time formats -----------------------------------------------------------------

function locale(): string { return lang() === "en" ? "en-US" : "zh-CN"; }

function numFmt(v: unknown, digits: number): string {
  const n = Number(v);
  if (v === null || v === undefined || v === "" || !Number.isFinite(n)) return "";
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
}

/** A count with thousands separators: 12,345. */
export function fmtCount(v: unknown): string { return numFmt(v, 0); }

/** Kilometres rounded for reading: 0.42, 12.4, 125. */
export function fmtKm(v: unknown): string {
  const n = Math.abs(Number(v));
  return numFmt(v, n < 10 ? 2 : n < 100 ? 1 : 0);
}

/** A score or share in [0, 1] to two decimals. */
export function fmtScore(v: unknown): string { return numFmt(v, 2); }

/** A span of seconds in words: "20 秒", "51 分 40 秒", "2 小时 5 分" ("20 s", "51 min 40 s", "2 h 5 min"). */
export function fmtSpan(v: unknown): string {
  const s0 = Number(v);
  if (v === null || v === undefined || !Number.isFinite(s0)) return "";
  const s = Math.round(Math.abs(s0));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  if (hh > 0) return t("an.spanHM", { h: fmtCount(hh), m: mm });
  if (mm > 0) return ss ? t("an.spanMS", { m: mm, s: ss }) : t("an.spanM", { m: mm });
  return t("an.spanS", { s: ss });
}

function fmtYesNo(v: unknown): string { return v ? t("an.yes") : t("an.no"); }

function fmtPlace(lat: unknown, lon: unknown): string {
  const la = Number(lat), lo = Number(lon);
  if (!Number.isFinite(la) || !Number.isFinite(lo) || lat === null || lon === null) return "";
  return `${la.toFixed(5)}, ${lo.toFixed(5)}`;
}

function fmtWhere(r: any): string {
  return [r?.camera_id ? `${t("an.camera")} ${r.camera_id}` : "", fmtTime(r?.ts)].filter(Boolean).join(" · ");
}

/** Nested values as a short list of readable lines (at most ``max`` shown, then "… n more"). */
function subList(lines: string[], max = 6): Node {
  const shown = lines.slice(0, max);
  return h("ul.sublist", { style: "margin:0;padding-left:1.1em;white-space:normal;min-width:14em" }, shown.map((l) => h("li", l)),
    lines.length > max ? h("li.muted", t("an.more", { n: fmtCount(lines.length - max) })) : null);
}

/** Any value as text a reader understands (the fallback for fields this file does not name). */
function readable(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return fmtYesNo(v);
  if (typeof v === "number") return Number.isInteger(v) ? fmtCount(v) : numFmt(v, 2);
  if (Array.isArray(v)) return v.map(readable).join("、");
  if (typeof v === "object") {
    return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${colName(k)}: ${readable(x)}`).join("; ");
  }
  return fmtCell(v);
}

function colName(k: string): string { return tOr(`an.col.${k}`, tOr(`col.${k}`, k)); }

// --- columns ---------------------------------------------------------------------------------

function one(c: Col): Col { return { ...c, nowrap: true }; }

function col(key: string, render: (r: any, i: number) => Node | string, text?: (r: any, i: number) => string): Col {
  return { key, label: t(`an.col.${key}`), render, text };
}

// Built on each call: the labels follow the language of the moment.
const plate = () => one(col("plate", (r) => String(r.plate ?? "")));
const firstSeen = () => one(col("first_seen", (r) => fmtTime(r.first_seen)));
const lastSeen = () => one(col("last_seen", (r) => fmtTime(r.last_seen)));
const reads = () => col("reads", (r) => fmtCount(r.reads));
const rank = (key = "rank") => col(key, (_r, i) => fmtCount(i + 1));

function listCol(key: string, lines: (r: any) => string[]): Col {
  return col(key, (r) => subList(lines(r)), (r) => lines(r).join("; "));
}

function assocCols(): Col[] {
  return [
    rank(), plate(), reads(), firstSeen(), lastSeen(),
    col("min_distance_km", (r) => fmtKm(r.min_distance_km)),
    col("on_watchlist", (r) => fmtYesNo(r.on_watchlist)),
    col("score", (r) => fmtScore(r.score)),
    listCol("components", (r) => {
      const c = r.components ?? {};
      return [
        `${t("an.c.rarity")}: ${fmtScore(c.rarity)}`,
        `${t("an.c.days_seen_before")}: ${fmtCount(c.days_seen_before)}`,
        `${t("an.c.closeness_space")}: ${fmtScore(c.closeness_space)}`,
        `${t("an.c.closeness_time")}: ${fmtScore(c.closeness_time)}`,
        `${t("an.c.min_time_from_middle_s")}: ${fmtSpan(c.min_time_from_middle_s)}`,
      ].filter((l) => !/:\s*$/.test(l));
    }),
  ];
}

function seriesCols(): Col[] {
  return [
    rank(), plate(), col("n_cases", (r) => fmtCount(r.n_cases)),
    listCol("per_case", (r) => (Array.isArray(r.per_case) ? r.per_case : (r.cases ?? []).map((c: string) => ({ case_id: c })))
      .map((c: any) => t("an.perCase", { scene: c.case_id, n: fmtCount(c.reads), km: fmtKm(c.min_distance_km) }))),
    reads(), firstSeen(), lastSeen(),
  ];
}

function convoyCols(): Col[] {
  return [
    rank(), plate(),
    col("cameras", (r) => fmtCount(r.cameras)), col("co_reads", (r) => fmtCount(r.co_reads)),
    col("min_gap_s", (r) => fmtCount(r.min_gap_s)), firstSeen(), lastSeen(),
  ];
}

function clonedCols(): Col[] {
  return [
    rank(), plate(), col("impossible_pairs", (r) => fmtCount(r.impossible_pairs)),
    listCol("pairs", (r) => (r.pairs ?? []).map((p: any) => t("an.pair", {
      a: fmtWhere(p.a), b: fmtWhere(p.b), km: fmtKm(p.distance_km), gap: fmtSpan(p.gap_s), speed: fmtCount(p.speed_kmh),
    }))),
  ];
}

function personCols(): Col[] {
  return [
    rank(), col("person_id", (r) => String(r.person_id ?? "")),
    col("vehicles", (r) => fmtCount(r.vehicles)),
    one(col("window_start", (r) => fmtTime(r.window_start))), one(col("window_end", (r) => fmtTime(r.window_end))),
    listCol("links", (r) => (r.links ?? (r.plates ?? []).map((p: string) => ({ plate: p })))
      .map((l: any) => [l.plate, fmtTime(l.ts), l.source ? tOr(`an.source.${l.source}`, String(l.source)) : ""].filter(Boolean).join(" · "))),
  ];
}

function trajectoryCols(legs: Map<number, any>): Col[] {
  const leg = (r: any) => legs.get(Number(r.rid));
  return [
    rank("seq"), one(col("ts", (r) => fmtTime(r.ts))), col("camera_id", (r) => String(r.camera_id ?? "")),
    col("place", (r) => fmtPlace(r.lat, r.lon)),
    col("gap_next", (r) => fmtSpan(leg(r)?.gap_s)),
    col("road_km_next", (r) => (leg(r)?.length_m !== undefined && leg(r)?.length_m !== null ? fmtKm(leg(r).length_m / 1000) : "")),
    col("road_time_next", (r) => fmtSpan(leg(r)?.time_s)),
    col("plausible", (r) => (leg(r) && leg(r).plausible !== undefined && leg(r).plausible !== null ? fmtYesNo(leg(r).plausible) : "")),
  ];
}

function alertCols(): Col[] {
  return [
    one(col("raised_at", (r) => fmtTime(r.read?.ts ?? r.raised_at))), plate(),
    col("list", (r) => tOr(`an.list.${r.list}`, String(r.list ?? ""))), col("reason", (r) => String(r.reason ?? "")),
    col("camera_id", (r) => String(r.read?.camera_id ?? r.camera_id ?? "")), col("place", (r) => fmtPlace(r.lat, r.lon)),
    col("acknowledged", (r) => (r.acknowledged_at ? `${r.acknowledged_by ?? ""} · ${fmtTime(r.acknowledged_at)}` : t("an.no"))),
  ];
}

function hotlistCols(): Col[] {
  return [
    plate(), col("list", (r) => tOr(`an.list.${r.list}`, String(r.list ?? ""))), col("reason", (r) => String(r.reason ?? "")),
    one(col("expires_at", (r) => (r.expires_at ? fmtTime(r.expires_at) : t("an.never")))),
    col("active", (r) => fmtYesNo(r.active)), col("created_by", (r) => String(r.created_by ?? "")),
  ];
}

/** Columns for rows of an unknown query: every field named (translated when known) and readable. */
function genericCols(rows: any[]): Col[] {
  const keys: string[] = [];
  for (const r of rows.slice(0, 50)) for (const k of Object.keys(r ?? {})) if (!keys.includes(k)) keys.push(k);
  return keys.slice(0, 12).map((k) => ({ key: k, label: colName(k), render: (r: any) => readable(r?.[k]) }));
}

function arr(data: any, key: string): any[] { return Array.isArray(data?.[key]) ? data[key] : []; }

/** The table, columns and notes for ``data``, the answer of a query of kind ``kind``. */
export function resultView(kind: string, data: any): ResultView {
  const notes: (Node | string)[] = [];
  if (data?.scanned_reads !== undefined) notes.push(t("analyst.scanned", { n: fmtCount(data.scanned_reads) }));
  switch (kind) {
    case "associate": return { rows: arr(data, "candidates"), cols: assocCols(), notes };
    case "series": return { rows: arr(data, "candidates"), cols: seriesCols(), notes: [...notes, t("an.scenes", { n: fmtCount(data?.scenes ?? 0), k: fmtCount(data?.min_cases ?? 0) })] };
    case "convoy": return { rows: arr(data, "candidates"), cols: convoyCols(), notes: data?.target ? [t("an.target", { plate: data.target })] : [] };
    case "cloned": return { rows: arr(data, "candidates"), cols: clonedCols(), notes: data?.max_speed_kmh ? [t("an.maxSpeed", { v: fmtCount(data.max_speed_kmh) })] : [] };
    case "person": return { rows: arr(data, "people"), cols: personCols(), notes };
    case "alerts": return { rows: arr(data, "alerts"), cols: alertCols(), notes };
    case "hotlist": return { rows: arr(data, "entries"), cols: hotlistCols(), notes };
    case "pin": return { rows: [], cols: [], notes, message: t("an.pinned", { n: fmtCount(data?.pinned ?? 0) }) };
    case "trajectory": {
      const legs = new Map<number, any>(arr(data, "legs").map((l) => [Number(l.from_rid), l]));
      const last = data?.last_seen;
      if (last) notes.push(h("span#traj-last", `${t("an.lastSeen")}: ${fmtWhere(last)}`));
      const next = arr(data, "likely_next");
      if (next.length) {
        notes.push(h("span#traj-next", `${t("an.likelyNext")}: `, next.map((c: any, i: number) => [i ? "；" : "", String(c.camera_id ?? ""),
          c.travel_time_s !== undefined && c.travel_time_s !== null ? ` (${t("an.roadTime")} ${fmtSpan(c.travel_time_s)})` : "",
          c.share !== undefined ? ` ${Math.round(Number(c.share) * 100)}%` : ""])));
      }
      return { rows: arr(data, "reads"), cols: trajectoryCols(legs), notes };
    }
    default: {
      const rows = (Array.isArray(data) ? data : Object.values(data ?? {}).find(Array.isArray) ?? []) as any[];
      const flat = rows.map((r) => (r && typeof r === "object" ? r : { value: r }));
      return { rows: flat, cols: genericCols(flat), notes };
    }
  }
}

/** The table's rows as CSV records: the column names as shown, each cell as text. */
export function csvRecords(view: ResultView): Record<string, string>[] {
  return view.rows.map((r, i) => {
    const out: Record<string, string> = {};
    for (const c of view.cols) {
      if (c.text) out[c.label] = c.text(r, i);
      else {
        const v = c.render(r, i);
        out[c.label] = typeof v === "string" ? v : v.textContent ?? "";
      }
    }
    return out;
  });
}
