// "From the scene" and "around me": notes and photos attached to the incident (queued with the other
// actions, so they go out in order and once, even after a spell offline), the hotlist alerts the
// board stream brings that are near the unit, and the duty switch that position sharing follows.
import { enqueue, enqueueBlob } from "./queue";
import { t } from "./i18n";

export interface HotAlert { alert_id?: number | string; plate?: string; list_name?: string; reason?: string; lat?: number; lon?: number; read_at?: string }

const NEAR_M = 3000; // hotlist alerts within this distance of the unit are shown
const KEEP_MS = 30 * 60_000; // and only the last half hour's
let keepLocation = false;
const drafts = new Map<string, string>(); // unsent note text per incident (survives re-renders)
const opened = new Set<string>(); // attach boxes the officer has open (survives re-renders)
const alerts: { at: number; a: HotAlert }[] = [];
let hooked: EventSource | null = null;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

/** The attach box of one incident card (or, with ``base``, of a case): a photo is queued as soon as
 * it is taken or picked. */
export function attachBox(incidentId: string, changed: () => void,
  base = `/incidents/${encodeURIComponent(incidentId)}/attachments`): HTMLElement {
  const tx = t();
  const file = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment", "data-field": "photo", "aria-label": tx.photo });
  const keep = el("input", { type: "checkbox", "data-field": "keep-location" });
  keep.checked = keepLocation;
  keep.style.width = "auto"; keep.style.minHeight = "1.6rem";
  keep.onchange = () => { keepLocation = keep.checked; };
  const note = el("textarea", { rows: "2", "data-field": "note", placeholder: tx.notePlaceholder, "aria-label": tx.note });
  note.value = drafts.get(incidentId) ?? "";
  note.oninput = () => drafts.set(incidentId, note.value);
  file.onchange = () => {
    const photo = file.files?.[0];
    if (!photo) return;
    const text = (drafts.get(incidentId) ?? "").trim();
    const query = new URLSearchParams({ keep_location: String(keepLocation) });
    if (text) query.set("note", text);
    drafts.delete(incidentId);
    void enqueueBlob(`${base}?${query}`, photo, `${tx.photo} ${incidentId}`).then(changed);
  };
  const send = el("button", { class: "small", type: "button", "data-step": "note" }, tx.sendNote);
  send.onclick = () => {
    const text = (drafts.get(incidentId) ?? "").trim();
    if (!text) return;
    drafts.delete(incidentId);
    enqueue(base, { note: text }, `${tx.note} ${incidentId}`);
    changed();
  };
  const pick = el("label", { class: "pick" }, tx.photo, file);
  const box = el("details", { class: "attach", "data-attach": incidentId },
    el("summary", {}, tx.fromScene),
    pick, el("label", { class: "meta" }, keep, ` ${tx.keepLocation}`), note, send);
  box.open = opened.has(incidentId);
  box.ontoggle = () => { if (box.open) opened.add(incidentId); else opened.delete(incidentId); };
  return box;
}

// --- the open cases the officer is on: a photo or a note attached to the case (POST /cases/{id}/attachments)
let myCases: { id: string; title: string }[] | null = null;
let casesLoading = false;

export function casesBox(token: string, changed: () => void): HTMLElement | null {
  if (myCases === null && !casesLoading) {
    casesLoading = true;
    fetch("/api/v1/cases?mine=true&status=open", { headers: { Authorization: `Bearer ${token}` } })
      .then((r) => (r.ok ? (r.json() as Promise<{ cases: { id: string; title: string }[] }>) : { cases: [] }))
      .then((j) => { myCases = j.cases.map((c) => ({ id: c.id, title: c.title })); })
      .catch(() => undefined)
      .finally(() => { casesLoading = false; if (myCases?.length) changed(); });
  }
  if (!myCases?.length) return null;
  return el("section", { id: "m-cases" }, el("h2", {}, t().myCases), ...myCases.map((c) =>
    el("article", { class: "card", "data-case": c.id }, el("h3", {}, `${c.id} · ${c.title}`),
      attachBox(c.id, changed, `/cases/${encodeURIComponent(c.id)}/attachments`))));
}

// --- hotlist alerts near the unit (those the board stream gives this role) ------------------------

