import { ApiError } from "../api";
import { fmtTime, h } from "../dom";
import { t, tOr } from "../i18n";

export function unavailable(what: string): HTMLElement {
  return h("p.unavailable", t("common.unavailable", { what }));
}

export function errorText(e: unknown): string {
  // The kind of error in the reader's language (no bare HTTP number), then the server's words.
  if (e instanceof ApiError) {
    const kind = e.code ? tOr(`err.${e.code}`, "") : "";
    return kind ? `${kind}：${e.message}` : e.status ? `${e.status} ${e.message}` : e.message;
  }
  return (e as Error).message ?? String(e);
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
