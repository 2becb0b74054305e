"""Personal data in free text meant for the public: find it, strip it, refuse text that still has it.

Patterns (documented here because the public domain may not use another analysis domain's code: the
layer contract keeps ``anpr`` and ``public`` independent, so the plate normaliser is not reused):

- ``phone``: mainland mobile numbers (``1[3-9]`` + 9 digits, spaces or dashes allowed between
  groups, optional ``+86``), landlines with an area code (``0`` + 2-3 digits, a dash or space,
  7-8 digits), and any other run of 7 or more digits;
- ``plate``: Chinese licence plates — a province abbreviation, a letter, then 5 (or 6 for new
  energy vehicles) letters/digits, optionally ``挂/学/警/港/澳``, with an optional ``·``/space/dash
  after the letter;
- ``id_number``: 18-character resident identity numbers (17 digits and a digit or ``X``);
- ``email``: e-mail addresses.

Patterns err on the side of caution: a long number that is not a phone is still refused and the
author rewrites it (for example ``3 名`` rather than a case number). Names cannot be recognised
reliably by a pattern; the four-eyes approval is the check for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "id_number": re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),
    "phone": re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(?:1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}[\s-]\d{7,8}|\d{7,})(?!\d)"),
    "plate": re.compile(rf"[{PROVINCES}][A-HJ-NP-Z][\s·\-.]?[A-HJ-NP-Z0-9]{{5,6}}[挂学警港澳]?", re.IGNORECASE),
}
LABELS = {"phone": ("电话号码", "phone number"), "plate": ("车牌号", "plate"),
          "id_number": ("身份证号", "ID number"), "email": ("电子邮箱", "e-mail")}


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found in a text (its kind and position, never kept afterwards)."""

    kind: str
    start: int
    end: int


def find(text: str) -> list[Finding]:
    """Personal-data patterns in ``text``, left to right, overlaps resolved to the earlier, longer match."""
    spans = sorted((m.start(), -m.end(), kind) for kind, rx in PATTERNS.items() for m in rx.finditer(text))
    out: list[Finding] = []
    for start, neg_end, kind in spans:
        if out and start < out[-1].end:
            continue
        out.append(Finding(kind, start, -neg_end))
    return out


def strip(text: str) -> tuple[str, list[Finding]]:
    """``text`` with each finding replaced by a bilingual marker such as ``[电话号码已删除 phone number removed]``."""
    findings = find(text)
    parts, last = [], 0
    for f in findings:
        zh, en = LABELS[f.kind]
        parts += [text[last:f.start], f"[{zh}已删除 {en} removed]"]
        last = f.end
    parts.append(text[last:])
    return "".join(parts), findings
