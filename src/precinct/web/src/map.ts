// The operations map. Leaflet with canvas layers of our own for the road network and for large
// point sets (thousands of incidents and units draw in one pass). Works with no internet: the roads
// come from Precinct's own graph through the API; an online base map is an opt-in layer.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { api, latLonOf, str } from "./api";
import { fmtTime, h } from "./dom";
import { CanvasLayer, drawPoints, drawRoads, parseRoads, type PointSet, pointSet, RING, type Roads } from "./canvas";
import { geoOptions, type GeoPanes, makePanes } from "./geostyle";
import { lang, t, tOr } from "./i18n";
import { idOf, type Row, store, subscribe, incidentTypeName } from "./store";
import { alertReason, cameraOf } from "./views/boardalerts";

export const PRIORITY_COLOURS: Record<string, string> = {
  red: "#e0262a", orange: "#f28a1a", yellow: "#f2c81a", blue: "#2f7de1", green: "#2fa84f",
};
const PRIORITY_BY_NUMBER = ["red", "orange", "yellow", "blue", "green"];

export function priorityKey(p: unknown): string {
  if (p === null || p === undefined) return "blue";
  const s = String(p).toLowerCase();
  if (s in PRIORITY_COLOURS) return s;
  const n = Number(s.replace(/^p/, ""));
  if (Number.isInteger(n) && n >= 1 && n <= 5) return PRIORITY_BY_NUMBER[n - 1];
  if (/红|critical|emergency/.test(s)) return "red";
  if (/橙|high/.test(s)) return "orange";
  if (/黄|medium/.test(s)) return "yellow";
  if (/绿|lowest|info/.test(s)) return "green";
  return "blue";
}

export function priorityOf(r: Row): string {
  return priorityKey(r.priority ?? r.colour ?? r.color ?? r.level);
}

export const UNIT_COLOURS: Record<string, string> = {
  available: "#19a974", dispatched: "#ff8c00", en_route: "#ff8c00", on_scene: "#a463f2",
  busy: "#777", off_duty: "#1f2937", out_of_service: "#1f2937", unavailable: "#1f2937",
};
/** Statuses in which a unit cannot be sent (drawn dark, struck through in tables, never green). */
export const UNIT_UNAVAILABLE = ["out_of_service", "off_duty", "unavailable"];

export function unitOutOfService(status: unknown): boolean {
  return UNIT_UNAVAILABLE.includes(String(status ?? "").toLowerCase());
}

export function unitColour(status: unknown): string {
  // An unknown status is not "available": grey, not green.
  return UNIT_COLOURS[String(status ?? "available").toLowerCase()] ?? "#777";
}

/** Hotlist hits on the map: filled while waiting for acknowledgement, hollow once acknowledged. */
export const ALERT_COLOUR = "#ff00aa";
export const ALERT_ACKED = `${RING}${ALERT_COLOUR}`;

// --- the map ----------------------------------------------------------------------------------

export type LayerKey = "roads" | "incidents" | "units" | "cameras" | "alerts" | "risk" | "zones" | "posts" | "isochrones"
  | "checkpoints" | "search" | "results";

export class OpsMap {
  map: L.Map;
  layers = new Map<LayerKey, L.Layer>();
  sets = new Map<LayerKey, PointSet>();
  basemap: L.TileLayer | null = null;
  roadsBounds: L.LatLngBounds | null = null;
  picking: ((lat: number, lon: number) => void) | null = null;
  pickMarker: L.CircleMarker | null = null;
  panel: HTMLElement;
  onSelect: ((kind: LayerKey, row: Row) => void) | null = null;
  private geo = new Map<LayerKey, L.GeoJSON | L.LayerGroup>();
  panes: GeoPanes;

  /** Set by destroy(): the Leaflet map is gone (its panes too), so late data must not touch it. */
  removed = false;

  destroy(): void {
    this.removed = true;
    this.map.remove();
  }

