// "Where": the incident and the unit on a small Leaflet map over Precinct's own road network
// (/api/v1/map/roads; no tile server, so it works on a closed network).
import L from "leaflet";
import "leaflet/dist/leaflet.css";

interface Roads { lat1: number[]; lon1: number[]; lat2: number[]; lon2: number[]; road_class: number[] }

let roads: Promise<Roads | null> | null = null;
let map: L.Map | null = null;

function loadRoads(token: string): Promise<Roads | null> {
  roads ??= fetch("/api/v1/map/roads", { headers: { Authorization: `Bearer ${token}` } })
    .then((r) => (r.ok ? (r.json() as Promise<Roads>) : null))
    .catch(() => null)
    .then((r) => {
      if (r === null) roads = null; // try again next time (offline now)
      return r;
    });
  return roads;
}

interface Route { length_m: number; time_s: number; path: [number, number][] }

/** The road route from the unit's last position to its incident (Precinct's own routing). */
function loadRoute(token: string, incidentId: string): Promise<Route | null> {
  return fetch(`/api/v1/incidents/${encodeURIComponent(incidentId)}/route`, { headers: { Authorization: `Bearer ${token}` } })
    .then((r) => (r.ok ? (r.json() as Promise<Route>) : null))
    .catch(() => null);
}

/** Draw the incident (red) and the unit (blue) in ``box``; roads within ~1.5 km of the incident;
 * with ``incidentId``, the road route from the unit to it (and its length and time in ``info``). */
export function showWhere(box: HTMLElement, token: string, incident: [number, number], unit: [number, number] | null,
  incidentId?: string, info?: (r: Route) => void): void {
  map?.remove();
  const m = L.map(box, { zoomControl: false, attributionControl: false, preferCanvas: true });
  map = m;
  const pts: L.LatLngExpression[] = [incident];
  L.circleMarker(incident, { radius: 9, color: "#fff", weight: 2, fillColor: "#c62828", fillOpacity: 1 }).addTo(m);
  if (unit) {
    L.circleMarker(unit, { radius: 7, color: "#fff", weight: 2, fillColor: "#0b3d91", fillOpacity: 1 }).addTo(m);
    pts.push(unit);
  }
  m.fitBounds(L.latLngBounds(pts).pad(0.6), { maxZoom: 16 });
  if (unit && incidentId) {
    void loadRoute(token, incidentId).then((r) => {
      if (!r || map !== m || r.path.length < 2) return;
      // from the unit's marker along the roads to the incident's (the route runs between their snaps)
      L.polyline([unit, ...r.path, incident], { color: "#0b3d91", weight: 5, opacity: 0.85, interactive: false }).addTo(m);
      box.dataset.route = String(r.path.length);
      info?.(r);
    });
  }
  void loadRoads(token).then((r) => {
    if (!r || map !== m) return;
    const lines: [number, number][][] = [];
    const near = 0.015;
    for (let i = 0; i < r.lat1.length; i++) {
      if (Math.abs(r.lat1[i] - incident[0]) > near || Math.abs(r.lon1[i] - incident[1]) > near) continue;
      lines.push([[r.lat1[i], r.lon1[i]], [r.lat2[i], r.lon2[i]]]);
    }
    L.polyline(lines, { color: "#8a94a6", weight: 2, interactive: false }).addTo(m).bringToBack();
    box.dataset.roads = String(lines.length);
  });
}
