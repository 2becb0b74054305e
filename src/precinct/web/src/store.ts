// Shared operational state (incidents, units, orders, alerts), refreshed from the API and kept
// current by the live connection. Views and map layers subscribe to changes.
import { api, rowsOf, str } from "./api";
import { session } from "./session";

export type Row = Record<string, any>;

export const store = {
  types: [] as Row[],
  incidents: new Map<string, Row>(),
  units: new Map<string, Row>(),
  orders: new Map<string, Row>(),
  alerts: [] as Row[],
  cameras: [] as Row[],
  loaded: { incidents: false, units: false, orders: false, types: false },
};

type Topic = "incidents" | "units" | "orders" | "alerts" | "types" | "cameras" | "acks";
const subs = new Map<Topic, Set<() => void>>();

export function subscribe(topic: Topic, fn: () => void): () => void {
  if (!subs.has(topic)) subs.set(topic, new Set());
  subs.get(topic)!.add(fn);
  return () => subs.get(topic)!.delete(fn);
}

export function emit(topic: Topic): void {
  subs.get(topic)?.forEach((f) => { try { f(); } catch (e) { console.error(e); } });
}

export function idOf(r: Row): string {
  return String(r.id ?? r.incident_id ?? r.unit_id ?? r.order_id ?? r.call_sign ?? r.code ?? "");
}

function replace(map: Map<string, Row>, rows: Row[]): void {
  map.clear();
  for (const r of rows) map.set(idOf(r), r);
}

// Routes (discovered; null when the server has none yet).
export const routes = {
  incidents: () => api.find("GET", "/incidents", /^\/incidents\/?$/, /^\/dispatch\/incidents$/, /^\/board$/),
  units: () => api.find("GET", "/units", /^\/dispatch\/units$/, /^\/units\/?$/),
  orders: () => api.find("GET", "/orders", /^\/orders\/?$/),
  types: () => api.find("GET", "/incident-types", /incident[-_]types/),
  alerts: () => api.find("GET", "/anpr/alerts", /^\/(anpr\/)?alerts$/),
  cameras: () => api.find("GET", "/anpr/cameras", /cameras$/),
};

// Mirrors the server's rules (calls/dispatch/orders views); a refusal is audited server-side, so
// the client never polls what its role may not read, and stops for good after any 403.
const MAY: Record<Topic, string[]> = {
  // incidents.read / orders.read include the administrator (their map would otherwise count only
  // what the live stream brought since login).
  incidents: ["call_taker", "dispatcher", "patrol", "supervisor", "analyst", "admin"],
  units: ["call_taker", "dispatcher", "patrol", "supervisor", "analyst", "admin"],
  orders: ["call_taker", "dispatcher", "patrol", "supervisor", "analyst", "admin"],
  alerts: ["dispatcher", "patrol", "supervisor", "analyst"],
  types: ["call_taker", "dispatcher", "patrol", "supervisor", "analyst", "admin"],
  acks: [],
  cameras: ["call_taker", "dispatcher", "patrol", "supervisor", "analyst", "admin"],
};
const refused = new Set<Topic>();

export function may(topic: Topic): boolean {
  return MAY[topic].includes(session.me?.role ?? "") && !refused.has(topic);
}

export function resetRefusals(): void { refused.clear(); }

async function load(topic: Exclude<Topic, "acks">): Promise<boolean> {
  const op = routes[topic]();
  if (!op || !may(topic) || api.isPersonal(op)) return false;
  try {
    const query: Record<string, string | number> = {};
    const params: any[] = op.spec.parameters ?? [];
    if (topic === "incidents" && params.some((p) => p.name === "open")) query.open = "true";
    if (params.some((p) => p.name === "limit")) {
      const max = params.find((p) => p.name === "limit")?.schema?.maximum;
      // A page of 5,000 (or the server's maximum); "precinct.pageSize" overrides it (used by the tests).
      const want = Number(localStorage.getItem("precinct.pageSize")) || 5000;
      query.limit = Math.max(1, Math.min(typeof max === "number" ? max : want, want));
    }
    const rows = await fetchAll(op.path, query, params.some((p) => p.name === "cursor"), topic);
    performance.mark(`precinct:${topic}-fetched`);
    if (topic === "incidents") replace(store.incidents, rows);
    else if (topic === "units") replace(store.units, rows);
    else if (topic === "orders") replace(store.orders, rows);
    else if (topic === "types") store.types = rows;
    else if (topic === "alerts") store.alerts = rows;
    else if (topic === "cameras") store.cameras = rows;
    if (topic in store.loaded) (store.loaded as any)[topic] = true;
    emit(topic);
    return true;
  } catch (e) {
    if ((e as { status?: number }).status === 403) refused.add(topic);
    console.warn("load", topic, e);
    return false;
  }
}

/** Every page of a list: keyset pagination follows ``next_cursor`` (passed back as ``cursor``)
 * until it is null, so the map shows every open incident, not the first page. */
