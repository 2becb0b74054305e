// The analyst's map: the area a query searched (the scene circles of an association or a series)
// and what it found (the associated vehicles where each came closest to the scene, coloured by
// rank; a series' vehicles at each scene they were read near, by vehicle; a convoy's vehicles at
// the cameras where each was read with the target; a trajectory as a line in time order with its start and end marked; the reads of cloned
// plates and of hotlist alerts as points coloured by vehicle). Each drawn layer carries a
// GeoJSON-like ``feature`` (kind and fields) so tests and popups can read what is on the map.
import L from "leaflet";
import { fmtTime, h } from "../dom";
import { t } from "../i18n";
import type { OpsMap } from "../map";
import { fmtKm } from "./analystcols";

/** Distinct colours for vehicles (by rank), then repeating. */
const VEHICLE_COLOURS = ["#d6336c", "#1c7ed6", "#f08c00", "#2b8a3e", "#7048e8", "#0c8599", "#e8590c", "#5c940d", "#c2255c", "#364fc7"];

export function vehicleColour(i: number): string { return VEHICLE_COLOURS[((i % VEHICLE_COLOURS.length) + VEHICLE_COLOURS.length) % VEHICLE_COLOURS.length]; }

type Props = Record<string, unknown>;

function tagged<T extends L.Layer>(layer: T, properties: Props, geometry: unknown = null): T {
  (layer as any).feature = { type: "Feature", properties, geometry };
  return layer;
}

function fin(v: unknown): number | null {
  const n = Number(v);
  return v === null || v === undefined || v === "" || !Number.isFinite(n) ? null : n;
}

/** The circles a query searched: the association's scene, each scene of a series. */
function areaLayers(kind: string, body: any, panes: OpsMap["panes"]): L.Layer[] {
  const circle = (lat: unknown, lon: unknown, km: unknown, label: string): L.Layer | null => {
    const la = fin(lat), lo = fin(lon), r = fin(km);
    if (la === null || lo === null || r === null || r <= 0) return null;
    const c = L.circle([la, lo], { radius: r * 1000, renderer: panes.areas, pane: "geoAreas", interactive: false,
      color: "#e8590c", weight: 2, dashArray: "6 4", fillColor: "#e8590c", fillOpacity: 0.08 });
    const centre = L.circleMarker([la, lo], { renderer: panes.points, pane: "geoPoints", radius: 4, color: "#e8590c", weight: 2,
      fillColor: "#fff", fillOpacity: 1 }).bindTooltip(h("span", `${label} · ${t("an.radius", { km: fmtKm(r) })}`));
    return tagged(L.layerGroup([c, centre]), { kind: "scene", label, lat: la, lon: lo, radius_km: r });
  };
  const out: (L.Layer | null)[] = [];
  if (kind === "associate") out.push(circle(body?.lat, body?.lon, body?.radius_km, t("an.scene")));
  if (kind === "series" && Array.isArray(body?.cases)) {
    for (const s of body.cases) out.push(circle(s?.lat, s?.lon, s?.radius_km ?? body.radius_km ?? 2, `${t("an.scene")} ${String(s?.case_id ?? "")}`));
  }
  return out.filter(Boolean) as L.Layer[];
}

function point(ll: [number, number], colour: string, props: Props, tip: string, panes: OpsMap["panes"], radius = 6): L.Layer {
  return tagged(L.circleMarker(ll, { renderer: panes.points, pane: "geoPoints", radius, color: "#fff", weight: 1.5,
    fillColor: colour, fillOpacity: 0.95 }).bindTooltip(h("span", tip)), props);
}

function endMark(ll: [number, number], which: "start" | "end", tip: string): L.Layer {
  const icon = L.divIcon({ className: "", iconSize: [22, 22], iconAnchor: [11, 11],
    html: h(`span.traj-mark.${which}`, { dataset: { kind: which }, style: "display:flex;align-items:center;justify-content:center;"
      + `width:22px;height:22px;border-radius:50%;border:2px solid #fff;color:#fff;font:bold 12px sans-serif;background:${which === "start" ? "#2b8a3e" : "#c92a2a"}` },
    t(`an.mark.${which}`)) });
  return tagged(L.marker(ll, { icon, pane: "geoPoints", keyboard: false, zIndexOffset: 800 }).bindTooltip(h("span", tip)), { kind: which });
}

