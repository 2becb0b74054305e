// Changing one's own password from the header (issue 21): current and new (twice); the server
// checks the current one and ends the user's other sessions (POST /auth/password).
import { api } from "../api";
import { field, h, toast } from "../dom";
import { t } from "../i18n";
import { errorText } from "./common";

function openDialog(): void {
  const pw = (id: string, auto: string) => h(`input#${id}`, { type: "password", required: true, maxlength: 256,
    autocomplete: auto, ...(auto === "new-password" ? { minlength: 8 } : {}) }) as HTMLInputElement;
  const current = pw("pw-current", "current-password");
  const next = pw("pw-new", "new-password");
  const again = pw("pw-again", "new-password");
  const err = h("p.error#pw-error");
  const close = () => overlay.remove();
  const form = h("form.modal#password-form", { onsubmit: async (e: Event) => {
    e.preventDefault();
    if (next.value !== again.value) { err.textContent = t("account.mismatch"); return; }
    try {
      await api.post("/auth/password", { current_password: current.value, new_password: next.value });
      close();
      toast(t("account.changed"), "ok");
    } catch (ex) { err.textContent = errorText(ex); }
  } },
  h("h2", t("account.changePassword")),
  field(t("account.current"), current), field(t("account.new"), next, t("account.rules")), field(t("account.again"), again),
  err,
  h("div.actions", h("button.primary#pw-ok", { type: "submit" }, t("account.changePassword")),
    h("button#pw-cancel", { type: "button", onclick: close }, t("admin.cancel"))));
  const overlay = h("div.overlay#password-dialog", form);
  document.body.appendChild(overlay);
  current.focus();
}

/** The header's button that opens the dialog. */
export function passwordButton(): HTMLElement {
  return h("button#change-password", { type: "button", title: t("account.changePassword"),
    onclick: openDialog }, t("account.short"));
}
