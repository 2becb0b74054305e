import { api } from "../api";
import { clear, h } from "../dom";
import { t, tOr } from "../i18n";
import { session } from "../session";
import { renderAdmin } from "./admin";
import { errorText, table } from "./common";
import type { View } from "./index";

export const usersView: View = {
  key: "users",
  roles: ["admin", "supervisor"],
  render(panel) {
    if (session.me?.role === "admin") { renderAdmin(panel); return; }  // manage; a supervisor only reads
    const out = h("div#users-out", t("common.loading"));
    panel.append(h("h2", t("users.title")), out);
    void (async () => {
      try {
        const rows = await api.get<any[]>("/users");
        clear(out, table([
          { key: "username", label: t("col.username") },
          { key: "role", label: t("col.role"), render: (r) => tOr(`role.${r.role}`, String(r.role ?? "")) },
          { key: "display_name", label: t("admin.displayName") },
          { key: "unit_id", label: t("col.unit") },
          { key: "locked", label: t("users.locked"), render: (r) => (r.locked ? "🔒" : "") },
          { key: "active", label: t("admin.state"), render: (r) => (r.active === false ? t("admin.disabled") : t("admin.active")) },
        ], rows, { id: "users-table" }));
      } catch (e) { clear(out, h("p.error", errorText(e))); }
    })();
  },
};
