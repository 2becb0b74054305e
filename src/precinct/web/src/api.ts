// HTTP client for /api/v1: bearer token, error bodies, personal-data headers, and route discovery
// from /openapi.json so the dashboard grows as the server gains capabilities.
import { askCaseContext, caseContext } from "./casectx";

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public detail?: unknown) {
    super(message);
  }
}

export interface Op {
  method: string;
  path: string; // without the /api/v1 prefix
  spec: Record<string, any>;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  form?: Record<string, string>;
  personal?: boolean;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const TOKEN_KEY = "precinct.token";

// The server ends sessions idle for 30 minutes; the client stops renewing after the same time.
const IDLE_LIMIT_MS = 30 * 60_000;

class Client {
  token: string | null = sessionStorage.getItem(TOKEN_KEY);
  ops: Op[] = [];
  spec: Record<string, any> | null = null;
  onUnauthorized: (() => void) | null = null;

  setToken(token: string | null): void {
    this.token = token;
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    this.scheduleRefresh();
  }

  private refreshTimer: number | undefined;
  private lastActivity = Date.now();
  private activityWatched = false;

  /** Renew the short-lived token shortly before it expires, while the user is active.
   * A user idle past the server's idle limit is not renewed: their session ends as policy says. */
  private scheduleRefresh(): void {
    if (this.refreshTimer !== undefined) window.clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    if (!this.token) return;
    if (!this.activityWatched) {
      this.activityWatched = true;
      for (const ev of ["pointerdown", "keydown", "wheel"]) {
        window.addEventListener(ev, () => { this.lastActivity = Date.now(); }, { passive: true });
      }
    }
    let expMs: number;
    try {
      const payload = JSON.parse(atob(this.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      expMs = payload.exp * 1000;
    } catch {
      return;
    }
    const wait = Math.max(5_000, expMs - Date.now() - 90_000);
    this.refreshTimer = window.setTimeout(async () => {
      if (Date.now() - this.lastActivity > IDLE_LIMIT_MS) return;
      try {
        const tok = await this.request<{ access_token: string }>("POST", "/auth/refresh");
        this.setToken(tok.access_token);
      } catch {
        /* a refused refresh ends the session through the 401 handler */
      }
    }, wait);
  }

  async discover(): Promise<void> {
    try {
      const r = await fetch("/openapi.json");
      if (!r.ok) return;
      this.spec = await r.json();
    } catch {
      return;
    }
    const ops: Op[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(this.spec?.paths ?? {})) {
      if (!path.startsWith(API)) continue;
      for (const method of ["get", "post", "put", "patch", "delete"]) {
        if (item[method]) ops.push({ method: method.toUpperCase(), path: path.slice(API.length), spec: item[method] });
      }
    }
    this.ops = ops;
  }

  /** The first route (in the given pattern order) with this method whose path matches. */
  find(method: string, ...patterns: (RegExp | string)[]): Op | undefined {
    for (const p of patterns) {
      const op = this.ops.find((o) => o.method === method &&
        (typeof p === "string" ? o.path === p : p.test(o.path)));
      if (op) return op;
    }
    return undefined;
  }

  findAll(method: string | null, pattern: RegExp): Op[] {
    return this.ops.filter((o) => (method === null || o.method === method) && pattern.test(o.path));
  }

  isPersonal(op: Op | undefined): boolean {
    return !!op && (op.spec.parameters ?? []).some(
      (p: any) => p.in === "header" && String(p.name).toLowerCase() === "x-case-id");
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (opts.personal) {
      const ctx = caseContext() ?? (await askCaseContext());
      if (!ctx) throw new ApiError(0, "cancelled", "cancelled");
      headers["X-Case-Id"] = ctx.caseId;
      headers["X-Purpose"] = ctx.purpose;
    }
    if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
    let body: BodyInit | undefined;
    if (opts.form) {
      body = new URLSearchParams(opts.form);
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["Content-Type"] = "application/json";
    }
    let url = API + path;
    if (opts.query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) {
        if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
      }
      const s = qs.toString();
      if (s) url += (url.includes("?") ? "&" : "?") + s;
    }
    let r: Response;
    try {
      r = await fetch(url, { method, headers, body, signal: opts.signal });
    } catch (e) {
      if ((e as Error).name === "AbortError") throw e;
      throw new ApiError(0, "network", (e as Error).message || "network error");
    }
    if (r.status === 204) return undefined as T;
    const text = await r.text();
    let data: any = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    if (!r.ok) {
      if (r.status === 401 && this.token && !path.startsWith("/auth/token")) {
        this.setToken(null);
        this.onUnauthorized?.();
      }
      const message = (data && typeof data === "object" && data.message) || r.statusText || `HTTP ${r.status}`;
      throw new ApiError(r.status, (data && data.error) || "http_error", message, data?.detail);
    }
    return data as T;
  }

  /** A single-use, short-lived ticket that opens the live stream (`?ticket=`): the bearer token
   * itself never goes into a URL. Ask for a new one before each (re)connect. */
  async streamTicket(): Promise<string> {
    const r = await this.request<{ ticket: string }>("POST", "/board/stream-ticket");
    return r.ticket;
  }

  get<T = any>(path: string, opts?: RequestOptions): Promise<T> { return this.request<T>("GET", path, opts); }
  post<T = any>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>("POST", path, { ...opts, body });
  }
}

export const api = new Client();

/** Fill "{id}" style path parameters. */
export function fillPath(path: string, params: Record<string, string | number>): string {
  return path.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(String(params[k] ?? Object.values(params)[0])));
}

/** The first array found in a response: the rows of a list answer, whatever its key. */
export function rowsOf(data: any, ...prefer: string[]): any[] {
  if (Array.isArray(data)) return data;
  if (!data || typeof data !== "object") return [];
  for (const k of prefer) if (Array.isArray(data[k])) return data[k];
  for (const k of ["items", "results", "rows", "records", "candidates", "features"]) {
    if (Array.isArray(data[k])) return data[k];
  }
  for (const v of Object.values(data)) if (Array.isArray(v)) return v;
  return [];
}

/** A numeric field under any of several names (or nested under location/position). */
export function num(o: any, ...keys: string[]): number | undefined {
  if (!o || typeof o !== "object") return undefined;
  for (const k of keys) {
    const v = o[k];
    if (typeof v === "number" && isFinite(v)) return v;
    if (typeof v === "string" && v.trim() !== "" && isFinite(Number(v))) return Number(v);
  }
  for (const nest of ["location", "position", "point", "last_position", "coords"]) {
    if (o[nest] && typeof o[nest] === "object") {
      const v = num(o[nest], ...keys);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

export function str(o: any, ...keys: string[]): string | undefined {
  if (!o || typeof o !== "object") return undefined;
  for (const k of keys) {
    const v = o[k];
    if (v !== undefined && v !== null && v !== "") return String(v);
  }
  return undefined;
}

export function latLonOf(o: any): [number, number] | null {
  const lat = num(o, "lat", "latitude", "y");
  const lon = num(o, "lon", "lng", "longitude", "x");
  if (lat === undefined || lon === undefined) {
    const g = o?.geometry;
    if (g && g.type === "Point" && Array.isArray(g.coordinates)) return [g.coordinates[1], g.coordinates[0]];
    return null;
  }
  return [lat, lon];
}
