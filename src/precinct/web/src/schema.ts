// Reading request shapes from the OpenAPI document, so forms follow the server's models.
import { api, type Op } from "./api";

export interface Param { name: string; in: "query" | "path" | "body"; required: boolean; schema: any; description?: string }

export function resolve(schema: any): any {
  let s = schema;
  for (let i = 0; i < 10 && s && s.$ref; i++) {
    const parts = String(s.$ref).replace(/^#\//, "").split("/");
    s = parts.reduce((o: any, p) => (o ? o[p] : undefined), api.spec);
  }
  if (s && Array.isArray(s.allOf) && s.allOf.length === 1) return resolve(s.allOf[0]);
  return s ?? {};
}

/** The non-null variant of an anyOf/oneOf (pydantic's Optional). */
export function base(schema: any): any {
  const s = resolve(schema);
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts)) {
    const nn = alts.map(resolve).filter((a: any) => a.type !== "null");
    if (nn.length) return { ...nn[0], default: s.default ?? nn[0].default, title: s.title ?? nn[0].title, description: s.description ?? nn[0].description };
  }
  return s;
}

export function bodySchema(op: Op | undefined): any | null {
  const content = op?.spec.requestBody?.content;
  if (!content) return null;
  const json = content["application/json"] ?? Object.values(content)[0];
  return json ? resolve((json as any).schema) : null;
}

export function bodyProps(op: Op | undefined): Record<string, any> {
  return bodySchema(op)?.properties ?? {};
}

/** Query/path parameters (headers excluded) and JSON body properties, in declaration order. */
export function params(op: Op): Param[] {
  const out: Param[] = [];
  for (const p of op.spec.parameters ?? []) {
    if (p.in === "query" || p.in === "path") {
      out.push({ name: p.name, in: p.in, required: !!p.required, schema: base(p.schema), description: p.description });
    }
  }
  const body = bodySchema(op);
  const req: string[] = body?.required ?? [];
  for (const [name, sch] of Object.entries<any>(body?.properties ?? {})) {
    out.push({ name, in: "body", required: req.includes(name), schema: base(sch), description: sch.description });
  }
  return out;
}

/** Build a body for ``op`` from candidate values: each body property takes the first alias present. */
export function buildBody(op: Op | undefined, values: Record<string, unknown>, aliases: Record<string, string[]> = {}): Record<string, unknown> {
  const props = bodyProps(op);
  const names = Object.keys(props);
  if (!names.length) return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ""));
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const cands = [name, ...(aliases[name] ?? [])];
    for (const c of cands) {
      const v = values[c];
      if (v !== undefined && v !== "" && v !== null) {
        const sch = base(props[name]);
        out[name] = sch.type === "array" && !Array.isArray(v) ? [v] : v;
        break;
      }
    }
  }
  return out;
}
