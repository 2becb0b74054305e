// 移动警务通: the patrol officer's terminal. My dispatches and orders, one tap per step, live
// updates from the board stream, an offline queue with idempotency keys.
import { enqueue, flush, pending, type Outcome } from "./queue";
import { currentLang, setLang, t } from "./i18n";
import { showWhere } from "./where";
import { attachBox, casesBox, dutyButton, hotlistBox, missingBox, onDuty, watchAlerts } from "./scene";

interface Assignment { unit_id: string; status: string }
interface Incident {
  id: string; type: string; type_name_zh: string | null; type_name_en: string | null; priority: string;
  status: string; lat: number; lon: number; address: string | null; summary: string | null; units: Assignment[];
}
interface Recipient { recipient: string; acknowledged_at: string | null }
interface Order {
  id: string; title: string; body: string; state: string; state_zh: string; priority: string; deadline: string;
  overdue: boolean; recipients: Recipient[];
  last_reminder?: { at: string; by: string; to: string[] } | null;  // a supervisor's 催办 (issue 21)
}

const TOKEN = "precinct.m.token";
const PRIORITY_TEXT = { zh: ["红", "橙", "黄", "蓝", "绿"], en: ["red", "orange", "yellow", "blue", "green"] };
/** Five-colour priority (red first) as a rank 1-5. */
const rank = (p: string): number => ({ red: 1, orange: 2, yellow: 3, blue: 4, green: 5 } as Record<string, number>)[p] ?? 3;
const CACHE = "precinct.m.cache";
const app = document.getElementById("app") as HTMLElement;
let token = localStorage.getItem(TOKEN);
let unitId: string | null = localStorage.getItem("precinct.m.unit");
let incidents: Incident[] = [];
let orders: Order[] = [];
let seen: Set<string> | null = null;
let stream: EventSource | null = null;
let lastOutcomes: Outcome[] = [];
let geoWatch: number | null = null;
let lastFix = 0;
let unitPos: [number, number] | null = null;
let unitStatus: string | null = null; // positions are shared only on duty (not out_of_service)

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const r = await fetch(`/api/v1${path}`, { ...init, headers: { ...(init.headers ?? {}), Authorization: `Bearer ${token ?? ""}` } });
  if (r.status === 401) { logout(); throw new Error("401"); }
  if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

function logout(): void {
  token = null; unitId = null; stream?.close(); stream = null;
  localStorage.removeItem(TOKEN); localStorage.removeItem("precinct.m.unit"); localStorage.removeItem(CACHE);
  render();
}

function renderLogin(error = ""): void {
  const tx = t();
  const user = el("input", { id: "m-username", autocomplete: "username", "aria-label": tx.username, placeholder: tx.username });
  const pass = el("input", { id: "m-password", type: "password", autocomplete: "current-password", "aria-label": tx.password, placeholder: tx.password });
  const go = el("button", { id: "m-login", type: "submit", class: "wide" }, tx.login);
  const form = el("form", {}, user, pass, go, el("p", { class: "error", id: "m-error" }, error));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); void login(user.value, pass.value); });
  app.replaceChildren(form);
}

async function login(username: string, password: string): Promise<void> {
  const tx = t();
  try {
    const r = await fetch("/api/v1/auth/token", { method: "POST", body: new URLSearchParams({ username, password }) });
    if (!r.ok) { renderLogin(tx.loginFailed + r.status); return; }
    const tok = (await r.json()) as { access_token: string; role: string };
    if (tok.role !== "patrol") { renderLogin(tx.notPatrol); return; }
    token = tok.access_token;
    const me = await api<{ unit_id: string | null }>("/auth/me");
    unitId = me.unit_id;
    localStorage.setItem(TOKEN, token);
    localStorage.setItem("precinct.m.unit", unitId ?? "");
    start();
  } catch (e) {
    renderLogin(tx.loginFailed + String(e));
  }
}

function mine(inc: Incident): Assignment | undefined {
  return inc.units.find((a) => a.unit_id === unitId && a.status !== "cleared");
}

