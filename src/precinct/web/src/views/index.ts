import type { OpsMap } from "../map";
import { analystView } from "./analyst";
import { analyticsView } from "./analytics";
import { auditView } from "./audit";
import { boardView } from "./board";
import { callsView } from "./calls";
import { casesView } from "./casesview";
import { fraudView } from "./fraudview";
import { missingView } from "./missing";
import { mapView } from "./overview";
import { ordersView } from "./orders";
import { patrolView } from "./patrol";
import { publicView } from "./publicview";
import { pursuitView } from "./pursuit";
import { supervisionView } from "./supervision";
import { usersView } from "./users";

export interface ViewCtx { map: OpsMap | null }
export interface View {
  key: string;
  /** Mirrors the server's rules for the routes this view uses (the server enforces them). */
  roles: string[];
  render(panel: HTMLElement, ctx: ViewCtx): (() => void) | void;
}

export const VIEWS: View[] = [
  mapView, callsView, boardView, pursuitView, missingView, ordersView, casesView, analystView, analyticsView, patrolView, supervisionView, auditView, usersView,
  publicView, fraudView,
];
