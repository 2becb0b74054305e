// The dashboard shell: login, role-aware navigation, language switch, case chip, live indicator.
import "./style.css";
import { api, ApiError } from "./api";
import { askCaseContext, caseContext, onCaseChange, setCaseContext } from "./casectx";
import { clear, h } from "./dom";
import { lang, setLang, t } from "./i18n";
import { onLiveState, startLive, stopLive } from "./live";
import { loadRoads, OpsMap } from "./map";
import { session } from "./session";
import { loadStatic, refreshAll, resetRefusals, store } from "./store";
import { forgetForms, restoreForm, saveForm } from "./formstate";
import { redWatch, stopRedWatch } from "./redwatch";
import { alertWatch, stopAlertWatch } from "./alertwatch";
import { forgetAnalyst } from "./views/analyst";
import { forgetCallerHistory } from "./views/calls";
import { navBar, type Nav } from "./nav";
import { VIEWS, type View } from "./views";
import { passwordButton } from "./views/password";

const root = document.getElementById("app")!;
let opsMap: OpsMap | null = null;
let current: View | null = null;
let cleanup: (() => void) | null = null;
let nav: Nav | null = null;

function viewsFor(role: string): View[] {
  return VIEWS.filter((v) => v.roles.includes(role));
}

function render(): void {
  document.title = t("app.title");
  document.documentElement.lang = lang();
  if (!session.me) renderLogin();
  else renderShell();
}

function langButton(): HTMLElement {
  return h("button.lang#lang-switch", {
    title: "中文 / English",
    onclick: () => { saveForm(); setLang(lang() === "en" ? "zh-CN" : "en"); render(); },
  }, t("lang.switch"));
}

function renderLogin(): void {
  document.body.className = "login-page";
  const user = h("input#login-username", { name: "username", autocomplete: "username", required: true }) as HTMLInputElement;
  const pass = h("input#login-password", { name: "password", type: "password", autocomplete: "current-password", required: true }) as HTMLInputElement;
  const err = h("p.error#login-error", { role: "alert" });
  const form = h("form.login-card", {
    onsubmit: async (e: Event) => {
      e.preventDefault();
      err.textContent = "";
      try {
        const tok = await api.request<{ access_token: string }>("POST", "/auth/token",
          { form: { username: user.value.trim(), password: pass.value } });
        api.setToken(tok.access_token);
        await start();
      } catch (ex) {
        err.textContent = t("login.failed", { msg: (ex as Error).message });
      }
    },
  },
    h("div.login-head", h("h1", t("app.title")), langButton()),
    h("h2", t("login.title")),
    h("label.field", h("span.label", t("login.username")), user),
    h("label.field", h("span.label", t("login.password")), pass),
    err,
    h("button.primary#login-submit", { type: "submit" }, t("login.submit")),
    h("p.muted.small", t("login.hint")));
  clear(root, h("div.login-wrap", form));
  user.focus();
}

function caseChip(): HTMLElement {
  const chip = h("span.case-chip#case-chip");
  const paint = () => {
    const ctx = caseContext();
    clear(chip,
      ctx ? t("case.current", { case: ctx.caseId, purpose: t(`purpose.${ctx.purpose}`) }) : t("case.none"),
      h("button.link", { onclick: () => void askCaseContext() }, t("case.change")),
      ctx ? h("button.link", { onclick: () => setCaseContext(null) }, t("case.clear")) : null);
  };
  paint();
  onCaseChange(paint);
  return chip;
}

function liveBadge(): HTMLElement {
  const el = h("span.live#live-indicator", { title: t("live.title") });
  onLiveState((s) => { el.dataset.state = s; el.textContent = "● " + t(`live.${s}`); });
  return el;
}