async function load(): Promise<void> {
  if (!token) return;
  try {
    const [board, ords] = await Promise.all([
      api<{ incidents: Incident[]; units: { id: string; lat: number | null; lon: number | null; status: string }[] }>("/board?limit=1000"),
      api<{ orders: Order[] }>("/orders?mine=true"),
    ]);
    const me = board.units.find((u) => u.id === unitId);
    unitPos = me && me.lat !== null && me.lon !== null ? [me.lat, me.lon] : null;
    unitStatus = me?.status ?? null;
    incidents = board.incidents.filter((i) => mine(i) !== undefined).sort((a, b) => rank(a.priority) - rank(b.priority));
    orders = ords.orders.filter((o) => o.state === "assign" || o.state === "handle");
    localStorage.setItem(CACHE, JSON.stringify({ incidents, orders }));
    announce();
  } catch {
    // offline: keep what we have
  }
  render();
}

function announce(): void {
  const ids = new Set([...incidents.map((i) => i.id), ...orders.map((o) => o.id)]);
  const fresh = seen === null ? [] : [...ids].filter((id) => !seen?.has(id));
  seen = ids;
  if (fresh.length === 0) return;
  document.body.dataset.alert = String(Number(document.body.dataset.alert ?? "0") + fresh.length);
  navigator.vibrate?.([300, 150, 300]);
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch {
    // no audio allowed before a user gesture
  }
}

function act(path: string, body: Record<string, unknown>, label: string, apply: () => void): void {
  enqueue(path, body, label);
  apply();
  render();
  void sendQueue();
}

/** Something was queued outside ``act`` (a photo, a note): show it waiting and send it. */
function queued(): void {
  render();
  void sendQueue();
}

async function sendQueue(): Promise<void> {
  if (!token || pending().length === 0) return;
  const out = await flush(token);
  if (out.length) { lastOutcomes = out.slice(-5); await load(); } else render();
}

function stepButtons(inc: Incident, a: Assignment): HTMLElement {
  const tx = t();
  const box = el("div", { class: "steps" });
  const queued = pending().filter((p) => p.path.startsWith(`/incidents/${inc.id}/`)).map((p) => p.path.split("/").pop());
  const set = (s: string) => () => { a.status = s; };
  if (a.status === "dispatched" && !queued.includes("acknowledge")) {
    const b = el("button", { "data-step": "acknowledge" }, tx.acknowledge);
    b.onclick = () => act(`/incidents/${inc.id}/acknowledge`, {}, `${tx.acknowledge} ${inc.id}`, set("en_route"));
    box.append(b);
  } else if ((a.status === "en_route" || a.status === "acknowledged") && !queued.includes("arrive")) {
    const b = el("button", { "data-step": "arrive" }, tx.arrive);
    b.onclick = () => act(`/incidents/${inc.id}/arrive`, {}, `${tx.arrive} ${inc.id}`, set("on_scene"));
    box.append(b);
  } else if (a.status === "on_scene" && !queued.includes("clear")) {
    const sel = el("select", { "aria-label": tx.disposition, "data-field": "disposition" });
    for (const d of [tx.dispRes, tx.dispNo, tx.dispRef, tx.dispFalse]) sel.append(el("option", { value: d }, d));
    const b = el("button", { "data-step": "clear" }, tx.clear);
    b.onclick = () => act(`/incidents/${inc.id}/clear`, { note: sel.value }, `${tx.clear} ${inc.id}`, set("cleared"));
    box.append(sel, b);
  }
  return box;
}

function incidentCard(inc: Incident): HTMLElement {
  const tx = t();
  const a = mine(inc) ?? { unit_id: unitId ?? "", status: "cleared" };
  const name = (currentLang() === "zh" ? inc.type_name_zh : inc.type_name_en) ?? inc.type;
  const nav = el("a", { class: "nav", href: `geo:${inc.lat},${inc.lon}?q=${inc.lat},${inc.lon}` }, `➜ ${tx.navigate}`);
  const pr = rank(inc.priority);
  return el("article", { class: `card p${pr}`, "data-incident": inc.id, "data-status": a.status },
    el("h3", {}, el("span", { class: `badge p${pr}` }, PRIORITY_TEXT[currentLang()][pr - 1] ?? inc.priority), ` ${name}`),
    el("p", { class: "meta" }, `${inc.id} · ${tx.status[a.status] ?? a.status}`),
    el("p", {}, inc.address ?? `${inc.lat.toFixed(5)}, ${inc.lon.toFixed(5)}`),
    el("p", { class: "meta" }, inc.summary ?? ""),
    nav, stepButtons(inc, a), ...(a.status !== "cleared" ? [attachBox(inc.id, queued)] : []));
}

