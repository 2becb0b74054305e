// Canvas layers of our own for the road network and for large point sets (thousands of incidents
// and units draw in one pass): Web-Mercator projection at zoom 0 once, scaled per frame.
import L from "leaflet";
import { latLonOf, num, rowsOf } from "./api";
import type { Row } from "./store";

// --- a canvas layer for many points / segments ------------------------------------------------

/** [layer z-index, ms] of every canvas draw (read by the paint benchmark). */
export const drawStats: [number, number][] = [];
(window as any).__precinctDraws = drawStats;

export type Drawer = (ctx: CanvasRenderingContext2D, toPx: (x0: number, y0: number) => [number, number], zoom: number) => void;

export class CanvasLayer extends L.Layer {
  canvas!: HTMLCanvasElement;
  drawer: Drawer;
  frame = 0;
  drawn = false;
  constructor(drawer: Drawer, private zIndex = 200) { super(); this.drawer = drawer; }

  onAdd(map: L.Map): this {
    this.canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide precinct-canvas") as HTMLCanvasElement;
    this.canvas.style.zIndex = String(this.zIndex);
    this.canvas.style.pointerEvents = "none";
    map.getPane("overlayPane")!.appendChild(this.canvas);
    map.on("moveend zoomend resize viewreset", this.redraw, this);
    this.redraw();
    return this;
  }

  onRemove(map: L.Map): this {
    map.off("moveend zoomend resize viewreset", this.redraw, this);
    this.canvas.remove();
    return this;
  }

  redraw(): this {
    if (!this._map || this.frame) return this;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.drawNow(); });
    return this;
  }

  drawNow(): void {
    const map = this._map;
    if (!map) return;
    const size = map.getSize();
    const dpr = window.devicePixelRatio || 1;
    const topLeft = map.containerPointToLayerPoint([0, 0]);
    L.DomUtil.setPosition(this.canvas, topLeft);
    this.canvas.width = size.x * dpr;
    this.canvas.height = size.y * dpr;
    this.canvas.style.width = size.x + "px";
    this.canvas.style.height = size.y + "px";
    const ctx = this.canvas.getContext("2d")!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const zoom = map.getZoom();
    const scale = Math.pow(2, zoom);
    const origin = map.getPixelOrigin();
    const ox = origin.x + topLeft.x, oy = origin.y + topLeft.y;
    const t0 = performance.now();
    this.drawer(ctx, (x0, y0) => [x0 * scale - ox, y0 * scale - oy], zoom);
    drawStats.push([this.zIndex, Math.round(performance.now() - t0)]);
    this.drawn = true;
    this.fire("drawn");
  }
}

/** Web-Mercator pixel coordinates at zoom 0 (Leaflet's CRS, 256-px tiles). */
// Inlined Spherical Mercator (what L.CRS.EPSG3857 computes), for tens of thousands of vertices.
const MAX_LAT = 85.0511287798;
export function project0(lat: number, lon: number): [number, number] {
  const la = Math.max(Math.min(lat, MAX_LAT), -MAX_LAT) * Math.PI / 180;
  const s = Math.sin(la);
  return [256 * (0.5 + lon / 360), 256 * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI))];
}

export interface PointSet { xs: Float64Array; ys: Float64Array; colours: string[]; rows: Row[]; radius: number; shape: "circle" | "square" | "diamond" }

export function pointSet(rows: Row[], colour: (r: Row) => string, radius: number, shape: PointSet["shape"]): PointSet {
  const kept: Row[] = [];
  const xs: number[] = [], ys: number[] = [], colours: string[] = [];
  for (const r of rows) {
    const ll = latLonOf(r);
    if (!ll) continue;
    const [x, y] = project0(ll[0], ll[1]);
    xs.push(x); ys.push(y); colours.push(colour(r)); kept.push(r);
  }
  return { xs: Float64Array.from(xs), ys: Float64Array.from(ys), colours, rows: kept, radius, shape };
}

/** The prefix of a point colour drawn as an outline only (see drawPoints). */
export const RING = "ring:";

