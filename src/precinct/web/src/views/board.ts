// The dispatcher's board: open incidents with timers (filters: priority, status, overdue, text),
// the incident in a fixed side panel (boardpanel.ts), unit status. The list is updated in place:
// one row per incident, kept between updates and changed only where its data changed, timers
// updated as text; while the pointer is on the list, rows do not move (the order catches up when
// it leaves).
import { api, latLonOf, num, str } from "../api";
import { clear, fmtDuration, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";
import { type OpsMap, PRIORITY_COLOURS, priorityOf, unitColour, unitOutOfService } from "../map";
import { callsignOf, idOf, refreshAll, routes, store, subscribe, incidentTypeName } from "../store";
import { table, toastError, unavailable } from "./common";
import type { View } from "./index";
import { ageSeconds, isOpen } from "./overview";
import { incidentPanel, inStatus } from "./boardpanel";

export { inStatus };
import { lateUnits, waitingAck } from "./attachments";
import { alertSection } from "./boardalerts";

// Fallback response targets (seconds) by priority when the server does not send one.
const TARGET_S: Record<string, number> = { red: 5 * 60, orange: 10 * 60, yellow: 20 * 60, blue: 45 * 60, green: 120 * 60 };
const ORDER = Object.keys(PRIORITY_COLOURS);
const STATUSES = ["new", "dispatched", "en_route", "on_scene", "cleared"];
/** The board's keyboard shortcuts and the words that say what each does. */
const KEYS: [string, string][] = [["j", "board.key.j"], ["k", "board.key.k"], ["d", "board.key.d"],
  ["a", "board.key.a"], ["Esc", "board.key.esc"], ["?", "board.key.help"]];

export function targetOf(r: any): number {
  const tm = r.timers ?? {};
  const fromServer = r.dispatched_at ? num(tm, "arrival_target_s") : num(tm, "dispatch_target_s");
  return fromServer ?? num(r, "target_s", "target_seconds", "response_target_s") ?? TARGET_S[priorityOf(r)];
}

export function overdue(r: any): boolean {
  if (typeof r.timers?.overdue === "boolean") return r.timers.overdue;
  if (typeof r.overdue === "boolean") return r.overdue;
  const due = r.due_at ?? r.deadline;
  if (due) return new Date(due).getTime() < Date.now();
  return ageSeconds(r) > targetOf(r) && /^(new|open|pending|received)$/i.test(String(r.status ?? r.state ?? "new"));
}

/** The board's filters (kept for the session: a tab switch does not lose them). */
const filters = { priority: "", status: "", overdue: false, text: "" };

// The incident list route sends rows without their units; the board snapshot and the live events
// carry them (with ack_due_at and late): the last units seen of each incident are kept here.
const knownUnits = new Map<string, any[]>();
function unitsOf(r: any): any {
  if (Array.isArray(r.units)) { knownUnits.set(idOf(r), r.units); return r; }
  const units = knownUnits.get(idOf(r));
  return units ? { ...r, units } : r;
}

interface Col { key: string; label: () => string; sig: (r: any) => string; cell: (r: any) => Node | string }
const COLS: Col[] = [
  { key: "priority", label: () => t("col.priority"), sig: (r) => priorityOf(r),
    cell: (r) => h("span.prio", { style: `background:${PRIORITY_COLOURS[priorityOf(r)]}` }, t(`prio.${priorityOf(r)}`)) },
  { key: "id", label: () => t("col.id"), sig: (r) => idOf(r), cell: (r) => idOf(r) },
  { key: "type", label: () => t("col.type"), sig: (r) => incidentTypeName(r, lang()), cell: (r) => incidentTypeName(r, lang()) },
  { key: "status", label: () => t("col.status"), sig: (r) => String(r.status ?? r.state ?? ""),
    cell: (r) => tOr(`status.${r.status ?? r.state}`, String(r.status ?? r.state ?? "")) },
  { key: "address", label: () => t("col.address"), sig: (r) => String(r.address ?? ""), cell: (r) => String(r.address ?? "") },
  { key: "age", label: () => t("board.age"), sig: (r) => String(r.created_at ?? r.received_at ?? r.ts ?? ""),
    cell: (r) => h("span.timer", { dataset: { since: String(r.created_at ?? r.received_at ?? r.ts ?? "") } }, fmtDuration(ageSeconds(r))) },
  { key: "target", label: () => t("board.target"), sig: (r) => String(targetOf(r)), cell: (r) => fmtDuration(targetOf(r)) },
  // a dispatched unit not acknowledging in time (PRECINCT_ACK_LATE_S): a badge naming it, in its own cell
  { key: "ack", label: () => "", sig: (r) => lateUnits(unitsOf(r)).join(","), cell: (r) => {
    const late = lateUnits(unitsOf(r));
    return late.length ? h("span.badge.ack.late.row-late", { title: t("scene.late"), dataset: { late: late.join(" ") },
      style: "color:#ffb020;font-weight:600;white-space:nowrap" }, `⚠ ${late.map(callsignOf).join(" ")}`) : "";
  } },
];

/** Pan the map so that ``ll`` (and its popup) sits in the middle of the part of the map the side
 * panel leaves free: to its right on a wide screen, above it when it is a bottom sheet. The map may
 * still be moving to the incident (an animated pan or zoom): it is placed again each time the map
 * stops, for a moment, unless the user takes the map first. */
function keepClear(map: OpsMap, ll: [number, number], panel: HTMLElement): void {
  const m = map.map;
  let busy = false, tries = 0;
  const place = () => {
    // our own pan ends in a moveend too (not re-entered); a map that cannot move there (its bounds)
    // is not asked again and again
    if (busy || tries >= 4 || panel.hidden || map.removed) return;
    const box = m.getContainer().getBoundingClientRect();
    const cover = panel.getBoundingClientRect();
    if (!cover.width || cover.left >= box.right || cover.right <= box.left || cover.top >= box.bottom) return;
    const free = { left: box.left, right: box.right, top: box.top, bottom: box.bottom };
    if (box.right - cover.right >= 240) free.left = Math.max(box.left, cover.right);
    else if (cover.top - box.top >= 120) free.bottom = Math.min(box.bottom, cover.top);
    else return; // no free part worth the name (a phone's sheet over the whole map): the panel says it all
    const p = m.latLngToContainerPoint(ll);
    // a popup opens above its point: the point goes a little below the middle of the free part
    const dx = p.x - ((free.left + free.right) / 2 - box.left), dy = p.y - ((free.top + free.bottom) / 2 + 60 - box.top);
    if (Math.abs(dx) <= 4 && Math.abs(dy) <= 4) return;
    busy = true;
    tries += 1;
    try { m.panBy([dx, dy], { animate: false }); } finally { busy = false; }
  };
  const done = () => { m.off("moveend", place); m.off("dragstart", done); window.clearTimeout(timer); };
  const timer = window.setTimeout(done, 1500);
  m.on("moveend", place);
  m.once("dragstart", done);
  place();
}

function matches(r: any): boolean {
  if (filters.priority && priorityOf(r) !== filters.priority) return false;
  if (filters.status && String(r.status ?? r.state ?? "") !== filters.status) return false;
  if (filters.overdue && !overdue(r)) return false;
  const q = filters.text.trim().toLowerCase();
  if (q && ![idOf(r), incidentTypeName(r, lang()), r.address, r.summary].some((v) => String(v ?? "").toLowerCase().includes(q))) return false;
  return true;
}

export const boardView: View = {
  key: "board",
  roles: ["dispatcher", "supervisor"],
  render(panel, { map }) {
    panel.append(h("h2", t("board.title")));
    if (!routes.incidents()) { panel.append(unavailable("GET /api/v1/incidents")); return; }
    const tbody = h("tbody");
    const tableEl = h("table.grid#incident-table", h("thead", h("tr", COLS.map((c) => h("th", { dataset: { col: c.key } }, c.label())))), tbody);
    const empty = h("p.muted#board-empty", t("common.none"));
    const count = h("span.muted.small#board-count");
    const listBox = h("div#board-incidents", tableEl, empty);
    const unitsBox = h("div#board-units");
    const rows = new Map<string, HTMLElement>();
    let hovering = false;
    let pending = false;

    const detail = incidentPanel(() => markSelected(), (id) => {
      markSelected();
      const ll = latLonOf(store.incidents.get(id) ?? {});
      if (ll && map) { map.highlight(ll[0], ll[1]); keepClear(map, ll, detail.el); }
    });

    function markSelected(): void {
      const sel = detail.selected();
      rows.forEach((tr, id) => tr.classList.toggle("selected", id === sel));
    }

    const prio = h("select#board-filter-priority", h("option", { value: "" }, t("board.allPriorities")),
      ORDER.map((p) => h("option", { value: p }, t(`prio.${p}`)))) as HTMLSelectElement;
    const status = h("select#board-filter-status", h("option", { value: "" }, t("board.allStatuses")),
      STATUSES.map((s) => h("option", { value: s }, t(`status.${s}`)))) as HTMLSelectElement;
    const late = h("input#board-filter-overdue", { type: "checkbox" }) as HTMLInputElement;
    const text = h("input#board-filter-text", { type: "search", placeholder: t("board.search") }) as HTMLInputElement;
    prio.value = filters.priority; status.value = filters.status; late.checked = filters.overdue; text.value = filters.text;
    const onFilter = () => {
      filters.priority = prio.value; filters.status = status.value; filters.overdue = late.checked; filters.text = text.value;
      paintList(true);
    };
    for (const el of [prio, status, late]) el.addEventListener("change", onFilter);
    text.addEventListener("input", onFilter);
    // The shortcuts, said on the line and listed in words under a "?" (the ? key opens it too).
    const keysHelp = h("ul.small.keys-help#board-keys-help", { hidden: true, style: "list-style:none;margin:4px 0;padding:0" },
      KEYS.map(([k, key]) => h("li", { dataset: { key: k } }, h("kbd", k), " ", t(key))));
    const keysBtn = h("button.small#board-keys-toggle", { type: "button", title: t("board.keysTitle"),
      "aria-label": t("board.keysTitle"), "aria-expanded": "false", "aria-controls": "board-keys-help",
      onclick: () => toggleKeys() }, "?");
    function toggleKeys(): void {
      keysHelp.hidden = !keysHelp.hidden;
      keysBtn.setAttribute("aria-expanded", String(!keysHelp.hidden));
    }
    const bar = h("div.row.filters#board-filters", prio, status, text,
      h("label.check", late, " ", t("board.overdue")), count,
      h("span.small.muted#board-keys", { title: t("board.keysHint") }, "⌨ j/k · d · a · Esc"), keysBtn);

    const alerts = alertSection(map);
    panel.append(alerts.el, bar, keysHelp, listBox, h("h3", t("board.units")), unitsBox, detail.el);

    function rowFor(r: any): HTMLElement {
      const id = idOf(r);
      let tr = rows.get(id);
      if (!tr) {
        tr = h("tr.clickable", { dataset: { id }, onclick: () => void detail.open(id) },
          COLS.map((c) => h("td", { dataset: { col: c.key } })));
        rows.set(id, tr);
      }
      // Only the cells whose data changed are rebuilt (the timer's text is the ticker's).
      COLS.forEach((c, i) => {
        const td = tr!.children[i] as HTMLElement;
        const sig = c.sig(r);
        if (td.dataset.sig !== sig) { td.dataset.sig = sig; clear(td, c.cell(r)); }
      });
      tr.classList.toggle("overdue", overdue(r));
      tr.classList.toggle("selected", id === detail.selected());
      return tr;
    }

    /** Update the list in place; ``force`` reorders even under the pointer (a filter changed). */
    function paintList(force = false): void {
      const all = [...store.incidents.values()].filter(isOpen);
      const shown = all.filter(matches).sort((a, b) =>
        ORDER.indexOf(priorityOf(a)) - ORDER.indexOf(priorityOf(b)) || ageSeconds(b) - ageSeconds(a)).slice(0, 300);
      count.textContent = t("board.count", { n: shown.length, all: all.length });
      if (hovering && !force) {
        // Rows under the cursor stay where they are: update those on screen, reorder later.
        for (const r of shown) if (rows.has(idOf(r))) rowFor(r);
        pending = true;
        return;
      }
      pending = false;
      const want = shown.map(rowFor);
      const keep = new Set(want);
      for (const [id, tr] of rows) if (!keep.has(tr)) { tr.remove(); rows.delete(id); }
      let cursor = tbody.firstElementChild;
      for (const tr of want) {
        if (tr === cursor) cursor = cursor.nextElementSibling;
        else tbody.insertBefore(tr, cursor);
      }
      tableEl.hidden = !want.length;
      empty.hidden = !!want.length;
    }
    tbody.addEventListener("pointerenter", () => { hovering = true; });
    tbody.addEventListener("pointerleave", () => { hovering = false; if (pending) paintList(); });

    function tick(): void {
      // time in status, to the minute (the unit table and the panel's units): a cell is rewritten
      // when its minute changes
      panel.querySelectorAll<HTMLElement>(".unit-since").forEach((el) => {
        const text = inStatus(el.dataset.since ?? "");
        if (el.textContent !== text) el.textContent = text;
      });
      tbody.querySelectorAll<HTMLElement>(".timer").forEach((el) => {
        const since = new Date(el.dataset.since ?? "").getTime();
        if (!isNaN(since)) el.textContent = fmtDuration((Date.now() - since) / 1000);
      });
      // a unit's acknowledgement falls late with the clock, with no event: recheck waiting rows
      rows.forEach((_tr, id) => { const r = store.incidents.get(id); if (r && waitingAck(unitsOf(r))) rowFor(r); });
    }

    // A unit taken out of service (or back): the server refuses it while the unit is on a job.
    const statusOp = api.find("POST", /^\/units\/\{[^}]+\}\/status$/);
    async function setStatus(unitId: string, status: string): Promise<void> {
      try {
        await api.post(statusOp!.path.replace(/\{[^}]+\}/, encodeURIComponent(unitId)), { status });
        await refreshAll();
      } catch (e) { toastError(e); }
    }

    function paintUnits(): void {
      const units = [...store.units.values()];
      clear(unitsBox, routes.units() ? table([
        { key: "unit", label: t("col.unit"), render: (r) => str(r, "callsign", "call_sign", "name", "unit_id", "id") ?? "" },
        { key: "kind", label: t("col.type"), render: (r) => tOr(`ut.${str(r, "unit_type", "kind", "type")}`, str(r, "unit_type", "kind", "type") ?? "") },
        { key: "status", label: t("col.status"), render: (r) => h("span.status", { style: `color:${unitColour(r.status)}`, dataset: { status: String(r.status ?? "") } },
          unitOutOfService(r.status) ? "✕ " : "■ ", tOr(`status.${r.status}`, String(r.status ?? ""))) },
        { key: "since", label: t("units.since"), render: (r) => r.status_since
          ? h("span.unit-since", { dataset: { since: String(r.status_since) } }, inStatus(String(r.status_since))) : "" },
        { key: "incident", label: t("map.incidents"), render: (r) => str(r, "incident_id", "assignment") ?? "" },
        { key: "act", label: "", render: (r) => statusOp && /^(available|out_of_service)$/.test(String(r.status))
          ? h("button.small.unit-status", { type: "button", dataset: { unit: idOf(r) }, onclick: (e: Event) => {
            e.stopPropagation();
            void setStatus(idOf(r), r.status === "available" ? "out_of_service" : "available");
          } }, r.status === "available" ? t("board.takeOut") : t("board.putBack")) : "" },
      ], units.slice(0, 500), {
        id: "unit-table",
        rowClass: (r) => unitOutOfService(r.status) ? "out-of-service" : "",
        onRow: (r) => { const ll = latLonOf(r); if (ll && map) map.highlight(ll[0], ll[1]); },
      }) : unavailable("GET /api/v1/units"));
    }

    paintList(true);
    paintUnits();
    // The incident list may come without its units: the board snapshot adds them (late badges).
    const boardOp = api.find("GET", "/board");
    if (boardOp) void api.get(boardOp.path).then((b: any) => {
      for (const r of b?.incidents ?? []) {
        const cur = store.incidents.get(idOf(r));
        if (Array.isArray(r.units) && !(cur && Array.isArray(cur.units))) knownUnits.set(idOf(r), r.units);
      }
      paintList(true);
    }).catch(() => undefined);
    // A red incident opened from the banner (main.ts) or a link: #/board?incident=...
    const want = new URLSearchParams(location.hash.split("?")[1] ?? "").get("incident");
    if (want) void detail.open(want);
    if (map) map.onSelect = (kind, row) => { if (kind === "incidents") void detail.open(idOf(row)); };
    const offs = [subscribe("incidents", () => { paintList(); detail.changed(); }), subscribe("units", paintUnits)];
    const timer = window.setInterval(tick, 1000);
    // Keyboard: j / k next and previous incident, d dispatch the first recommendation, a acknowledge
    // (the new red call's banner when it shows, as its own button does; else the newest hotlist hit
    // nobody has acknowledged), Esc close, ? the list of shortcuts.
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      if (e.ctrlKey || e.metaKey || e.altKey || (el && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName))) return;
      if (e.key === "j" || e.key === "k") {
        const ids = [...tbody.querySelectorAll<HTMLElement>("tr")].map((tr) => tr.dataset.id!);
        if (!ids.length) return;
        const at = ids.indexOf(detail.selected() ?? "");
        const next = at < 0 ? 0 : Math.max(0, Math.min(ids.length - 1, at + (e.key === "j" ? 1 : -1)));
        rows.get(ids[next])?.scrollIntoView({ block: "nearest" });
        void detail.open(ids[next]);
      } else if (e.key === "d") {
        (detail.el.querySelector("#recommendations button.dispatch:not(:disabled)") as HTMLButtonElement | null)?.click();
      } else if (e.key === "a") {
        const banner = document.querySelector<HTMLButtonElement>("#red-banner #red-banner-ack");
        if (banner) banner.click();
        else if (!alerts.ackNewest()) toast(t("alerts.noneToAck"), "info");
      } else if (e.key === "?") toggleKeys();
      else if (e.key === "Escape" && detail.selected()) detail.close();
      else return;
      e.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    return () => { offs.forEach((f) => f()); alerts.stop(); clearInterval(timer); document.removeEventListener("keydown", onKey); if (map) map.onSelect = null; };
  },
};