function latLon(r: any): [number, number] | null {
  const la = fin(r?.lat), lo = fin(r?.lon);
  return la === null || lo === null ? null : [la, lo];
}

/** What the query found, as map layers. */
function resultLayers(kind: string, data: any, panes: OpsMap["panes"]): L.Layer[] {
  const out: L.Layer[] = [];
  if (kind === "trajectory") {
    const reads = (Array.isArray(data?.reads) ? data.reads : []).filter((r: any) => latLon(r));
    const path: [number, number][] = Array.isArray(data?.path) && data.path.length > 1 ? data.path
      : reads.map((r: any) => latLon(r)!);
    if (path.length > 1) {
      out.push(tagged(L.polyline(path, { renderer: panes.points, pane: "geoPoints", interactive: false, color: "#d6336c", weight: 4, opacity: 0.8 }),
        { kind: "track", plate: data?.plate, points: path.length }));
    }
    reads.forEach((r: any, i: number) => {
      const tip = `${i + 1}. ${fmtTime(r.ts)} · ${t("an.camera")} ${String(r.camera_id ?? "")}`;
      out.push(point(latLon(r)!, "#d6336c", { kind: "read", seq: i + 1, plate: data?.plate, ts: r.ts, camera_id: r.camera_id }, tip, panes, 5));
    });
    if (reads.length) {
      out.push(endMark(latLon(reads[0])!, "start", `${t("an.mark.startLong")} · ${fmtTime(reads[0].ts)}`));
      if (reads.length > 1) out.push(endMark(latLon(reads[reads.length - 1])!, "end", `${t("an.mark.endLong")} · ${fmtTime(reads[reads.length - 1].ts)}`));
    }
  } else if (kind === "associate") {
    // Each vehicle where its read nearest the scene was, coloured by rank (the first few stand out).
    (Array.isArray(data?.candidates) ? data.candidates : []).slice(0, 500).forEach((c: any, i: number) => {
      const ll = latLon(c?.closest);
      if (!ll) return;
      out.push(point(ll, i < VEHICLE_COLOURS.length ? vehicleColour(i) : "#868e96",
        { kind: "vehicle", rank: i + 1, plate: c.plate, lat: ll[0], lon: ll[1], min_distance_km: c.min_distance_km },
        `${i + 1}. ${String(c.plate ?? "")} · ${t("an.closest", { km: fmtKm(c.min_distance_km) })}`, panes, i < 3 ? 8 : 6));
    });
  } else if (kind === "series") {
    // Each vehicle where it came closest to each scene it was read near, in its colour (by rank).
    (Array.isArray(data?.candidates) ? data.candidates : []).slice(0, 200).forEach((c: any, i: number) => {
      const colour = vehicleColour(i);
      for (const pc of Array.isArray(c?.per_case) ? c.per_case : []) {
        const ll = latLon(pc?.closest);
        if (!ll) continue;
        out.push(point(ll, colour, { kind: "vehicle", rank: i + 1, plate: c.plate, case_id: pc.case_id, lat: ll[0], lon: ll[1],
          min_distance_km: pc.min_distance_km, reads: pc.reads },
        `${i + 1}. ${String(c.plate ?? "")} · ${t("an.scene")} ${String(pc.case_id ?? "")} · ${t("an.closest", { km: fmtKm(pc.min_distance_km) })}`,
        panes, i < 3 ? 8 : 6));
      }
    });
  } else if (kind === "convoy") {
    // Where each vehicle was read with the target (the shared cameras), in its colour, joined in time order.
    (Array.isArray(data?.candidates) ? data.candidates : []).slice(0, 100).forEach((c: any, i: number) => {
      const colour = vehicleColour(i);
      const places = (Array.isArray(c?.places) ? c.places : []).filter((p: any) => latLon(p));
      if (places.length > 1) {
        out.push(tagged(L.polyline(places.map((p: any) => latLon(p)!), { renderer: panes.points, pane: "geoPoints", interactive: false,
          color: colour, weight: 2, opacity: 0.7, dashArray: "2 6" }), { kind: "convoy-line", rank: i + 1, plate: c.plate }));
      }
      for (const p of places) {
        const ll = latLon(p)!;
        out.push(point(ll, colour, { kind: "together", rank: i + 1, plate: c.plate, camera_id: p.camera_id, co_reads: p.co_reads,
          first_seen: p.first_seen, lat: ll[0], lon: ll[1] },
        `${i + 1}. ${String(c.plate ?? "")} · ${t("an.camera")} ${String(p.camera_id ?? "")} · ${t("an.together", { n: p.co_reads, time: fmtTime(p.first_seen) })}`,
        panes, i < 3 ? 8 : 6));
      }
    });
  } else if (kind === "cloned") {
    (Array.isArray(data?.candidates) ? data.candidates : []).forEach((c: any, i: number) => {
      const colour = vehicleColour(i);
      for (const p of Array.isArray(c?.pairs) ? c.pairs.slice(0, 50) : []) {
        const a = latLon(p?.a), b = latLon(p?.b);
        if (a && b) {
          out.push(tagged(L.polyline([a, b], { renderer: panes.points, pane: "geoPoints", interactive: false, color: colour, weight: 2, dashArray: "4 6" }),
            { kind: "jump", plate: c.plate, distance_km: p.distance_km }));
        }
        for (const [ll, r] of [[a, p?.a], [b, p?.b]] as [[number, number] | null, any][]) {
          if (ll) out.push(point(ll, colour, { kind: "read", rank: i + 1, plate: c.plate, ts: r?.ts, camera_id: r?.camera_id },
            `${String(c.plate ?? "")} · ${fmtTime(r?.ts)} · ${t("an.camera")} ${String(r?.camera_id ?? "")}`, panes));
        }
      }
    });
  } else if (kind === "alerts") {
    const plates: string[] = [];
    for (const a of Array.isArray(data?.alerts) ? data.alerts : []) {
      const ll = latLon(a) ?? latLon(a?.read);
      if (!ll) continue;
      if (!plates.includes(a.plate)) plates.push(a.plate);
      out.push(point(ll, vehicleColour(plates.indexOf(a.plate)), { kind: "alert", plate: a.plate, ts: a.read?.ts ?? a.raised_at },
        `${String(a.plate ?? "")} · ${fmtTime(a.read?.ts ?? a.raised_at)}`, panes));
    }
  }
  return out;
}