export function drawPoints(set: PointSet): Drawer {
  return (ctx, toPx, zoom) => {
    const r = zoom >= 15 ? set.radius + 2 : zoom <= 11 ? Math.max(2, set.radius - 2) : set.radius;
    const w = ctx.canvas.width, hgt = ctx.canvas.height;
    // Batch by colour: one path per colour.
    const byColour = new Map<string, number[]>();
    for (let i = 0; i < set.xs.length; i++) {
      const c = set.colours[i];
      if (!byColour.has(c)) byColour.set(c, []);
      byColour.get(c)!.push(i);
    }
    // A colour "ring:<css colour>" draws the point hollow (its outline in that colour, two pixels
    // wide), under the filled ones.
    const batches = [...byColour].sort((a, b) => Number(b[0].startsWith(RING)) - Number(a[0].startsWith(RING)));
    for (const [c, idx] of batches) {
      const ring = c.startsWith(RING);
      ctx.lineWidth = ring ? 2 : 1;
      ctx.strokeStyle = ring ? c.slice(RING.length) : "rgba(0,0,0,0.55)";
      ctx.beginPath();
      for (const i of idx) {
        const [x, y] = toPx(set.xs[i], set.ys[i]);
        if (x < -r || y < -r || x > w + r || y > hgt + r) continue;
        if (set.shape === "square") { ctx.rect(x - r, y - r, 2 * r, 2 * r); }
        else if (set.shape === "diamond") { ctx.moveTo(x, y - r - 1); ctx.lineTo(x + r + 1, y); ctx.lineTo(x, y + r + 1); ctx.lineTo(x - r - 1, y); ctx.closePath(); }
        else { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, Math.PI * 2); }
      }
      if (!ring) { ctx.fillStyle = c; ctx.fill(); }
      ctx.stroke();
    }
  };
}

// --- road network -------------------------------------------------------------------------------

/** Every road polyline in one flat buffer of zoom-0 pixel coordinates. */
export interface Roads { coords: Float64Array; starts: Uint32Array; classes: Uint8Array; bounds: L.LatLngBounds | null }

/** Parse the road network from GeoJSON, {edges:[[lat,lon,lat,lon]]}, {segments|lines:[[[lat,lon],...]]},
 * or columns {lat1:[], lon1:[], lat2:[], lon2:[], road_class?:[]}. */
