// Cases and joint operations (合成作战): the user's cases, opening one, and a case's workspace
// (members, teams, tasks, timeline). Personal-data reads anywhere need an open case the user is
// on; "use this case" makes it the current case (X-Case-Id), and the case prompt offers these cases.
import { api } from "../api";
import { caseContext, purposesFor, setCaseContext } from "../casectx";
import { clear, field, fmtTime, h } from "../dom";
import { dictionaries, lang, t } from "../i18n";
import { session } from "../session";
import { thumb } from "./attachments";
import { errorText, table } from "./common";
import type { View } from "./index";

const casesEn: Record<string, string> = {
  "nav.cases": "Cases",
  "cases.title": "Cases and joint operations",
  "cases.mine": "My open cases",
  "cases.new": "Open a case",
  "cases.caseTitle": "Title",
  "cases.type": "Type",
  "cases.members": "Members (usernames, comma-separated)",
  "cases.teams": "Teams",
  "cases.open": "Open",
  "cases.use": "Use this case",
  "cases.lead": "Lead",
  "cases.stage": "Stage",
  "cases.status": "Status",
  "cases.overdue": "overdue",
  "cases.tasks": "Tasks and requests for service",
  "cases.task": "Request",
  "cases.team": "Team",
  "cases.deadline": "Deadline",
  "cases.addTask": "Request service",
  "cases.note": "Note",
  "cases.addNote": "Add note",
  "cases.attachments": "Notes and photos",
  "cases.attachNone": "No notes or photos yet",
  "cases.attachPhoto": "Photo",
  "cases.attach": "Attach",
  "cases.timeline": "Timeline",
  "cases.showTimeline": "Show timeline (audited read)",
  "cases.close": "Close case",
  "cases.reason": "Reason",
  "cases.disposition": "Disposition",
  "cases.pick": "Your open cases",
  "cases.none": "You are on no open case: open one under Cases first.",
};
const casesZh: Record<string, string> = {
  "nav.cases": "案件合成作战",
  "cases.title": "案件与合成作战",
  "cases.mine": "我的在办案件",
  "cases.new": "立案",
  "cases.caseTitle": "案件名称",
  "cases.type": "案件类别",
  "cases.members": "成员（用户名，逗号分隔）",
  "cases.teams": "警种",
  "cases.open": "立案",
  "cases.use": "以此案件查询",
  "cases.lead": "主办人",
  "cases.stage": "阶段",
  "cases.status": "状态",
  "cases.overdue": "超期",
  "cases.tasks": "任务与请求服务",
  "cases.task": "请求事项",
  "cases.team": "警种",
  "cases.deadline": "时限",
  "cases.addTask": "请求服务",
  "cases.note": "备注",
  "cases.addNote": "添加备注",
  "cases.attachments": "现场备注与照片",
  "cases.attachNone": "暂无备注或照片",
  "cases.attachPhoto": "照片",
  "cases.attach": "上传",
  "cases.timeline": "办案时间线",
  "cases.showTimeline": "查看时间线（查询留痕）",
  "cases.close": "结案",
  "cases.reason": "结案理由",
  "cases.disposition": "处理结果",
  "cases.pick": "我的在办案件",
  "cases.none": "您没有在办案件：请先在“案件合成作战”中立案。",
};
Object.assign(dictionaries.en, casesEn);
Object.assign(dictionaries["zh-CN"], casesZh);

interface Code { code: string; zh: string; en: string }
let codes: Record<string, Code[]> | null = null;

async function codeTables(): Promise<Record<string, Code[]>> {
  codes ??= await api.get<Record<string, Code[]>>("/cases/codes");
  return codes;
}

function label(c: Code): string { return lang() === "en" ? c.en : c.zh; }

/** The user's open cases (for the case prompt's list); [] when the registry cannot be read. */
export async function myOpenCases(): Promise<{ id: string; title: string; type: string }[]> {
  try {
    const r = await api.get<{ cases: any[] }>("/cases", { query: { mine: true, status: "open", limit: 100 } });
    return r.cases.map((c) => ({ id: String(c.id), title: String(c.title), type: String(c.type) }));
  } catch { return []; }
}

/** Fill a <datalist> with the user's open cases (the case prompt's picker). */
export async function fillCaseOptions(list: HTMLElement): Promise<void> {
  const cases = await myOpenCases();
  clear(list, cases.map((c) => h("option", { value: c.id }, `${c.title} (${c.type})`)));
}

function select(id: string, rows: Code[], empty = false): HTMLSelectElement {
  return h(`select#${id}`, empty ? h("option", { value: "" }, "—") : null,
    rows.map((c) => h("option", { value: c.code }, label(c)))) as HTMLSelectElement;
}

