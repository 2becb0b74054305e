// Simplified Chinese (default) and English. The choice is remembered in localStorage.
import { analyticsEn, analyticsZh } from "./i18n-analytics";
import { adminEn, adminZh } from "./i18n-admin";
import { fraudEn, fraudZh } from "./i18n-fraud";
import { opsEn, opsZh } from "./i18n-ops";
import { attachmentsEn, attachmentsZh } from "./i18n-attachments";
import { publicEn, publicZh } from "./i18n-public";
import { dispatchEn, dispatchZh } from "./i18n-dispatch";
import { calltakerEn, calltakerZh } from "./i18n-calltaker";
import { analystEn, analystZh } from "./i18n-analyst";
import { superviseEn, superviseZh } from "./i18n-supervise";
import { en } from "./locales/en";
import { zh } from "./locales/zh";

export type Lang = "zh-CN" | "en";
const KEY = "precinct.lang";

Object.assign(en, opsEn);
Object.assign(zh, opsZh);
Object.assign(en, attachmentsEn);
Object.assign(zh, attachmentsZh);
Object.assign(en, analyticsEn);
Object.assign(zh, analyticsZh);
Object.assign(en, publicEn);
Object.assign(zh, publicZh);
Object.assign(en, fraudEn);
Object.assign(zh, fraudZh);
Object.assign(en, adminEn);
Object.assign(zh, adminZh);
Object.assign(en, dispatchEn);
Object.assign(zh, dispatchZh);
Object.assign(en, calltakerEn);
Object.assign(zh, calltakerZh);
Object.assign(en, analystEn);
Object.assign(zh, analystZh);
Object.assign(en, superviseEn);
Object.assign(zh, superviseZh);
export const dictionaries: Record<Lang, Record<string, string>> = { "zh-CN": zh, en };
(window as any).__precinctI18n = dictionaries; // read by the browser tests (both languages, same keys)

export function lang(): Lang {
  const v = localStorage.getItem(KEY);
  return v === "en" ? "en" : "zh-CN";
}

export function setLang(l: Lang): void {
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
}

/** Translate ``key`` with {name} substitutions; unknown keys fall back to English, then the key. */
export function t(key: string, vars?: Record<string, string | number>): string {
  let s = dictionaries[lang()][key] ?? en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

/** A translation if one exists, else the fallback (for server codes such as statuses). */
export function tOr(key: string, fallback: string): string {
  const d = dictionaries[lang()];
  return d[key] ?? en[key] ?? fallback;
}
