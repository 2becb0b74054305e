"""A synthetic Chinese county town: grid streets, arterials, two ring roads, a river, a centre.

The generator is vectorised (a 56 km city with over a million directed edges builds in seconds)
and deterministic for a given seed. Layout, about ``spacing`` apart:

- a jittered grid of local streets (30 km/h), with a few blocks merged (segments removed);
- arterials every ~1 km (60 or 50 km/h), alternating 路 (E-W) and 大道 (N-S) names;
- an inner and an outer ring expressway (80 km/h) as square rings on grid lines;
- a meandering river crossing the town west to east, crossed only at bridges (rings and
  every other arterial);
- an old centre where every street is 1.6x slower and local streets are one-way, alternating.

Only the largest strongly connected part is kept, so every node can reach every other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from precinct.city.congestion import DEFAULT_SPEED_KMH, LOCAL, PRIMARY, SECONDARY, TRUNK
from precinct.city.geo import LocalFrame, check_latlon, haversine_m
from precinct.errors import BadInput

if TYPE_CHECKING:
    from precinct.city.graph import RoadGraphBase

G = TypeVar("G", bound="RoadGraphBase")

SPACING_M = 110.0
ARTERIAL_EVERY = 9
CENTRE_SLOWDOWN = 1.6

_EW_ARTERIAL = [("人民", "Renmin"), ("解放", "Jiefang"), ("海陵", "Hailing"), ("青年", "Qingnian"),
                ("鼓楼", "Gulou"), ("府前", "Fuqian"), ("东风", "Dongfeng"), ("五一", "Wuyi"),
                ("济川", "Jichuan"), ("凤凰", "Fenghuang"), ("永定", "Yongding"),
                ("迎春", "Yingchun"), ("春晖", "Chunhui"), ("梅兰", "Meilan"), ("华侨", "Huaqiao"),
                ("文昌", "Wenchang"), ("建设", "Jianshe"), ("光明", "Guangming"),
                ("长江", "Changjiang"), ("振兴", "Zhenxing"), ("新华", "Xinhua"),
                ("中山", "Zhongshan"), ("和平", "Heping"), ("友谊", "Youyi"), ("朝阳", "Chaoyang"),
                ("兴业", "Xingye"), ("工农", "Gongnong"), ("胜利", "Shengli")]
_NS_ARTERIAL = [("泰州", "Taizhou"), ("扬州", "Yangzhou"), ("南通", "Nantong"),
                ("江州", "Jiangzhou"), ("姜堰", "Jiangyan"), ("高港", "Gaogang"),
                ("泰兴", "Taixing"), ("兴化", "Xinghua"),
                ("靖江", "Jingjiang"), ("海安", "Hai'an"), ("如皋", "Rugao"), ("盐城", "Yancheng"),
                ("淮安", "Huai'an"), ("宿迁", "Suqian"), ("镇江", "Zhenjiang"),
                ("常州", "Changzhou"),
                ("无锡", "Wuxi"), ("苏州", "Suzhou"), ("南京", "Nanjing"), ("徐州", "Xuzhou")]
_LOCAL = [("桃园", "Taoyuan"), ("柳园", "Liuyuan"), ("梅园", "Meiyuan"), ("竹园", "Zhuyuan"),
          ("松林", "Songlin"), ("枫林", "Fenglin"), ("荷花", "Hehua"), ("桂花", "Guihua"),
          ("兰花", "Lanhua"), ("菊花", "Juhua"), ("玉带", "Yudai"), ("金桥", "Jinqiao"),
          ("银杏", "Yinxing"), ("青松", "Qingsong"), ("翠竹", "Cuizhu"), ("明月", "Mingyue"),
          ("清风", "Qingfeng"), ("朝霞", "Zhaoxia"), ("晨光", "Chenguang"), ("星河", "Xinghe"),
          ("锦绣", "Jinxiu"), ("丰收", "Fengshou"), ("安康", "Ankang"), ("吉祥", "Jixiang"),
          ("如意", "Ruyi"), ("平安", "Ping'an"), ("康乐", "Kangle"), ("福寿", "Fushou"),
          ("团结", "Tuanjie"), ("育才", "Yucai"), ("书院", "Shuyuan"), ("学府", "Xuefu"),
          ("仁和", "Renhe"), ("崇文", "Chongwen"), ("尚德", "Shangde"), ("泰和", "Taihe"),
          ("泰康", "Taikang"), ("天德", "Tiande"), ("东进", "Dongjin"), ("利民", "Limin")]
_CN_DIGITS = "零一二三四五六七八九"


def _cn_number(k: int) -> str:
    """Chinese numeral for 1..999 (enough for street ordinals)."""
    if k < 10:
        return _CN_DIGITS[k]
    if k < 20:
        return "十" + (_CN_DIGITS[k - 10] if k > 10 else "")
    if k < 100:
        return _CN_DIGITS[k // 10] + "十" + (_CN_DIGITS[k % 10] if k % 10 else "")
    return _CN_DIGITS[k // 100] + "百" + (_cn_number(k % 100) if k % 100 else "")


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _line_name(pool: list[tuple[str, str]], k: int, zh_suffix: str, en_suffix: str,
               pinyin_suffix: str) -> tuple[str, str, str]:
    """Name of the k-th line drawn from ``pool`` ("桃园街", then "桃园二街" ...)."""
    zh, py = pool[k % len(pool)]
    r = k // len(pool)
    if r == 0:
        return (f"{zh}{zh_suffix}", f"{py} {en_suffix}", f"{py} {pinyin_suffix}")
    return (f"{zh}{_cn_number(r + 1)}{zh_suffix}", f"{py} {_ordinal(r + 1)} {en_suffix}",
            f"{py} {_cn_number(r + 1)} {pinyin_suffix}")


def build_synthetic(cls: type[G], *, size_km: float = 15, seed: int = 1,
                    center: tuple[float, float] = (32.49, 119.92)) -> G:
    """Generate the synthetic city (see module docstring) as a ``cls`` instance."""
    try:
        size = float(size_km)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"size_km must be a number, got {size_km!r}") from exc
    if not 1.0 <= size <= 200.0:
        raise BadInput(f"size_km must be between 1 and 200, got {size_km!r}")
    lat0, lon0 = check_latlon(*center, what="center")
    rng = np.random.default_rng(int(seed))
    n = round(size * 1000.0 / SPACING_M) + 1
    half = (n - 1) / 2.0
    # Arterial lines sit at a fixed offset from the centre line so the centre is a junction.
    mid = n // 2
    line = np.arange(n)
    arterial = (line - mid) % ARTERIAL_EVERY == 0
    inner = max(ARTERIAL_EVERY, round(0.25 * half / ARTERIAL_EVERY) * ARTERIAL_EVERY)
    outer = max(inner + ARTERIAL_EVERY, round(0.8 * half / ARTERIAL_EVERY) * ARTERIAL_EVERY)
    rings = [r for r in (inner, outer) if r < half]

    # Nodes: jittered grid (local frame metres).
    ii, jj = np.meshgrid(line, line)  # ii = column (x), jj = row (y); node id = j * n + i
    jitter = rng.uniform(-0.18, 0.18, size=(2, n, n)) * SPACING_M
    on_main = arterial[ii] | arterial[jj]
    jitter[:, on_main] *= 0.3  # arterials are straighter
    x = ((ii - mid) * SPACING_M + jitter[0]).ravel()
    y = ((jj - mid) * SPACING_M + jitter[1]).ravel()
    node = (jj * n + ii)

    # Candidate undirected segments: horizontal (along row j) and vertical (along column i).
    h_a, h_b = node[:, :-1].ravel(), node[:, 1:].ravel()
    h_line, h_pos = jj[:, :-1].ravel(), ii[:, :-1].ravel()
    v_a, v_b = node[:-1, :].ravel(), node[1:, :].ravel()
    v_line, v_pos = ii[:-1, :].ravel(), jj[:-1, :].ravel()
    a = np.concatenate([h_a, v_a])
    b = np.concatenate([h_b, v_b])
    horizontal = np.concatenate([np.ones(h_a.size, bool), np.zeros(v_a.size, bool)])
    lidx = np.concatenate([h_line, v_line])  # which grid line the segment runs along
    pos = np.concatenate([h_pos, v_pos])  # position along that line (segment start)
    is_art = arterial[lidx]
    cls_ = np.where(is_art, np.where(((lidx - mid) // ARTERIAL_EVERY) % 2 == 0, PRIMARY,
                                     SECONDARY), LOCAL).astype(np.uint8)
    ring_id = np.full(a.size, -1)
    for k, r in enumerate(rings):
        on_line = (np.abs(lidx - mid) == r) & (pos >= mid - r) & (pos < mid + r)
        cls_[on_line] = TRUNK
        ring_id[on_line] = k

    # Merge a few blocks (never on main roads).
    keep = is_art | (ring_id >= 0) | (rng.random(a.size) > 0.07)

    # River: y = A sin(2 pi x / L + phi) + c, crossing west to east; bridges on rings and on
    # every other N-S arterial.
    span = n * SPACING_M
    amp, phase = 0.06 * span, rng.uniform(0, 2 * np.pi)
    c = rng.uniform(-0.12, 0.12) * span + SPACING_M / 2  # never exactly on the centre line

    def river_y(xs: np.ndarray) -> np.ndarray:
        return np.asarray(amp * np.sin(2 * np.pi * xs / (0.9 * span) + phase) + c)

    side_a = y[a] > river_y(x[a])
    side_b = y[b] > river_y(x[b])
    crossing = side_a != side_b
    bridge = crossing & ~horizontal & ((ring_id >= 0) | (is_art & (((lidx - mid)
                                                                    // ARTERIAL_EVERY) % 2 == 0)))
    keep &= ~crossing | bridge

    # Old centre: slow, with alternating one-way local streets.
    radius = min(2000.0, 0.15 * span)
    mx, my = (x[a] + x[b]) / 2, (y[a] + y[b]) / 2
    central = np.hypot(mx, my) < radius
    oneway = central & (cls_ == LOCAL)
    flip = (lidx % 2 == 1)  # odd lines run against the grid direction

    a, b, cls_, lidx, horizontal = a[keep], b[keep], cls_[keep], lidx[keep], horizontal[keep]
    central, oneway, flip, ring_id = central[keep], oneway[keep], flip[keep], ring_id[keep]

    # Names: one per grid line and per ring.
    names: list[tuple[str, str, str]] = []
    name_of_line = {}
    art_k = {True: 0, False: 0}
    loc_k = {True: 0, False: 0}
    for hz in (True, False):
        # Name from the centre outwards, so 人民路 and 泰州大道 cross downtown.
        for li in sorted(range(n), key=lambda k: (abs(k - mid), k)):
            if arterial[li]:
                pool = _EW_ARTERIAL if hz else _NS_ARTERIAL
                nm = _line_name(pool, art_k[hz], "路" if hz else "大道", "Road" if hz else "Avenue",
                                "Lu" if hz else "Dadao")
                art_k[hz] += 1
            else:
                pool = _LOCAL[: len(_LOCAL) // 2] if hz else _LOCAL[len(_LOCAL) // 2:]
                nm = _line_name(pool, loc_k[hz], "街" if hz else "巷", "Street" if hz else "Lane",
                                "Jie" if hz else "Xiang")
                loc_k[hz] += 1
            name_of_line[(hz, li)] = len(names)
            names.append(nm)
    ring_names = [("内环路", "Inner Ring Road", "Neihuan Lu"),
                  ("外环路", "Outer Ring Road", "Waihuan Lu")]
    ring_name_id = []
    for k in range(len(rings)):
        ring_name_id.append(len(names))
        names.append(ring_names[k])
    uniq, inv = np.unique(np.column_stack([horizontal, lidx]), axis=0, return_inverse=True)
    ids_u = np.array([name_of_line[(bool(h), int(li))] for h, li in uniq])
    name_id = ids_u[inv.ravel()].astype(np.int32)
    for k, rid in enumerate(ring_name_id):
        name_id[ring_id == k] = rid

    # Directed edges: two-way segments both ways, one-way ones in their direction.
    fwd_only = oneway & ~flip
    bwd_only = oneway & flip
    tail = np.concatenate([a[~bwd_only], b[~fwd_only]])
    head = np.concatenate([b[~bwd_only], a[~fwd_only]])
    e_cls = np.concatenate([cls_[~bwd_only], cls_[~fwd_only]])
    e_central = np.concatenate([central[~bwd_only], central[~fwd_only]])
    e_name = np.concatenate([name_id[~bwd_only], name_id[~fwd_only]])

    # Keep the largest strongly connected component.
    nn = n * n
    adj = coo_matrix((np.ones(tail.size), (tail, head)), shape=(nn, nn)).tocsr()
    _, labels = connected_components(adj, directed=True, connection="strong")
    big = np.argmax(np.bincount(labels))
    keep_node = labels == big
    new_id = np.cumsum(keep_node) - 1
    ok = keep_node[tail] & keep_node[head]
    tail, head = new_id[tail[ok]], new_id[head[ok]]
    e_cls, e_central, e_name = e_cls[ok], e_central[ok], e_name[ok]

    frame = LocalFrame(lat0, lon0)
    lat, lon = frame.to_latlon(x[keep_node], y[keep_node])
    length = haversine_m(lat[tail], lon[tail], lat[head], lon[head])
    speed = DEFAULT_SPEED_KMH[e_cls] / 3.6
    time = length / speed * np.where(e_central, CENTRE_SLOWDOWN, 1.0)
    meta = {"source": "synthetic", "size_km": size, "seed": int(seed),
            "center": [lat0, lon0], "spacing_m": SPACING_M}
    return cls.from_edges(node_lat=lat, node_lon=lon, tail=tail, head=head,
                          length_m=length, time_s=time, road_class=e_cls, name_id=e_name,
                          names=names, meta=meta)
