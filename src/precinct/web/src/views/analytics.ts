// Crime analysis (研判) for analysts and supervisors: Gi* hotspots drawn as grid cells on the map,
// the near-repeat (Knox) table, place-based forecasts drawn on the map beside their measured hit
// rate and PAI, traffic-accident warnings and the weekly report. Every chart (and the map) can be
// saved as PNG. Aggregates about places and times only: no incident ids, no people.
import { api, API, ApiError } from "../api";
import { clear, field, fmtTime, h } from "../dom";
import { lang, t } from "../i18n";
import type { OpsMap } from "../map";
import { typeName } from "../store";
import { errorText, table, unavailable } from "./common";
import type { View } from "./index";

/** Hot-cell colours by significance (z > 0), and the colour of other cells with incidents. */
export const HOT = { p99: "#99000d", p95: "#e31a1c", p90: "#fd8d3c", any: "#9aa5b1" };
const FORECAST = "#6d28d9";
const NEAR_REPEAT = "#db2777";

export function hotColour(z: number, p: number | null, count: number): string | null {
  if (z > 0 && p !== null && p <= 0.01) return HOT.p99;
  if (z > 0 && p !== null && p <= 0.05) return HOT.p95;
  if (z > 0 && p !== null && p <= 0.1) return HOT.p90;
  return count > 0 ? HOT.any : null;
}

/** A cell of ``m`` metres around a WGS84 centre, as a GeoJSON ring (lon, lat). */
function square(lat: number, lon: number, m: number): number[][] {
  const dy = m / 2 / 111_320, dx = m / 2 / (111_320 * Math.cos((lat * Math.PI) / 180));
  return [[lon - dx, lat - dy], [lon + dx, lat - dy], [lon + dx, lat + dy], [lon - dx, lat + dy], [lon - dx, lat - dy]];
}

/** A circle of ``r`` metres around a WGS84 point, as a 48-gon GeoJSON ring (lon, lat). */
function circle(lat: number, lon: number, r: number): number[][] {
  const ring: number[][] = [];
  for (let i = 0; i <= 48; i++) {
    const a = (i / 48) * 2 * Math.PI;
    ring.push([lon + (r * Math.cos(a)) / (111_320 * Math.cos((lat * Math.PI) / 180)), lat + (r * Math.sin(a)) / 111_320]);
  }
  return ring;
}

function cellFeatures(cells: any[], m: number, props: (c: any) => Record<string, unknown> | null): any {
  const features = [];
  for (const c of cells) {
    const p = props(c);
    if (p) features.push({ type: "Feature", geometry: { type: "Polygon", coordinates: [square(c.lat, c.lon, m)] }, properties: p });
  }
  return { type: "FeatureCollection", features };
}

function fixed(v: unknown, d = 2): string {
  return typeof v === "number" && isFinite(v) ? v.toFixed(d) : "–";
}

function latlon(c: any): string {
  return `${fixed(c.lat, 5)}, ${fixed(c.lon, 5)}`;
}

/** Save a canvas as ``name``.png (the browser's download). */
export function savePng(canvas: HTMLCanvasElement, name: string): void {
  canvas.toBlob((blob) => {
    if (!blob) return;
    const a = h("a", { href: URL.createObjectURL(blob), download: `${name}.png` }) as HTMLAnchorElement;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }, "image/png");
}

/** The map's own canvases (roads, points, analysis layers) composed into one image. Online base-map
 * tiles are left out (another origin's images cannot be exported). */
export function mapCanvas(map: OpsMap): HTMLCanvasElement {
  const box = map.map.getContainer();
  const r0 = box.getBoundingClientRect();
  const out = document.createElement("canvas");
  out.width = Math.round(r0.width);
  out.height = Math.round(r0.height);
  const ctx = out.getContext("2d")!;
  ctx.fillStyle = "#f4f6f8";
  ctx.fillRect(0, 0, out.width, out.height);
  box.querySelectorAll("canvas").forEach((c) => {
    const r = c.getBoundingClientRect();
    if (r.width && r.height) ctx.drawImage(c, r.left - r0.left, r.top - r0.top, r.width, r.height);
  });
  return out;
}