  constructor(el: HTMLElement) {
    this.map = L.map(el, { preferCanvas: true, zoomControl: true, attributionControl: true, minZoom: 3, maxZoom: 19 })
      .setView([32.49, 119.92], 12);
    this.map.attributionControl.setPrefix("Precinct");
    this.panes = makePanes(this.map);
    this.panel = h("div.layer-panel");
    const ctl = new (L.Control.extend({ onAdd: () => this.panel }))({ position: "topright" });
    ctl.addTo(this.map);
    L.DomEvent.disableClickPropagation(this.panel);
    this.map.on("click", (e: L.LeafletMouseEvent) => this.click(e));
    if (localStorage.getItem("precinct.basemap") === "1") this.setBasemap(true);
    for (const k of ["incidents", "units", "alerts", "cameras"] as const) {
      subscribe(k, () => this.refreshPoints(k));
    }
    this.renderPanel();
  }

  enabled(key: LayerKey): boolean {
    const v = localStorage.getItem(`precinct.layer.${key}`);
    return v === null ? key !== "cameras" : v === "1";
  }

  setEnabled(key: LayerKey, on: boolean): void {
    localStorage.setItem(`precinct.layer.${key}`, on ? "1" : "0");
    const layer = this.layers.get(key) ?? this.geo.get(key);
    if (layer) {
      if (on && !this.map.hasLayer(layer)) layer.addTo(this.map);
      if (!on && this.map.hasLayer(layer)) this.map.removeLayer(layer);
    }
  }

