// 110 call intake with duplicate suggestions.
import { api, ApiError, latLonOf, rowsOf, str } from "../api";
import { askCaseContext, caseContext } from "../casectx";
import { clear, field, fmtTime, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";
import { PRIORITY_COLOURS, priorityKey, priorityOf } from "../map";
import { buildBody, bodyProps } from "../schema";
import { idOf, refreshAll, store, subscribe, typeName, incidentTypeName } from "../store";
import { errorText, unavailable, uuid } from "./common";
import type { View } from "./index";
import { ageSeconds, isOpen } from "./overview";

const DUP_RADIUS_M = 500;
const DUP_WINDOW_S = 60 * 60;

export function metres(a: [number, number], b: [number, number]): number {
  const R = 6371008.8, rad = Math.PI / 180;
  const dLat = (b[0] - a[0]) * rad, dLon = (b[1] - a[1]) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(s));
}

const recent: any[] = [];
// The address suggestion chosen for the call being typed (module-level, like the typed values
// formstate.ts keeps, so a tab or language switch keeps it as well).
let resolved: { label: string; lat: string; lon: string } | null = null;

export const callsView: View = {
  key: "calls",
  roles: ["call_taker", "dispatcher", "supervisor"],
  render(panel, { map }) {
    const create = api.find("POST", "/calls", /^\/calls\/?$/);
    panel.append(h("h2", t("calls.title")));
    if (!create) { panel.append(unavailable("POST /api/v1/calls")); return; }
    const props = bodyProps(create);
    const typeSel = h("select#call-type", { name: "type", required: true }) as HTMLSelectElement;
    const typeText = h("input#call-type-text", { name: "type", placeholder: "code" }) as HTMLInputElement;
    const fillTypes = () => {
      const prev = typeSel.value;
      clear(typeSel, h("option", { value: "" }, "—"), store.types.map((ty) =>
        h("option", { value: String(ty.code) }, `${ty.code} · ${typeName(ty.code, lang())}`)));
      if (prev) typeSel.value = prev;
    };
    fillTypes();
    // 49 types: a search box narrows the list (code, Chinese or English name); one match is chosen.
    const typeSearch = h("input#call-type-search", { type: "search", placeholder: t("calls.typeSearch"), autocomplete: "off" }) as HTMLInputElement;
    typeSearch.addEventListener("input", () => {
      const q = typeSearch.value.trim().toLowerCase();
      const keep = typeSel.value;
      const hits = store.types.filter((ty) => !q || [ty.code, ty.name_zh, ty.name_en, ty.name].some((v) => String(v ?? "").toLowerCase().includes(q)));
      clear(typeSel, h("option", { value: "" }, "—"), hits.map((ty) =>
        h("option", { value: String(ty.code) }, `${ty.code} · ${typeName(ty.code, lang())}`)));
      if (hits.some((ty) => String(ty.code) === keep)) typeSel.value = keep;
      else if (hits.length === 1) { typeSel.value = String(hits[0].code); typeSel.dispatchEvent(new Event("change")); }
    });
    const prio = h("select#call-priority", { name: "priority" },
      h("option", { value: "" }, t("calls.priorityDefault")),
      Object.keys(PRIORITY_COLOURS).map((p) => h("option", { value: p }, t(`prio.${p}`)))) as HTMLSelectElement;
    const phone = h("input#call-phone", { name: "caller_phone", type: "tel", autocomplete: "off" }) as HTMLInputElement;
    const history = callerHistory(phone);
    const address = h("input#call-address", { name: "address", autocomplete: "off" }) as HTMLInputElement;
    // Streets and junctions matching what is typed (the server's geocoder), and the place chosen.
    const addrSugg = h("div.geocode-suggest#call-address-suggestions", { role: "listbox", "aria-label": t("calls.addrSuggestions") });
    const resolvedLine = h("p.muted#call-resolved", { role: "status" });
    const callerName = h("input#call-caller-name", { name: "caller_name", autocomplete: "off", maxlength: 128 }) as HTMLInputElement;
    const lat = h("input#call-lat", { name: "lat", type: "number", step: "any", min: -90, max: 90 }) as HTMLInputElement;
    const lon = h("input#call-lon", { name: "lon", type: "number", step: "any", min: -180, max: 180 }) as HTMLInputElement;
    const desc = h("textarea#call-description", { name: "description", rows: 3 }) as HTMLTextAreaElement;
    const dupBox = h("div.dups#call-duplicates");
    const recentBox = h("div#recent-calls");
    const status = h("p.status#call-status", { role: "status" });
    let key = uuid();

    const typeValue = () => (store.types.length ? typeSel.value : typeText.value.trim());
    typeSel.addEventListener("change", () => {
      const ty = store.types.find((x) => String(x.code) === typeSel.value);
      const p = ty?.default_priority ?? ty?.priority;
      if (p !== undefined && !prio.value) prio.dataset.default = priorityKey(p);
      suggest();
    });

    const pick = h("button#call-pick", { type: "button", onclick: () => {
      if (!map) return;
      status.textContent = t("common.pickHint");
      map.pick((la, lo) => { lat.value = String(la); lon.value = String(lo); status.textContent = ""; suggest(); });
    } }, t("common.pickOnMap"));

    // Before the call is created a duplicate is chosen with merge_into (the call attaches to it);
    // after, the new incident is merged into the chosen one.
    const mergeOp = api.find("POST", /^\/incidents\/\{[^}]+\}\/merge/);
    const canAttach = "merge_into" in props;
    let attachTo: string | null = null;
    const dupOp = api.find("GET", /duplicate/);
    const sugOp = api.find("GET", /geocode\/suggest/);

    async function suggest(): Promise<void> {
      const la = parseFloat(lat.value), lo = parseFloat(lon.value);
      if (!isFinite(la) || !isFinite(lo)) { clear(dupBox); return; }
      let cands: any[] = [];
      if (dupOp && !/\{/.test(dupOp.path)) {
        try {
          cands = rowsOf(await api.get(dupOp.path, { query: { lat: la, lon: lo, type: typeValue() } }), "duplicates", "candidates");
        } catch { cands = []; }
      } else {
        // Client-side: open incidents within a few hundred metres and the last hour.
        cands = [...store.incidents.values()].filter(isOpen).map((r) => {
          const ll = latLonOf(r);
          return ll ? { ...r, __m: metres([la, lo], ll), __age: ageSeconds(r) } : null;
        }).filter((r): r is any => !!r && r.__m <= DUP_RADIUS_M && !(r.__age > DUP_WINDOW_S))
          .sort((a, b) => (Number(String(b.type) === typeValue()) - Number(String(a.type) === typeValue())) || a.__m - b.__m)
          .slice(0, 5);
      }
      renderDups(cands);
    }

    // Candidates for the call being typed attach it (merge_into, one click creates it); only the
    // candidates the server returned for a call just created offer merging that call's incident.
    function renderDups(cands: any[], created: any = null): void {
      // The same candidates again (a blur re-fires "change") keep their buttons: a click on one
      // must not land on a row that was just replaced.
      const sig = JSON.stringify([created?.incident_id ?? null, cands.map((r) => idOf(r))]);
      if (dupBox.dataset.sig === sig && dupBox.childElementCount) return;
      dupBox.dataset.sig = sig;
      clear(dupBox, h("h3", t("calls.duplicates")),
        cands.length ? h("ul", cands.map((r) => {
          const ll = latLonOf(r);
          const m = r.__m ?? r.distance_m ?? (ll && lat.value ? metres([+lat.value, +lon.value], ll) : NaN);
          const age = r.__age ?? r.age_s ?? ageSeconds(r);
          // The server's candidates carry no priority: the incident's own (or its type's default).
          const known = store.incidents.get(idOf(r));
          const ty = store.types.find((x) => String(x.code) === String(r.type));
          const p = known ? priorityOf(known) : r.priority ? priorityOf(r) : priorityKey(ty?.default_priority ?? ty?.priority);
          return h("li.dup", { dataset: { incident: idOf(r), priority: p } },
            h("i.dot", { style: `background:${PRIORITY_COLOURS[p]}` }),
            ` ${str(r, "incident_id", "id")} · ${incidentTypeName(r, lang())} · `,
            t("calls.distance", { m: isFinite(m) ? Math.round(m) : "?", min: isFinite(age) ? Math.round(age / 60) : "?" }), " ",
            created && mergeOp ? h("button.small.merge", { type: "button", onclick: () => merge(created, r) }, t("calls.merge"))
              : canAttach ? h("button.small.attach", { type: "button", onclick: () => attach(idOf(r)) }, t("calls.mergeBefore")) : null);
        })) : h("p.muted", t("calls.noDuplicates")));
    }

    function attach(id: string): void {
      attachTo = id;
      status.textContent = t("calls.attached", { id });
      // Create the call being typed, attached to the chosen incident (the form's checks apply).
      (form as HTMLFormElement).requestSubmit();
    }

    async function merge(created: any, r: any): Promise<void> {
      const from = String(created?.incident_id ?? "");
      if (!mergeOp || !from || from === idOf(r)) return;
      try {
        const path = mergeOp.path.replace(/\{[^}]+\}/, encodeURIComponent(from));
        await api.post(path, buildBody(mergeOp, { into: idOf(r), incident_id: idOf(r) }));
        toast(t("calls.merged", { id: idOf(r) }), "ok");
        clear(dupBox);
        void refreshAll();
      } catch (e) { toast(errorText(e), "error"); }
    }

    /** An address that matched nothing: said in words, with the nearest names to choose from
     * (the server's candidates, else a geocoding route's suggestions when there is one). */
    async function noAddress(ex: ApiError, text: string): Promise<void> {
      let cands: string[] = Array.isArray((ex.detail as any)?.candidates) ? (ex.detail as any).candidates.map(String) : [];
      const sugOp = api.find("GET", /geocod|address.*suggest|suggest.*address/);
      if (!cands.length && sugOp && !/\{/.test(sugOp.path)) {
        try {
          cands = rowsOf(await api.get(sugOp.path, { query: { q: text, text, limit: 5 } }), "candidates", "suggestions", "results")
            .map((c: any) => String(typeof c === "string" ? c : c.label ?? c.name ?? "")).filter(Boolean);
        } catch { cands = []; }
      }
      const reason = String((ex.detail as any)?.reason ?? "");
      clear(status, h("span.error#call-geocode-error", reason === "no road network" ? t("calls.noRoads") : t("calls.noAddress", { address: text })),
        cands.length ? h("span", " ", t("calls.didYouMean")) : h("span", " ", t("calls.noSuggestions")),
        cands.length ? h("div.geocode-suggest#call-geocode-suggestions", cands.slice(0, 5).map((c) =>
          h("button.small", { type: "button", onclick: () => { address.value = c; (form as HTMLFormElement).requestSubmit(); } }, c))) : null);
    }

    // Suggestions as the address is typed (debounced; a late answer to an older text is dropped).
    // Choosing one fills the coordinates, says the place back, zooms the map to it and runs the
    // duplicate check for it, all before the call is submitted.
    let typing = 0, seq = 0;
    const clearResolved = () => {
      if (resolved && lat.value === resolved.lat && lon.value === resolved.lon) { lat.value = ""; lon.value = ""; clear(dupBox); }
      resolved = null;
      clear(resolvedLine);
    };
    function choose(c: { label: string; lat: number; lon: number }): void {
      address.value = c.label;
      lat.value = String(c.lat); lon.value = String(c.lon);
      resolved = { label: c.label, lat: lat.value, lon: lon.value };
      clearTimeout(typing); seq++; // a suggestion still on its way is for the text before the choice
      clear(addrSugg);
      sayResolved();
      map?.highlight(c.lat, c.lon);
      void suggest();
    }
    function sayResolved(): void {
      if (resolved) resolvedLine.textContent = t("calls.resolved", { address: resolved.label, lat: (+resolved.lat).toFixed(5), lon: (+resolved.lon).toFixed(5) });
    }
    // After formstate has put back what was typed: the chosen place is said again (in the
    // language now shown) and its duplicates listed, unless the address or coordinates changed.
    setTimeout(() => {
      if (resolved && address.value === resolved.label && lat.value === resolved.lat && lon.value === resolved.lon) { sayResolved(); void suggest(); }
      else resolved = null;
    }, 0);
    async function suggestAddress(): Promise<void> {
      const q = address.value.trim(), mine = ++seq;
      if (!sugOp || (q.length < 2 && !/[\u4e00-\u9fff]/.test(q))) { clear(addrSugg); return; }
      let cands: any[] = [];
      try { cands = rowsOf(await api.get(sugOp.path, { query: { q, limit: 5 } }), "candidates"); } catch { cands = []; }
      if (mine !== seq || address.value.trim() !== q) return;
      cands = cands.filter((c) => c && isFinite(Number(c.lat)) && isFinite(Number(c.lon)));
      clear(addrSugg, cands.length ? h("span.muted", t("calls.addrSuggestions")) : null, cands.map((c) =>
        h("button.small.addr-option", { type: "button", role: "option",
          onclick: () => choose({ label: String(c.label), lat: Number(c.lat), lon: Number(c.lon) }) }, String(c.label))));
    }
    address.addEventListener("input", () => {
      if (resolved && address.value !== resolved.label) clearResolved();
      clearTimeout(typing);
      typing = window.setTimeout(() => void suggestAddress(), 250);
    });

    const form = h("form.form#call-form", {
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const la = lat.value ? parseFloat(lat.value) : undefined, lo = lon.value ? parseFloat(lon.value) : undefined;
        if ((la === undefined || lo === undefined) && !address.value.trim()) { status.textContent = t("calls.needLocation"); return; }
        const values: Record<string, unknown> = {
          lat: la, lon: lo, type: typeValue(), caller_phone: phone.value.trim(), description: desc.value.trim(),
          caller_name: callerName.value.trim() || undefined,
          address: address.value.trim() || undefined, priority: prio.value || undefined,
          merge_into: attachTo ?? undefined,
        };
        const body = Object.keys(props).length ? buildBody(create, values, { type_code: ["type"], incident_type: ["type"], phone: ["caller_phone"], notes: ["description"], latitude: ["lat"], longitude: ["lon"] }) : values;
        const btn = form.querySelector("button[type=submit]") as HTMLButtonElement;
        btn.disabled = true;
        try {
          const res = await api.post(create.path, body, { idempotencyKey: key, personal: api.isPersonal(create) });
          const attached = attachTo;
          attachTo = null;
          key = uuid();
          const id = str(res, "id", "call_id") ?? "?";
          const incident = str(res, "incident_id") ?? str(res?.incident, "id") ?? "?";
          status.textContent = t("calls.created", { id, incident });
          toast(status.textContent, "ok");
          if (res?.location_source === "geocoded" && res.lat !== null && res.lat !== undefined) {
            // The place the address resolved to, said back and shown on the map.
            status.append(" ", t("calls.resolved", { address: String(res.address ?? ""), lat: Number(res.lat).toFixed(5), lon: Number(res.lon).toFixed(5) }));
            map?.highlight(Number(res.lat), Number(res.lon));
          }
          recent.unshift({ id, incident, type: values.type, at: fmtTime(new Date().toISOString()).slice(11) });
          paintRecent();
          const dups = rowsOf(res, "duplicates", "duplicate_candidates", "suggestions");
          if (dups.length && !attached) renderDups(dups, res); else clear(dupBox);
          if (resolved && res?.location_source !== "geocoded") {
            status.append(" ", t("calls.resolved", { address: resolved.label, lat: (+resolved.lat).toFixed(5), lon: (+resolved.lon).toFixed(5) }));
            if (lat.value === resolved.lat && lon.value === resolved.lon) { lat.value = ""; lon.value = ""; }
          }
          resolved = null;
          clear(resolvedLine); clear(addrSugg);
          phone.value = ""; desc.value = ""; address.value = ""; callerName.value = "";
          history.reset(true); // the next call's number is looked up for that call
          void refreshAll();
        } catch (ex) {
          if (ex instanceof ApiError && ex.status === 422 && (ex.detail as any)?.field === "address") await noAddress(ex, String(values.address ?? ""));
          else status.textContent = t("common.error", { msg: errorText(ex) });
        } finally {
          btn.disabled = false;
        }
      },
    },
      field(t("calls.phone"), phone),
      history.box,
      "caller_name" in props ? field(t("calls.callerName"), callerName) : null,
      store.types.length || api.find("GET", /incident[-_]types/)
        ? h("div.field", h("span.label", t("calls.type")), h("div.row", typeSearch, typeSel)) : field(t("calls.type"), typeText),
      field(t("calls.priority"), prio),
      "address" in props || !("lat" in props) ? [field(t("calls.address"), address), addrSugg, resolvedLine] : null,
      h("div.row", field(t("calls.lat"), lat), field(t("calls.lon"), lon), map ? pick : null),
      field(t("calls.description"), desc),
      h("div.actions", h("button.primary#call-submit", { type: "submit" }, t("calls.submit"))),
      status);
    // A new call starts with any edit: earlier suggestions (and their merge buttons) go.
    form.addEventListener("input", () => { if (dupBox.querySelector("button.merge")) clear(dupBox); });
    lat.addEventListener("change", suggest);
    lon.addEventListener("change", suggest);

    function paintRecent(): void {
      clear(recentBox, recent.length ? h("h3", t("calls.recent")) : null,
        h("ul", recent.slice(0, 10).map((c) => h("li", `${c.at} · ${c.id} → ${c.incident} · ${typeName(c.type, lang())}`))));
    }
    paintRecent();
    panel.append(form, dupBox, recentBox);
    const unsub = subscribe("types", fillTypes);
    // A number put back by formstate (tab or language switch) shows its history again, if a case allows.
    setTimeout(() => history.refresh(), 0);
    return () => { clearTimeout(typing); seq++; unsub(); history.reset(); };
  },
};