const EMPTY = { type: "FeatureCollection", features: [] };

/** Draw the search area and the results of the query of kind ``kind`` (``body`` is what was sent,
 * query and body parameters together); whatever an earlier query drew is removed first. */
export function drawQuery(map: OpsMap | null, kind: string, body: any, data: any): void {
  if (!map || map.removed) return;
  map.clearTransient();
  if (data === undefined) return;
  const area = areaLayers(kind, body, map.panes);
  const found = resultLayers(kind, data, map.panes);
  if (area.length) map.setGeo("search", EMPTY, [], area);
  if (found.length) map.setGeo("results", EMPTY, [], found);
  const bounds = L.latLngBounds([]);
  for (const l of [...area, ...found] as any[]) {
    const f = l.feature?.properties ?? {};
    if (f.kind === "scene") bounds.extend(L.latLng(Number(f.lat), Number(f.lon)).toBounds(Number(f.radius_km) * 2000));
    else if (typeof l.getBounds === "function") bounds.extend(l.getBounds());
    else if (typeof l.getLatLng === "function") bounds.extend(l.getLatLng());
  }
  if (bounds.isValid()) {
    map.map.fitBounds(bounds, { paddingTopLeft: [30, 30], paddingBottomRight: [200, 30], maxZoom: 16, animate: false });
  }
}