/** A titled chart with its PNG button (``#<id>-png``). */
function chart(id: string, title: string, canvas: HTMLCanvasElement): HTMLElement {
  canvas.id = `${id}-canvas`;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", t("an.chartOf", { what: title }));
  return h("figure.chart", { id },
    h("figcaption", title, " ", h(`button.small#${id}-png`, { type: "button", onclick: () => savePng(canvas, id) }, t("an.png"))),
    canvas);
}

function newCanvas(w: number, hgt: number): [HTMLCanvasElement, CanvasRenderingContext2D] {
  const c = document.createElement("canvas");
  c.width = w; c.height = hgt;
  c.style.maxWidth = "100%";
  const ctx = c.getContext("2d")!;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, hgt);
  ctx.font = "12px sans-serif";
  ctx.fillStyle = "#222";
  return [c, ctx];
}

/** The Gi* grid as an image: one square per cell (north up), coloured by significance, with a legend. */
function hotspotChart(out: any, title: string): HTMLCanvasElement {
  const g = out.grid;
  const px = Math.max(2, Math.min(24, Math.floor(420 / Math.max(g.ncols, g.nrows))));
  const legend = [[HOT.p99, t("an.hot.legend.99")], [HOT.p95, t("an.hot.legend.95")], [HOT.p90, t("an.hot.legend.90")],
    [HOT.any, t("an.hot.legend.any")]];
  const [c, ctx] = newCanvas(Math.max(g.ncols * px + 40, 360), g.nrows * px + 60 + 16 * legend.length);
  ctx.fillText(title, 10, 16);
  const top = 26;
  ctx.strokeStyle = "#ccc";
  ctx.strokeRect(10, top, g.ncols * px, g.nrows * px);
  for (const cell of out.cells) {
    const colour = hotColour(cell.gi_z, cell.p_sim, cell.count);
    if (!colour) continue;
    const row = Math.floor(cell.cell_id / g.ncols), col = cell.cell_id % g.ncols;
    ctx.fillStyle = colour;
    ctx.fillRect(10 + col * px, top + (g.nrows - 1 - row) * px, px, px);
  }
  let y = top + g.nrows * px + 8;
  ctx.fillStyle = "#222";
  ctx.fillText(`${out.cell_m} m · ${out.crs}`, 10, y + 10);
  for (const [colour, label] of legend) {
    y += 16;
    ctx.fillStyle = colour; ctx.fillRect(10, y + 1, 12, 12);
    ctx.fillStyle = "#222"; ctx.fillText(label, 28, y + 11);
  }
  return c;
}

/** The Knox table as a heat table: distance bands down, time bands across, the ratio in each box. */
function knoxChart(bands: any[], title: string): HTMLCanvasElement {
  const dKeys = [...new Set(bands.map((b) => b.distance_m.join("–")))];
  const tKeys = [...new Set(bands.map((b) => b.time_days.join("–")))];
  const cw = 84, ch = 26, left = 100, top = 48;
  const [c, ctx] = newCanvas(left + cw * tKeys.length + 20, top + ch * dKeys.length + 30);
  ctx.fillText(title, 10, 16);
  ctx.fillText(`${t("an.col.time")} →`, left, 36);
  ctx.fillText(`${t("an.col.dist")} ↓`, 6, 36);
  tKeys.forEach((k, j) => ctx.fillText(k, left + j * cw + 6, top - 2));
  dKeys.forEach((k, i) => ctx.fillText(k, 6, top + i * ch + 17));
  for (const b of bands) {
    const i = dKeys.indexOf(b.distance_m.join("–")), j = tKeys.indexOf(b.time_days.join("–"));
    const r = typeof b.knox_ratio === "number" ? b.knox_ratio : null;
    const heat = r === null ? 0 : Math.max(0, Math.min(1, (r - 1) / 2));
    ctx.fillStyle = r === null ? "#eee" : r >= 1 ? `rgba(227,26,28,${0.1 + 0.8 * heat})` : "rgba(49,130,189,0.25)";
    ctx.fillRect(left + j * cw, top + i * ch, cw - 2, ch - 2);
    ctx.fillStyle = "#111";
    ctx.font = b.p_value !== null && b.p_value <= 0.05 ? "bold 12px sans-serif" : "12px sans-serif";
    ctx.fillText(r === null ? "–" : `${r.toFixed(2)}${b.p_value !== null && b.p_value <= 0.05 ? " *" : ""}`, left + j * cw + 8, top + i * ch + 17);
  }
  ctx.font = "12px sans-serif";
  ctx.fillText(`${t("an.col.ratio")}; * p ≤ 0.05`, 10, top + ch * dKeys.length + 20);
  return c;
}

