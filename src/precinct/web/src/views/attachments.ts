// On the dispatcher's board, beside a selected incident: which units have acknowledged and which are
// late (server rows carry acknowledged_at, ack_due_at and late), and the notes and photos sent from the
// scene (thumbnails, live: the incidents.attachment event updates the incident's attachments_count).
import { api } from "../api";
import { clear, fmtTime, h } from "../dom";
import { t } from "../i18n";
import { callsignOf, store, subscribe } from "../store";

interface Attachment { id: string; kind: string; note: string; url: string | null; unit_id: string | null; created_by: string; created_at: string }

function lateNow(a: any): boolean {
  if (a.late === true) return true;
  return !a.acknowledged_at && !!a.ack_due_at && new Date(a.ack_due_at).getTime() < Date.now();
}

/** Ids of an incident row's dispatched units that are late to acknowledge (the board list's badge). */
export function lateUnits(r: any): string[] {
  const units: any[] = Array.isArray(r?.units) ? r.units : [];
  return units.filter((a) => a.status === "dispatched" && lateNow(a)).map((a) => String(a.unit_id));
}

/** Whether a row still waits for an acknowledgement (its late state may change with the clock). */
export function waitingAck(r: any): boolean {
  return Array.isArray(r?.units) && r.units.some((a: any) => a.status === "dispatched" && !a.acknowledged_at && a.ack_due_at);
}

function ackBadges(units: any[]): HTMLElement {
  return h("p.acks#board-acks", units.filter((a) => a.status !== "cleared").map((a) => {
    const state = a.acknowledged_at ? "acked" : lateNow(a) ? "late" : "waiting";
    const text = state === "acked" ? t("scene.acked", { time: fmtTime(a.acknowledged_at) }) : t(`scene.${state}`);
    return h("span", { class: `badge ack ${state}`, dataset: { unit: String(a.unit_id), ack: state } },
      `${callsignOf(a.unit_id)} ${state === "acked" ? "✔" : state === "late" ? "⚠" : "…"} ${text}`);
  }));
}

/** One attachment as a list item: a note's text, or a photo (fetched with the bearer token). */
export async function thumb(a: Attachment): Promise<HTMLElement> {
  const meta = `${a.unit_id ? callsignOf(a.unit_id) : a.created_by} · ${fmtTime(a.created_at)}`;
  if (a.kind !== "image" || !a.url) return h("li.note", { dataset: { attachment: a.id } }, h("span.muted", meta), " ", a.note);
  const img = h("img", { alt: a.note || t("scene.photo"), width: "96", height: "72", dataset: { attachment: a.id },
    style: "object-fit:cover;vertical-align:middle;margin-right:.5rem;border-radius:4px" }) as HTMLImageElement;
  try { // the bearer token goes in a header, so the bytes are fetched and shown from a blob URL
    const r = await fetch(a.url, { headers: { Authorization: `Bearer ${api.token ?? ""}` } });
    if (r.ok) img.src = URL.createObjectURL(await r.blob());
  } catch { /* the list still shows the entry */ }
  return h("li.photo", { dataset: { attachment: a.id }, style: "margin:.3rem 0" }, img, h("span.muted", meta), a.note ? ` ${a.note}` : "");
}

/** Append the acknowledgement badges and the scene attachments of ``incidentId`` to ``detail``. */
export function sceneBox(detail: Element, incidentId: string, units: any[]): void {
  const box = h("div.scene#board-scene", { dataset: { incident: incidentId } });
  const list = h("ul.attachments#board-attachments", { style: "list-style:none;padding:0;margin:.3rem 0" });
  box.append(ackBadges(units), h("h4", t("scene.title")), list);
  const anchor = detail.querySelector("#assigned-units");
  if (anchor) anchor.after(box); else detail.appendChild(box);
  let shown = -1;
  const load = async (): Promise<void> => {
    try {
      const data = await api.get(`/incidents/${encodeURIComponent(incidentId)}/attachments`);
      const rows: Attachment[] = Array.isArray(data?.attachments) ? data.attachments : [];
      shown = rows.length;
      clear(list, ...(rows.length ? await Promise.all(rows.map(thumb)) : [h("li.muted", t("scene.none"))]));
      list.dataset.count = String(rows.length);
    } catch { clear(list, h("li.muted", t("scene.none"))); }
  };
  void load();
  const off = subscribe("incidents", () => {
    if (!box.isConnected) { off(); return; }
    const inc = store.incidents.get(incidentId);
    if (Array.isArray(inc?.units)) box.querySelector("#board-acks")?.replaceWith(ackBadges(inc.units));
    const n = Number(inc?.attachments_count ?? -1);
    if (n >= 0 && n !== shown) { shown = n; void load(); }
  });
  const timer = window.setInterval(() => {
    if (!box.isConnected) { window.clearInterval(timer); off(); return; }
    const inc = store.incidents.get(incidentId);
    box.querySelector("#board-acks")?.replaceWith(ackBadges(Array.isArray(inc?.units) ? inc.units : units));
  }, 5000);
}