function workspace(box: HTMLElement, caseId: string, reload: () => void): void {
  clear(box, t("common.loading"));
  void (async () => {
    try {
      const [c, tasks, tables] = await Promise.all([
        api.get<any>(`/cases/${encodeURIComponent(caseId)}`),
        api.get<{ tasks: any[] }>(`/cases/${encodeURIComponent(caseId)}/tasks`),
        codeTables()]);
      const err = h("p.error");
      const act = (fn: () => Promise<unknown>) => async () => {
        err.textContent = "";
        try { await fn(); reload(); workspace(box, caseId, reload); } catch (e) { err.textContent = errorText(e); }
      };
      const title = h("input#task-title") as HTMLInputElement;
      const team = select("task-team", tables.teams, true);
      const deadline = h("input#task-deadline", { type: "datetime-local" }) as HTMLInputElement;
      const note = h("input#case-note") as HTMLInputElement;
      const reason = h("input#close-reason") as HTMLInputElement;
      const disposition = select("close-disposition", tables.dispositions, true);
      const tl = h("div#case-timeline");
      const purposes = purposesFor(session.me?.role ?? "");
      const base = `/cases/${encodeURIComponent(caseId)}`;
      clear(box,
        h("h3", `${c.id} · ${c.title}`),
        h("p", `${t("cases.type")}: ${c.type_zh} · ${t("cases.status")}: ${c.status} · ${t("cases.stage")}: ${c.stage}`,
          c.overdue ? h("b.overdue", ` · ${t("cases.overdue")}`) : null),
        h("p", `${t("cases.lead")}: ${c.lead} · ${t("cases.members")}: ${c.members.join(", ")}`),
        h("p", `${t("cases.teams")}: ${c.teams.join(", ") || "—"}`),
        c.status === "open" && purposes.length ? h("button.primary#case-use", {
          onclick: () => setCaseContext({ caseId: c.id, purpose: caseContext()?.purpose && purposes.includes(caseContext()!.purpose)
            ? caseContext()!.purpose : purposes[0] }),
        }, t("cases.use")) : null,
        h("h4", t("cases.tasks")),
        table([
          { key: "title", label: t("cases.task") },
          { key: "team", label: t("cases.team"), render: (r) => String(r.team_zh ?? r.team ?? r.assignee ?? "") },
          { key: "status", label: t("cases.status"), render: (r) => `${r.status}${r.overdue ? ` (${t("cases.overdue")})` : ""}` },
          { key: "deadline", label: t("cases.deadline"), render: (r) => fmtTime(r.deadline) },
          { key: "result", label: "", render: (r) => String(r.result ?? "") },
        ], tasks.tasks, { id: "case-tasks" }),
        c.status === "open" ? h("form.inline", { onsubmit: (e: Event) => { e.preventDefault(); void act(() => api.post(`${base}/tasks`, {
          title: title.value.trim(), team: team.value || undefined,
          deadline: deadline.value ? new Date(deadline.value).toISOString() : undefined }))(); } },
          field(t("cases.task"), title), field(t("cases.team"), team), field(t("cases.deadline"), deadline),
          h("button", { type: "submit" }, t("cases.addTask"))) : null,
        c.status === "open" ? h("form.inline", { onsubmit: (e: Event) => { e.preventDefault(); void act(() =>
          api.post(`${base}/notes`, { text: note.value.trim() }))(); } },
          field(t("cases.note"), note), h("button", { type: "submit" }, t("cases.addNote"))) : null,
        h("h4", t("cases.timeline")),
        h("button#case-timeline-load", { onclick: async () => {
          setCaseContext({ caseId: c.id, purpose: purposes.includes(caseContext()?.purpose ?? "") ? caseContext()!.purpose : purposes[0] });
          try {
            const data = await api.get<{ events: any[] }>("/cases/timeline", { personal: true });
            clear(tl, table([
              { key: "at", label: "", render: (r) => fmtTime(r.at) },
              { key: "kind", label: "" },
              { key: "actor", label: "" },
              { key: "what", label: "", render: (r) => String(r.resource ?? r.text ?? r.link_kind ?? r.task?.title ?? "") },
              { key: "result_count", label: "#" },
            ], data.events.slice().reverse(), { id: "case-timeline-table" }));
          } catch (e) { clear(tl, h("p.error", errorText(e))); }
        } }, t("cases.showTimeline")),
        tl,
        h("h4", t("cases.attachments")), attachBox(base, c.status === "open"),
        c.status === "open" ? h("form.inline", { onsubmit: (e: Event) => { e.preventDefault(); void act(() =>
          api.post(`${base}/close`, { reason: reason.value.trim(), disposition: disposition.value || undefined }))(); } },
          field(t("cases.reason"), reason), field(t("cases.disposition"), disposition),
          h("button", { type: "submit" }, t("cases.close"))) : null,
        err);
    } catch (e) {
      clear(box, h("p.error", errorText(e)));
    }
  })();
}

