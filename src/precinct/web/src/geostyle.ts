// Styles for the map's GeoJSON layers: risk grids, patrol zones and posts, isochrone bands,
// checkpoint plans (last sighting, checkpoints, the units sent to them) and missing-person search
// areas (rings growing with time, cameras and places ranked by when the person could be there).
import L from "leaflet";
import { fmtTime } from "./dom";
import { t } from "./i18n";
import { callsignOf } from "./store";

const RISK: Record<string, string> = { red: "#e0262a", yellow: "#f2c81a", green: "#2fa84f" };

/** Place kinds and their colours (cameras, police stations, hospitals, shelters, other). */
export const PLACE_COLOURS: Record<string, string> = {
  camera: "#334155", station: "#1d4ed8", hospital: "#dc2626", shelter: "#16a34a", other: "#7c3aed",
};

/** Colour of band ``i`` of ``n`` (inner bands warm, outer bands cool). */
export function bandColour(i: number, n: number): string {
  const ramp = ["#b91c1c", "#ea580c", "#d97706", "#65a30d", "#0891b2", "#4f46e5", "#7e22ce"];
  if (n <= 1) return ramp[0];
  return ramp[Math.round((i / (n - 1)) * (ramp.length - 1))];
}

/** A distinct hue for zone ``i`` (golden-angle steps). */
export function zoneColour(i: number): string {
  const hue = Math.round(((isFinite(i) ? i : 0) * 137.508) % 360);
  return `hsl(${hue}, 70%, 42%)`;
}

function esc(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]!));
}

/** Canvas renderers of their own panes: areas under the roads and points, markers over them. */
export interface GeoPanes { areas: L.Renderer; points: L.Renderer }

export function makePanes(map: L.Map): GeoPanes {
  map.createPane("geoAreas").style.zIndex = "390"; // under the overlay pane (roads, incidents, units)
  map.createPane("geoPoints").style.zIndex = "620"; // over it, under tooltips and popups
  return { areas: L.canvas({ pane: "geoAreas" }), points: L.canvas({ pane: "geoPoints" }) };
}

/** Leaflet GeoJSON options for one layer key; ``bands`` are the band minutes, inner first. */
export function geoOptions(key: string, panes: GeoPanes, bands: number[] = []): L.GeoJSONOptions {
  const pt = { pane: "geoPoints", renderer: panes.points };
  // GeoJSON hands its options to the polygons it makes (geometryToLayer), renderer included.
  return <L.GeoJSONOptions & { renderer: L.Renderer }>{
    pane: "geoAreas",
    // Areas do not catch clicks: incidents and units under them stay clickable.
    interactive: false,
    renderer: panes.areas,
    style: (f) => {
      const p = f?.properties ?? {};
      // Leaflet applies this to point markers too: keep the ones pointToLayer made.
      if (f?.geometry?.type === "Point" || f?.geometry?.type === "MultiPoint") return {};
      if (p.kind === "isochrone") {
        const i = bands.indexOf(Number(p.minutes));
        const c = bandColour(i < 0 ? 0 : i, bands.length);
        return { color: c, weight: 1.5, fillColor: c, fillOpacity: 0.16 };
      }
      if (p.kind === "reach") {
        // Walking areas are lace-like (blocks between streets are holes): fill only, no outline;
        // rings still ahead of now are paler.
        const i = bands.indexOf(Number(p.minutes));
        const c = bandColour(i < 0 ? 0 : i, bands.length);
        return { stroke: false, fillColor: c, fillOpacity: p.past !== false ? 0.2 : 0.07 };
      }
      if (p.kind === "zone") {
        // Zone boundaries over the roads: thin, translucent, one hue per zone (the roads stay readable).
        return { color: zoneColour(Number(p.zone)), weight: 2, opacity: 0.45, fill: false };
      }
      const c = RISK[String(p.rating ?? p.colour ?? p.color ?? p.level ?? "").toLowerCase()] ?? p.fill ?? "#0b7285";
      return { color: c, weight: key === "risk" ? 0.5 : 1.5, fillColor: c, fillOpacity: key === "risk" ? 0.28 : 0.12 };
    },
    pointToLayer: (f, ll) => {
      const p = f?.properties ?? {};
      if (p.kind === "last_seen") {
        return L.circleMarker(ll, { ...pt, radius: 9, color: "#000", weight: 3, fillColor: "#fde047", fillOpacity: 1 });
      }
      if (p.kind === "post" || p.kind === "current_post") {
        // Planned posts: a labelled square badge (DOM marker), never a dot like the demand.
        const icon = L.divIcon({ className: "", iconSize: [22, 22], iconAnchor: [11, 11],
          html: `<span class="post-marker${p.kind === "current_post" ? " current" : ""}" data-kind="${p.kind}">P</span>` });
        return L.marker(ll, { icon, pane: "geoPoints", keyboard: false, zIndexOffset: p.kind === "post" ? 500 : 0 });
      }
      if (p.kind === "demand") {
        return L.circleMarker(ll, { ...pt, radius: 3, stroke: false, fillColor: "#64748b", fillOpacity: 0.55 });
      }
      if (p.kind === "checkpoint") {
        return L.circleMarker(ll, { ...pt, radius: 8, color: "#fff", weight: 2, fillColor: "#dc2626", fillOpacity: 1 });
      }
      if (p.kind in PLACE_COLOURS) {
        return L.circleMarker(ll, { ...pt, radius: p.kind === "camera" ? 5 : 7, color: "#fff", weight: 1.5,
          fillColor: PLACE_COLOURS[p.kind], fillOpacity: 0.95 });
      }
      return L.circleMarker(ll, { ...pt, radius: 6, color: "#222", weight: 1, fillColor: "#00b4d8", fillOpacity: 0.9 });
    },
    onEachFeature: (f, layer) => {
      const p = f?.properties ?? {};
      let tip = "";
      if (p.kind === "checkpoint") {
        tip = `${t("pursuit.checkpoint")} · ${esc(callsignOf(p.unit_id))}<br>${t("pursuit.readyAt")} ${esc(fmtTime(p.ready_at))}` +
          `<br>${t("pursuit.margin")} ${esc(Math.round(Number(p.margin_s)))} s`;
      } else if (p.kind === "last_seen") tip = t("pursuit.lastSeen");
      else if (p.kind === "post") tip = `${t("map.post")}${p.index !== undefined ? ` ${Number(p.index) + 1}` : p.zone !== undefined ? ` ${Number(p.zone) + 1}` : ""}`;
      else if (p.kind === "current_post") tip = t("map.currentPost");
      else if (p.kind === "isochrone") tip = `${t("reach.band", { m: p.minutes })} · ${Number(p.area_km2).toFixed(2)} km²`;
      else if (p.kind === "reach") tip = `${t("missing.ring", { m: p.minutes })} · ${esc(fmtTime(p.at))}`;
      else if (p.kind in PLACE_COLOURS) tip = `${t(`place.${p.kind}`)} ${esc(p.id)}<br>${t("missing.earliest")} ${esc(fmtTime(p.earliest_at))}`;
      if (tip) layer.bindTooltip(tip);
    },
  };
}
