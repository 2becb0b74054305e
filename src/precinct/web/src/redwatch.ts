// Red calls for the dispatcher: a header count of red incidents nobody has looked at yet, and a
// banner with a short tone when a new one arrives (open it on the board, or acknowledge it).
// "Acknowledged" here is the dispatcher having seen it (opened or confirmed), kept for the session.
import { h } from "./dom";
import { lang, t } from "./i18n";
import { priorityOf } from "./map";
import { ackRed, idOf, incidentTypeName, isRedAcked, store, subscribe } from "./store";

const ROLES = ["dispatcher", "supervisor"];
let known: Set<string> | null = null;
let off: (() => void) | null = null;

function unacked(): any[] {
  return [...store.incidents.values()].filter((r) =>
    priorityOf(r) === "red" && String(r.status ?? "new") === "new" && !isRedAcked(idOf(r)));
}

function beep(): void {
  try {
    const Ctx = (window as any).AudioContext ?? (window as any).webkitAudioContext;
    if (!Ctx) return;
    const ctx = new Ctx();
    const osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.08;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.35);
    osc.onended = () => void ctx.close();
  } catch { /* no sound: the banner still shows */ }
}

function openOnBoard(id: string): void {
  ackRed(id);
  location.hash = `#/board?incident=${encodeURIComponent(id)}`;
}

function banner(r: any): void {
  document.getElementById("red-banner")?.remove();
  const id = idOf(r);
  const el = h("div#red-banner", { role: "alert", dataset: { incident: id } },
    h("b", t("red.new")), " ", `${id} · ${incidentTypeName(r, lang())}${r.address ? ` · ${r.address}` : ""}`, " ",
    h("button.small.primary#red-banner-open", { type: "button", onclick: () => { el.remove(); openOnBoard(id); } }, t("red.open")),
    h("button.small#red-banner-ack", { type: "button", onclick: () => { ackRed(id); el.remove(); } }, t("red.ack")));
  document.body.appendChild(el);
  beep();
}

/** The header's count (dispatcher and supervisor; an empty node for the other roles). */
export function redWatch(role: string): HTMLElement | null {
  off?.();
  off = null;
  if (!ROLES.includes(role)) { known = null; return null; }
  const badge = h("button.small.red-count#red-unacked", { type: "button", title: t("red.title"), hidden: true });
  const paint = () => {
    const list = unacked();
    badge.hidden = !list.length;
    badge.textContent = t("red.count", { n: list.length });
    badge.onclick = () => { if (list[0]) openOnBoard(idOf(list[0])); };
    if (!store.loaded.incidents) return;
    if (known === null) { known = new Set(store.incidents.keys()); return; }
    // A red incident not seen before (arrived since the last look): banner and tone.
    const fresh = list.filter((r) => !known!.has(idOf(r)));
    for (const k of store.incidents.keys()) known.add(k);
    if (fresh.length) banner(fresh[0]);
  };
  const a = subscribe("incidents", paint), b = subscribe("acks", paint);
  off = () => { a(); b(); };
  paint();
  return badge;
}

export function stopRedWatch(): void {
  off?.();
  off = null;
  known = null;
  document.getElementById("red-banner")?.remove();
}
