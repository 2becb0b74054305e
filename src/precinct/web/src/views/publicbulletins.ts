// Bulletins (警情通报) on the public-communication screen: a bilingual draft about an incident or a
// case, a preview with the personal data the server found replaced by highlighted markers, four-eyes
// approval, and correction or withdrawal of a published one (the history stays on the server).
import { api } from "../api";
import { clear, field, fmtTime, h, toast } from "../dom";
import { lang, t, tOr } from "../i18n";
import { session } from "../session";
import { errorText, table } from "./common";

const FIELDS = ["title_zh", "title_en", "body_zh", "body_en"] as const;
const LABELS: Record<string, string> = { title_zh: "pub.titleZh", title_en: "pub.titleEn", body_zh: "pub.bodyZh", body_en: "pub.bodyEn" };

/** A cleaned text with the server's markers ("[电话号码已删除 phone number removed]") highlighted. */
function marked(text: string): HTMLElement {
  return h("span", text.split(/(\[[^\]]*removed\])/).map((part, i) => (i % 2 ? h("mark", part) : part)));
}

export function bulletinsSection(box: HTMLElement): void {
  const me = session.me?.username ?? "";
  const mayApprove = ["supervisor", "admin"].includes(session.me?.role ?? "");
  const mayAuthor = session.me?.role === "supervisor";
  const err = h("p.error#pb-error");
  const previewBox = h("div#pb-preview");
  const listBox = h("div#pb-list");
  const editBox = h("div#pb-edit");
  const kind = h("select#pb-kind", ["incident", "case"].map((k) => h("option", { value: k }, t(`pub.kind.${k}`)))) as HTMLSelectElement;
  const source = h("input#pb-source", { maxlength: 64 }) as HTMLInputElement;
  const strip = h("input#pb-strip", { type: "checkbox" }) as HTMLInputElement;
  const inputs = Object.fromEntries(FIELDS.map((f) => [f, f.startsWith("title")
    ? h(`input#pb-${f}`, { maxlength: 200 }) : h(`textarea#pb-${f}`, { rows: 3, maxlength: 8000 })])) as Record<string, HTMLInputElement>;
  let correcting: string | null = null;
  const note = h("p.muted#pb-correcting");
  const texts = () => Object.fromEntries(FIELDS.map((f) => [f, inputs[f].value.trim() || undefined]));

  async function preview(): Promise<void> {
    err.textContent = "";
    try {
      const p = await api.post<{ texts: Record<string, string>; removed: { field: string; kind: string }[] }>(
        "/publishing/bulletins/preview", texts());
      const kinds = [...new Set(p.removed.map((r) => r.kind))].join(", ");
      clear(previewBox, h("h4", t("pub.previewPd")),
        h("p#pb-removed", p.removed.length ? t("pub.removed", { n: p.removed.length, kinds }) : t("pub.removedNone")),
        FIELDS.filter((f) => p.texts[f]).map((f) => h("p", h("b", `${t(LABELS[f])}: `), marked(p.texts[f]))));
    } catch (e) { err.textContent = errorText(e); }
  }

  async function save(): Promise<void> {
    err.textContent = "";
    try {
      const b = correcting
        ? await api.post<any>(`/publishing/bulletins/${encodeURIComponent(correcting)}/correct`, texts())
        : await api.post<any>("/publishing/bulletins", { ...texts(), source_kind: kind.value,
          source_id: source.value.trim(), strip: strip.checked });
      toast(t("pub.bulletinSaved", { id: b.id }), "ok");
      correcting = null;
      note.textContent = "";
      for (const f of FIELDS) inputs[f].value = "";
      clear(previewBox);
      await reload();
    } catch (e) { err.textContent = errorText(e); }
  }

  const act = (fn: () => Promise<unknown>) => async (ev: Event) => {
    ev.stopPropagation();
    err.textContent = "";
    try { await fn(); await reload(); } catch (e) { err.textContent = errorText(e); }
  };

  function title(b: any): string { return String(lang() === "en" ? b.title_en : b.title_zh); }

  async function reload(): Promise<void> {
    try {
      const r = await api.get<{ bulletins: any[] }>("/publishing/bulletins");
      const drafts = r.bulletins.filter((b) => b.state === "draft");
      const published = r.bulletins.filter((b) => b.state === "published" || b.state === "withdrawn");
      clear(listBox,
        h("h4", t("pub.bulletinDrafts")),
        table([
          { key: "id", label: "ID" },
          { key: "title", label: t("pub.title_"), render: (b) => title(b) },
          { key: "removed", label: t("pub.previewPd"), render: (b) => (b.removed ?? []).map((x: any) => x.kind).join(", ") },
          { key: "created_by", label: t("pub.author") },
          { key: "actions", label: "", render: (b) => !mayApprove ? "" : b.created_by === me ? h("small.muted", t("pub.ownDraft"))
            : h("button.primary.pb-approve", { dataset: { id: b.id },
              onclick: act(() => api.post(`/publishing/bulletins/${encodeURIComponent(b.id)}/approve`)) }, t("pub.approve")) },
        ], drafts, { id: "pb-drafts" }),
        h("h4", t("pub.bulletinPublished")),
        table([
          { key: "id", label: "ID" },
          { key: "title", label: t("pub.title_"), render: (b) => title(b) },
          { key: "state", label: t("pub.state"), render: (b) => tOr(`pub.st.${b.state}`, b.state) },
          { key: "published_at", label: t("pub.published"), render: (b) => fmtTime(b.published_at) },
          { key: "actions", label: "", render: (b) => b.state !== "published" ? "" : h("span",
            mayAuthor ? h("button.pb-correct", { dataset: { id: b.id }, onclick: (e: Event) => {
              e.stopPropagation();
              correcting = b.id;
              for (const f of FIELDS) inputs[f].value = String(b[f] ?? "");
              note.textContent = t("pub.correcting", { id: b.id });
            } }, t("pub.correct")) : null, " ",
            mayApprove ? h("button.pb-withdraw", { dataset: { id: b.id }, onclick: (e: Event) => {
              e.stopPropagation();
              const reason = h("input#pb-withdraw-reason", { required: true, maxlength: 1000 }) as HTMLInputElement;
              clear(editBox, h("form.inline", { onsubmit: (ev: Event) => { ev.preventDefault();
                void act(() => api.post(`/publishing/bulletins/${encodeURIComponent(b.id)}/withdraw`, { reason: reason.value.trim() }))(ev);
                clear(editBox); } }, h("b", `${t("pub.withdraw")} ${b.id}`), field(t("pub.reason"), reason),
              h("button.primary", { type: "submit" }, t("pub.withdraw"))));
            } }, t("pub.withdraw")) : null) },
        ], published, { id: "pb-published" }));
    } catch (e) { clear(listBox, h("p.error", errorText(e))); }
  }

  clear(box,
    mayAuthor ? h("form#pb-form", { onsubmit: (e: Event) => { e.preventDefault(); void save(); } },
      h("h4", t("pub.newBulletin")),
      h("div.row", field(t("pub.sourceKind"), kind), field(t("pub.sourceId"), source)),
      h("div.row", field(t("pub.titleZh"), inputs.title_zh), field(t("pub.titleEn"), inputs.title_en)),
      h("div.row", field(t("pub.bodyZh"), inputs.body_zh), field(t("pub.bodyEn"), inputs.body_en)),
      h("label", strip, " ", t("pub.strip")), note,
      h("div.row",
        h("button#pb-preview-btn", { type: "button", onclick: () => void preview() }, t("pub.previewPd")),
        h("button.primary#pb-save", { type: "submit" }, t("pub.draftBulletin")))) : null,
    previewBox, err, listBox, editBox);
  void reload();
}
