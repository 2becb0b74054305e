// The series query's scenes as rows the analyst fills in (issue 21: they were typed as JSON): each
// scene a case id, a place (typed, or picked on the map), a time window in local time and an
// optional radius; rows added and removed. What is typed is kept in one hidden field (the form
// keeps each tab's typed values by field name) and sent as the API's ``cases`` list unchanged.
import { clear, dateTimeInput, field, h } from "../dom";
import { t } from "../i18n";
import type { OpsMap } from "../map";

export interface TypedScene { case_id: string; lat: string; lon: string; start: string; end: string; radius_km: string }

const FIELDS: (keyof TypedScene)[] = ["case_id", "lat", "lon", "start", "end", "radius_km"];

function blank(n: number): TypedScene {
  return { case_id: `S${n}`, lat: "", lon: "", start: "", end: "", radius_km: "" };
}

/** The typed rows kept in the hidden field (JSON), or two blank scenes. */
export function typedScenes(text: string): TypedScene[] {
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v) && v.length) {
      return v.map((r: any, i: number) => {
        const row = blank(i + 1);
        for (const k of FIELDS) if (r?.[k] !== undefined && r?.[k] !== null) row[k] = String(r[k]);
        return row;
      });
    }
  } catch { /* not kept yet */ }
  return [blank(1), blank(2)];
}

/** The typed rows as the API's ``cases``: blank rows left out, times through ``iso`` (local → ISO). */
export function scenesBody(text: string, iso: (v: string) => string): Record<string, unknown>[] | undefined {
  const out = typedScenes(text).filter((r) => FIELDS.some((k) => k !== "case_id" && r[k].trim() !== ""))
    .map((r) => {
      const o: Record<string, unknown> = { case_id: r.case_id.trim(), lat: Number(r.lat), lon: Number(r.lon),
        start: iso(r.start), end: iso(r.end) };
      if (r.radius_km.trim() !== "") o.radius_km = Number(r.radius_km);
      return o;
    });
  return out.length ? out : undefined;
}

export interface SceneEditor { box: HTMLElement; value: HTMLTextAreaElement; load(): void }

/** The rows editor; ``value`` is the hidden field the form reads and keeps. */
export function sceneEditor(name: string, map: OpsMap | null): SceneEditor {
  const value = h("textarea", { id: `q-${name}`, name, hidden: true }) as HTMLTextAreaElement;
  const rows = h("div.scene-rows#scene-rows");
  let scenes: TypedScene[] = typedScenes("");

  function save(): void { value.value = JSON.stringify(scenes); }

  function paint(): void {
    clear(rows, scenes.map((s, i) => {
      const input = (k: keyof TypedScene, el: HTMLInputElement): HTMLInputElement => {
        el.value = s[k];
        el.dataset.field = k;
        el.addEventListener("input", () => { s[k] = el.value; save(); });
        return el;
      };
      const num = (k: keyof TypedScene, step: string, extra: Record<string, unknown> = {}) =>
        input(k, h("input", { type: "number", step, ...extra, style: "width:8em" }) as HTMLInputElement);
      return h("div.scene-row", { dataset: { scene: String(i) } },
        h("div.row",
          field(t("an.sceneId"), input("case_id", h("input", { maxlength: 128, style: "width:6em" }) as HTMLInputElement)),
          field(t("p.lat"), num("lat", "any", { min: -90, max: 90 })),
          field(t("p.lon"), num("lon", "any", { min: -180, max: 180 })),
          field(t("p.radius_km"), num("radius_km", "any", { min: 0.01, max: 500, placeholder: t("an.sceneRadiusDefault") }))),
        h("div.row",
          field(t("p.start"), input("start", dateTimeInput(`scene-${i}-start`))),
          field(t("p.end"), input("end", dateTimeInput(`scene-${i}-end`))),
          h("div.actions",
            map ? h("button.small.scene-pick", { type: "button", onclick: () => map.pick((la, lo) => {
              s.lat = la.toFixed(6); s.lon = lo.toFixed(6); save(); paint();
            }) }, t("common.pickOnMap")) : null,
            h("button.small.scene-remove", { type: "button", disabled: scenes.length <= 1,
              onclick: () => { scenes.splice(i, 1); save(); paint(); } }, t("an.sceneRemove")))));
    }));
  }

  const add = h("button.small#scene-add", { type: "button", onclick: () => {
    const used = new Set(scenes.map((s) => s.case_id));
    let n = scenes.length + 1;
    while (used.has(`S${n}`)) n++;
    const last = scenes[scenes.length - 1];
    scenes.push({ ...blank(n), start: last?.start ?? "", end: last?.end ?? "", radius_km: last?.radius_km ?? "" });
    save(); paint();
  } }, t("an.sceneAdd"));
  const box = h("div.scene-editor", h("span.label", t("p.cases")), rows, h("div.actions", add), value);
  return {
    box, value,
    load(): void { scenes = typedScenes(value.value); save(); paint(); },
  };
}
