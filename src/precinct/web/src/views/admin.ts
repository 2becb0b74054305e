// The administrator's screen: user accounts (create, disable / enable, unlock, change the role, reset
// the password: both end the user's sessions; the last active administrator stays one), units (create or
// update, callsign, out of service / available), hotlist entries (a personal-data read: asked under
// the current case and purpose; add / remove a plate with a reason) and ANPR cameras (list, add).
// Every value goes in as text; the server enforces each rule (core/policy.py).
import { api } from "../api";
import { clear, field, fmtTime, h, toast } from "../dom";
import { t, tOr } from "../i18n";
import { session } from "../session";
import { errorText, table } from "./common";

const ROLES = ["call_taker", "dispatcher", "patrol", "analyst", "supervisor", "auditor", "admin"];
const UNIT_TYPES = ["patrol", "special", "traffic", "community", "detective"];

function input(id: string, attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h(`input#${id}`, attrs) as HTMLInputElement;
}

function select(id: string, values: string[], label: (v: string) => string): HTMLSelectElement {
  return h(`select#${id}`, values.map((v) => h("option", { value: v }, label(v)))) as HTMLSelectElement;
}

function section(id: string, title: string, ...body: HTMLElement[]): HTMLElement {
  return h(`section#${id}.admin-section`, h("h3", title), ...body);
}

async function act(fn: () => Promise<unknown>, ok: string, after: () => void): Promise<void> {
  try { await fn(); toast(ok, "ok"); after(); } catch (e) { toast(errorText(e), "error"); }
}

/** The role or password form of one account, shown above the accounts table. */
function editUser(box: HTMLElement, r: any, what: "role" | "password", after: () => void): void {
  const uid = encodeURIComponent(r.id);
  const done = () => { clear(box); after(); };
  const cancel = h("button#admin-edit-cancel", { type: "button", onclick: () => clear(box) }, t("admin.cancel"));
  if (what === "role") {
    const role = select("admin-edit-role", ROLES, (x) => t(`role.${x}`));
    role.value = String(r.role ?? "");
    clear(box, h("form#admin-role-form.inline", { onsubmit: (e: Event) => {
      e.preventDefault();
      void act(() => api.post(`/users/${uid}/role`, { role: role.value }), t("admin.roleChanged", { user: r.username }), done);
    } }, h("h4", t("admin.roleOf", { user: r.username })), field(t("col.role"), role, t("admin.endsSessions")),
    h("button#admin-role-save", { type: "submit" }, t("admin.changeRole")), cancel));
  } else {
    const pass = input("admin-edit-pass", { type: "password", required: true, minlength: 8, maxlength: 256,
      autocomplete: "new-password" });
    clear(box, h("form#admin-pass-form.inline", { onsubmit: (e: Event) => {
      e.preventDefault();
      void act(() => api.post(`/users/${uid}/password`, { password: pass.value }), t("admin.passwordReset", { user: r.username }), done);
    } }, h("h4", t("admin.passwordOf", { user: r.username })),
    field(t("admin.newPassword"), pass, t("admin.resetHint")),
    h("button#admin-pass-save", { type: "submit" }, t("admin.resetPassword")), cancel));
    pass.focus();
  }
}

