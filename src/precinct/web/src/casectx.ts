// The case and purpose that personal-data queries are bound to (X-Case-Id, X-Purpose).
// Asked for before the first such query, kept for this browser tab only, shown in the header.
import { h } from "./dom";
import { t } from "./i18n";
import { session } from "./session";
import { fillCaseOptions } from "./views/casesview";

export interface CaseContext { caseId: string; purpose: string }

const KEY = "precinct.case";

// Mirrors core/roles.py PURPOSE_ROLES (the server enforces it; the UI only offers what may work).
export const PURPOSE_ROLES: Record<string, string[]> = {
  investigation: ["analyst", "supervisor", "dispatcher", "admin"],
  missing_person: ["analyst", "supervisor", "dispatcher", "patrol", "admin"],
  hotlist_alert: ["dispatcher", "patrol", "analyst", "supervisor", "admin"],
  audit_review: ["auditor", "supervisor"],
  incident_response: ["call_taker", "dispatcher", "patrol", "supervisor", "admin"],
};

const listeners: (() => void)[] = [];
export function onCaseChange(fn: () => void): void { listeners.push(fn); }

export function caseContext(): CaseContext | null {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    return v && v.caseId && v.purpose ? v : null;
  } catch { return null; }
}

export function setCaseContext(ctx: CaseContext | null): void {
  if (ctx) sessionStorage.setItem(KEY, JSON.stringify(ctx));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((f) => f());
}

export function purposesFor(role: string): string[] {
  return Object.entries(PURPOSE_ROLES).filter(([, roles]) => roles.includes(role)).map(([p]) => p);
}

/** Modal prompt; resolves to the context entered, or null if cancelled. */
export function askCaseContext(preferPurpose?: string): Promise<CaseContext | null> {
  return new Promise((resolve) => {
    const role = session.me?.role ?? "";
    const purposes = purposesFor(role);
    const current = caseContext();
    const caseInput = h("input#case-id", { required: true, minlength: 2, maxlength: 128, list: "case-options",
      value: current?.caseId ?? "", placeholder: t("case.placeholder") }) as HTMLInputElement;
    const options = h("datalist#case-options");  // the user's open cases (a personal-data read needs one)
    void fillCaseOptions(options);
    const purposeSel = h("select#case-purpose",
      purposes.map((p) => h("option", { value: p }, t(`purpose.${p}`)))) as HTMLSelectElement;
    const want = preferPurpose ?? current?.purpose;
    if (want && purposes.includes(want)) purposeSel.value = want;
    const err = h("p.error");
    const close = (v: CaseContext | null) => { overlay.remove(); resolve(v); };
    const form = h("form.modal", { onsubmit: (e: Event) => {
      e.preventDefault();
      const caseId = caseInput.value.trim();
      if (caseId.length < 2) { err.textContent = t("case.tooShort"); return; }
      const ctx = { caseId, purpose: purposeSel.value };
      setCaseContext(ctx);
      close(ctx);
    } },
      h("h2", t("case.title")),
      h("p.muted", t("case.explain")),
      h("label.field", h("span.label", t("case.id")), caseInput, options),
      h("label.field", h("span.label", t("case.purpose")), purposeSel),
      err,
      h("div.actions",
        h("button.primary", { type: "submit", id: "case-ok" }, t("common.confirm")),
        h("button", { type: "button", onclick: () => close(null) }, t("common.cancel"))));
    const overlay = h("div.overlay", form);
    document.body.appendChild(overlay);
    caseInput.focus();
  });
}