/** Bars of each method's PAI (and hit rate), the KDE baseline first. */
function accuracyChart(methods: any[], title: string): HTMLCanvasElement {
  const bw = 60, left = 50, base = 200;
  const [c, ctx] = newCanvas(left + methods.length * (bw + 30) + 40, 250);
  ctx.fillText(title, 10, 16);
  const top = Math.max(1, ...methods.map((m) => Number(m.pai) || 0));
  ctx.strokeStyle = "#999";
  ctx.beginPath(); ctx.moveTo(left, 30); ctx.lineTo(left, base); ctx.lineTo(c.width - 10, base); ctx.stroke();
  ctx.fillText("PAI", 10, 40);
  ctx.fillText(top.toFixed(1), 14, 56);
  methods.forEach((m, i) => {
    const hgt = ((Number(m.pai) || 0) / top) * (base - 50);
    const x = left + 15 + i * (bw + 30);
    ctx.fillStyle = m.method === "kde" ? "#9aa5b1" : FORECAST;
    ctx.fillRect(x, base - hgt, bw, hgt);
    ctx.fillStyle = "#111";
    ctx.fillText(fixed(m.pai), x + 10, base - hgt - 4);
    ctx.fillText(String(m.method), x, base + 16);
    ctx.fillText(`${fixed(100 * Number(m.hit_rate), 1)}%`, x, base + 32);
  });
  return c;
}

function lastIsoWeek(now = new Date()): string {
  const d = new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate() - 7));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const y0 = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d.getTime() - y0.getTime()) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

function hourOfWeek(hw: number): string {
  const days = t("an.dow").split(",");
  return `${days[Math.floor(hw / 24)] ?? ""} ${String(hw % 24).padStart(2, "0")}:00`;
}

function num(input: HTMLInputElement, dflt: number): number {
  const v = Number(input.value);
  return input.value !== "" && isFinite(v) ? v : dflt;
}

/** POST an analyst's CSV file as the body (the hotspots of an upload); errors in the server's words. */
async function postCsv(path: string, file: File, query: Record<string, string>): Promise<any> {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== ""));
  const r = await fetch(`${API}${path}?${q}`, { method: "POST", body: file,
    headers: { Authorization: `Bearer ${api.token}`, "Content-Type": "text/csv", Accept: "application/json" } });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, data.error ?? "http_error", data.message ?? `HTTP ${r.status}`, data.detail);
  return data;
}

