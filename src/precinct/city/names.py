"""Street-name index: road names per edge, fuzzy lookup of streets and junctions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process

from precinct.errors import BadInput

if TYPE_CHECKING:
    from precinct.city.graph import IntArray, RoadGraphBase

MIN_SCORE = 60.0
_JUNCTION_SUFFIX = re.compile(r"(十字路口|交叉路口|交叉口|交汇处|交界处|路口|交口|口)$")
_JUNCTION_SPLIT = re.compile(r"\s*(?:与|和|同|跟|交|&|/|＆|／|×|\band\b|\bat\b|\bx\b)\s*",
                             re.IGNORECASE)
_ABBREV = {"rd": "road", "st": "street", "ave": "avenue", "av": "avenue", "ln": "lane",
           "blvd": "boulevard", "hwy": "highway", "dr": "drive"}


@dataclass(frozen=True)
class Candidate:
    """A geocoding answer: where, what it matched, and how well (0-100)."""

    lat: float
    lon: float
    label: str
    score: float


def normalize(text: str) -> str:
    """Lower-case, expand English abbreviations, drop punctuation (for matching only)."""
    t = text.strip().lower()
    t = re.sub(r"[.,;:'\"()（）·・\-]", " ", t)
    words = [_ABBREV.get(w, w) for w in t.split()]
    return " ".join(words)


class NameIndex:
    """Names per edge and the nodes each named road touches.

    Parameters
    ----------
    graph : RoadGraphBase
        The network whose ``names`` and ``name_id`` are indexed.
    """

    def __init__(self, graph: RoadGraphBase) -> None:
        self.graph = graph
        nid = graph.name_id
        named = np.flatnonzero(nid >= 0)
        order = named[np.argsort(nid[named], kind="stable")]
        bounds = np.searchsorted(nid[order], np.arange(len(graph.names) + 1))
        self._edges_by_name = [order[bounds[i]:bounds[i + 1]] for i in range(len(graph.names))]
        self._choices: list[str] = []
        self._choice_name: list[int] = []
        for i, variants in enumerate(graph.names):
            for v in dict.fromkeys(normalize(x) for x in variants if x):
                self._choices.append(v)
                self._choice_name.append(i)

    def label(self, name_id: int) -> str:
        """Display label: the variants joined (``"人民路 / Renmin Road"``)."""
        v = self.graph.names[name_id]
        return " / ".join(dict.fromkeys(v[:2]))

    def edges(self, name_id: int) -> IntArray:
        """Edge ids carrying this name."""
        return self._edges_by_name[name_id]

    def nodes(self, name_id: int) -> IntArray:
        """Node ids touched by this road."""
        e = self._edges_by_name[name_id]
        return np.unique(np.concatenate([self.graph.tail[e], self.graph.head[e]]))

    def match(self, text: str, limit: int = 5) -> list[tuple[int, float]]:
        """Best-matching road names: ``(name_id, score)``, best first, score >= MIN_SCORE."""
        q = normalize(text)
        if not q or not self._choices:
            return []
        hits = process.extract(q, self._choices, scorer=fuzz.WRatio, limit=limit * 4,
                               score_cutoff=MIN_SCORE)
        best: dict[int, float] = {}
        for _, score, idx in hits:
            nid = self._choice_name[idx]
            best[nid] = max(best.get(nid, 0.0), float(score))
        return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def _street_point(self, name_id: int) -> tuple[float, float]:
        nodes = self.nodes(name_id)
        lat, lon = self.graph.node_lat[nodes], self.graph.node_lon[nodes]
        i = int(np.argmin((lat - lat.mean()) ** 2 + (lon - lon.mean()) ** 2))
        return float(lat[i]), float(lon[i])

    def geocode(self, text: str, *, limit: int = 5) -> list[Candidate]:
        """Resolve a street (``"人民路"``) or junction (``"人民路与海陵路交叉口"``, ``"A & B"``).

        Returns
        -------
        list of Candidate
            Best first; empty if nothing scores at least ``MIN_SCORE``.
        """
        if not isinstance(text, str) or not text.strip():
            raise BadInput("geocode needs a street or junction name")
        t = text.strip()
        t = re.sub(r"^(corner of|junction of|intersection of)\s+", "", t, flags=re.IGNORECASE)
        t = _JUNCTION_SUFFIX.sub("", t)
        parts = [p for p in _JUNCTION_SPLIT.split(t) if p.strip()]
        if len(parts) >= 2:
            found = self._junction(parts[0], parts[1], limit)
            if found:
                return found
        out = [Candidate(*self._street_point(nid), self.label(nid), score)
               for nid, score in self.match(t, limit)]
        return out[:limit]

    def _junction(self, a: str, b: str, limit: int) -> list[Candidate]:
        out: list[Candidate] = []
        for na, sa in self.match(a, 3):
            nodes_a = self.nodes(na)
            for nb, sb in self.match(b, 3):
                if nb == na:
                    continue
                common = np.intersect1d(nodes_a, self.nodes(nb), assume_unique=True)
                va, vb = self.graph.names[na], self.graph.names[nb]
                label = f"{va[0]}与{vb[0]}交叉口"
                if len(va) > 1 and len(vb) > 1:
                    label += f" / {va[1]} & {vb[1]}"
                for node in common[:4].tolist():
                    out.append(Candidate(float(self.graph.node_lat[node]),
                                         float(self.graph.node_lon[node]), label, (sa + sb) / 2))
        out.sort(key=lambda c: -c.score)
        return out[:limit]
