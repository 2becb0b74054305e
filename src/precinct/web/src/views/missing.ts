// Missing-person search area: where a person on foot could be, growing with time (rings of the
// walking area), cameras ranked by when the person could have passed, and the police stations,
// hospitals and shelters within reach. Personal data: bound to a case with the purpose
// "missing_person", and audited by the server.
import { api, ApiError } from "../api";
import { askCaseContext, caseContext } from "../casectx";
import { clear, field, fmtDuration, fmtTime, h } from "../dom";
import { t } from "../i18n";
import { store, subscribe } from "../store";
import { errorText, table, unavailable } from "./common";
import type { View } from "./index";
import { minutesAgoIso, pointPicker } from "./picker";

export interface Place { id: string; name: string; kind: string; lat: number; lon: number }

const PLACES_KEY = "precinct.places";
const KINDS = ["camera", "station", "hospital", "shelter"];

/** One CSV line into fields (double quotes may wrap a field; "" is a quote). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { out.push(cur); cur = ""; }
    else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** Parse a places CSV (header: id, name, kind, lat, lon). Throws an Error naming the line. */
export function parsePlaces(text: string): Place[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const head = splitCsv(lines[0] ?? "").map((s) => s.toLowerCase());
  const col = (n: string) => head.indexOf(n);
  for (const need of ["id", "lat", "lon"]) {
    if (col(need) < 0) throw new Error(t("missing.badCsv", { line: 1, msg: `no "${need}" column` }));
  }
  const out: Place[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const f = splitCsv(lines[i]);
    const lat = Number(f[col("lat")]), lon = Number(f[col("lon")]);
    const id = f[col("id")] ?? "";
    if (!id) throw new Error(t("missing.badCsv", { line: i + 1, msg: "empty id" }));
    if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180 || f[col("lat")] === "" || f[col("lon")] === "") {
      throw new Error(t("missing.badCsv", { line: i + 1, msg: `bad lat/lon "${f[col("lat")]}", "${f[col("lon")]}"` }));
    }
    const kind = (col("kind") >= 0 ? f[col("kind")] : "").toLowerCase() || "other";
    out.push({ id, name: col("name") >= 0 ? f[col("name")] ?? "" : "", kind, lat, lon });
  }
  return out;
}

function savedPlaces(): Place[] {
  try { return JSON.parse(localStorage.getItem(PLACES_KEY) ?? "[]"); } catch { return []; }
}

/** Saved places plus the ANPR cameras the server knows (by id; a saved place wins). */
function allPlaces(): Place[] {
  const byId = new Map<string, Place>();
  for (const c of store.cameras) {
    const id = String(c.camera_id ?? c.id ?? "");
    if (id && typeof c.lat === "number" && typeof c.lon === "number") {
      byId.set(`camera:${id}`, { id, name: String(c.name ?? ""), kind: "camera", lat: c.lat, lon: c.lon });
    }
  }
  for (const p of savedPlaces()) byId.set(`${p.kind}:${p.id}`, p);
  return [...byId.values()];
}