export const MAX_PAGES = 100;
async function fetchAll(path: string, query: Record<string, string | number>, paged: boolean, topic: Topic): Promise<Row[]> {
  const out: Row[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const data: any = await api.get(path, { query: cursor ? { ...query, cursor } : query });
    const rows = rowsOf(data, topic, "incidents", "units", "orders", "alerts", "types", "cameras");
    for (const r of rows) out.push(r);
    cursor = paged && data && typeof data === "object" && typeof data.next_cursor === "string" && data.next_cursor
      ? data.next_cursor : null;
    if (!cursor || !rows.length) break;
  }
  return out;
}

/** Reload everything this role may see. Resolves true when at least one list answered. */
export async function refreshAll(): Promise<boolean> {
  const results = await Promise.all((["incidents", "units", "orders", "alerts"] as const).map(load));
  return results.some(Boolean);
}

export async function loadStatic(): Promise<void> {
  await Promise.all([load("types"), load("cameras")]);
}

/** Apply a pushed event; returns false when it was not understood (caller then refreshes). */
export function applyEvent(kind: string, data: any): boolean {
  if (!data || typeof data !== "object") return false;
  const k = kind.toLowerCase();
  const obj = data.incident ?? data.unit ?? data.order ?? data.alert ?? data.data ?? data;
  // hotlist alerts and their acknowledgements (anpr.alert, anpr.alert_ack)
  if (k.startsWith("anpr.")) { putAlert(k, obj); return true; }
  const topic: Topic | null =
    k.includes("incident") || k.includes("call") ? "incidents" :
    k.includes("unit") || k.includes("position") ? "units" :
    k.includes("order") || k.includes("ack") ? "orders" :
    k.includes("alert") || k.includes("hit") ? "alerts" : null;
  if (!topic) return false;
  if (topic === "alerts") { putAlert(k, obj); return true; }
  const map = topic === "incidents" ? store.incidents : topic === "units" ? store.units : store.orders;
  const id = topic === "units" ? str(obj, "unit_id", "id") : topic === "incidents" ? str(obj, "incident_id", "id") : str(obj, "order_id", "id");
  if (!id) return false;
  // A position update is partial: merge it into the unit.
  const merged = { ...(map.get(id) ?? {}), ...obj };
  if (topic === "units" && merged.id === undefined) merged.id = id;
  map.set(id, merged);
  emit(topic);
  return true;
}

const alertId = (a: Row) => String(a.alert_id ?? a.id ?? "");

/** A hotlist alert from the stream (or a reload): one row per alert, newest first, and an
 * acknowledgement (``anpr.alert_ack``, no plate) merged into its alert (issue 21). */
export function putAlert(kind: string, obj: Row): void {
  const id = alertId(obj);
  const old = id ? store.alerts.find((a) => alertId(a) === id) : undefined;
  if (kind.endsWith("_ack")) {
    if (!old) return;
    store.alerts = store.alerts.map((a) => a === old
      ? { ...a, acknowledged_by: obj.acknowledged_by, acknowledged_at: obj.acknowledged_at } : a);
  } else {
    // an acknowledgement already seen is kept (a replayed alert carries none)
    const row = old?.acknowledged_at && !obj.acknowledged_at
      ? { ...obj, acknowledged_by: old.acknowledged_by, acknowledged_at: old.acknowledged_at } : obj;
    store.alerts = [row, ...store.alerts.filter((a) => a !== old)]
      .sort((a, b) => (Number(alertId(b)) || 0) - (Number(alertId(a)) || 0)).slice(0, 500);
  }
  emit("alerts");
}

// Red incidents the dispatcher has seen (opened on the board or acknowledged from the banner).
const RED_ACK = "precinct.redAck";
function redAcks(): Set<string> {
  try { return new Set(JSON.parse(sessionStorage.getItem(RED_ACK) ?? "[]")); } catch { return new Set(); }
}
export function isRedAcked(id: string): boolean { return redAcks().has(id); }
export function ackRed(id: string): void {
  const s = redAcks();
  if (s.has(id)) return;
  s.add(id);
  sessionStorage.setItem(RED_ACK, JSON.stringify([...s].slice(-500)));
  emit("acks");
}

/** A unit's callsign (巡1) from the units list; the id when it has none. */
export function callsignOf(unitId: unknown): string {
  const id = String(unitId ?? "");
  const u = store.units.get(id);
  return String(u?.callsign ?? u?.call_sign ?? u?.name ?? id);
}

export function incidentTypeName(r: Row, lang: string): string {
  const own = lang === "en" ? r.type_name_en : r.type_name_zh;
  return own ? String(own) : typeName(r.type ?? r.type_code, lang);
}

export function typeName(code: unknown, lang: string): string {
  const ty = store.types.find((x) => String(x.code) === String(code));
  if (!ty) return String(code ?? "");
  return String((lang === "en" ? ty.name_en : ty.name_zh) ?? ty.name ?? code);
}