/** A case's notes and photos (issue 19): the list (each read audited) and, on an open case, a form. */
function attachBox(base: string, open: boolean): HTMLElement {
  const list = h("ul.attachments#case-attachments", { style: "list-style:none;padding:0;margin:.3rem 0" });
  const err = h("p.error#case-attach-error");
  const load = async (): Promise<void> => {
    try {
      const data = await api.get<{ attachments: any[] }>(`${base}/attachments`);
      clear(list, ...(data.attachments.length ? await Promise.all(data.attachments.map(thumb))
        : [h("li.muted", t("cases.attachNone"))]));
      list.dataset.count = String(data.attachments.length);
    } catch (e) { clear(list, h("li.error", errorText(e))); }
  };
  void load();
  if (!open) return h("div", list);
  const note = h("input#case-attach-note") as HTMLInputElement;
  const file = h("input#case-attach-file", { type: "file", accept: "image/jpeg,image/png,image/webp" }) as HTMLInputElement;
  const form = h("form.inline#case-attach-form", { onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    const photo = file.files?.[0];
    const text = note.value.trim();
    const headers: Record<string, string> = { Authorization: `Bearer ${api.token ?? ""}` };
    let body: BodyInit;
    let url = `/api/v1${base}/attachments`;
    if (photo) {
      headers["Content-Type"] = photo.type;
      body = photo;
      if (text) url += `?note=${encodeURIComponent(text)}`;
    } else {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify({ note: text });
    }
    const r = await fetch(url, { method: "POST", headers, body });
    if (!r.ok) { const j = await r.json().catch(() => ({})); err.textContent = String(j.message ?? r.status); return; }
    note.value = ""; file.value = "";
    await load();
  } }, field(t("cases.note"), note), field(t("cases.attachPhoto"), file), h("button", { type: "submit" }, t("cases.attach")));
  return h("div", list, form, err);
}

export const casesView: View = {
  key: "cases",
  roles: ["call_taker", "dispatcher", "patrol", "analyst", "supervisor", "auditor", "admin"],
  render(panel) {
    const list = h("div#cases-list");
    const ws = h("div#case-workspace");
    const form = h("form#case-new");
    const err = h("p.error");
    panel.append(h("h2", t("cases.title")), h("h3", t("cases.mine")), list, h("h3", t("cases.new")), form, err, ws);

    async function reload(): Promise<void> {
      try {
        const r = await api.get<{ cases: any[] }>("/cases", { query: { mine: true, limit: 200 } });
        clear(list, table([
          { key: "id", label: "ID" },
          { key: "title", label: t("cases.caseTitle") },
          { key: "type_zh", label: t("cases.type"), render: (c) => (lang() === "en" ? c.type : c.type_zh) },
          { key: "status", label: t("cases.status"), render: (c) => `${c.status}${c.overdue ? ` (${t("cases.overdue")})` : ""}` },
          { key: "lead", label: t("cases.lead") },
        ], r.cases, { id: "cases-table", onRow: (c) => workspace(ws, c.id, () => void reload()) }));
      } catch (e) { clear(list, h("p.error", errorText(e))); }
    }

    void (async () => {
      try {
        const tables = await codeTables();
        const title = h("input#case-title", { required: true, maxlength: 200 }) as HTMLInputElement;
        const type = select("case-type", tables.types);
        const members = h("input#case-members") as HTMLInputElement;
        const team = select("case-team", tables.teams, true);
        clear(form, field(t("cases.caseTitle"), title), field(t("cases.type"), type),
          field(t("cases.members"), members), field(t("cases.teams"), team),
          h("button.primary#case-open", { type: "submit" }, t("cases.open")));
        form.addEventListener("submit", async (e) => {
          e.preventDefault();
          err.textContent = "";
          try {
            const c = await api.post<any>("/cases", {
              title: title.value.trim(), type: type.value,
              members: members.value.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean),
              teams: team.value ? [team.value] : [] });
            title.value = ""; members.value = "";
            await reload();
            workspace(ws, c.id, () => void reload());
          } catch (ex) { err.textContent = errorText(ex); }
        });
      } catch (e) { clear(form, h("p.error", errorText(e))); }
    })();
    void reload();
  },
};