export const analyticsView: View = {
  key: "analytics",
  roles: ["analyst", "supervisor", "dispatcher", "admin"],
  render(panel, { map }) {
    panel.append(h("h2", t("an.title")), h("p.muted.small", t("an.hint")));
    // Answers that arrive after the analyst has left the screen must not draw on the next one's map.
    let alive = true;
    const live = (): OpsMap | null => (alive && map && !map.removed ? map : null);
    const hotOp = api.find("GET", "/analytics/hotspots");
    if (!hotOp) { panel.append(unavailable("GET /api/v1/analytics/hotspots")); return; }
    const knoxOp = api.find("GET", "/analytics/knox");
    const fcOp = api.find("GET", "/analytics/forecast");
    const accOp = api.find("GET", "/analytics/warning");
    const repOp = api.find("GET", "/analytics/report");

    const days = h("input#an-days", { type: "number", min: 1, max: 1098, value: 90 }) as HTMLInputElement;
    const types = h("input#an-types", { type: "text", placeholder: "burglary, theft" }) as HTMLInputElement;
    const cell = h("input#an-cell", { type: "number", min: 25, max: 5000, value: 250 }) as HTMLInputElement;
    const perm = h("input#an-perm", { type: "number", min: 0, max: 9999, value: 99 }) as HTMLInputElement;
    const csvOp = api.find("POST", "/analytics/hotspots/csv");
    const csv = h("input#an-csv", { type: "file", accept: ".csv,text/csv" }) as HTMLInputElement;
    const crs = h("input#an-crs", { type: "text", placeholder: "EPSG:2385", maxlength: 32 }) as HTMLInputElement;
    const window_ = () => {
      const until = new Date();
      const since = new Date(until.getTime() - num(days, 90) * 86_400_000);
      return { since: since.toISOString(), until: until.toISOString(), types: types.value.trim() || undefined };
    };
    const busy = (box: Element) => clear(box, h("p.muted", t("common.loading")));
    const fail = (box: Element, e: unknown, id: string) => clear(box, h(`p.error#${id}`, errorText(e)));

    // --- hotspots ---------------------------------------------------------------------------------
    const hotOut = h("div#an-hot-out");
    async function hotspots(): Promise<void> {
      busy(hotOut);
      try {
        const m = num(cell, 250);
        const upload = csvOp ? csv.files?.[0] : undefined;
        const out = upload ? await postCsv(csvOp!.path, upload, { crs: crs.value.trim(), types: window_().types ?? "",
          cell_m: String(m), permutations: String(num(perm, 99)) })
          : await api.get(hotOp!.path, { query: { ...window_(), cell_m: m, permutations: num(perm, 99) } });
        const cells: any[] = out.cells ?? [];
        live()?.setGeo("risk", cellFeatures(cells, m, (c) => {
          const fill = hotColour(c.gi_z, c.p_sim, c.count);
          return fill ? { kind: "hotspot", fill, cell_id: c.cell_id, count: c.count, gi_z: c.gi_z, p_sim: c.p_sim } : null;
        }));
        live()?.setEnabled("risk", true);
        live()?.fitTo("risk");
        const hot = cells.filter((c) => c.gi_z > 0 && c.p_sim !== null && c.p_sim <= 0.05);
        const top = [...cells].filter((c) => c.count > 0).sort((a, b) => b.gi_z - a.gi_z).slice(0, 15);
        clear(hotOut,
          h("p#an-hot-summary", { dataset: { hot: hot.length, cells: cells.length, events: out.events } },
            t("an.hot.summary", { e: out.events, n: cells.length, m, crs: out.crs, h: hot.length }),
            " ", upload ? t("an.src.csv", { name: upload.name }) : t("an.src.own")),
          chart("an-hot", t("an.hot.title"), hotspotChart(out, `${t("an.hot.title")} · ${out.events}`)),
          h("h4", t("an.hot.top")),
          table([
            { key: "cell_id", label: t("an.col.cell") },
            { key: "centre", label: t("an.col.centre"), render: latlon },
            { key: "count", label: t("an.col.count") },
            { key: "gi_z", label: t("an.col.z"), render: (c) => fixed(c.gi_z) },
            { key: "p_sim", label: t("an.col.p"), render: (c) => fixed(c.p_sim, 3) },
          ], top, { id: "an-hot-table", onRow: (c) => live()?.highlight(c.lat, c.lon) }));
      } catch (e) { fail(hotOut, e, "an-hot-error"); }
    }

    // --- near-repeat --------------------------------------------------------------------------------
    const dBands = h("input#an-knox-d", { type: "text", value: "0,0.1,100,200,400" }) as HTMLInputElement;
    const tBands = h("input#an-knox-t", { type: "text", value: "0,7,14,28" }) as HTMLInputElement;
    const knoxOut = h("div#an-knox-out");
    async function knox(): Promise<void> {
      busy(knoxOut);
      try {
        const out = await api.get(knoxOp!.path, { query: { ...window_(), distance_bands: dBands.value,
          time_bands: tBands.value, permutations: Math.min(999, num(perm, 99)) } });
        const z = out.near_repeat_zone;
        clear(knoxOut,
          h("p#an-knox-zone", z ? t("an.knox.zone", { d: z.distance_m, t: z.time_days }) : t("an.knox.noZone")),
          chart("an-knox", t("an.knox.title"), knoxChart(out.bands ?? [], `${t("an.knox.title")} · ${out.events}`)),
          table([
            { key: "distance_m", label: t("an.col.dist"), render: (b) => b.distance_m.join("–") },
            { key: "time_days", label: t("an.col.time"), render: (b) => b.time_days.join("–") },
            { key: "observed", label: t("an.col.obs") },
            { key: "expected", label: t("an.col.exp"), render: (b) => fixed(b.expected) },
            { key: "knox_ratio", label: t("an.col.ratio"), render: (b) => fixed(b.knox_ratio) },
            { key: "p_value", label: t("an.col.pv"), render: (b) => fixed(b.p_value, 3) },
          ], out.bands ?? [], { id: "an-knox-table" }));
      } catch (e) { fail(knoxOut, e, "an-knox-error"); }
    }

    // --- forecast -------------------------------------------------------------------------------------
    const method = h("select#an-fc-method", ["sepp", "kde", "prospective", "retrospective"].map((m) =>
      h("option", { value: m }, t(`an.fc.m.${m}`)))) as HTMLSelectElement;
    const horizon = h("input#an-fc-days", { type: "number", min: 1, max: 90, value: 7 }) as HTMLInputElement;
    const share = h("input#an-fc-share", { type: "number", min: 0.1, max: 50, step: "any", value: 5 }) as HTMLInputElement;
    const fcOut = h("div#an-fc-out");
    // Forecast areas and near-repeat zones share the map's "zones" layer (both are places suggested to patrol).
    let fcFeatures: any[] = [], nrFeatures: any[] = [];
    const drawZones = () => {
      live()?.setGeo("zones", { type: "FeatureCollection", features: [...fcFeatures, ...nrFeatures] });
      live()?.setEnabled("zones", true);
    };
    async function forecast(): Promise<void> {
      busy(fcOut);
      try {
        const m = Math.max(50, num(cell, 250));
        const out = await api.get(fcOp!.path, { query: { method: method.value, cell_m: m, horizon_days: num(horizon, 7),
          area_share: num(share, 5) / 100, types: window_().types } });
        const cells: any[] = out.cells ?? [];
        fcFeatures = cellFeatures(cells, m, (c) => ({ kind: "forecast", fill: FORECAST, rank: c.rank, score: c.score })).features;
        drawZones();
        const acc = out.accuracy;
        clear(fcOut,
          h("p#an-fc-summary", { dataset: { cells: cells.length } }, t("an.fc.summary", { k: cells.length, n: out.study_cells,
            s: fixed(100 * out.area_share, 1), d: out.horizon_days, o: String(out.origin).slice(0, 16).replace("T", " ") })),
          acc ? h("div", h("h4", t("an.fc.accuracy", { o: acc.origins.length })),
            chart("an-fc", t("an.fc.accuracy", { o: acc.origins.length }), accuracyChart(acc.methods, `PAI · ${fixed(100 * acc.area_share, 1)}%`)),
            table([
              { key: "method", label: t("an.col.method"), render: (r) => t(`an.fc.m.${r.method}`) },
              { key: "hit_rate", label: t("an.col.hit"), render: (r) => fixed(100 * r.hit_rate, 1) },
              { key: "pai", label: t("an.col.pai"), render: (r) => fixed(r.pai) },
              { key: "pai_vs_kde", label: t("an.col.paiKde"), render: (r) => fixed(r.pai_vs_kde) },
            ], acc.methods, { id: "an-fc-accuracy" }))
            : h("p.muted#an-fc-noacc", t("an.fc.noAccuracy", { why: out.accuracy_note ?? "" })),
          table([
            { key: "rank", label: t("an.col.rank") },
            { key: "centre", label: t("an.col.centre"), render: latlon },
            { key: "score", label: t("an.col.score"), render: (c) => fixed(c.score, 3) },
          ], cells.slice(0, 15), { id: "an-fc-cells", onRow: (c) => live()?.highlight(c.lat, c.lon) }));
      } catch (e) { fail(fcOut, e, "an-fc-error"); }
    }

    // --- near-repeat zones now ---------------------------------------------------------------------
    const nrOp = api.find("GET", "/analytics/near-repeat-zones");
    const nrTypes = h("input#an-nr-types", { type: "text", value: "burglary" }) as HTMLInputElement;
    const nrOut = h("div#an-nr-out");
    async function nearRepeat(): Promise<void> {
      busy(nrOut);
      try {
        const out = await api.get(nrOp!.path, { query: { types: nrTypes.value.trim() || undefined,
          distance_bands: dBands.value.replace(/^0,0\.1,/, "0,"), time_bands: tBands.value, permutations: Math.max(19, Math.min(999, num(perm, 99))) } });
        const zones: any[] = out.zones ?? [];
        nrFeatures = zones.map((z) => ({ type: "Feature", geometry: { type: "Polygon", coordinates: [circle(z.lat, z.lon, z.radius_m)] },
          properties: { kind: "near_repeat", fill: NEAR_REPEAT, until: z.until } }));
        drawZones();
        if (zones.length) live()?.fitTo("zones");
        const z = out.zone;
        clear(nrOut,
          h("p#an-nr-summary", { dataset: { zones: zones.length } },
            z ? t("an.nr.summary", { n: zones.length, d: z.distance_m, t: z.time_days, e: out.events }) : t("an.knox.noZone")),
          zones.length ? table([
            { key: "place", label: t("an.col.place"), render: latlon },
            { key: "type", label: t("an.col.type"), render: (r) => typeName(r.type, lang()) },
            { key: "radius_m", label: t("an.col.radius") },
            { key: "since", label: t("an.col.since"), render: (r) => fmtTime(`${r.since}Z`) },
            { key: "until", label: t("an.col.until"), render: (r) => fmtTime(`${r.until}Z`) },
          ], zones, { id: "an-nr-table", onRow: (r) => live()?.highlight(r.lat, r.lon) }) : null);
      } catch (e) { fail(nrOut, e, "an-nr-error"); }
    }

    // --- accident warning --------------------------------------------------------------------------
    const accOut = h("div#an-acc-out");
    async function accidents(): Promise<void> {
      busy(accOut);
      try {
        const out = await api.get(accOp!.path, { query: { segments: true } });
        const rows: any[] = out.flagged ?? [];
        if (rows.length) live()?.showResults(rows.map((r) => ({ lat: r.lat, lon: r.lon, ts: `#${r.rank}` })));
        clear(accOut,
          h("p#an-acc-summary", t("an.acc.summary", { r: out.accidents_recent, w: out.window.map((s: string) => s.slice(0, 10)).join(" – "),
            b: out.accidents_baseline, n: Math.round((Date.parse(out.window[0]) - Date.parse(out.baseline[0])) / 604_800_000), rule: out.rule })),
          rows.length ? table([
            { key: "rank", label: "#" },
            { key: "place", label: t("an.col.place"), render: latlon },
            { key: "observed", label: t("an.col.accObs") },
            { key: "expected", label: t("an.col.accExp"), render: (r) => fixed(r.expected) },
            { key: "p", label: t("an.col.accP"), render: (r) => fixed(r.p, 4) },
            { key: "peak", label: t("an.col.peak"), render: (r) => (r.peak_hours_of_week ?? []).map(hourOfWeek).join(", ") },
          ], rows, { id: "an-acc-table", onRow: (r) => live()?.highlight(r.lat, r.lon) }) : h("p.muted", t("an.acc.none")));
      } catch (e) { fail(accOut, e, "an-acc-error"); }
    }

    // --- weekly report ---------------------------------------------------------------------------------
    const week = h("input#an-week", { type: "text", value: lastIsoWeek(), pattern: "\\d{4}-W\\d{2}", size: 9 }) as HTMLInputElement;
    const repOut = h("div#an-rep-out");
    async function report(pdf: boolean): Promise<void> {
      if (!/^\d{4}-W\d{2}$/.test(week.value.trim())) { clear(repOut, h("p.error#an-rep-error", t("an.rep.bad"))); return; }
      busy(repOut);
      const q = new URLSearchParams({ week: week.value.trim(), ...(pdf ? { pdf: "true" } : {}) });
      try {
        const r = await fetch(`${API}${repOp!.path}?${q}`, { headers: { Authorization: `Bearer ${api.token}` } });
        if (!r.ok) {
          const body = await r.json().catch(() => ({}));
          throw new Error(body.message ?? `HTTP ${r.status}`);
        }
        const url = URL.createObjectURL(await r.blob());
        const name = `report-${week.value.trim()}.${pdf ? "pdf" : "html"}`;
        const a = h("a#an-rep-link", { href: url, download: name, target: "_blank", rel: "noopener" }, name) as HTMLAnchorElement;
        clear(repOut, h("p", t("an.rep.ready", { w: week.value.trim() }), " ", a));
        a.click();
      } catch (e) { fail(repOut, e, "an-rep-error"); }
    }

    const run = (id: string, label: string, fn: () => Promise<void>) =>
      h(`button.primary#${id}`, { type: "button", onclick: () => void fn() }, label);
    panel.append(h("div#an-screen",
      h("div.row", field(t("an.source"), days), field(t("an.cell"), cell), field(t("an.perm"), perm)),
      field(t("an.types"), types),
      csvOp ? h("div.row", field(t("an.csv"), csv), field(t("an.crs"), crs),
        h("button.small#an-csv-clear", { type: "button", onclick: () => { csv.value = ""; } }, t("an.csvClear"))) : null,
      map ? h("div.actions", h("button#an-map-png", { type: "button", onclick: () => savePng(mapCanvas(map), "an-map") }, t("an.mapPng"))) : null,
      h("section#an-hot", h("h3", t("an.hot.title")), h("div.actions", run("an-hot-run", t("an.hot.run"), hotspots)), hotOut),
      knoxOp ? h("section#an-knox", h("h3", t("an.knox.title")),
        h("div.row", field(t("an.knox.dist"), dBands), field(t("an.knox.time"), tBands)),
        h("div.actions", run("an-knox-run", t("an.knox.run"), knox)), knoxOut) : null,
      nrOp ? h("section#an-nr", h("h3", t("an.nr.title")), h("p.muted.small", t("an.nr.hint")),
        h("div.row", field(t("an.nr.types"), nrTypes)),
        h("div.actions", run("an-nr-run", t("an.nr.run"), nearRepeat)), nrOut) : null,
      fcOp ? h("section#an-fc", h("h3", t("an.fc.title")),
        h("div.row", field(t("an.fc.method"), method), field(t("an.fc.horizon"), horizon), field(t("an.fc.share"), share)),
        h("div.actions", run("an-fc-run", t("an.fc.run"), forecast)), fcOut) : null,
      accOp ? h("section#an-acc", h("h3", t("an.acc.title")), h("div.actions", run("an-acc-run", t("an.acc.run"), accidents)), accOut) : null,
      repOp ? h("section#an-rep", h("h3", t("an.rep.title")), h("div.row", field(t("an.rep.week"), week)),
        h("div.actions", run("an-rep-html", t("an.rep.html"), () => report(false)), run("an-rep-pdf", t("an.rep.pdf"), () => report(true))),
        repOut) : null,
      h("p.small.muted", t("an.responsible"))));
    return () => { alive = false; };
  },
};