  setBasemap(on: boolean): void {
    localStorage.setItem("precinct.basemap", on ? "1" : "0");
    if (on && !this.basemap) {
      this.basemap = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
        maxZoom: 19, attribution: "© OpenStreetMap contributors", opacity: 0.55,
      }).addTo(this.map);
      this.basemap.bringToBack();
    } else if (!on && this.basemap) {
      this.basemap.remove();
      this.basemap = null;
    }
  }

  renderPanel(): void {
    const keys: LayerKey[] = ["roads", "incidents", "units", "cameras", "alerts", "risk", "zones", "posts", "isochrones",
      "checkpoints", "search", "results"];
    const available = keys.filter((k) => k === "roads" || k === "results" || this.layers.has(k) || this.geo.has(k) || this.sets.has(k));
    this.panel.replaceChildren(
      h("div.layer-title", t("map.layers")),
      ...available.map((k) => h("label.layer-toggle", { dataset: { layer: k } },
        h("input", { type: "checkbox", checked: this.enabled(k), onchange: (e: Event) => this.setEnabled(k, (e.target as HTMLInputElement).checked) }),
        h("span.swatch", { dataset: { layer: k } }), " ", t(`map.${k}`),
        this.sets.has(k) ? h("span.count", ` ${this.sets.get(k)!.rows.length}`) : null)),
      h("label.layer-toggle", h("input", { type: "checkbox", id: "basemap-toggle", checked: !!this.basemap,
        onchange: (e: Event) => this.setBasemap((e.target as HTMLInputElement).checked) }), " ", t("map.basemap")),
      h("button.small", { onclick: () => this.fit() }, t("map.fit")),
      h("div.legend", Object.keys(PRIORITY_COLOURS).map((p) =>
        h("span.legend-item", h("i", { style: `background:${PRIORITY_COLOURS[p]}` }), t(`prio.${p}`)))),
      h("div.legend#unit-legend", ["available", "en_route", "on_scene", "out_of_service"].map((s) =>
        h("span.legend-item", { dataset: { status: s } }, h("i.square", { style: `background:${unitColour(s)}` }), t(`status.${s}`)))),
      this.sets.has("alerts") ? h("div.legend#alert-legend", h("span.legend-label", `${t("map.alerts")}${lang() === "en" ? ":" : "："}`), h("span.legend-item", { dataset: { kind: "alert" } },
        h("i.diamond"), t("map.alertsOpen")), h("span.legend-item", { dataset: { kind: "alert_acked" } },
        h("i.diamond.hollow"), t("map.alertsAcked"))) : "",
      this.geo.has("posts") ? h("div.legend#posts-legend",
        h("span.legend-item", { dataset: { kind: "post" } }, h("i.post-marker.mini", "P"), t("map.post")),
        h("span.legend-item", { dataset: { kind: "current_post" } }, h("i.post-marker.mini.current", "P"), t("map.currentPost")),
        h("span.legend-item", { dataset: { kind: "demand" } }, h("i.demand-dot"), t("map.demand"))) : "",
    );
  }

  fit(): void {
    if (this.removed) return; // answers that arrive after logout find no map
    if (this.roadsBounds) this.map.fitBounds(this.roadsBounds, { padding: [10, 10] });
    else {
      const inc = this.sets.get("incidents");
      if (inc && inc.rows.length) {
        const lls = inc.rows.map((r) => latLonOf(r)!).filter(Boolean);
        this.map.fitBounds(L.latLngBounds(lls as L.LatLngExpression[]), { padding: [10, 10] });
      }
    }
  }

  private putLayer(key: LayerKey, layer: L.Layer): void {
    if (this.removed) return; // answers that arrive after logout find no map
    const old = this.layers.get(key);
    if (old) this.map.removeLayer(old);
    this.layers.set(key, layer);
    if (this.enabled(key)) layer.addTo(this.map);
  }

  setRoads(roads: Roads): void {
    if (this.removed) return; // answers that arrive after logout find no map
    this.putLayer("roads", new CanvasLayer(drawRoads(roads), 150));
    this.roadsBounds = roads.bounds;
    if (roads.bounds) {
      this.map.invalidateSize(false); // the container may have been laid out after the map was made
      this.map.fitBounds(roads.bounds, { padding: [10, 10], animate: false });
    }
  }

  setPoints(key: LayerKey, rows: Row[]): void {
    let set: PointSet;
    if (key === "incidents") {
      const open = rows.filter((r) => !/^(closed|cleared|merged)$/i.test(String(r.status ?? r.state ?? "")));
      set = pointSet(open, (r) => PRIORITY_COLOURS[priorityOf(r)], 5, "circle");
    } else if (key === "units") set = pointSet(rows, (r) => unitColour(r.status ?? r.state), 6, "square");
    // a hotlist hit someone has acknowledged: a hollow diamond; one waiting for it: filled
    else if (key === "alerts") set = pointSet(rows, (r) => r.acknowledged_at ? ALERT_ACKED : ALERT_COLOUR, 7, "diamond");
    else if (key === "cameras") set = pointSet(rows, () => "#334", 3, "square");
    else set = pointSet(rows, (r) => String(r.__colour ?? "#0b7285"), 5, "circle");
    const isNew = !this.sets.has(key);
    this.sets.set(key, set);
    const existing = this.layers.get(key) as CanvasLayer | undefined;
    if (existing) { existing.drawer = drawPoints(set); existing.redraw(); }
    else this.putLayer(key, new CanvasLayer(drawPoints(set), key === "units" ? 260 : 220));
    if (isNew) this.renderPanel();
    else this.panel.querySelector(`[data-layer="${key}"] .count`)?.replaceChildren(` ${set.rows.length}`);
  }

  refreshPoints(key: "incidents" | "units" | "alerts" | "cameras"): void {
    const rows = key === "incidents" ? [...store.incidents.values()] : key === "units" ? [...store.units.values()]
      : key === "alerts" ? store.alerts : store.cameras;
    this.setPoints(key, rows);
  }

  /** Remove the layers a tool drew (risk, zones, posts, isochrones, checkpoints, search areas,
   * query results) and any pending pick: called when the screen changes, so an earlier tool's
   * layers do not stay on the next screen's map. */
  clearTransient(): void {
    if (this.removed) return;
    for (const [key, layer] of this.geo) { this.map.removeLayer(layer); this.geo.delete(key); }
    this.picking = null;
    this.map.getContainer().classList.remove("picking");
    this.pickMarker?.remove();
    this.pickMarker = null;
    this.map.closePopup();
    this.renderPanel();
  }

  /** GeoJSON for risk grids, zones, posts, isochrones, checkpoint plans and search areas (styled by
   * properties, see geostyle.ts); ``bands`` orders graded bands; ``extra`` layers join the group. */
  setGeo(key: LayerKey, data: any, bands: number[] = [], extra: L.Layer[] = []): void {
    const old = this.geo.get(key);
    if (old) this.map.removeLayer(old);
    const layer = L.geoJSON(data, geoOptions(key, this.panes, bands));
    for (const x of extra) layer.addLayer(x);
    this.geo.set(key, layer);
    if (this.enabled(key)) layer.addTo(this.map);
    this.renderPanel();
  }

  /** The GeoJSON layer of ``key`` (null before it is drawn), and fitting the view to it. */
  geoLayer(key: LayerKey): L.GeoJSON | L.LayerGroup | null { return this.geo.get(key) ?? null; }

  fitTo(key: LayerKey): void {
    if (this.removed) return; // answers that arrive after logout find no map
    const g = this.geo.get(key);
    const b = g && "getBounds" in g ? (g as L.GeoJSON).getBounds() : null;
    // Keep clear of the layer panel (top right).
    if (b && b.isValid()) this.map.fitBounds(b, { paddingTopLeft: [30, 30], paddingBottomRight: [200, 30], maxZoom: 16, animate: false });
  }

  /** Query results: points (rows with coordinates) and optional paths ([[lat,lon],...]). */
  showResults(rows: Row[], paths: [number, number][][] = []): void {
    if (this.removed) return; // answers that arrive after logout find no map
    const group = L.layerGroup();
    for (const p of paths) if (p.length > 1) L.polyline(p, { color: "#d6336c", weight: 3, opacity: 0.85 }).addTo(group);
    rows.forEach((r, i) => {
      const ll = latLonOf(r);
      if (!ll) return;
      L.circleMarker(ll, { radius: 6, color: "#fff", weight: 1.5, fillColor: "#d6336c", fillOpacity: 0.95 })
        .bindTooltip(h("span", String(r.plate ?? r.camera_id ?? r.ts ?? i + 1))).addTo(group); // text, not HTML
    });
    const old = this.geo.get("results");
    if (old) this.map.removeLayer(old);
    this.geo.set("results", group);
    if (this.enabled("results")) group.addTo(this.map);
    const all: L.LatLngExpression[] = [...paths.flat(), ...rows.map(latLonOf).filter(Boolean) as [number, number][]];
    if (all.length) this.map.fitBounds(L.latLngBounds(all), { padding: [30, 30], maxZoom: 16 });
    this.renderPanel();
  }

  highlight(lat: number, lon: number): void {
    if (this.removed) return; // answers that arrive after logout find no map
    this.map.setView([lat, lon], Math.max(this.map.getZoom(), 15));
    L.circleMarker([lat, lon], { radius: 14, color: "#000", weight: 2, fill: false }).addTo(this.map);
    const ring = L.circleMarker([lat, lon], { radius: 18, color: "#ff0", weight: 3, fill: false }).addTo(this.map);
    setTimeout(() => ring.remove(), 2500);
  }

  /** Next map click calls ``fn`` with its coordinates. */
  pick(fn: (lat: number, lon: number) => void): void {
    this.picking = fn;
    this.map.getContainer().classList.add("picking");
  }

  private click(e: L.LeafletMouseEvent): void {
    if (this.picking) {
      const fn = this.picking;
      this.picking = null;
      this.map.getContainer().classList.remove("picking");
      this.pickMarker?.remove();
      this.pickMarker = L.circleMarker(e.latlng, { radius: 8, color: "#000", weight: 2, fillColor: "#fff", fillOpacity: 1 }).addTo(this.map);
      fn(+e.latlng.lat.toFixed(6), +e.latlng.lng.toFixed(6));
      return;
    }
    // Hit test the canvas point layers, topmost first.
    const pt = e.containerPoint;
    for (const key of ["units", "alerts", "incidents", "cameras"] as LayerKey[]) {
      const set = this.sets.get(key);
      const layer = this.layers.get(key);
      if (!set || !layer || !this.map.hasLayer(layer)) continue;
      let best = -1, bestD = 10 * 10;
      for (let i = 0; i < set.rows.length; i++) {
        const ll = latLonOf(set.rows[i])!;
        const p = this.map.latLngToContainerPoint(ll);
        const d = (p.x - pt.x) ** 2 + (p.y - pt.y) ** 2;
        if (d < bestD) { bestD = d; best = i; }
      }
      if (best >= 0) {
        const row = set.rows[best];
        L.popup().setLatLng(latLonOf(row)!).setContent(popupEl(key, row)).openOn(this.map);
        this.onSelect?.(key, row);
        return;
      }
    }
  }
}