function orderCard(o: Order): HTMLElement {
  const tx = t();
  const own = o.recipients.filter((r) => r.recipient === `unit:${unitId ?? ""}` || r.recipient.startsWith("user:"));
  const acked = own.length > 0 && own.every((r) => r.acknowledged_at !== null);
  const queued = pending().some((p) => p.path === `/orders/${o.id}/ack`);
  const pr = rank(o.priority);
  const card = el("article", { class: `card p${pr}`, "data-order": o.id },
    el("h3", {}, el("span", { class: `badge p${pr}` }, PRIORITY_TEXT[currentLang()][pr - 1] ?? o.priority), ` ${o.title}`),
    el("p", { class: "meta" }, `${o.state_zh} · ${tx.deadline} ${new Date(o.deadline).toLocaleString()}${o.overdue ? " ⚠" : ""}`),
    el("p", {}, o.body));
  if (acked || queued) card.append(el("p", { class: "meta" }, `✔ ${tx.acked}`));
  else {
    const last = o.last_reminder;
    if (last?.at && own.some((r) => last.to.includes(r.recipient))) {
      const at = new Date(last.at).toLocaleTimeString(currentLang() === "zh" ? "zh-CN" : "en-GB",
        { hour: "2-digit", minute: "2-digit", hour12: false });
      card.dataset.reminded = "1";
      card.append(el("p", { class: "meta reminded" }, `⚠ ${tx.reminded} ${at} (${last.by})`));
    }
    const b = el("button", { class: "wide", "data-step": "ack-order" }, tx.ackOrder);
    b.onclick = () => act(`/orders/${o.id}/ack`, {}, `${tx.ackOrder} ${o.title}`, () => undefined);
    card.append(b);
  }
  return card;
}

function renderWork(): void {
  const tx = t();
  const parts: HTMLElement[] = [];
  const waiting = pending();
  if (waiting.length) {
    parts.push(el("section", { class: "queue", id: "m-queue" }, el("strong", {}, `${tx.waiting}: ${waiting.length}`),
      el("ol", {}, ...waiting.map((w) => el("li", {}, w.label)))));
  }
  for (const o of lastOutcomes.filter((x) => !x.ok)) parts.push(el("p", { class: "error" }, `${o.action.label}: ${tx.failed} (${o.status} ${o.detail})`));
  const hot = hotlistBox(unitPos);
  if (hot) parts.push(hot);
  parts.push(el("h2", {}, `${tx.myDispatches} · ${tx.unit} ${unitId ?? "—"}`));
  const list = el("section", { id: "m-incidents" });
  list.append(...(incidents.length ? incidents.map(incidentCard) : [el("p", { class: "empty" }, tx.none)]));
  parts.push(list, el("h2", {}, tx.myOrders));
  const ol = el("section", { id: "m-orders" });
  ol.append(...(orders.length ? orders.map(orderCard) : [el("p", { class: "empty" }, tx.none)]));
  parts.push(ol);
  const missing = token ? missingBox(token, render) : null;
  if (missing) parts.push(missing);
  const cases = token ? casesBox(token, render) : null;
  if (cases) parts.push(cases);
  const first = incidents[0];
  const where = first ? el("div", { class: "map", id: "m-map" }) : null;
  const share = el("input", { type: "checkbox", id: "m-share" });
  share.style.width = "auto"; share.style.minHeight = "1.6rem";
  (share as HTMLInputElement).checked = geoWatch !== null;
  share.onchange = () => toggleShare((share as HTMLInputElement).checked);
  if (!onDuty(unitStatus) && unitStatus !== null) share.setAttribute("disabled", "");
  parts.push(el("label", { class: "meta" }, share, ` ${onDuty(unitStatus) || unitStatus === null ? tx.share : tx.offDuty}`));
  if (token && unitStatus !== null && !incidents.length) parts.push(dutyButton(unitId, unitStatus, token, () => void load()));
  const out = el("button", { class: "wide", id: "m-logout" }, tx.logout);
  out.onclick = logout;
  parts.push(out);
  app.replaceChildren(...parts);
  if (where && first && token) {
    list.querySelector(`[data-incident='${first.id}'] .nav`)?.before(where);
    showWhere(where, token, [first.lat, first.lon], unitPos, first.id, (r) => {
      where.after(el("p", { class: "meta", id: "m-route" }, `${tx.route}: ${(r.length_m / 1000).toFixed(1)} km · ${Math.max(1, Math.round(r.time_s / 60))} ${tx.minutes}`));
    });
  }
}

