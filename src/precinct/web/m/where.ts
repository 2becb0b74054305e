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

/** Draw the incident (red) and the unit (blue) in ``box``; roads within ~1.5 km of the incident. */
export function showWhere(box: HTMLElement, token: string, incident: [number, number], unit: [number, number] | null): void {
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
