// The live connection: Server-Sent Events read through fetch, opened with a single-use stream
// ticket fetched before each (re)connect (the bearer token never goes into a URL), falling back to
// polling. The header shows its state.
import { api, ApiError } from "./api";
import { session } from "./session";
import { applyEvent, refreshAll } from "./store";

export type LiveState = "live" | "polling" | "offline";
let state: LiveState = "offline";
const listeners: ((s: LiveState) => void)[] = [];
let stopped = true;
let abort: AbortController | null = null;
let pollTimer: number | undefined;
let refreshTimer: number | undefined;
// A refused stream (the role may not watch the board) is not retried: each refusal is audited.
let streamRefused = false;
const STREAM_ROLES = ["call_taker", "dispatcher", "patrol", "analyst", "supervisor", "admin"];

export function onLiveState(fn: (s: LiveState) => void): void { listeners.push(fn); fn(state); }
function setState(s: LiveState): void {
  if (s === state) return;
  state = s;
  document.body.dataset.live = s;
  listeners.forEach((f) => f(s));
}

function streamOp() {
  return api.find("GET", "/board/stream") ?? api.ops.find((o) => o.method === "GET" && /(stream|events|live|sse)/.test(o.path) &&
    !/\{/.test(o.path) && !api.isPersonal(o));
}

function scheduleRefresh(): void {
  if (refreshTimer) return;
  refreshTimer = window.setTimeout(async () => { refreshTimer = undefined; await refreshAll(); }, 400);
}

async function runStream(path: string): Promise<void> {
  abort = new AbortController();
  let ticket: string;
  try {
    ticket = await api.streamTicket();
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) streamRefused = true;
    throw e;
  }
  const r = await fetch(`/api/v1${path}?ticket=${encodeURIComponent(ticket)}`, {
    headers: { Accept: "text/event-stream" }, signal: abort.signal,
  });
  if (r.status === 401 || r.status === 403) streamRefused = true;
  if (!r.ok || !r.body) throw new Error(`stream HTTP ${r.status}`);
  setState("live");
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let idx: number;
    while ((idx = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, idx);
      buf = buf.slice(idx).replace(/^\r?\n\r?\n/, "");
      let event = "message";
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue;
      let payload: any = null;
      try { payload = JSON.parse(data.join("\n")); } catch { payload = null; }
      const kind = event !== "message" ? event : String(payload?.type ?? payload?.event ?? payload?.kind ?? "");
      if (!applyEvent(kind, payload?.data ?? payload?.payload ?? payload)) scheduleRefresh();
    }
  }
  throw new Error("stream closed");
}

async function ping(): Promise<boolean> {
  try { return (await fetch("/api/v1/health")).ok; } catch { return false; }
}

async function loop(): Promise<void> {
  let backoff = 1000;
  let first = true;
  while (!stopped) {
    const op = streamRefused || !STREAM_ROLES.includes(session.me?.role ?? "") ? undefined : streamOp();
    if (op) {
      try {
        await runStream(op.path);
      } catch (e) {
        if (stopped) return;
        console.warn("live stream", e);
      }
    }
    // Poll while the stream is down (or absent); the shell made the first load itself.
    if (first && !op) await new Promise((res) => { pollTimer = window.setTimeout(res, 3000); });
    first = false;
    if (stopped) return;
    const ok = (await refreshAll()) || (await ping());
    setState(ok ? "polling" : "offline");
    await new Promise((res) => { pollTimer = window.setTimeout(res, op ? backoff : 3000); });
    backoff = Math.min(backoff * 2, 15000);
  }
}

export function startLive(): void {
  if (!stopped) return;
  stopped = false;
  streamRefused = false;
  void loop();
}

export function stopLive(): void {
  stopped = true;
  abort?.abort();
  window.clearTimeout(pollTimer);
  setState("offline");
}
