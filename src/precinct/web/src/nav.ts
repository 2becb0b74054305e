// The top navigation, grouped by role task (issue 21: a supervisor had 15 flat tabs).
//
// Top row: the map and cases on their own (every role's common picture and the key to personal
// data), then one button per task group (指挥 command, 研判 analysis, 督察 supervision, 舆情 public,
// 反诈 fraud, 管理 admin). A group of which the role may open one screen only is that screen's own
// link. Second row: the screens of the group the open screen belongs to (or, on a screen of its
// own, the role's home group). Every screen keeps its link `#nav a[data-view=<key>]` and its route
// `#/<key>`; a group button opens the screen last used in that group. Keys: Tab, Enter; ←/→ move
// within a row, ↓ from a group button goes to its screens, ↑ back.
import "./nav.css";
import { h } from "./dom";
import { t } from "./i18n";
import type { View } from "./views";

/** Task groups in top-row order with their screens; a screen in none stands alone. */
export const NAV_GROUPS: { key: string; views: string[] }[] = [
  { key: "command", views: ["calls", "board", "orders"] },
  { key: "analysis", views: ["analyst", "analytics", "missing", "pursuit", "patrol"] },
  { key: "supervision", views: ["supervision", "audit"] },
  { key: "public", views: ["public"] },
  { key: "fraud", views: ["fraud"] },
  { key: "admin", views: ["users"] },
];
// Where the stand-alone screens and the groups sit in the top row (screens not named go last).
const TOP_ORDER = ["map", "command", "analysis", "cases", "supervision", "public", "fraud", "admin"];
const LAST = "precinct.navLast.";

interface Item { group: string | null; views: View[] }

/** The top-row items for these views (a role's screens): groups of two or more, else links. */
export function navItems(views: View[]): Item[] {
  const grouped = new Map<string, View[]>();
  const items: { order: number; item: Item }[] = [];
  const rank = (k: string) => { const i = TOP_ORDER.indexOf(k); return i < 0 ? TOP_ORDER.length : i; };
  views.forEach((v, i) => {
    const g = NAV_GROUPS.find((x) => x.views.includes(v.key));
    if (!g) { items.push({ order: rank(v.key) * 100 + i, item: { group: null, views: [v] } }); return; }
    if (!grouped.has(g.key)) grouped.set(g.key, []);
    grouped.get(g.key)!.push(v);
  });
  for (const g of NAV_GROUPS) {
    const vs = (grouped.get(g.key) ?? []).sort((a, b) => g.views.indexOf(a.key) - g.views.indexOf(b.key));
    if (vs.length) items.push({ order: rank(g.key) * 100, item: { group: vs.length > 1 ? g.key : null, views: vs } });
  }
  return items.sort((a, b) => a.order - b.order).map((x) => x.item);
}

function link(v: View): HTMLElement {
  return h("a", { href: `#/${v.key}`, dataset: { view: v.key } }, t(`nav.${v.key}`));
}

/** Focus the next or previous link/button of the same row (wrapping). */
function arrows(row: HTMLElement, e: KeyboardEvent): void {
  const items = [...row.querySelectorAll<HTMLElement>(":scope > a, :scope > button")];
  const i = items.indexOf(document.activeElement as HTMLElement);
  if (i < 0) return;
  if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
    e.preventDefault();
    items[(i + (e.key === "ArrowRight" ? 1 : items.length - 1)) % items.length].focus();
  }
}

export interface Nav { el: HTMLElement; mark(viewKey: string): void }

/** The navigation element for a role's views; ``mark`` shows which screen is open. */
export function navBar(views: View[], homeView: string): Nav {
  const items = navItems(views);
  const top = h("div.nav-row.nav-top#nav-top", { role: "group", "aria-label": t("navg.label") });
  const subs = new Map<string, HTMLElement>();
  const groupOf = new Map<string, string>();
  const buttons = new Map<string, HTMLButtonElement>();
  for (const it of items) {
    if (!it.group) { top.append(link(it.views[0])); continue; }
    const g = it.group;
    const sub = h(`div.nav-row.nav-sub#nav-sub-${g}`, { role: "group", "aria-label": t(`navg.${g}`), hidden: true },
      it.views.map(link));
    sub.addEventListener("keydown", (e) => {
      arrows(sub, e);
      if (e.key === "ArrowUp") { e.preventDefault(); buttons.get(g)?.focus(); }
    });
    const btn = h(`button.nav-group#nav-group-${g}`, {
      type: "button", dataset: { group: g }, "aria-controls": `nav-sub-${g}`, "aria-expanded": "false",
      title: it.views.map((v) => t(`nav.${v.key}`)).join(" · "),
      onclick: () => {
        const last = sessionStorage.getItem(LAST + g);
        const to = it.views.find((v) => v.key === last) ?? it.views[0];
        if (location.hash.replace(/^#\/?/, "").split("?")[0] === to.key) show(g);
        else location.hash = `#/${to.key}`;
      },
      onkeydown: (e: KeyboardEvent) => {
        if (e.key !== "ArrowDown") return;
        e.preventDefault();
        show(g);
        (sub.querySelector<HTMLElement>("a.active") ?? sub.querySelector<HTMLElement>("a"))?.focus();
      },
    }, t(`navg.${g}`)) as HTMLButtonElement;
    top.append(btn);
    buttons.set(g, btn);
    subs.set(g, sub);
    it.views.forEach((v) => groupOf.set(v.key, g));
  }
  top.addEventListener("keydown", (e) => arrows(top, e));
  const el = h("nav.nav.nav-grouped#nav", { "aria-label": t("navg.label") }, top, [...subs.values()]);

  function show(g: string | undefined): void {
    subs.forEach((sub, k) => { sub.hidden = k !== g; buttons.get(k)?.setAttribute("aria-expanded", String(k === g)); });
  }

  return {
    el,
    mark(viewKey: string): void {
      el.querySelectorAll<HTMLElement>("a[data-view]").forEach((a) => {
        const on = a.dataset.view === viewKey;
        a.classList.toggle("active", on);
        if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
      });
      const g = groupOf.get(viewKey);
      buttons.forEach((b, k) => b.classList.toggle("active", k === g));
      if (g) sessionStorage.setItem(LAST + g, viewKey);
      show(g ?? groupOf.get(homeView));
    },
  };
}
