// A tiny DOM helper: h("div.cls#id", {attrs}, children...). No framework.
type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(
  spec: K | string, attrs?: Attrs | Child, ...children: Child[]
): HTMLElement {
  // "tag.class#id.other" in any order of classes and id.
  const tag = /^[a-z][a-z0-9]*/i.exec(spec)?.[0] || "div";
  const el = document.createElement(tag);
  const classes: string[] = [];
  for (const m of spec.slice(tag === "div" && !spec.startsWith("div") ? 0 : tag.length).matchAll(/([.#])([\w-]+)/g)) {
    if (m[1] === "#") el.id = m[2];
    else classes.push(m[2]);
  }
  if (classes.length) el.className = classes.join(" ");
  if (attrs !== undefined && (typeof attrs !== "object" || attrs === null || Array.isArray(attrs) || attrs instanceof Node)) {
    children.unshift(attrs as Child);
  } else if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
      } else if (k === "dataset" && typeof v === "object") {
        Object.assign(el.dataset, v);
      } else if (k === "value" && "value" in el) {
        (el as HTMLInputElement).value = String(v);
      } else if (k === "checked" && "checked" in el) {
        (el as HTMLInputElement).checked = Boolean(v);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element, ...children: Child[]): Element {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  return h("label.field", h("span.label", label), input, hint ? h("small.hint", hint) : null);
}

export function fmtTime(v: unknown): string {
  if (!v) return "";
  const d = new Date(String(v));
  if (isNaN(d.getTime())) return String(v);
  // Local time, 24-hour, to the second, the same in both languages and every browser locale.
  const p = (n: number) => String(n).padStart(2, "0");
  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return `${day} ${time}`;
}

export function fmtDuration(seconds: number): string {
  if (!isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  const hh = Math.floor(m / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return hh > 0 ? `${hh}:${pad(m % 60)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

export function toast(message: string, kind: "info" | "error" | "ok" = "info"): void {
  let box = document.getElementById("toasts");
  if (!box) {
    box = h("div#toasts", { role: "status", "aria-live": "polite" });
    document.body.appendChild(box);
  }
  const t = h(`div.toast.${kind}`, message);
  box.appendChild(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
}

/** CSV with a header row; values quoted when needed (RFC 4180). */
export function toCsv(rows: Record<string, unknown>[]): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const q = (v: unknown): string => {
    if (v === null || v === undefined) return "";
    let s = typeof v === "object" ? JSON.stringify(v) : String(v);
    // Neutralise spreadsheet formulas (CSV injection).
    if (/^[=+\-@\t\r]/.test(s) && typeof v === "string") s = "'" + s;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.map(q).join(","), ...rows.map((r) => cols.map((c) => q(r[c])).join(","))].join("\r\n") + "\r\n";
}

export function download(name: string, text: string, type = "text/csv;charset=utf-8"): void {
  const blob = new Blob(["\ufeff", text], { type });
  const a = h("a", { href: URL.createObjectURL(blob), download: name }) as HTMLAnchorElement;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

/** A date-time field that reads the same in every browser locale: 24-hour local time typed as
 * "YYYY-MM-DD HH:MM" (a native datetime-local follows the browser's locale: mm/dd/yyyy AM/PM). */
export function dateTimeInput(id: string, attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h(`input#${id}.datetime`, { type: "text", inputmode: "numeric", autocomplete: "off", placeholder: "YYYY-MM-DD HH:MM",
    spellcheck: "false", ...attrs }) as HTMLInputElement;
}

/** "2026-05-01 08:30" (or with T, seconds optional) as a local Date; null when not such a time. */
export function parseLocalDateTime(v: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(v.trim());
  if (!m) return null;
  const [y, mo, d, hh, mi, ss] = m.slice(1).map((x) => Number(x ?? 0));
  const out = new Date(y, mo - 1, d, hh, mi, ss || 0);
  // 2026-02-31 rolls over in Date: refuse it rather than search another day.
  if (out.getFullYear() !== y || out.getMonth() !== mo - 1 || out.getDate() !== d || hh > 23 || mi > 59) return null;
  return out;
}
