// Drawing an alert area on the operations map (Leaflet): a circle (click the centre, type the
// radius) or a polygon (click the corners, finish). Only calls the map's public API; the layers it
// draws are its own and removed by clear()/destroy().
import L from "leaflet";
import { h } from "./dom";
import type { OpsMap } from "./map";

export type DrawnArea =
  | { kind: "circle"; lat: number; lon: number; radiusKm: number }
  | { kind: "polygon"; points: [number, number][] };

export interface AreaLike { kind: string; lat?: number; lon?: number; radius_km?: number; points?: number[][] }

const STYLE: L.PathOptions = { color: "#f59f00", weight: 2, fillColor: "#f59f00", fillOpacity: 0.15 };
const round = (v: number) => +v.toFixed(6);

/** Draws one area at a time; ``onChange`` is told whenever the drawn area changes. */
export class AreaDrawer {
  private layer = L.layerGroup();
  private mode: "none" | "circle" | "polygon" = "none";
  private points: [number, number][] = [];
  private centre: [number, number] | null = null;
  private radiusKm = 1;
  private handler = (e: L.LeafletMouseEvent) => this.click(e);
  private shown = L.layerGroup();

  constructor(private ops: OpsMap | null, private onChange: (a: DrawnArea | null) => void) {
    if (ops && !ops.removed) {
      this.layer.addTo(ops.map);
      this.shown.addTo(ops.map);
      ops.map.on("click", this.handler);
    }
  }

  /** Start drawing a circle: the next click sets its centre. */
  circle(radiusKm: number): void { this.reset(); this.mode = "circle"; this.radiusKm = radiusKm; this.cursor(true); }

  /** Start drawing a polygon: each click adds a corner; finish() closes it. */
  polygon(): void { this.reset(); this.mode = "polygon"; this.cursor(true); }

  /** Set the circle's radius (redraws it when a centre is set). */
  setRadius(km: number): void {
    if (!(km > 0)) return;
    this.radiusKm = km;
    if (this.centre) this.redraw();
  }

  /** Set a circle's centre without clicking (typed coordinates). */
  setCentre(lat: number, lon: number): void {
    this.points = [];
    this.mode = "circle";
    this.centre = [round(lat), round(lon)];
    this.redraw();
  }

  /** Close the polygon being drawn (three corners at least). */
  finish(): void {
    if (this.mode === "polygon" && this.points.length >= 3) { this.mode = "none"; this.cursor(false); this.redraw(); }
  }

  reset(): void {
    this.mode = "none";
    this.points = [];
    this.centre = null;
    this.cursor(false);
    this.redraw();
  }

  area(): DrawnArea | null {
    if (this.centre) return { kind: "circle", lat: this.centre[0], lon: this.centre[1], radiusKm: this.radiusKm };
    if (this.points.length >= 3) return { kind: "polygon", points: this.points.slice() };
    return null;
  }

  /** Show existing areas (active alerts, station areas) beside the one being drawn. */
  show(areas: { area: AreaLike; label: string; colour?: string }[]): void {
    this.shown.clearLayers();
    for (const { area, label, colour } of areas) {
      const style = { ...STYLE, color: colour ?? "#e03131", fillColor: colour ?? "#e03131", dashArray: "4 4" };
      const layer = areaLayer(area, style);
      if (layer) layer.bindTooltip(h("span", label)).addTo(this.shown); // an element: a string would be parsed as HTML
    }
  }

  destroy(): void {
    if (this.ops && !this.ops.removed) {
      this.ops.map.off("click", this.handler);
      this.ops.map.removeLayer(this.layer);
      this.ops.map.removeLayer(this.shown);
      this.cursor(false);
    }
  }

  private cursor(on: boolean): void {
    if (this.ops && !this.ops.removed) this.ops.map.getContainer().classList.toggle("picking", on);
  }

  private click(e: L.LeafletMouseEvent): void {
    if (this.mode === "none" || (this.ops && this.ops.picking)) return;
    const p: [number, number] = [round(e.latlng.lat), round(e.latlng.lng)];
    if (this.mode === "circle") {
      this.centre = p;
      this.mode = "none";
      this.cursor(false);
    } else {
      this.points.push(p);
    }
    this.redraw();
  }

  private redraw(): void {
    this.layer.clearLayers();
    if (this.centre) {
      L.circle(this.centre, { ...STYLE, radius: this.radiusKm * 1000 }).addTo(this.layer);
      L.circleMarker(this.centre, { radius: 4, color: "#000", weight: 1, fillColor: "#fff", fillOpacity: 1 }).addTo(this.layer);
    } else if (this.points.length) {
      if (this.points.length >= 3) L.polygon(this.points, STYLE).addTo(this.layer);
      else L.polyline(this.points, STYLE).addTo(this.layer);
      for (const p of this.points) L.circleMarker(p, { radius: 4, color: "#000", weight: 1, fillColor: "#fff", fillOpacity: 1 }).addTo(this.layer);
    }
    this.onChange(this.area());
  }
}

/** A Leaflet layer for a stored alert area (circle, polygon or station area); null if unknown. */
export function areaLayer(area: AreaLike, style: L.PathOptions = STYLE): L.Layer | null {
  if (area.kind === "circle" && typeof area.lat === "number" && typeof area.lon === "number") {
    return L.circle([area.lat, area.lon], { ...style, radius: (area.radius_km ?? 1) * 1000 });
  }
  if (Array.isArray(area.points) && area.points.length >= 3) {
    return L.polygon(area.points.map((p) => [p[0], p[1]] as [number, number]), style);
  }
  return null;
}

/** The drawn area as the API's fields: ``circle: "LAT,LON,KM"`` or ``polygon: "lat,lon lat,lon ..."`` (closed). */
export function areaFields(a: DrawnArea): { circle?: string; polygon?: string } {
  if (a.kind === "circle") return { circle: `${a.lat},${a.lon},${a.radiusKm}` };
  const ring = [...a.points, a.points[0]];
  return { polygon: ring.map(([la, lo]) => `${la},${lo}`).join(" ") };
}