// The caller history shown for the call being typed (the case, the number's digits, the answer):
// a re-render of the form (tab or language switch) paints it again without asking the server, as
// every lookup is an audited personal-data read; a changed number (or case) is looked up anew. Kept
// in memory for this form session only: forgotten when the call is created and at logout.
// A lookup still on its way when the form is drawn again is waited for, not asked twice.
let lastHistory: { key: string; out: any } | null = null;
let inflight: { key: string; answer: Promise<any> } | null = null;
export function forgetCallerHistory(): void { lastHistory = null; inflight = null; }

/** The caller's number looked up while the call is taken: how often it called in the last 30 days,
 * each call's local time, type, priority and status or disposition. Personal data: read under the
 * case and purpose (incident_response, a case with an incident linked) and audited by the server;
 * looked up by itself only when such a case is already chosen, else on the button (which asks). */
function callerHistory(phone: HTMLInputElement): { box: HTMLElement; reset: (forget?: boolean) => void; refresh: () => void } {
  const op = api.find("GET", "/calls/history");
  const box = h("div.call-history#call-history", { "aria-live": "polite" });
  let shown = "", seq = 0;
  const digits = () => phone.value.replace(/[^0-9+]/g, "");
  const fits = () => caseContext()?.purpose === "incident_response";
  const button = () => h("button.small#call-history-lookup", { type: "button", onclick: () => void lookup(true) }, t("calls.hist.lookup"));

  function offer(): void {
    shown = "";
    clear(box, op && digits().length >= 3 ? [button(), h("p.muted.small", t("calls.hist.needCase"))] : null);
  }

  async function lookup(ask: boolean): Promise<void> {
    const number = phone.value.trim();
    if (!op || digits().length < 3) { clear(box); shown = ""; return; }
    if (!fits()) {
      if (!ask || !(await askCaseContext("incident_response"))) return;
      if (!fits()) { clear(box, button(), h("p.error", t("calls.hist.needCase"))); return; }
    }
    const key = `${caseContext()!.caseId}|${digits()}`;
    if (key === shown) return;
    if (lastHistory?.key === key) { seq++; shown = key; paint(lastHistory.out); return; }
    const mine = ++seq;
    clear(box, h("p.muted", t("calls.hist.loading")));
    if (inflight?.key !== key) inflight = { key, answer: api.get<any>(op.path, { query: { number }, personal: true }) };
    const asked = inflight;
    try {
      const out = await asked.answer;
      // kept for the number asked last (an older answer arriving late is not)
      if (inflight === asked) { lastHistory = { key, out }; inflight = null; }
      if (mine !== seq) return;
      shown = key;
      paint(out);
    } catch (e) {
      if (inflight === asked) inflight = null;
      if (mine !== seq) return;
      shown = "";
      clear(box, h("p.error#call-history-error", t("calls.hist.refused", { msg: errorText(e) })), button());
    }
  }

  function paint(out: any): void {
    const calls: any[] = Array.isArray(out?.calls) ? out.calls : [];
    const n = Number(out?.count ?? calls.length), days = Number(out?.days ?? 30);
    const number = String(out?.number_masked ?? "");
    clear(box,
      h("h3", t("calls.hist.title")),
      h(n ? "p.hist-count.repeat#call-history-count" : "p.hist-count#call-history-count", { dataset: { count: String(n) } },
        n ? t("calls.hist.count", { number, n, days }) : t("calls.hist.none", { number, days })),
      calls.length ? h("ul.hist#call-history-list", calls.map((c) => {
        const p = priorityKey(c.priority);
        const state = c.disposition ? tOr(`disp.${c.disposition}`, t("calls.hist.otherDisp"))
          : tOr(`status.${c.status}`, t("calls.hist.otherStatus"));
        return h("li", { dataset: { call: String(c.call_id), priority: p } },
          h("i.dot", { style: `background:${PRIORITY_COLOURS[p]}` }),
          ` ${fmtTime(c.received_at)} · ${typeName(c.type, lang())} · ${t(`prio.${p}`)} · ${state}`);
      })) : null,
      n > calls.length ? h("p.muted.small", t("calls.hist.more", { shown: calls.length })) : null);
  }

  phone.addEventListener("input", () => { seq++; if (shown || box.childElementCount) offer(); });
  phone.addEventListener("change", () => { if (fits()) void lookup(false); else offer(); });
  return {
    box,
    reset: (forget = false) => { seq++; shown = ""; clear(box); if (forget) forgetCallerHistory(); },
    refresh: () => { if (digits().length >= 3) { if (fits()) void lookup(false); else offer(); } },
  };
}
