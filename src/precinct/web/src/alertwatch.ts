// The header's count of hotlist hits nobody has acknowledged yet (dispatcher and supervisor, issue
// 21): the alerts come by the live stream; an acknowledgement on any board (anpr.alert_ack) lowers
// it on every board. A click opens the board, where the alert list is.
import { h } from "./dom";
import { t } from "./i18n";
import { subscribe } from "./store";
import { unackedAlerts } from "./views/boardalerts";

const ROLES = ["dispatcher", "supervisor"];
let off: (() => void) | null = null;

export function alertWatch(role: string): HTMLElement | null {
  off?.();
  off = null;
  if (!ROLES.includes(role)) return null;
  const badge = h("button.small.alert-count#alert-unacked", { type: "button", title: t("alerts.headerTitle"), hidden: true,
    onclick: () => { location.hash = "#/board"; document.getElementById("board-alerts")?.scrollIntoView({ block: "nearest" }); } });
  const paint = () => {
    const n = unackedAlerts().length;
    badge.hidden = !n;
    badge.textContent = t("alerts.headerCount", { n });
  };
  off = subscribe("alerts", paint);
  paint();
  return badge;
}

export function stopAlertWatch(): void {
  off?.();
  off = null;
}