function metres(a: [number, number], b: [number, number]): number {
  const r = Math.PI / 180;
  const h = Math.sin((b[0] - a[0]) * r / 2) ** 2 + Math.cos(a[0] * r) * Math.cos(b[0] * r) * Math.sin((b[1] - a[1]) * r / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

/** Follow whatever EventSource the page opens (it may be replaced on reconnect) for hotlist alerts. */
export function watchAlerts(current: () => EventSource | null, changed: () => void): void {
  window.setInterval(() => {
    const s = current();
    if (!s || s === hooked) return;
    hooked = s;
    s.addEventListener("anpr.alert", (ev) => {
      try {
        alerts.unshift({ at: Date.now(), a: JSON.parse((ev as MessageEvent).data) as HotAlert });
        alerts.splice(50);
        changed();
      } catch { /* not an alert */ }
    });
  }, 300);
}

/** The recent hotlist alerts within NEAR_M of the unit (nothing when the unit has no position). */
export function hotlistBox(unit: [number, number] | null): HTMLElement | null {
  const tx = t();
  if (!unit) return null;
  const near = alerts.filter(({ at, a }) => Date.now() - at < KEEP_MS && typeof a.lat === "number" && typeof a.lon === "number" &&
    metres(unit, [a.lat, a.lon]) <= NEAR_M);
  if (!near.length) return null;
  return el("section", { id: "m-hotlist", class: "card p1" }, el("h3", {}, `⚠ ${tx.hotlistNear}`),
    ...near.map(({ a }) => el("p", { "data-alert": String(a.alert_id ?? "") },
      el("strong", {}, a.plate ?? "?"), ` · ${a.list_name ?? ""} ${a.reason ?? ""} · ${Math.round(metres(unit, [a.lat as number, a.lon as number]))} m`)));
}

// --- duty: positions are shared only while the unit is on duty -------------------------------------

export function onDuty(status: string | null): boolean {
  return status !== null && status !== "out_of_service";
}

/** The duty switch: off duty takes the unit out of service (the server then refuses positions). */
export function dutyButton(unitId: string | null, status: string | null, token: string, changed: () => void): HTMLElement {
  const tx = t();
  const on = onDuty(status);
  const b = el("button", { class: "wide", id: "m-duty", "data-duty": on ? "on" : "off", type: "button" }, on ? tx.goOffDuty : tx.goOnDuty);
  b.onclick = async () => {
    if (!unitId) return;
    b.setAttribute("disabled", "");
    try {
      await fetch(`/api/v1/units/${encodeURIComponent(unitId)}/status`, {
        method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify({ status: on ? "out_of_service" : "available" }),
      });
    } finally { changed(); }
  };
  return b;
}

// --- the missing person of a case the officer is on (a personal-data read: case + purpose) ---------

interface MissingPerson { description: string; photos: string[] }
let mpCases: { id: string; title: string }[] | null = null;
let mpLoading = false;
const mpShown = new Map<string, MissingPerson>();

async function readMissing(token: string, caseId: string): Promise<MissingPerson> {
  const headers = { Authorization: `Bearer ${token}`, "X-Case-Id": caseId, "X-Purpose": "missing_person" };
  const r = await fetch("/api/v1/m/missing-person", { headers });
  if (!r.ok) throw new Error(String(r.status));
  const body = (await r.json()) as { description: string; photos: { url: string }[] };
  const photos: string[] = [];
  for (const p of body.photos) { // the photo needs the same headers: fetched, shown from a blob URL
    const img = await fetch(p.url, { headers });
    if (img.ok) photos.push(URL.createObjectURL(await img.blob()));
  }
  return { description: body.description, photos };
}

/** The open missing-person cases the officer is on, each with its description and photo on a tap. */
export function missingBox(token: string, changed: () => void): HTMLElement | null {
  const tx = t();
  if (mpCases === null && !mpLoading) {
    mpLoading = true;
    fetch("/api/v1/cases?mine=true&type=missing_person&status=open", { headers: { Authorization: `Bearer ${token}` } })
      .then((r) => (r.ok ? (r.json() as Promise<{ cases: { id: string; title: string }[] }>) : { cases: [] }))
      .then((j) => { mpCases = j.cases.map((c) => ({ id: c.id, title: c.title })); })
      .catch(() => undefined)
      .finally(() => { mpLoading = false; if (mpCases?.length) changed(); });
  }
  if (!mpCases?.length) return null;
  return el("section", { id: "m-missing" }, el("h2", {}, tx.missing), ...mpCases.map((c) => {
    const shown = mpShown.get(c.id);
    const card = el("article", { class: "card", "data-case": c.id }, el("h3", {}, c.title));
    if (shown) {
      card.append(el("p", { class: "description" }, shown.description),
        ...shown.photos.map((src) => el("img", { src, alt: c.title, class: "mp-photo" })));
    } else {
      const b = el("button", { class: "wide", type: "button", "data-step": "missing" }, tx.missingShow);
      b.onclick = () => {
        b.setAttribute("disabled", "");
        void readMissing(token, c.id).then((mp) => { mpShown.set(c.id, mp); changed(); },
          () => { b.removeAttribute("disabled"); b.textContent = `${tx.missingShow} (${tx.failed})`; });
      };
      card.append(b);
    }
    return card;
  }));
}