function renderShell(): void {
  const me = session.me!;
  const views = viewsFor(me.role);
  const hasMap = views.some((v) => v.key === "map");
  document.body.className = hasMap ? "shell" : "shell no-map";
  // Grouped by task (nav.ts): every screen keeps its link #nav a[data-view=<key>] and route #/<key>.
  nav = navBar(views, defaultView(me.role));
  const panel = h("section.panel#panel");
  let mapEl = document.getElementById("map");
  if (hasMap && !mapEl) mapEl = h("div#map");
  clear(root,
    h("header.top",
      h("div.brand", h("b", t("app.short")), h("span.muted", " 情指勤舆督")),
      nav.el,
      h("div.right", caseChip(), liveBadge(), langButton(),
        redWatch(me.role), alertWatch(me.role),
        h("span.who#whoami", `${me.username} · ${t(`role.${me.role}`)}`),
        passwordButton(),
        h("button#logout", { onclick: logout }, t("logout")))),
    h("main.work", panel, hasMap ? mapEl : null));
  // Fixed panels sit below the header, whatever its height (it wraps on narrow screens).
  const top = root.querySelector("header.top") as HTMLElement;
  const setTop = () => document.documentElement.style.setProperty("--top-h", `${top.offsetHeight}px`);
  setTop();
  if ("ResizeObserver" in window) new ResizeObserver(setTop).observe(top);
  if (hasMap && !opsMap && mapEl) {
    opsMap = new OpsMap(mapEl);
    (window as any).__precinctMap = opsMap;
    void initMap(opsMap);
  } else if (opsMap) {
    opsMap.renderPanel();
    const m = opsMap;
    setTimeout(() => { if (!m.removed) m.map.invalidateSize(); }, 0);
  }
  route();
}

async function initMap(m: OpsMap): Promise<void> {
  const t0 = performance.now();
  performance.mark("precinct:map-init");
  const [roadsOk] = await Promise.all([loadRoads(m), refreshAll(), loadStatic()]);
  if (m.removed) return; // logged out while loading
  if (!roadsOk) {
    m.panel.appendChild(h("p.small.muted#no-roads", t("map.noRoads")));
    m.fit();
  }
  // Mark "first meaningful paint": after the layers have drawn on the next frame.
  // Every layer draws in the next animation frame; the mark follows the frame after it.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    performance.mark("precinct:map-drawn");
    (window as any).__precinctPaint = {
      mapDrawnMs: performance.now(), sinceInitMs: performance.now() - t0,
      incidents: m.sets.get("incidents")?.rows.length ?? 0, units: m.sets.get("units")?.rows.length ?? 0,
      roads: roadsOk,
    };
    document.body.dataset.mapReady = "1";
  }));
}

function route(): void {
  const me = session.me;
  if (!me) return;
  const views = viewsFor(me.role);
  const key = location.hash.replace(/^#\/?/, "").split("?")[0] || defaultView(me.role);
  const view = views.find((v) => v.key === key) ?? views.find((v) => v.key === defaultView(me.role)) ?? views[0];
  nav?.mark(view.key);
  const panel = document.getElementById("panel");
  if (!panel) return;
  // What was typed on the screen being left is kept (a tab or language switch never wipes a
  // half-typed call); the layers its tools drew leave the map with it.
  saveForm();
  cleanup?.();
  cleanup = null;
  if (panel.dataset.view && panel.dataset.view !== view.key) opsMap?.clearTransient();
  current = view;
  panel.dataset.view = view.key;
  clear(panel);
  try {
    cleanup = view.render(panel, { map: opsMap }) ?? null;
    restoreForm(panel, view.key);
  } catch (e) {
    panel.appendChild(h("p.error", t("common.error", { msg: (e as Error).message })));
  }
}

function defaultView(role: string): string {
  return ({ call_taker: "calls", dispatcher: "board", patrol: "orders", analyst: "analyst",
    supervisor: "supervision", auditor: "audit", admin: "map" } as Record<string, string>)[role] ?? "map";
}

async function logout(): Promise<void> {
  try { await api.post("/auth/logout"); } catch { /* token may have expired already */ }
  endSession();
}

function endSession(): void {
  api.setToken(null);
  setCaseContext(null);
  forgetForms();
  forgetCallerHistory();
  forgetAnalyst();
  stopRedWatch();
  stopAlertWatch();
  store.alerts = []; // plates: not left for the next user of this tab
  sessionStorage.removeItem("precinct.redAck");
  session.me = null;
  resetRefusals();
  stopLive();
  opsMap?.destroy();
  opsMap = null;
  document.getElementById("map")?.remove();
  cleanup?.();
  cleanup = null;
  current = null;
  history.replaceState(null, "", location.pathname);
  render();
}

async function start(): Promise<void> {
  try {
    session.me = await api.get("/auth/me");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { api.setToken(null); session.me = null; render(); return; }
    throw e;
  }
  render();
  startLive();
}

async function boot(): Promise<void> {
  setLang(lang());
  api.onUnauthorized = () => { if (session.me) endSession(); };
  await api.discover();
  performance.mark("precinct:discovered");
  window.addEventListener("hashchange", route);
  if (api.token) await start();
  else render();
}

void boot();
export { current };