function usersSection(): HTMLElement {
  const out = h("div#admin-users-out", t("common.loading"));
  const edit = h("div#admin-user-edit");
  const load = async (): Promise<void> => {
    try {
      const rows = await api.get<any[]>("/users");
      clear(out, table([
        { key: "username", label: t("col.username") },
        { key: "display_name", label: t("admin.displayName") },
        { key: "role", label: t("col.role"), render: (r) => tOr(`role.${r.role}`, String(r.role ?? "")) },
        { key: "unit_id", label: t("col.unit") },
        { key: "active", label: t("admin.state"), render: (r) =>
          (r.active === false ? t("admin.disabled") : r.locked ? t("users.locked") : t("admin.active")) },
        { key: "actions", label: "", render: (r) => {
          const mine = r.username === session.me?.username;
          const toggle = h("button.admin-toggle", { type: "button", disabled: mine, onclick: () => void act(
            () => api.post(`/users/${encodeURIComponent(r.id)}/active`, { active: r.active === false }),
            r.active === false ? t("admin.enabledOk") : t("admin.disabledOk"), () => void load()) },
          r.active === false ? t("admin.enable") : t("admin.disable"));
          const unlock = r.locked && r.active !== false ? h("button.admin-unlock", { type: "button", onclick: () =>
            void act(() => api.post(`/users/${encodeURIComponent(r.id)}/unlock`), t("admin.unlockedOk"),
              () => void load()) }, t("admin.unlock")) : null;
          const role = h("button.admin-role", { type: "button", onclick: () => editUser(edit, r, "role", () => void load()) },
            t("admin.changeRole"));
          const pass = h("button.admin-pass", { type: "button", onclick: () => editUser(edit, r, "password", () => void load()) },
            t("admin.resetPassword"));
          return h("span.actions", toggle, unlock, role, pass);
        } },
      ], rows, { id: "admin-users-table", rowClass: (r) => (r.active === false ? "inactive" : "") }));
    } catch (e) { clear(out, h("p.error", errorText(e))); }
  };
  const name = input("admin-user-name", { required: true, maxlength: 64, autocomplete: "off" });
  const display = input("admin-user-display", { maxlength: 128, autocomplete: "off" });
  const role = select("admin-user-role", ROLES, (r) => t(`role.${r}`));
  const unit = input("admin-user-unit", { maxlength: 64, autocomplete: "off" });
  const pass = input("admin-user-pass", { type: "password", required: true, minlength: 8, maxlength: 256,
    autocomplete: "new-password" });
  const form = h("form#admin-user-form.inline", { onsubmit: (e: Event) => {
    e.preventDefault();
    void act(() => api.post("/users", { username: name.value.trim(), role: role.value, password: pass.value,
      display_name: display.value.trim() || null, unit_id: unit.value.trim() || null }),
    t("admin.userCreated"), () => { name.value = ""; pass.value = ""; display.value = ""; unit.value = ""; void load(); });
  } },
  field(t("col.username"), name), field(t("admin.displayName"), display), field(t("col.role"), role),
  field(t("col.unit"), unit), field(t("admin.password"), pass, t("admin.passwordHint")),
  h("button#admin-user-create", { type: "submit" }, t("admin.createUser")));
  void load();
  return section("admin-users", t("users.title"), form, edit, out);
}

function unitsSection(): HTMLElement {
  const out = h("div#admin-units-out", t("common.loading"));
  const setStatus = (id: string, status: string) => void act(
    () => api.post(`/units/${encodeURIComponent(id)}/status`, { status }), t("admin.unitStatusOk"), () => void load());
  const load = async (): Promise<void> => {
    try {
      const rows = (await api.get<any>("/units")).units ?? [];
      clear(out, table([
        { key: "id", label: t("admin.unitId") },
        { key: "callsign", label: t("admin.callsign") },
        { key: "unit_type", label: t("col.type"), render: (r) => tOr(`admin.unitType.${r.unit_type}`, String(r.unit_type ?? "")) },
        { key: "station", label: t("admin.station") },
        { key: "status", label: t("col.status"), render: (r) => tOr(`status.${r.status}`, t("admin.otherStatus")) },
        { key: "position_at", label: t("admin.positionAt"), render: (r) => fmtTime(r.position_at) },
        { key: "actions", label: "", render: (r) => r.status === "out_of_service"
          ? h("button.admin-unit-available", { type: "button", onclick: () => setStatus(r.id, "available") }, t("admin.setAvailable"))
          : r.status === "available"
            ? h("button.admin-unit-oos", { type: "button", onclick: () => setStatus(r.id, "out_of_service") }, t("admin.setOos"))
            : "" },
      ], rows, { id: "admin-units-table", rowClass: (r) => `status-${String(r.status ?? "")}` }));
    } catch (e) { clear(out, h("p.error", errorText(e))); }
  };
  const id = input("admin-unit-id", { required: true, maxlength: 64, pattern: "[^\\s/?#]+", autocomplete: "off" });
  const callsign = input("admin-unit-callsign", { maxlength: 64, autocomplete: "off" });
  const type = select("admin-unit-type", UNIT_TYPES, (u) => t(`admin.unitType.${u}`));
  const station = input("admin-unit-station", { maxlength: 128, autocomplete: "off" });
  const form = h("form#admin-unit-form.inline", { onsubmit: (e: Event) => {
    e.preventDefault();
    void act(() => api.post("/units", { id: id.value.trim(), callsign: callsign.value.trim() || null,
      unit_type: type.value, station: station.value.trim() || null }),
    t("admin.unitSaved"), () => { id.value = ""; callsign.value = ""; station.value = ""; void load(); });
  } },
  field(t("admin.unitId"), id, t("admin.unitIdHint")), field(t("admin.callsign"), callsign),
  field(t("col.type"), type), field(t("admin.station"), station),
  h("button#admin-unit-save", { type: "submit" }, t("admin.saveUnit")));
  void load();
  return section("admin-units", t("admin.units"), form, out);
}

