import type { OpsMap } from "../map";
import { analystView } from "./analyst";
import { auditView } from "./audit";
import { boardView } from "./board";
import { callsView } from "./calls";
import { casesView } from "./casesview";
import { missingView } from "./missing";
import { mapView } from "./overview";
import { ordersView } from "./orders";
import { patrolView } from "./patrol";
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
  mapView, callsView, boardView, pursuitView, missingView, ordersView, casesView, analystView, patrolView, supervisionView, auditView, usersView,
];
