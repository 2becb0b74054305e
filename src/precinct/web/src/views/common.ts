import { ApiError } from "../api";
import { fmtTime, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";

export function unavailable(what: string): HTMLElement {
  return h("p.unavailable", t("common.unavailable", { what }));
}

/** The field names a server error's ``detail`` points at ({field} or a list of them), in the UI's words. */
function errorFields(d: unknown): string[] {
  const items = Array.isArray(d) ? d : d && typeof d === "object" ? [d] : [];
  const out: string[] = [];
  for (const it of items) {
    const f = it && typeof it === "object" ? (it as Record<string, unknown>).field : undefined;
    if (typeof f === "string" && f) {
      const shown = tOr(`col.${f}`, f);
      if (!out.includes(shown)) out.push(shown);
    }
  }
  return out.slice(0, 4);
}

/** The input lines a server error points at (``line``, or ``errors[].line`` of a bad file), up to 5. */
function errorLines(d: unknown): number[] {
  const out: number[] = [];
  const add = (v: unknown) => { if (typeof v === "number" && Number.isFinite(v) && !out.includes(v)) out.push(v); };
  if (d && typeof d === "object" && !Array.isArray(d)) {
    const r = d as Record<string, unknown>;
    add(r.line);
    if (Array.isArray(r.errors)) for (const it of r.errors) if (it && typeof it === "object") add((it as Record<string, unknown>).line);
  }
  return out.slice(0, 5);
}

export function errorText(e: unknown): string {
  // The kind of error in the reader's language (from the server's code, never a bare HTTP number),
  // the fields it names, and the server's English words only in the English UI (see errorHint).
  if (e instanceof ApiError) {
    const kind = (e.code ? tOr(`err.${e.code}`, "") : "") || t("err.other", { status: e.status || "?" });
    const fields = errorFields(e.detail);
    const lines = errorLines(e.detail);
    // A bad file names its lines in every language: the analyst fixes line 9, not "input error".
    const where = (fields.length ? t("err.fields", { fields: fields.join(", ") }) : "")
      + (lines.length ? t("err.lines", { lines: lines.join(", ") }) : "");
    const words = lang() === "en" && e.message ? `: ${e.message}` : "";
    return `${kind}${where}${words}`;
  }
  return (e as Error).message ?? String(e);
}

/** The server's own (English) words for an error, for a tooltip; "" when there are none. */
export function errorHint(e: unknown): string {
  return e instanceof ApiError ? e.message ?? "" : "";
}

/** An error toast in the reader's language, the server's words as its tooltip. */
export function toastError(e: unknown): void {
  toast(errorText(e), "error");
  const last = document.querySelector<HTMLElement>("#toasts .toast.error:last-child");
  const hint = errorHint(e);
  if (last && hint) last.title = hint;
}

export function table(cols: { key: string; label: string; render?: (r: any) => Node | string }[], rows: any[], opts: { id?: string; onRow?: (r: any, tr: HTMLElement) => void; rowClass?: (r: any) => string } = {}): HTMLElement {
  if (!rows.length) return h("p.muted", t("common.none"));
  return h("table.grid", { id: opts.id },
    h("thead", h("tr", cols.map((c) => h("th", c.label)))),
    h("tbody", rows.map((r) => {
      const tr = h("tr", { class: opts.rowClass?.(r) }, cols.map((c) => {
        const v = c.render ? c.render(r) : fmtCell(r[c.key]);
        return h("td", { dataset: { col: c.key } }, v);
      }));
      if (opts.onRow) { tr.classList.add("clickable"); tr.addEventListener("click", () => opts.onRow!(r, tr)); }
      return tr;
    })));
}

export function fmtCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (typeof v === "boolean") return v ? "✓" : "";
  if (typeof v === "object") return Array.isArray(v) && v.every((x) => typeof x !== "object") ? v.join(", ") : JSON.stringify(v);
  // Server timestamps (UTC, often with microseconds) in the reader's local time, to the second.
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) return fmtTime(v);
  return String(v);
}

/** Columns for arbitrary result rows: the union of scalar keys, nested ones shown as JSON. */
export function autoCols(rows: any[], max = 10): { key: string; label: string }[] {
  const keys: string[] = [];
  for (const r of rows.slice(0, 50)) for (const k of Object.keys(r ?? {})) if (!keys.includes(k)) keys.push(k);
  return keys.slice(0, max).map((k) => ({ key: k, label: t(`col.${k}`) === `col.${k}` ? k : t(`col.${k}`) }));
}

export function uuid(): string {
  return (crypto as any).randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
