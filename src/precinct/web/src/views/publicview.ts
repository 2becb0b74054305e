// Public communication (舆): CAP 1.2 public alerts authored with the area drawn on the map (circle,
// polygon or a station area), bilingual texts, four-eyes approval (the API refuses an author's own
// approval), the active alerts with update and cancel; bulletins below (publicbulletins.ts).
import { api } from "../api";
import { areaFields, AreaDrawer, type DrawnArea } from "../draw";
import { clear, field, fmtTime, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";
import { session } from "../session";
import { errorText, table } from "./common";
import type { View } from "./index";
import { bulletinsSection } from "./publicbulletins";

const URGENCIES = ["Immediate", "Expected", "Future", "Past", "Unknown"];
const SEVERITIES = ["Extreme", "Severe", "Moderate", "Minor", "Unknown"];
const CERTAINTIES = ["Observed", "Likely", "Possible", "Unlikely", "Unknown"];
const TEXT_FIELDS = ["event", "headline", "description", "instruction"] as const;

function choice(id: string, values: string[], value: string): HTMLSelectElement {
  const s = h(`select#${id}`, values.map((v) => h("option", { value: v }, tOr(`cap.${v}`, v)))) as HTMLSelectElement;
  s.value = value;
  return s;
}

/** The alert's headline in the reader's language (the other language when missing). */
export function headlineOf(a: any): string {
  const texts = a.texts ?? {};
  const mine = lang() === "en" ? texts["en-US"] : texts["zh-CN"];
  const other = lang() === "en" ? texts["zh-CN"] : texts["en-US"];
  return String(mine?.headline ?? other?.headline ?? texts.note?.reason ?? "");
}

interface TextInputs { zh: Record<string, HTMLElement>; en: Record<string, HTMLElement> }

function textInputs(prefix: string): TextInputs {
  const make = (l: string) => Object.fromEntries(TEXT_FIELDS.map((f) => [f,
    f === "description" || f === "instruction"
      ? h(`textarea#${prefix}-${l}-${f}`, { rows: 2, maxlength: f === "description" ? 4000 : 2000 })
      : h(`input#${prefix}-${l}-${f}`, { maxlength: f === "event" ? 120 : 160 })]));
  return { zh: make("zh"), en: make("en") };
}

function textBlock(inputs: TextInputs): HTMLElement {
  const col = (l: "zh" | "en") => h("fieldset", h("legend", t(`pub.${l}`)),
    TEXT_FIELDS.map((f) => field(t(`pub.${f}`), inputs[l][f])));
  return h("div.row", col("zh"), col("en"));
}

function textsOf(inputs: TextInputs): { zh?: Record<string, string>; en?: Record<string, string> } {
  const pick = (l: "zh" | "en") => {
    const o: Record<string, string> = {};
    for (const f of TEXT_FIELDS) {
      const v = (inputs[l][f] as HTMLInputElement).value.trim();
      if (v) o[f] = v;
    }
    return Object.keys(o).length ? o : undefined;
  };
  return { zh: pick("zh"), en: pick("en") };
}

export const publicView: View = {
  key: "public",
  roles: ["supervisor", "dispatcher", "analyst", "admin"],
  render(panel, { map }) {
    const me = session.me?.username ?? "";
    const mayApprove = ["supervisor", "admin"].includes(session.me?.role ?? "");
    const err = h("p.error#pa-error");
    const areaText = h("p.muted#pa-area", t("pub.noArea"));
    const pendingBox = h("div#pa-pending");
    const activeBox = h("div#pa-active");
    const editBox = h("div#pa-edit");
    const radius = h("input#pa-radius", { type: "number", min: 0.1, max: 500, step: 0.1, value: 1 }) as HTMLInputElement;
    const station = h("select#pa-station", h("option", { value: "" }, "—")) as HTMLSelectElement;
    let drawn: DrawnArea | null = null;
    const describe = () => {
      if (station.value) areaText.textContent = t("pub.stationArea", { id: station.value });
      else if (drawn?.kind === "circle") areaText.textContent = t("pub.circleAt", { lat: drawn.lat, lon: drawn.lon, km: drawn.radiusKm });
      else if (drawn?.kind === "polygon") areaText.textContent = t("pub.polygonOf", { n: drawn.points.length });
      else areaText.textContent = t("pub.noArea");
    };
    const drawer = new AreaDrawer(map, (a) => { drawn = a; if (a) station.value = ""; describe(); });
    radius.addEventListener("input", () => drawer.setRadius(Number(radius.value)));
    station.addEventListener("change", () => { if (station.value) drawer.reset(); describe(); });
    const inputs = textInputs("pa");
    const urgency = choice("pa-urgency", URGENCIES, "Immediate");
    const severity = choice("pa-severity", SEVERITIES, "Severe");
    const certainty = choice("pa-certainty", CERTAINTIES, "Likely");
    const expires = h("input#pa-expires", { type: "number", min: 1, max: 720, value: 24 }) as HTMLInputElement;
    const form = h("form#pa-form", { onsubmit: (e: Event) => { e.preventDefault(); void submit(); } },
      h("fieldset", h("legend", t("pub.area")),
        h("div.row",
          field(t("pub.radius"), radius),
          h("button#pa-draw-circle", { type: "button", onclick: () => drawer.circle(Number(radius.value) || 1) }, t("pub.drawCircle")),
          h("button#pa-draw-polygon", { type: "button", onclick: () => drawer.polygon() }, t("pub.drawPolygon")),
          h("button#pa-finish", { type: "button", onclick: () => drawer.finish() }, t("pub.finish")),
          h("button#pa-clear", { type: "button", onclick: () => { drawer.reset(); station.value = ""; describe(); } }, t("pub.clearArea"))),
        field(t("pub.station"), station), areaText),
      textBlock(inputs),
      h("div.row", field(t("pub.urgency"), urgency), field(t("pub.severity"), severity),
        field(t("pub.certainty"), certainty), field(t("pub.expires"), expires)),
      h("button.primary#pa-submit", { type: "submit" }, t("pub.submit")));
    const feeds = h("p",
      h("a#pa-atom", { href: "/api/v1/public/alerts.atom", target: "_blank", rel: "noopener" }, t("pub.atom")), " · ",
      h("a", { href: "/api/v1/public/page", target: "_blank", rel: "noopener" }, t("pub.publicPage")));
    const bulletins = h("div#pb-section");
    panel.append(h("h2", t("pub.title")), h("h3", t("pub.newAlert")), form, err,
      h("h3", t("pub.pending")), pendingBox, h("h3", t("pub.active")), feeds, activeBox, editBox,
      h("h3", t("pub.bulletins")), bulletins);

    async function submit(): Promise<void> {
      err.textContent = "";
      const area = station.value ? { station: station.value } : drawn ? areaFields(drawn) : null;
      if (!area) { err.textContent = t("pub.noArea"); return; }
      try {
        const a = await api.post<any>("/publishing/alerts", { ...area, ...textsOf(inputs), urgency: urgency.value,
          severity: severity.value, certainty: certainty.value, expires_hours: Number(expires.value) || 24 });
        toast(t("pub.submitted", { id: a.id }), "ok");
        for (const l of ["zh", "en"] as const) for (const f of TEXT_FIELDS) (inputs[l][f] as HTMLInputElement).value = "";
        drawer.reset();
        await reload();
      } catch (e) { err.textContent = errorText(e); }
    }

    const act = (fn: () => Promise<unknown>, done?: string) => async (ev: Event) => {
      ev.stopPropagation();
      err.textContent = "";
      try { await fn(); if (done) toast(done, "ok"); await reload(); } catch (e) { err.textContent = errorText(e); }
    };

    function editor(a: any, kind: "update" | "cancel"): void {
      if (kind === "cancel") {
        const reason = h("input#pa-cancel-reason", { required: true, maxlength: 1000 }) as HTMLInputElement;
        clear(editBox, h("form.inline#pa-cancel-form", { onsubmit: (e: Event) => { e.preventDefault();
          void act(() => api.post(`/publishing/alerts/${encodeURIComponent(a.id)}/cancel`, { reason: reason.value.trim() }))(e);
          clear(editBox); } },
        h("b", `${t("pub.cancel")} ${a.id}`), field(t("pub.reason"), reason), h("button.primary", { type: "submit" }, t("pub.cancel"))));
        return;
      }
      const up = textInputs("pu");
      const sev = choice("pu-severity", SEVERITIES, a.severity);
      const urg = choice("pu-urgency", URGENCIES, a.urgency);
      clear(editBox, h("form#pa-update-form", { onsubmit: (e: Event) => { e.preventDefault();
        const area = station.value ? { station: station.value } : drawn ? areaFields(drawn) : {};
        void act(() => api.post(`/publishing/alerts/${encodeURIComponent(a.id)}/update`,
          { ...area, ...textsOf(up), severity: sev.value, urgency: urg.value }))(e);
        clear(editBox); } },
        h("p", h("b", t("pub.updateOf", { id: a.id }))), textBlock(up),
        h("div.row", field(t("pub.urgency"), urg), field(t("pub.severity"), sev)),
        h("button.primary", { type: "submit" }, t("pub.sendUpdate"))));
    }

    async function reload(): Promise<void> {
      try {
        const [all, areas] = await Promise.all([
          api.get<{ alerts: any[] }>("/publishing/alerts"),
          api.get<{ areas: any[] }>("/publishing/station-areas").catch(() => ({ areas: [] as any[] }))]);
        const keep = station.value;
        clear(station, h("option", { value: "" }, "—"), areas.areas.map((s) =>
          h("option", { value: s.id }, `${s.id} · ${lang() === "en" ? s.name_en : s.name_zh}`)));
        station.value = keep;
        const drafts = all.alerts.filter((a) => a.state === "draft");
        const active = all.alerts.filter((a) => a.state === "published" && a.msg_type !== "Cancel");
        drawer.show(active.map((a) => ({ area: a.area, label: headlineOf(a) })));
        const common = [
          { key: "id", label: "ID" },
          { key: "msg_type", label: t("pub.type"), render: (a: any) => tOr(`pub.msg.${a.msg_type}`, a.msg_type) },
          { key: "headline", label: t("pub.headline"), render: (a: any) => headlineOf(a) },
          { key: "severity", label: t("pub.severity"), render: (a: any) => tOr(`cap.${a.severity}`, a.severity) },
          { key: "created_by", label: t("pub.author"), render: (a: any) =>
            a.created_by?.startsWith("precinct:") ? t("pub.proposed") : String(a.created_by ?? "") },
        ];
        clear(pendingBox, table([...common,
          { key: "actions", label: "", render: (a) => h("span",
            h("a", { href: `/api/v1/publishing/alerts/${encodeURIComponent(a.id)}/preview`, target: "_blank",
              rel: "noopener", onclick: (e: Event) => { e.preventDefault(); void showPreview(a.id); } }, t("pub.preview")), " ",
            !mayApprove ? null : a.created_by === me ? h("small.muted", t("pub.ownDraft"))
              : h("button.primary.pa-approve", { dataset: { id: a.id },
                onclick: act(() => api.post(`/publishing/alerts/${encodeURIComponent(a.id)}/approve`), t("pub.approved", { id: a.id })) },
              t("pub.approve"))) },
        ], drafts, { id: "pa-pending-table" }));
        clear(activeBox, table([...common,
          { key: "published_at", label: t("pub.published"), render: (a) => fmtTime(a.published_at) },
          { key: "actions", label: "", render: (a) => h("span",
            h("a", { href: `/api/v1/public/alerts/${encodeURIComponent(a.id)}/cap`, target: "_blank", rel: "noopener" }, t("pub.cap")), " ",
            h("button.pa-update", { dataset: { id: a.id }, onclick: (e: Event) => { e.stopPropagation(); editor(a, "update"); } }, t("pub.update")), " ",
            h("button.pa-cancel", { dataset: { id: a.id }, onclick: (e: Event) => { e.stopPropagation(); editor(a, "cancel"); } }, t("pub.cancel"))) },
        ], active, { id: "pa-active-table" }));
      } catch (e) { clear(pendingBox, h("p.error", errorText(e))); }
    }

    async function showPreview(id: string): Promise<void> {
      try {
        const text = String(await api.get<string>(`/publishing/alerts/${encodeURIComponent(id)}/preview`));
        clear(editBox, h("pre.small#pa-preview", { style: "max-height:300px;overflow:auto;white-space:pre-wrap" }, text));
      } catch (e) { clear(editBox, h("p.error", errorText(e))); }
    }

    // mirrors public.bulletins.read in core/policy.py (the server enforces it)
    if (["supervisor", "dispatcher", "admin"].includes(session.me?.role ?? "")) bulletinsSection(bulletins);
    void reload();
    const timer = window.setInterval(() => void reload(), 30000);
    return () => { clearInterval(timer); drawer.destroy(); };
  },
};
