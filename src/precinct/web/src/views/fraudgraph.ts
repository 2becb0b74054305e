// The picture of one fraud cluster: reports and identifiers as nodes, one edge per mention, drawn
// as SVG with a small deterministic force layout (start on a circle, a fixed number of steps), so
// the same cluster always looks the same. No library.

export interface GNode { id: string; kind: string; label: string; reports?: number }
export interface GEdge { source: string; target: string }

const SVG = "http://www.w3.org/2000/svg";
export const KIND_COLOURS: Record<string, string> = {
  report: "#4dabf7", account: "#e03131", phone: "#f08c00", url: "#7048e8", app: "#2f9e44",
  payment: "#c2255c", social: "#1098ad",
};

/** Positions in [0, w] x [0, h]: nodes start on a circle, then springs along edges pull and every
 * pair pushes apart for ``steps`` steps (Fruchterman–Reingold with a linear cooling). */
export function layout(nodes: GNode[], edges: GEdge[], w: number, h: number, steps = 200): Map<string, [number, number]> {
  const n = nodes.length;
  const pos = nodes.map((_, i) => [w / 2 + (w / 3) * Math.cos((2 * Math.PI * i) / Math.max(1, n)),
    h / 2 + (h / 3) * Math.sin((2 * Math.PI * i) / Math.max(1, n))]);
  const index = new Map(nodes.map((v, i) => [v.id, i]));
  const links = edges.map((e) => [index.get(e.source), index.get(e.target)])
    .filter((p): p is [number, number] => p[0] !== undefined && p[1] !== undefined);
  const k = Math.sqrt((w * h) / Math.max(1, n)) * 0.6;
  if (n <= 300) {
    for (let s = 0; s < steps; s++) {
      const temp = (Math.min(w, h) / 10) * (1 - s / steps);
      const disp = pos.map(() => [0, 0]);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          let dx = pos[i][0] - pos[j][0], dy = pos[i][1] - pos[j][1];
          let d = Math.hypot(dx, dy);
          if (d < 0.01) { dx = 0.01 * (i - j); dy = 0.01; d = Math.hypot(dx, dy); }
          const f = (k * k) / d;
          disp[i][0] += (dx / d) * f; disp[i][1] += (dy / d) * f;
          disp[j][0] -= (dx / d) * f; disp[j][1] -= (dy / d) * f;
        }
      }
      for (const [a, b] of links) {
        const dx = pos[a][0] - pos[b][0], dy = pos[a][1] - pos[b][1];
        const d = Math.max(0.01, Math.hypot(dx, dy));
        const f = (d * d) / k;
        disp[a][0] -= (dx / d) * f; disp[a][1] -= (dy / d) * f;
        disp[b][0] += (dx / d) * f; disp[b][1] += (dy / d) * f;
      }
      for (let i = 0; i < n; i++) {
        const d = Math.max(0.01, Math.hypot(disp[i][0], disp[i][1]));
        pos[i][0] = Math.min(w - 20, Math.max(20, pos[i][0] + (disp[i][0] / d) * Math.min(d, temp)));
        pos[i][1] = Math.min(h - 20, Math.max(20, pos[i][1] + (disp[i][1] / d) * Math.min(d, temp)));
      }
    }
  }
  return new Map(nodes.map((v, i) => [v.id, [pos[i][0], pos[i][1]] as [number, number]]));
}

function el(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** An <svg> of the cluster; each node has a <title> (its label) and data-kind / data-id. */
export function clusterGraph(graph: { nodes: GNode[]; edges: GEdge[] }, w = 560, h = 380): SVGSVGElement {
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, width: "100%", role: "img", id: "fr-graph-svg",
    style: "max-width:100%;background:#0f1720;border:1px solid #2b3a48;border-radius:4px" }) as SVGSVGElement;
  const pos = layout(graph.nodes, graph.edges, w, h);
  for (const e of graph.edges) {
    const a = pos.get(e.source), b = pos.get(e.target);
    if (a && b) svg.appendChild(el("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], stroke: "#6b7b8c", "stroke-width": 1.2 }));
  }
  for (const v of graph.nodes) {
    const p = pos.get(v.id);
    if (!p) continue;
    const g = el("g", { "data-kind": v.kind, "data-id": v.id, class: "fr-node" });
    const colour = KIND_COLOURS[v.kind] ?? "#adb5bd";
    if (v.kind === "report") {
      g.appendChild(el("rect", { x: p[0] - 6, y: p[1] - 6, width: 12, height: 12, fill: colour, stroke: "#fff", "stroke-width": 1 }));
    } else {
      const r = 6 + 3 * Math.sqrt(Math.max(1, v.reports ?? 1));
      g.appendChild(el("circle", { cx: p[0], cy: p[1], r, fill: colour, stroke: "#fff", "stroke-width": 1 }));
      const text = el("text", { x: p[0] + r + 3, y: p[1] + 4, fill: "#dee2e6", "font-size": 10 });
      text.textContent = v.label.length > 22 ? `${v.label.slice(0, 21)}…` : v.label;
      g.appendChild(text);
    }
    const title = el("title", {});
    title.textContent = `${v.kind}: ${v.label}${v.reports ? ` (${v.reports})` : ""}`;
    g.appendChild(title);
    svg.appendChild(g);
  }
  return svg;
}