export const missingView: View = {
  key: "missing",
  roles: ["dispatcher", "analyst", "supervisor", "patrol", "admin"],
  render(panel, { map }) {
    panel.append(h("h2", t("missing.title")));
    const op = api.find("POST", "/patrol/missing-person");
    if (!op) { panel.append(unavailable("POST /api/v1/patrol/missing-person")); return; }
    const point = pointPicker(map, "missing", t("missing.lastSeen"));
    const ago = h("input#missing-ago", { type: "number", min: 0, max: 1440, step: "any", value: 30 }) as HTMLInputElement;
    const speed = h("input#missing-speed", { type: "number", min: 0.1, max: 5, step: 0.1, value: 1.2 }) as HTMLInputElement;
    const step = h("input#missing-step", { type: "number", min: 1, max: 240, value: 15 }) as HTMLInputElement;
    const ahead = h("input#missing-ahead", { type: "number", min: 0, max: 1440, value: 60 }) as HTMLInputElement;
    const file = h("input#missing-places", { type: "file", accept: ".csv,text/csv" }) as HTMLInputElement;
    const placesNote = h("span.small.muted#missing-places-status");
    const out = h("div#missing-out");
    const notePlaces = () => {
      const ps = allPlaces();
      placesNote.textContent = t("missing.placesLoaded", { n: ps.length, c: ps.filter((p) => p.kind === "camera").length });
    };
    file.addEventListener("change", async () => {
      const f = file.files?.[0];
      if (!f) return;
      try {
        const ps = parsePlaces(await f.text());
        localStorage.setItem(PLACES_KEY, JSON.stringify(ps));
        notePlaces();
      } catch (e) { placesNote.textContent = ""; clear(out, h("p.error#missing-error", (e as Error).message)); }
      file.value = "";
    });
    notePlaces();
    const off = subscribe("cameras", notePlaces);

    async function run(): Promise<void> {
      const ll = point.get();
      if (!ll) { clear(out, h("p.error#missing-error", t("reach.noPoint"))); return; }
      let ctx = caseContext();
      if (!ctx || ctx.purpose !== "missing_person") ctx = await askCaseContext("missing_person");
      if (!ctx) return;
      if (ctx.purpose !== "missing_person") { clear(out, h("p.error#missing-error", t("missing.purpose"))); return; }
      const now = Date.now();
      const body = {
        lat: ll[0], lon: ll[1], seen_at: minutesAgoIso(Number(ago.value || 0), now), now: new Date(now).toISOString(),
        speed_mps: Number(speed.value || 1.2), step_min: Number(step.value || 15), ahead_min: Number(ahead.value || 0),
        places: allPlaces().map((p) => ({ id: p.id, name: p.name.slice(0, 200), kind: KINDS.includes(p.kind) ? p.kind : p.kind.slice(0, 32) || "other", lat: p.lat, lon: p.lon })),
      };
      clear(out, h("p.muted", t("common.loading")));
      try {
        show(await api.post(op!.path, body, { personal: true }), ll);
      } catch (e) {
        clear(out, h("p.error#missing-error", e instanceof ApiError && e.status === 403 ? `${errorText(e)} — ${t("missing.purpose")}` : errorText(e)));
      }
    }

    function show(res: any, seen: [number, number]): void {
      const rings: any[] = res.rings ?? [];
      const feats: any[] = [...(res.geojson?.features ?? []),
        { type: "Feature", geometry: { type: "Point", coordinates: [seen[1], seen[0]] }, properties: { kind: "last_seen" } }];
      const minutes = rings.map((r) => Number(r.minutes));
      const nowIdx = Math.max(0, rings.filter((r) => r.past).length - 1);
      const slider = h("input#missing-slider", { type: "range", min: 0, max: Math.max(0, rings.length - 1), step: 1, value: rings.length - 1 }) as HTMLInputElement;
      const sliderLabel = h("span#missing-slider-label");
      const draw = () => {
        const i = Number(slider.value);
        const ring = rings[i];
        sliderLabel.textContent = ring ? `${t("missing.ring", { m: ring.minutes })} · ${fmtTime(ring.at)}${i === nowIdx ? ` (${t("missing.now")})` : ring.past ? "" : ` (${t("missing.ahead.flag")})`}` : "";
        const cut = ring ? Number(ring.minutes) : Infinity;
        const shown = feats.filter((f) => f.properties?.kind !== "reach" || Number(f.properties.minutes) <= cut);
        map?.setGeo("search", { type: "FeatureCollection", features: shown }, minutes);
      };
      slider.addEventListener("input", draw);
      draw();
      map?.fitTo("search");
      const placeCols = [
        { key: "rank", label: "#", render: (p: any) => String((p.__rank ?? 0) + 1) },
        { key: "id", label: t("col.id") },
        { key: "name", label: t("col.name") },
        { key: "earliest_at", label: t("missing.earliest"), render: (p: any) => fmtTime(p.earliest_at) },
        { key: "walk_s", label: t("missing.walk"), render: (p: any) => fmtDuration(Number(p.walk_s)) },
        { key: "reachable_by_now", label: t("missing.byNow"), render: (p: any) => (p.reachable_by_now ? "✓" : "") },
      ];
      const cams = (res.cameras ?? []).map((p: any, i: number) => ({ ...p, __rank: i }));
      const others = (res.places ?? []).map((p: any, i: number) => ({ ...p, __rank: i }));
      clear(out,
        h("p#missing-summary", t("missing.summary", { t: fmtDuration(Number(res.elapsed_s)), n: res.reachable_nodes_now ?? "–" })),
        h("div.row", field(t("missing.at"), slider), sliderLabel),
        h("h3", t("missing.cameras")),
        table(placeCols, cams, { id: "missing-cameras", rowClass: (p) => (p.reachable_by_now ? "" : "muted"), onRow: (p) => map?.highlight(p.lat, p.lon) }),
        h("h3", t("missing.nearby")),
        table([{ key: "kind", label: t("col.kind"), render: (p: any) => t(`place.${p.kind}`) === `place.${p.kind}` ? p.kind : t(`place.${p.kind}`) }, ...placeCols.slice(1)],
          others, { id: "missing-nearby", onRow: (p) => map?.highlight(p.lat, p.lon) }));
    }

    panel.append(h("p.muted.small", t("missing.hint")),
      point.el,
      h("div.row", field(t("missing.minutesAgo"), ago), field(t("missing.speed"), speed)),
      h("div.row", field(t("missing.step"), step), field(t("missing.ahead"), ahead)),
      h("div.field", h("span.label", t("missing.places")), h("div.row", file,
        h("button#missing-forget", { type: "button", onclick: () => { localStorage.removeItem(PLACES_KEY); notePlaces(); } }, t("missing.clearPlaces"))), placesNote),
      h("div.actions", h("button.primary#missing-run", { onclick: () => void run() }, t("missing.run"))),
      out);
    return off;
  },
};