function hotlistSection(): HTMLElement {
  const out = h("div#admin-hotlist-out", h("p.hint", t("admin.hotlistHint")));
  const load = async (): Promise<void> => {
    try {
      const rows = (await api.get<any>("/anpr/hotlist", { personal: true })).entries ?? [];
      clear(out, rows.length ? table([
        { key: "plate", label: t("col.plate") },
        { key: "list", label: t("admin.list") },
        { key: "reason", label: t("admin.reason") },
        { key: "created_by", label: t("admin.createdBy") },
        { key: "expires_at", label: t("admin.expiresAt"), render: (r) => fmtTime(r.expires_at) },
        { key: "actions", label: "", render: (r) => h("button.admin-hotlist-remove", { type: "button", onclick: () =>
          void act(() => api.request("DELETE", `/anpr/hotlist/${encodeURIComponent(r.id)}`), t("admin.removedOk"),
            () => void load()) }, t("admin.remove")) },
      ], rows, { id: "admin-hotlist-table" }) : h("p.hint", t("admin.hotlistEmpty")));
    } catch (e) { clear(out, h("p.error", errorText(e))); }
  };
  const plate = input("admin-hotlist-plate", { required: true, maxlength: 64, autocomplete: "off" });
  const reason = input("admin-hotlist-reason", { required: true, maxlength: 256, autocomplete: "off" });
  const list = input("admin-hotlist-list", { maxlength: 64, value: "wanted", autocomplete: "off" });
  const form = h("form#admin-hotlist-form.inline", { onsubmit: (e: Event) => {
    e.preventDefault();
    void act(() => api.post("/anpr/hotlist", { entries: [{ plate: plate.value.trim(), reason: reason.value.trim(),
      list: list.value.trim() || "wanted" }] }), t("admin.addedOk"), () => { plate.value = ""; reason.value = ""; });
  } },
  field(t("col.plate"), plate), field(t("admin.reason"), reason), field(t("admin.list"), list),
  h("button#admin-hotlist-add", { type: "submit" }, t("admin.addPlate")));
  const show = h("button#admin-hotlist-load", { type: "button", onclick: () => void load() }, t("admin.showHotlist"));
  return section("admin-hotlist", t("admin.hotlist"), form, h("p", show), out);
}

function camerasSection(): HTMLElement {
  const out = h("div#admin-cameras-out", t("common.loading"));
  const load = async (): Promise<void> => {
    try {
      const rows = (await api.get<any>("/anpr/cameras")).cameras ?? [];
      clear(out, rows.length ? table([
        { key: "camera_id", label: t("admin.cameraId") },
        { key: "lat", label: t("col.lat") },
        { key: "lon", label: t("col.lon") },
      ], rows, { id: "admin-cameras-table" }) : h("p.hint", t("admin.noCameras")));
    } catch (e) { clear(out, h("p.error", errorText(e))); }
  };
  const id = input("admin-camera-id", { required: true, maxlength: 128, autocomplete: "off" });
  const name = input("admin-camera-name", { maxlength: 128, autocomplete: "off" });
  const lat = input("admin-camera-lat", { required: true, type: "number", step: "any", min: -90, max: 90 });
  const lon = input("admin-camera-lon", { required: true, type: "number", step: "any", min: -180, max: 180 });
  const form = h("form#admin-camera-form.inline", { onsubmit: (e: Event) => {
    e.preventDefault();
    void act(() => api.request("PUT", "/anpr/cameras", { body: [{ camera_id: id.value.trim(), name: name.value.trim() || null,
      lat: Number(lat.value), lon: Number(lon.value) }] }), t("admin.cameraSaved"),
    () => { id.value = ""; name.value = ""; lat.value = ""; lon.value = ""; void load(); });
  } },
  field(t("admin.cameraId"), id), field(t("col.name"), name), field(t("col.lat"), lat), field(t("col.lon"), lon),
  h("button#admin-camera-save", { type: "submit" }, t("admin.saveCamera")));
  void load();
  return section("admin-cameras", t("admin.cameras"), form, out);
}

/** The whole administrator screen (the users tab shows it to an administrator). */
export function renderAdmin(panel: HTMLElement): void {
  panel.append(h("h2", t("admin.title")), usersSection(), unitsSection(), hotlistSection(), camerasSection());
}
