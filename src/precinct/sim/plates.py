"""Vehicle identifiers: Chinese licence plates and e-bike anti-theft tags, generated in bulk.

Plates are already in the normalised form of the design brief (upper case, no separators), e.g.
``苏M12345``; new-energy plates have six characters after the prefix (``苏MD12345``). Tags look
like ``EB00123456``.
"""

from __future__ import annotations

import numpy as np

# Plate letters exclude I and O (they read as 1 and 0).
LETTERS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
DIGITS = np.array(list("0123456789"))
ALNUM = np.concatenate([DIGITS, LETTERS])
LOCAL_PREFIX = "苏M"  # Taizhou, Jiangsu
OTHER_PREFIXES = np.array(["苏A", "苏B", "苏K", "苏H", "苏J", "沪A", "沪B", "浙A", "浙B", "皖A", "鲁A", "豫A"])


def _codes(chars: np.ndarray) -> np.ndarray:
    return np.array([ord(c) for c in chars], dtype=np.uint32)


_DIG = _codes(DIGITS)
_LET = _codes(LETTERS)


def _plates(rng: np.random.Generator, prefixes: np.ndarray, n: int) -> np.ndarray:
    # Built as UCS-4 code points and viewed as strings: numpy's string functions are far slower.
    # Ordinary plates: 5 characters, up to two of them letters, anywhere; 15 % new-energy plates:
    # D or F, a letter or digit, then 4 digits.
    codes = np.zeros((n, 8), dtype=np.uint32)
    codes[:, :2] = prefixes.astype("<U2").view(np.uint32).reshape(n, 2)
    codes[:, 2:7] = rng.choice(_DIG, size=(n, 5))
    n_letters = rng.choice(3, size=n, p=[0.1, 0.4, 0.5])
    pos = np.argsort(rng.random((n, 5)), axis=1)
    for k in range(2):
        has = np.flatnonzero(n_letters > k)
        codes[has, 2 + pos[has, k]] = rng.choice(_LET, size=has.size)
    ev = np.flatnonzero(rng.random(n) < 0.15)
    codes[ev, 2] = rng.choice(_codes(np.array(["D", "F"])), size=ev.size)
    codes[ev, 3] = rng.choice(np.concatenate([_DIG, _LET]), size=ev.size)
    codes[ev, 4:8] = rng.choice(_DIG, size=(ev.size, 4))
    return codes.view("<U8").ravel()


def _distinct(batches: list[np.ndarray], avoid: set[str] | None, n: int) -> tuple[list[str], int]:
    allv = np.concatenate(batches)
    _, first = np.unique(allv, return_index=True)
    vals = allv[np.sort(first)].tolist()
    if avoid:
        vals = [v for v in vals if v not in avoid]
    return vals[:n], len(vals)


def make_plates(
    rng: np.random.Generator, n: int, *, local_share: float = 1.0, avoid: set[str] | None = None
) -> list[str]:
    """``n`` distinct plates, a ``local_share`` fraction with the local prefix.

    Parameters
    ----------
    rng
        Random generator.
    n
        How many.
    local_share
        Fraction with the local prefix 苏M; the rest from neighbouring cities and provinces.
    avoid
        Plates already taken (kept distinct from these).

    Returns
    -------
    list of str
        In generation order (deterministic for a given generator state).
    """
    batches: list[np.ndarray] = []
    while True:
        m = int(n * 1.05) + 16
        prefixes = np.where(rng.random(m) < local_share, LOCAL_PREFIX, rng.choice(OTHER_PREFIXES, size=m))
        batches.append(_plates(rng, prefixes, m))
        out, got = _distinct(batches, avoid, n)
        if got >= n:
            return out


def make_tags(rng: np.random.Generator, n: int, *, avoid: set[str] | None = None) -> list[str]:
    """``n`` distinct e-bike anti-theft tag ids (``EB`` + 8 digits)."""
    taken = set() if avoid is None else set(avoid)
    out: list[str] = []
    while len(out) < n:
        m = int((n - len(out)) * 1.1) + 16
        for v in rng.integers(0, 100_000_000, size=m).tolist():
            t = f"EB{v:08d}"
            if t not in taken:
                taken.add(t)
                out.append(t)
                if len(out) == n:
                    break
    return out
