// What is typed on a screen survives a tab or language switch: the values of the panel's inputs
// (by element id) are kept per screen for the session and put back when the screen is drawn
// again. Nothing is written to storage (a call's details are personal data); logout forgets all.
type Saved = Map<string, { value: string; checked: boolean }>;
const forms = new Map<string, Saved>();

function fields(panel: Element): (HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement)[] {
  return [...panel.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("input[id], select[id], textarea[id]")]
    .filter((el) => !(el instanceof HTMLInputElement && ["file", "password", "hidden", "button", "submit"].includes(el.type)));
}

/** Keep the values of the screen now in #panel. */
export function saveForm(): void {
  const panel = document.getElementById("panel");
  const view = panel?.dataset.view;
  if (!panel || !view) return;
  const saved: Saved = new Map();
  for (const el of fields(panel)) {
    saved.set(el.id, { value: el.value, checked: el instanceof HTMLInputElement ? el.checked : false });
  }
  forms.set(view, saved);
}

/** Put back what was typed on ``view`` (only where it differs from what the screen drew). */
export function restoreForm(panel: Element, view: string): void {
  const saved = forms.get(view);
  if (!saved) return;
  for (const el of fields(panel)) {
    const s = saved.get(el.id);
    if (!s) continue;
    if (el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio")) el.checked = s.checked;
    else if (el instanceof HTMLSelectElement) {
      if ([...el.options].some((o) => o.value === s.value)) el.value = s.value;
    } else el.value = s.value;
  }
}

export function forgetForms(): void { forms.clear(); }
