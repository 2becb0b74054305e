// Hotlist hits on the dispatcher's board (issue 21): one row per alert, newest first, with the local
// 24-hour time of the read, the camera (its name, else its id), the plate, the hotlist and its
// reason; a click shows it on the map (alerts are drawn there as diamonds, see the legend), and
// Acknowledge stores who and when on the server (POST /anpr/alerts/{id}/ack), which the other
// boards receive live (anpr.alert_ack). Alerts arrive by the live stream, under the same policy as
// GET /anpr/alerts; earlier ones can be read through that route with a case and purpose (audited).
import { api, rowsOf } from "../api";
import { clear, fmtTime, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";
import type { OpsMap } from "../map";
import { putAlert, store, subscribe } from "../store";
import { errorText } from "./common";

/** How many alerts the list shows (the newest; the count in the header counts them all). */
const SHOWN = 30;

export const alertIdOf = (a: any): string => String(a.alert_id ?? a.id ?? "");

/** The latest hotlist hits, each once, newest first. */
export function alertRows(): any[] {
  const seen = new Set<string>();
  const out: any[] = [];
  for (const a of store.alerts) {
    const k = alertIdOf(a) || `${a.plate}|${a.read?.camera_id ?? a.camera_id}|${a.read?.ts ?? a.ts}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out.sort((a, b) => (Number(alertIdOf(b)) || 0) - (Number(alertIdOf(a)) || 0));
}

export function unackedAlerts(): any[] {
  return alertRows().filter((a) => !a.acknowledged_at);
}

/** The camera that read the plate: its name from the camera register, else its id. */
export function cameraOf(a: any): string {
  const id = String(a.read?.camera_id ?? a.camera_id ?? "");
  if (!id) return "";
  const name = a.read?.camera_name ?? a.camera_name ?? store.cameras.find((c) => String(c.camera_id ?? c.id) === id)?.name;
  return name ? `${name} (${id})` : id;
}

/** The hotlist in words and the reason it gives (once, when the reason only repeats the list's name). */
export function alertReason(a: any): string {
  const list = String(a.list ?? a.list_name ?? "");
  const name = list ? tOr(`hotlist.${list}`, list) : "";
  const reason = String(a.reason ?? "");
  return !reason || reason === name ? name : name ? `${name}${lang() === "en" ? ": " : "："}${reason}` : reason;
}

const latLon = (a: any): [number, number] | null => {
  const lat = Number(a.lat ?? a.read?.lat), lon = Number(a.lon ?? a.read?.lon);
  return Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null;
};

/** The board's alert section; returns it and its clean-up. */
export function alertSection(map: OpsMap | null): { el: HTMLElement; stop: () => void; ackNewest: () => boolean } {
  const ackOp = api.find("POST", /^\/anpr\/alerts\/\{[^}]+\}\/ack$/);
  const listOp = api.find("GET", "/anpr/alerts");
  const count = h("span.badge.alert-count#board-alerts-unacked", { style: "background:#ff00aa;color:#fff;border-radius:8px;padding:0 6px;font-size:12px" });
  const list = h("ul.alert-list#board-alert-list", { style: "max-height:11em;overflow:auto" });
  const empty = h("p.muted.small#board-alerts-empty", t("alerts.none"));
  const more = listOp ? h("button.small.link#board-alerts-earlier", { type: "button", onclick: () => void earlier() },
    t("alerts.earlier")) : null;
  const el = h("section#board-alerts", h("h3", t("alerts.title"), " ", count), list, empty, more);

  async function earlier(): Promise<void> {
    // A personal-data read: the case and purpose are asked for (and the read audited) as elsewhere.
    try {
      const data = await api.get(listOp!.path, { personal: true, query: { limit: 100 } });
      for (const a of rowsOf(data, "alerts")) putAlert("anpr.alert", a);
    } catch (e) {
      if ((e as { code?: string }).code !== "cancelled") toast(errorText(e), "error");
    }
  }

  async function ack(a: any, btn: HTMLButtonElement | null, said = false): Promise<void> {
    if (btn) btn.disabled = true;
    try {
      const out: any = await api.post(ackOp!.path.replace(/\{[^}]+\}/, encodeURIComponent(alertIdOf(a))));
      putAlert("anpr.alert_ack", out);
      if (out.already) toast(t("alerts.already", { who: String(out.acknowledged_by ?? "") }), "info");
      else if (said) toast(t("alerts.ackedKey", { plate: String(a.plate ?? "") }), "ok");
    } catch (e) {
      if (btn) btn.disabled = false;
      toast(errorText(e), "error");
    }
  }

  /** The keyboard's ``a`` (board.ts): acknowledge the newest hit nobody has acknowledged yet; false
   * when there is none (or no route to acknowledge with). */
  function ackNewest(): boolean {
    const a = unackedAlerts()[0];
    if (!a || !ackOp) return false;
    const btn = list.querySelector<HTMLButtonElement>(`button.alert-ack[data-alert="${CSS.escape(alertIdOf(a))}"]`);
    if (btn?.disabled) return true; // on its way already
    void ack(a, btn, true);
    return true;
  }

  function row(a: any): HTMLElement {
    const id = alertIdOf(a);
    const acked = !!a.acknowledged_at;
    const where = latLon(a);
    return h(`li.alert-row${acked ? ".acked" : ""}`, { dataset: { alert: id, acked: String(acked) },
      onclick: () => { if (where && map) map.highlight(where[0], where[1]); } },
      h("i.diamond", { style: "display:inline-block;width:8px;height:8px;transform:rotate(45deg);background:#ff00aa" }), " ",
      h("span.alert-time", fmtTime(a.read?.ts ?? a.ts ?? a.read_at ?? a.raised_at)), " ",
      h("b.alert-plate", String(a.plate ?? "")),
      h("span.alert-camera", ` · ${t("alerts.camera")} ${cameraOf(a) || "–"}`),
      h("span.alert-reason", ` · ${alertReason(a)}`), " ",
      acked
        ? h("span.small.muted.alert-acked", t("alerts.ackedBy", { who: String(a.acknowledged_by ?? ""),
          at: fmtTime(a.acknowledged_at) }))
        : ackOp ? h("button.small.primary.alert-ack", { type: "button", dataset: { alert: id },
          onclick: (e: Event) => { e.stopPropagation(); void ack(a, e.currentTarget as HTMLButtonElement); } },
          t("alerts.ack")) : "");
  }

  function paint(): void {
    const rows = alertRows();
    const open = rows.filter((a) => !a.acknowledged_at).length;
    count.textContent = t("alerts.unacked", { n: open });
    count.hidden = !open;
    clear(list, rows.slice(0, SHOWN).map(row));
    empty.hidden = rows.length > 0;
  }
  paint();
  const offs = [subscribe("alerts", paint), subscribe("cameras", paint)];
  return { el, stop: () => offs.forEach((f) => f()), ackNewest };
}