function toggleShare(on: boolean): void {
  if (!on || !("geolocation" in navigator)) {
    if (geoWatch !== null) navigator.geolocation.clearWatch(geoWatch);
    geoWatch = null;
    return;
  }
  geoWatch = navigator.geolocation.watchPosition((pos) => {
    if (!unitId || !onDuty(unitStatus) || Date.now() - lastFix < 30_000 || !navigator.onLine) return; // on duty, at most one fix per 30 s
    lastFix = Date.now();
    void api(`/units/${encodeURIComponent(unitId)}/position`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ lat: pos.coords.latitude, lon: pos.coords.longitude, ts: new Date(pos.timestamp).toISOString() }),
    }).catch(() => undefined);
  }, () => undefined, { enableHighAccuracy: true, maximumAge: 15_000 });
}

function renderNet(): void {
  const tx = t();
  const net = document.getElementById("net") as HTMLElement;
  net.textContent = navigator.onLine ? tx.online : tx.offline;
  net.classList.toggle("offline", !navigator.onLine);
  (document.getElementById("lang") as HTMLElement).textContent = currentLang() === "zh" ? "EN" : "中文";
}

function render(): void {
  renderNet();
  if (!token) renderLogin(); else renderWork();
}

let reconnectTimer: number | undefined;
let connectGen = 0;
/** Open the board stream with a fresh single-use ticket (the token never goes into a URL); a
 * dropped stream is reopened with a new ticket, as a used ticket cannot be replayed. */
function connect(): void {
  stream?.close();
  stream = null;
  window.clearTimeout(reconnectTimer);
  if (!token) return;
  const retry = (): void => {
    window.clearTimeout(reconnectTimer);
    reconnectTimer = window.setTimeout(() => { if (token && navigator.onLine) connect(); }, 3000);
  };
  const gen = ++connectGen;
  void api<{ ticket: string }>("/board/stream-ticket", { method: "POST" }).then(({ ticket }) => {
    if (!token || gen !== connectGen) return;
    const es = new EventSource(`/api/v1/board/stream?ticket=${encodeURIComponent(ticket)}`);
    stream = es;
    for (const ev of ["incidents.created", "incidents.updated", "incidents.dispatched", "orders.created",
      "orders.updated", "orders.acknowledged", "orders.escalated", "board.reset"]) {
      es.addEventListener(ev, () => void load());
    }
    // a supervisor reminds the units that have not acknowledged an order (issue 21): alert if it is us
    es.addEventListener("orders.reminded", (e) => {
      try {
        const p = JSON.parse((e as MessageEvent).data);
        const to: string[] = (p?.data ?? p)?.remind ?? [];
        if (unitId && to.includes(`unit:${unitId}`)) {
          document.body.dataset.reminded = String(Number(document.body.dataset.reminded ?? "0") + 1);
          navigator.vibrate?.([300, 150, 300]);
        }
      } catch { /* a frame we cannot read: the reload below still shows it */ }
      void load();
    });
    // a reopened stream may have missed events: reload what it shows
    es.addEventListener("board.hello", () => { document.body.dataset.live = "1"; if (gen > 1) void load(); });
    es.addEventListener("board.auth_expired", () => { es.close(); void api("/auth/me").then(retry, () => undefined); });
    es.addEventListener("error", () => { es.close(); if (stream === es) { stream = null; delete document.body.dataset.live; retry(); } });
  }, retry);
}

function start(): void {
  try {
    const c = JSON.parse(localStorage.getItem(CACHE) ?? "null") as { incidents: Incident[]; orders: Order[] } | null;
    if (c) { incidents = c.incidents; orders = c.orders; }
  } catch { /* a broken cache is ignored */ }
  render();
  connect();
  void sendQueue().then(load);
}

document.getElementById("lang")?.addEventListener("click", () => { setLang(currentLang() === "zh" ? "en" : "zh"); render(); });
window.addEventListener("online", () => { renderNet(); void sendQueue(); if (!stream || stream.readyState === 2) connect(); });
window.addEventListener("offline", renderNet);
setInterval(() => { if (navigator.onLine) void sendQueue(); }, 5000);
if ("serviceWorker" in navigator) void navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" });
setLang(currentLang());
watchAlerts(() => stream, () => { if (token) render(); });
if (token) start(); else render();
