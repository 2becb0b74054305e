"""Plate normalisation: one spelling per vehicle identifier, so ``苏M·12345`` and ``苏m 12345`` match.

Rules (DESIGN.md, reads format): Unicode NFKC (full-width letters, digits and punctuation become
half-width), upper case, and spaces, dots, middle dots and dashes removed. Control characters are
dropped too. The result may be empty, which the validators reject.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

MAX_PLATE_LENGTH = 32

# Separators people and readers put inside plates, after NFKC (which already maps ＿－．　 etc.).
_DROP = set(" .-·・‧•∙⋅。\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fb\u00a0\u3000")


_CANONICAL = r"^[0-9A-Z\x{4E00}-\x{9FFF}]+$"


@lru_cache(maxsize=1 << 18)
def normalize_plate(raw: str) -> str:
    """The canonical form of one plate or tag identifier ('' if nothing is left)."""
    text = raw
    for _ in range(4):  # upper-casing or dropping may un-normalise; repeat to a fixed point
        cleaned = "".join(
            ch
            for ch in unicodedata.normalize("NFKC", text).upper()
            if ch not in _DROP and not ch.isspace() and unicodedata.category(ch)[0] != "C"
        )
        if cleaned == text:
            break
        text = cleaned
    return text


def normalize_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorised :func:`normalize_plate` over an Arrow string array (nulls stay null).

    Plates repeat a lot (a vehicle passes many cameras), so the work is done once per distinct
    value through a dictionary encoding.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    encoded = pc.dictionary_encode(values)
    dictionary = encoded.dictionary
    # already canonical (digits, A-Z, CJK unified ideographs: NFKC- and case-stable) stays as is
    todo = pc.invert(pc.match_substring_regex(dictionary, _CANONICAL))
    if pc.any(todo).as_py():
        fixed = [normalize_plate(v) for v in dictionary.filter(todo).to_pylist()]
        dictionary = pc.replace_with_mask(dictionary, todo, pa.array(fixed, type=dictionary.type))
    return pc.take(dictionary, encoded.indices)