/** A popup's content as elements built from text (never HTML made of data). */
function popupEl(key: LayerKey, r: Row): HTMLElement {
  const status = String(r.status ?? r.state ?? "");
  if (key === "incidents") {
    const prio = priorityOf(r);
    const id = idOf(r);
    const when = r.created_at ?? r.received_at ?? r.ts;
    return h("div.incident-popup", { dataset: { id, priority: prio } },
      h("b.popup-title", `${incidentTypeName(r, lang())}`),
      h("div.popup-id.muted", id),
      h("div.popup-priority", h("i.prio-swatch", { style: `display:inline-block;width:10px;height:10px;border-radius:50%;background:${PRIORITY_COLOURS[prio]}` }), " ",
        `${t("col.priority")}: ${t("prio." + prio)}`),
      r.address ? h("div.popup-address", `${t("col.address")}: ${String(r.address)}`) : "",
      when ? h("div.popup-time", `${t("map.popupTime")}: ${fmtTime(when)}`) : "",
      h("div.popup-status", `${t("col.status")}: ${tOr("status." + status, status)}`),
      h("a.popup-board", { href: `#/board?incident=${encodeURIComponent(id)}` }, t("map.openOnBoard")));
  }
  if (key === "units") {
    const kind = str(r, "unit_type", "kind", "type") ?? "";
    const st = String(r.status ?? "available");
    return h("div.unit-popup",
      h("b", `${t("map.units")} ${str(r, "callsign", "call_sign", "name", "unit_id", "id") ?? ""}`),
      h("div", tOr(`ut.${kind}`, kind)),
      h("div", `${t("col.status")}: ${tOr("status." + st, st)}`));
  }
  if (key === "alerts") {
    // a hotlist hit in words: plate, when and where it was read, the list and reason, acknowledged or not
    const list = String(r.list ?? r.list_name ?? "");
    return h("div.alert-popup", { dataset: { alert: String(r.alert_id ?? r.id ?? ""), acked: String(!!r.acknowledged_at) } },
      h("b.popup-title", `${t("alerts.one")} ${String(r.plate ?? "")}`),
      h("div.popup-time", `${t("alerts.readAt")}: ${fmtTime(r.read?.ts ?? r.ts ?? r.raised_at)}`),
      h("div.popup-camera", `${t("alerts.cameraLabel")}: ${cameraOf(r) || "–"}`),
      list || r.reason ? h("div.popup-reason", `${t("alerts.list")}: ${alertReason(r)}`) : "",
      h("div.popup-ack", r.acknowledged_at
        ? t("alerts.ackedBy", { who: String(r.acknowledged_by ?? ""), at: fmtTime(r.acknowledged_at) }) : t("alerts.notAcked")));
  }
  if (key === "cameras") {
    const id = String(r.camera_id ?? r.id ?? "");
    return h("div.camera-popup", h("b", `${t("alerts.cameraLabel")} ${String(r.name ?? id)}`), r.name ? h("div.muted", id) : "");
  }
  return h("div", h("b", t("map." + key)),
    ...Object.entries(r).slice(0, 6).map(([k, v]) => h("div", `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)));
}

/** Load the road network from the first route that offers it. */
export async function loadRoads(ops: OpsMap): Promise<boolean> {
  const op = api.find("GET", /^\/city\/(roads|network|edges|graph)(\.geojson)?$/, /^\/city\/.*(road|network|edge|geojson)/, /^\/map\/roads/, /^\/roads$/);
  if (!op) return false;
  try {
    const query: Record<string, string> = {};
    if ((op.spec.parameters ?? []).some((p: any) => p.name === "format")) query.format = "geojson";
    const data = await api.get(op.path, { query });
    performance.mark("precinct:roads-fetched");
    const t0 = performance.now();
    const roads = parseRoads(data);
    (window as any).__precinctRoadParseMs = performance.now() - t0;
    if (!roads.classes.length) return false;
    ops.setRoads(roads);
    performance.mark("precinct:roads-parsed");
    return true;
  } catch (e) {
    console.warn("roads", e);
    return false;
  }
}
