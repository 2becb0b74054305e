// The dispatcher's incident panel: a fixed side panel (a bottom sheet on a phone) that is on screen
// after a click whatever the length of the list: the incident, its units with the one step each
// can take next, the response plan and recommendations, the timeline, and closing (a red incident
// asks for confirmation).
import { api, num, rowsOf, str } from "../api";
import { clear, fmtDuration, fmtTime, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";
import { priorityOf, PRIORITY_COLOURS } from "../map";
import { buildBody } from "../schema";
import { ackRed, callsignOf, incidentTypeName, refreshAll, store } from "../store";
import { errorText, table, unavailable, uuid } from "./common";
import { sceneBox } from "./attachments"; // acknowledgements and scene photos/notes (issue 19)

/** A unit's callsign (巡1) from the units list; the id when it has none. */
export const callsign = callsignOf;

/** The one step an assigned unit can take next, from its assignment status. */
export function nextStep(status: unknown): string | null {
  return ({ dispatched: "acknowledge", en_route: "arrive", on_scene: "clear" } as Record<string, string>)[String(status)] ?? null;
}

/** How long a unit has been in its status: "for 12 min" (已 12 分钟), from ``status_since``. */
export function inStatus(since: string): string {
  const at = new Date(since).getTime();
  if (isNaN(at)) return "";
  const min = Math.max(0, Math.floor((Date.now() - at) / 60_000));
  if (min < 1) return t("units.sinceNow");
  return min < 60 ? t("units.sinceMin", { m: min }) : t("units.sinceHours", { h: Math.floor(min / 60), m: min % 60 });
}

// The assignment's own time of each step, when the unit's record is not at hand.
const STEP_AT: Record<string, string> = { dispatched: "dispatched_at", en_route: "acknowledged_at", on_scene: "arrived_at", cleared: "cleared_at" };

/** Since when an assigned unit has been in the status the incident shows for it: the unit's
 * ``status_since`` while the unit is in that status, else the assignment's time of that step. */
export function assignedSince(a: any): string {
  const u = store.units.get(String(a.unit_id));
  if (u?.status_since && String(u.status) === String(a.status)) return String(u.status_since);
  return String(a[STEP_AT[String(a.status)] ?? ""] ?? "");
}

export interface Panel {
  el: HTMLElement;
  open(id: string, repaint?: boolean): Promise<void>;
  close(): void;
  selected(): string | null;
  /** Repaint when the selected incident's status or units changed (live events). */
  changed(): void;
}

export function incidentPanel(onClose: () => void, highlight: (id: string) => void): Panel {
  const el = h("aside.detail.side-panel#board-detail", { hidden: true, role: "region", "aria-label": t("board.detail") });
  let selected: string | null = null;
  let sig = "";
  const recOp = api.find("GET", /^\/incidents\/\{[^}]+\}\/recommend/);
  const dispatchOp = api.find("POST", /^\/incidents\/\{[^}]+\}\/dispatch/, /^\/dispatch(es)?\/?$/, /^\/dispatch\//);
  const unitSteps = api.findAll("POST", /^\/incidents\/\{[^}]+\}\/(acknowledge|arrive|clear)$/);
  const closeOp = api.find("POST", /^\/incidents\/\{[^}]+\}\/close$/);
  const getOp = api.find("GET", /^\/incidents\/\{[^}/]+\}$/);
  const prioOp = api.find("POST", /^\/incidents\/\{[^}]+\}\/priority$/);
  const pathOf = (p: string, id: string) => p.replace(/\{[^}]+\}/, encodeURIComponent(id));
  const noteOp = api.find("POST", /^\/incidents\/\{[^}]+\}\/notes$/);
  const sigOf = (r: any) => r ? `${r.status}|${r.priority}|${JSON.stringify((r.units ?? []).map((u: any) => [u.unit_id, u.status]))}` : "";
  // a note half-typed is kept while the panel repaints (live events) and between incidents
  const drafts = new Map<string, string>();
  let stamp = "";
  let shown = ""; // updated_at of the timeline on screen: an answer older than it is not painted

  function hide(): void {
    selected = null;
    el.hidden = true;
    clear(el);
    onClose();
  }

  /** Show incident ``id``; ``repaint``: the same incident again after a change (its content stays
   * on screen until the new one is there, and the map stays where the user has it). */
  async function open(id: string, repaint = false): Promise<void> {
    selected = id;
    let inc = store.incidents.get(id);
    if (!inc) return;
    sig = sigOf(inc);
    stamp = String(inc.updated_at ?? "");
    ackRed(id);
    const again = repaint && !el.hidden && el.dataset.id === id;
    el.hidden = false;
    el.dataset.id = id;
    const head = h("div.panel-head", h("h3", `${t("board.incident")} ${id}`),
      h("button.small#board-detail-close", { type: "button", title: t("common.close"), "aria-label": t("common.close"), onclick: hide }, "✕"));
    if (!again) {
      highlight(id);
      // Show what the list knows at once; the full record (units, timeline) follows.
      clear(el, head, h("p.muted", t("common.loading")));
      el.scrollTop = 0;
    }
    if (getOp) {
      try { inc = { ...inc, ...(await api.get(pathOf(getOp.path, id))) }; } catch { /* list data will do */ }
    }
    if (selected !== id || !inc) return;
    shown = String(inc.updated_at ?? "");
    const prio = priorityOf(inc);
    const units: any[] = Array.isArray(inc.units) ? inc.units : [];
    // the masked call-back numbers (a call made without one gives none: nothing to show for it)
    const callers: string[] = (Array.isArray(inc.callers) ? inc.callers : []).filter((c: unknown) => c).map(String);
    const closable = closeOp && /cleared|new/.test(String(inc.status));
    const closeBox = h("div.actions#close-box");
    if (closable) paintClose(closeBox, id, prio);
    clear(el, head,
      h("p", h("span.prio", { style: `background:${PRIORITY_COLOURS[prio]}` }, t(`prio.${prio}`)), " ",
        h("b", incidentTypeName(inc, lang())), " · ", tOr(`status.${inc.status}`, String(inc.status ?? ""))),
      inc.address ? h("p.small#detail-address", inc.address) : null,
      prioOp && !/closed|merged/.test(String(inc.status)) ? priorityBox(id, prio) : null,
      inc.summary || inc.description ? h("p.small", String(inc.summary ?? inc.description)) : null,
      callers.length ? h("p.small.muted#detail-callers", t("board.callback"), lang() === "en" ? ": " : "：", callers.join(", ")) : null,
      units.length ? h("table.grid#assigned-units",
        h("thead", h("tr", h("th", t("col.unit")), h("th", t("col.status")), h("th", t("units.since")), h("th", t("board.eta")), h("th", t("board.next")))),
        h("tbody", units.map((a) => {
          const verb = nextStep(a.status);
          const since = assignedSince(a);
          const op = verb ? unitSteps.find((o) => o.path.endsWith(`/${verb}`)) : undefined;
          return h("tr", { dataset: { unit: String(a.unit_id), status: String(a.status ?? "") } },
            h("td", { dataset: { col: "unit" }, title: String(a.unit_id) }, callsign(a.unit_id)),
            h("td", { dataset: { col: "status" } }, tOr(`status.${a.status}`, String(a.status ?? ""))),
            h("td", { dataset: { col: "since" } }, since && !isNaN(Date.parse(since))
              ? h("span.unit-since", { dataset: { since, unit: String(a.unit_id) } }, inStatus(since)) : ""),
            h("td", { dataset: { col: "eta" } }, fmtDuration(num(a, "eta_s") ?? NaN)),
            h("td", op && verb ? h("button.small", { type: "button", dataset: { step: verb, unit: String(a.unit_id) },
              onclick: () => void step(op.path, id, String(a.unit_id)) }, t(`step.${verb}`)) : ""));
        }))) : null,
      closable ? closeBox : null,
      h("h4", t("board.recommend")),
      recOp ? h("p.muted#recs-loading", t("common.loading")) : unavailable("GET /incidents/{id}/recommendations"),
      timeline(inc.history) ?? h("div#incident-timeline"),
      noteOp ? noteBox(id) : null);
    sceneBox(el, id, units);
    if (recOp) await loadRecs(id);
  }

  function paintClose(box: HTMLElement, id: string, prio: string): void {
    const sel = h("select#close-disposition", ["resolved", "no_crime", "referred", "false_alarm"].map((d) =>
      h("option", { value: d }, t(`disp.${d}`)))) as HTMLSelectElement;
    clear(box, sel, h("button.small#close-incident", { type: "button", onclick: () => {
      // Closing a red incident is asked twice: it ends the response to the most urgent calls.
      if (prio !== "red") { void closeIncident(id, sel.value); return; }
      clear(box, h("p.error#close-warning", t("board.closeRed", { id })),
        h("button.small.primary#close-confirm", { type: "button", onclick: () => void closeIncident(id, sel.value) }, t("board.closeYes")),
        h("button.small#close-cancel", { type: "button", onclick: () => paintClose(box, id, prio) }, t("common.cancel")));
    } }, t("step.close")));
  }

  /** Raise or lower the priority (the server records who and why in the timeline). */
  function priorityBox(id: string, current: string): HTMLElement {
    const sel = h("select#priority-select", Object.keys(PRIORITY_COLOURS).map((p) =>
      h("option", { value: p, selected: p === current }, t(`prio.${p}`)))) as HTMLSelectElement;
    const reason = h("input#priority-reason", { placeholder: t("board.priorityReason"), maxlength: 500 }) as HTMLInputElement;
    return h("div.actions#priority-box", h("span.small.muted", t("col.priority")), sel, reason,
      h("button.small#priority-set", { type: "button", onclick: async () => {
        if (sel.value === current) return;
        try {
          await api.post(pathOf(prioOp!.path, id), buildBody(prioOp!, { priority: sel.value, reason: reason.value.trim() }));
          toast(t("board.priorityChanged", { id, p: t(`prio.${sel.value}`) }), "ok");
          await refreshAll();
          void open(id, true);
        } catch (e) { toast(errorText(e), "error"); }
      } }, t("board.priorityChange")));
  }

  /** A short note on the incident (POST /incidents/{id}/notes): text only, shown in the timeline. */
  function noteBox(id: string): HTMLElement {
    const text = h("textarea#note-text", { rows: 2, maxlength: 500, placeholder: t("notes.placeholder"),
      "aria-label": t("notes.placeholder"), oninput: () => drafts.set(id, text.value) }) as HTMLTextAreaElement;
    text.value = drafts.get(id) ?? "";
    const btn = h("button.small#note-add", { type: "button", onclick: async () => {
      const value = text.value.trim();
      if (!value) { text.focus(); return; }
      btn.disabled = true;
      try {
        await api.post(pathOf(noteOp!.path, id), { text: value }, { idempotencyKey: uuid() });
        drafts.delete(id);
        text.value = "";
        toast(t("notes.added"), "ok");
        await refreshTimeline(id);
      } catch (e) { toast(errorText(e), "error"); } finally { btn.disabled = false; }
    } }, t("notes.add")) as HTMLButtonElement;
    return h("div.actions#note-box", text, btn);
  }

  /** The timeline again (a note or another change): the rest of the panel, and what is typed, stays. */
  async function refreshTimeline(id: string): Promise<void> {
    if (!getOp) return;
    try {
      const inc: any = await api.get(pathOf(getOp.path, id));
      const at = String(inc.updated_at ?? "");
      if (selected !== id || at < shown) return;
      shown = at;
      stamp = at || stamp;
      const fresh = timeline(inc.history);
      if (fresh) el.querySelector("#incident-timeline")?.replaceWith(fresh);
    } catch { /* the next change repaints it */ }
  }

  function timeline(history: unknown): HTMLElement | null {
    if (!Array.isArray(history) || !history.length) return null;
    return h("div#incident-timeline", h("h4", t("board.timeline")),
      h("ol.timeline", history.map((e: any) => h("li", { dataset: { kind: String(e.kind ?? "") } },
        h("span.muted", fmtTime(e.ts)), " ", tOr(`ev.${e.kind}`, String(e.kind ?? "")),
        e.kind === "note" && e.detail?.text ? h("span.note-text", { style: "white-space:pre-wrap" }, `${lang() === "en" ? ": " : "："}${String(e.detail.text)}`) : "",
        e.unit_id ? ` · ${callsign(e.unit_id)}` : "",
        e.to_status ? ` → ${tOr(`status.${e.to_status}`, String(e.to_status))}` : "",
        e.actor ? h("span.muted", ` · ${e.actor === "system" ? t("role.system") : e.actor}`) : ""))));
  }

  async function loadRecs(id: string): Promise<void> {
    try {
      const data = await api.get(pathOf(recOp!.path, id));
      if (selected !== id) return;
      const recs = rowsOf(data, "recommendations");
      for (const s of ["#recs-loading", "#response-plan", "#recommendations", "#recs-empty"]) el.querySelector(s)?.remove();
      const anchor = el.querySelector("#incident-timeline");
      const plan = planBox(data, id);
      const list = recs.length ? table([
        { key: "unit", label: t("col.unit"), render: (r) => callsign(str(r, "unit_id", "id")) },
        { key: "kind", label: t("col.type"), render: (r) => tOr(`ut.${str(r, "unit_type", "kind", "type")}`, str(r, "unit_type", "kind", "type") ?? "") },
        { key: "eta", label: t("board.eta"), render: (r) => fmtDuration(num(r, "eta_s", "travel_time_s", "time_s") ?? NaN) },
        { key: "dispatch", label: "", render: (r) => dispatchOp ? h("button.primary.small.dispatch", {
          type: "button", dataset: { unit: String(str(r, "unit_id", "id")) },
          onclick: (e: Event) => { e.stopPropagation(); void dispatch(id, String(str(r, "unit_id", "id")), e.target as HTMLButtonElement); },
        }, t("board.dispatch")) : "" },
      ], recs, { id: "recommendations" }) : h("p.muted#recs-empty", t("board.noRecs"));
      for (const x of [plan, list]) if (x) el.insertBefore(x, anchor);
    } catch (e) {
      el.querySelector("#recs-loading")?.replaceWith(h("p.error", errorText(e)));
    }
  }

  async function dispatch(incidentId: string, unitId: string | string[], btn: HTMLButtonElement): Promise<void> {
    if (!dispatchOp) return;
    btn.disabled = true;
    const ids = Array.isArray(unitId) ? unitId : [unitId];
    try {
      await api.post(pathOf(dispatchOp.path, incidentId), buildBody(dispatchOp, { unit_id: ids[0], unit_ids: ids, units: ids, incident_id: incidentId }),
        { idempotencyKey: uuid() });
      toast(t("board.dispatched", { unit: ids.map(callsign).join("、"), id: incidentId }), "ok");
      await refreshAll();
      void open(incidentId, true);
    } catch (e) {
      if ((e as { status?: number }).status === 409) {
        // The recommendation went stale (the unit was taken, the incident changed): say so in
        // words and show the current list.
        const msg = t("board.stale", { unit: ids.map(callsign).join("、"), why: errorText(e) });
        toast(msg, "error");
        await refreshAll();
        if (selected === incidentId) await open(incidentId, true);
        el.querySelector("#recs-stale")?.remove();
        el.querySelector("#response-plan, #recommendations, #recs-empty")?.before(h("p.error#recs-stale", msg));
        return;
      }
      toast(errorText(e), "error");
      btn.disabled = false;
    }
  }

  function planBox(data: any, incidentId: string): HTMLElement | null {
    const plan: any[] = Array.isArray(data?.plan) ? data.plan : [];
    // The whole plan in one click: every suggested unit of every type (multi-unit dispatch).
    const suggested: string[] = plan.flatMap((p) => (Array.isArray(p.suggested) ? p.suggested.map(String) : []));
    if (!plan.length && data?.response_level === undefined) return null;
    const met = data.meets_arrival_target;
    const short = plan.reduce((n, p) => n + (Number(p.short) || 0), 0);
    return h("div.plan#response-plan", { dataset: { met: String(!!met), short: String(short) } },
      h("h4", t("board.plan")),
      h("p", t("board.planLevel", { level: tOr(`resp.level.${data.response_level}`, String(data.response_level_name ?? data.response_level ?? "–")),
        target: fmtDuration(Number(data.arrival_target_s)) }), " · ",
        h("b", { class: met ? "ok" : "error" }, met ? t("board.targetMet") : t("board.targetMissed"))),
      plan.length ? table([
        { key: "unit_type", label: t("col.type"), render: (p) => tOr(`ut.${p.unit_type}`, String(p.unit_type ?? "")) },
        { key: "needed", label: t("board.needed"), render: (p) => String(p.needed ?? "") },
        { key: "assigned", label: t("board.assigned"), render: (p) => String(p.assigned ?? "") },
        { key: "suggested", label: t("board.suggested"), render: (p) => (p.suggested ?? []).map(callsign).join(", ") },
        { key: "short", label: t("board.short"), render: (p) => Number(p.short) ? h("b.error", String(p.short)) : "0" },
      ], plan, { id: "plan-table" }) : null,
      short ? h("p.error#plan-short", t("board.shortfall", { n: short })) : null,
      dispatchOp && suggested.length > 1 ? h("button.primary.small#plan-dispatch", { type: "button", dataset: { units: suggested.join(",") },
        onclick: (e: Event) => void dispatch(incidentId, suggested, e.target as HTMLButtonElement) },
        t("board.dispatchPlan", { units: suggested.map(callsign).join("、") })) : null);
  }

  async function step(path: string, id: string, unitId: string): Promise<void> {
    try {
      await api.post(pathOf(path, id), { unit_id: unitId }, { idempotencyKey: uuid() });
      await refreshAll();
      void open(id, true);
    } catch (e) { toast(errorText(e), "error"); }
  }

  async function closeIncident(id: string, disposition: string): Promise<void> {
    if (!closeOp) return;
    try {
      await api.post(pathOf(closeOp.path, id), buildBody(closeOp, { disposition, notes: "" }));
      toast(t("board.closed", { id }), "ok");
      await refreshAll();
      hide();
    } catch (e) { toast(errorText(e), "error"); }
  }

  return {
    el, open, close: hide, selected: () => selected,
    changed: () => {
      if (!selected) return;
      const cur = store.incidents.get(selected);
      const now = sigOf(cur);
      if (now && now !== sig) void open(selected, true);
      else if (cur && String(cur.updated_at ?? "") !== stamp) { stamp = String(cur.updated_at ?? ""); void refreshTimeline(selected); }
    },
  };
}