export function parseRoads(data: any): Roads {
  let coords = new Float64Array(1 << 16);
  let n = 0; // doubles used
  const starts: number[] = [];
  const classes: number[] = [];
  let minLat = 90, maxLat = -90, minLon = 180, maxLon = -180;
  const vertex = (lat: number, lon: number) => {
    if (n + 2 > coords.length) { const c = new Float64Array(coords.length * 2); c.set(coords); coords = c; }
    const [x, y] = project0(lat, lon);
    coords[n++] = x; coords[n++] = y;
    if (lat < minLat) minLat = lat; if (lat > maxLat) maxLat = lat;
    if (lon < minLon) minLon = lon; if (lon > maxLon) maxLon = lon;
  };
  const line = (cls: number) => { starts.push(n); classes.push(cls); };
  const classOf = (p: any): number => {
    const c = String(p?.highway ?? p?.road_class ?? p?.class ?? p?.kind ?? "").toLowerCase();
    if (/motorway|trunk|ring|expressway/.test(c)) return 3;
    if (/primary|secondary|tertiary|arterial|bridge/.test(c)) return 2;
    const num = Number(c);
    if (c !== "" && Number.isFinite(num)) return num <= 1 ? 3 : num <= 4 ? 2 : 1; // numeric class 0..6
    const speed = Number(p?.speed_kph ?? p?.maxspeed ?? p?.speed ?? 0);
    if (speed >= 70) return 3;
    if (speed >= 50) return 2;
    return 1;
  };
  const lonLatLine = (cs: number[][], cls: number) => {
    if (cs.length < 2) return;
    line(cls);
    for (const c of cs) vertex(c[1], c[0]);
  };
  const latLonLine = (cs: number[][], cls: number) => {
    if (cs.length < 2) return;
    line(cls);
    for (const c of cs) vertex(c[0], c[1]);
  };
  if (data && data.type === "FeatureCollection") {
    const memo = new Map<string, number>();
    for (const f of data.features ?? []) {
      const g = f.geometry;
      if (!g) continue;
      const key = String(f.properties?.class ?? f.properties?.highway ?? f.properties?.road_class ?? "");
      let cls = memo.get(key);
      if (cls === undefined) { cls = classOf(f.properties); if (key) memo.set(key, cls); }
      if (g.type === "LineString") lonLatLine(g.coordinates, cls);
      else if (g.type === "MultiLineString") for (const l of g.coordinates) lonLatLine(l, cls);
    }
  } else if (data && Array.isArray(data.lat1) && Array.isArray(data.lon2)) {
    const cl: any[] = data.road_class ?? data.class ?? [];
    for (let i = 0; i < data.lat1.length; i++) {
      line(cl.length ? classOf({ road_class: cl[i] }) : 1);
      vertex(data.lat1[i], data.lon1[i]);
      vertex(data.lat2[i], data.lon2[i]);
    }
  } else {
    const rows = rowsOf(data, "edges", "segments", "lines", "roads");
    for (const r of rows) {
      if (Array.isArray(r) && r.length === 4 && typeof r[0] === "number") latLonLine([[r[0], r[1]], [r[2], r[3]]], 1);
      else if (Array.isArray(r) && Array.isArray(r[0])) latLonLine(r as number[][], 1);
      else if (r && typeof r === "object") {
        const geom = r.geometry ?? r.coords ?? r.path ?? r.points;
        if (Array.isArray(geom)) latLonLine(geom as number[][], classOf(r));
        else {
          const a = num(r, "lat1", "from_lat", "u_lat"), b = num(r, "lon1", "from_lon", "u_lon");
          const c = num(r, "lat2", "to_lat", "v_lat"), d = num(r, "lon2", "to_lon", "v_lon");
          if (a !== undefined && b !== undefined && c !== undefined && d !== undefined) latLonLine([[a, b], [c, d]], classOf(r));
        }
      }
    }
  }
  const bounds = starts.length ? L.latLngBounds([minLat, minLon], [maxLat, maxLon]) : null;
  starts.push(n);
  return { coords: coords.subarray(0, n), starts: Uint32Array.from(starts), classes: Uint8Array.from(classes), bounds };
}

export function drawRoads(roads: Roads): Drawer {
  return (ctx, toPx, zoom) => {
    const styles: Record<number, [string, number]> = {
      1: ["#c9d1da", zoom >= 15 ? 2 : 1],
      2: ["#9fb0c2", zoom >= 14 ? 3 : 1.6],
      3: ["#7d93ab", zoom >= 14 ? 4.5 : 2.4],
    };
    const { coords, starts, classes } = roads;
    const w = ctx.canvas.width, hgt = ctx.canvas.height;
    for (const cls of [1, 2, 3]) {
      if (cls === 1 && zoom < 11) continue;
      ctx.beginPath();
      for (let i = 0; i < classes.length; i++) {
        if (classes[i] !== cls) continue;
        let [x, y] = toPx(coords[starts[i]], coords[starts[i] + 1]);
        // Skip two-point segments wholly off screen (most of them when zoomed in).
        if (starts[i + 1] - starts[i] === 4) {
          const [x2, y2] = toPx(coords[starts[i] + 2], coords[starts[i] + 3]);
          if ((x < 0 && x2 < 0) || (y < 0 && y2 < 0) || (x > w && x2 > w) || (y > hgt && y2 > hgt)) continue;
          ctx.moveTo(x, y); ctx.lineTo(x2, y2);
          continue;
        }
        ctx.moveTo(x, y);
        for (let j = starts[i] + 2; j < starts[i + 1]; j += 2) { [x, y] = toPx(coords[j], coords[j + 1]); ctx.lineTo(x, y); }
      }
      ctx.strokeStyle = styles[cls][0];
      ctx.lineWidth = styles[cls][1];
      ctx.lineCap = "round";
      ctx.stroke();
    }
  };
}
