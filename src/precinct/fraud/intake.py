"""Fraud report intake: one report or a CSV file checked, normalised and located problem by problem.

A CSV file has the columns ``report_id``, ``ts``, ``type``, ``loss``, ``accounts``, ``phones``,
``urls`` (lists ``;``-separated, as victims write them) and optionally ``channel``, ``currency``,
``victim_name``, ``victim_phone``, ``apps``, ``payments``, ``socials``, ``description``.

A row whose report id, time, type or loss cannot be read is rejected; a malformed identifier is
reported with its line, column and reason and left out, and the rest of the report is kept (the
importer's ``strict`` mode stores nothing when anything is reported).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from precinct.core.timeutil import parse_iso
from precinct.errors import BadInput
from precinct.fraud.normalize import InvalidIdentifier, fold, normalize, normalize_phone, split_list
from precinct.fraud.schemas import CHANNELS, CURRENCIES, ReportIn, fraud_type_code

REQUIRED: Final = ("report_id", "ts", "type")
LIST_COLUMNS: Final = {"accounts": "account", "phones": "phone", "urls": "url", "apps": "app",
                       "payments": "payment", "socials": "social"}
MAX_FILE_BYTES: Final = 1 << 30
MAX_ROWS: Final = 2_000_000
MAX_IDENTIFIERS_PER_REPORT: Final = 100
MAX_REPORTED_PROBLEMS: Final = 1000


@dataclass(frozen=True)
class Identifier:
    kind: str
    value: str
    raw: str
    bank: str | None = None


@dataclass
class PreparedReport:
    """A report ready to link: fields checked, identifiers normalised."""

    id: str
    ts: dt.datetime
    fraud_type: str
    loss_cents: int
    currency: str = "CNY"
    channel: str | None = None
    victim_name: str | None = None
    victim_phone: str | None = None
    description: str | None = None
    identifiers: list[Identifier] = field(default_factory=list)
    case_id: str | None = None
    line: int | None = None

    def identifier_keys(self) -> list[tuple[str, str]]:
        """The distinct (kind, value) keys this report names, in order."""
        return list(dict.fromkeys((i.kind, i.value) for i in self.identifiers))


@dataclass(frozen=True)
class Problem:
    """What is wrong where: ``line`` (CSV, 1 = header) or ``item`` (API list index)."""

    reason: str
    field: str
    value: str | None = None
    line: int | None = None
    report_id: str | None = None
    rejected: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def to_cents(value: Decimal | str, *, field_name: str = "loss") -> int:
    """An amount as integer cents (half up); refuses negatives, non-numbers and over 10^12."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(
            unicodedata.normalize("NFKC", value).strip().replace(",", "").lstrip("¥￥") or "0")
    except InvalidOperation:
        raise ValueError(f"{field_name} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{field_name} must be a number >= 0")
    if amount > Decimal("1e12"):
        raise ValueError(f"{field_name} is over 10^12")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _identifiers(items: Sequence[tuple[str, str, str | None, str]], report_id: str, line: int | None,
                 problems: list[Problem]) -> list[Identifier]:
    out: list[Identifier] = []
    for kind, raw, bank, column in items:
        try:
            out.append(Identifier(kind, normalize(kind, raw), raw[:256], bank))
        except InvalidIdentifier as exc:
            problems.append(Problem(exc.reason, column, raw[:80], line, report_id))
    if len(out) > MAX_IDENTIFIERS_PER_REPORT:
        problems.append(Problem(f"more than {MAX_IDENTIFIERS_PER_REPORT} identifiers; the first "
                                f"{MAX_IDENTIFIERS_PER_REPORT} kept", "identifiers", None, line, report_id))
        out = out[:MAX_IDENTIFIERS_PER_REPORT]
    return out


def prepare_report(body: ReportIn, *, report_id: str) -> tuple[PreparedReport, list[Problem]]:
    """Check and normalise one report from the API; problems are located by field."""
    problems: list[Problem] = []
    code = fraud_type_code(body.type)
    if code is None:
        problems.append(Problem("unknown fraud type (see GET /fraud/types)", "type", body.type, rejected=True))
    if body.channel is not None and body.channel not in CHANNELS:
        problems.append(Problem(f"channel is one of {', '.join(CHANNELS)}", "channel", body.channel, rejected=True))
    currency = body.currency.upper()
    if currency not in CURRENCIES:
        problems.append(Problem(f"currency is one of {', '.join(sorted(CURRENCIES))}", "currency", body.currency,
                                rejected=True))
    if body.ts.tzinfo is None:
        problems.append(Problem("ts needs a timezone offset", "ts", str(body.ts), rejected=True))
    victim_phone = None
    if body.victim_phone:
        try:
            victim_phone = normalize_phone(body.victim_phone)
        except InvalidIdentifier as exc:
            problems.append(Problem(exc.reason, "victim_phone", body.victim_phone, rejected=True))
    idents = _identifiers([(i.kind, i.value, i.bank, f"identifiers[{n}]") for n, i in enumerate(body.identifiers)],
                          report_id, None, problems)
    report = PreparedReport(
        id=report_id, ts=body.ts.astimezone(dt.UTC) if body.ts.tzinfo else body.ts, fraud_type=code or "",
        loss_cents=to_cents(body.loss), currency=currency, channel=body.channel,
        victim_name=body.victim_name, victim_phone=victim_phone, description=body.description,
        identifiers=idents, case_id=body.case_id)
    return report, problems


@dataclass
class ParsedFile:
    reports: list[PreparedReport]
    problems: list[Problem]
    rows: int
    rejected: int
    duplicates_in_file: int


def _cell(row: dict[str, str | None], name: str) -> str:
    v = row.get(name)
    return v.strip() if isinstance(v, str) else ""


def _rows(text_stream: io.TextIOBase | Any) -> Iterator[tuple[int, dict[str, str | None]]]:
    reader = csv.DictReader(text_stream)
    header = [fold(h or "") for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadInput(f"line 1: the header lacks column(s) {', '.join(missing)}; it needs report_id, ts, type "
                       "and may have loss, accounts, phones, urls", detail={"line": 1, "missing": missing})
    reader.fieldnames = header
    start = 2
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def parse_csv(path: Path) -> ParsedFile:
    """Read a fraud-report CSV file (UTF-8, BOM allowed) into prepared reports and located problems.

    Raises
    ------
    BadInput
        The file is missing, too large, not UTF-8, has more than :data:`MAX_ROWS` rows, or its
        header lacks a required column.
    """
    if not path.is_file():
        raise BadInput(f"{path}: no such file", detail={"path": str(path)})
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BadInput(f"{path}: {size} bytes; at most {MAX_FILE_BYTES} in one import (split the file)",
                       detail={"path": str(path), "bytes": size})
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return parse_rows(_rows(fh))
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text (byte {exc.start})", detail={"path": str(path)}) from None
    except csv.Error as exc:
        raise BadInput(f"{path}: not a readable CSV file ({exc})", detail={"path": str(path)}) from None


def parse_text(text: str) -> ParsedFile:
    """:func:`parse_csv` for CSV text already in memory (the API's upload)."""
    try:
        return parse_rows(_rows(io.StringIO(text.lstrip("\ufeff"), newline="")))
    except csv.Error as exc:
        raise BadInput(f"not a readable CSV file ({exc})") from None


def parse_rows(rows: Iterator[tuple[int, dict[str, str | None]]]) -> ParsedFile:
    """Check and normalise CSV rows given as (line, row) pairs."""
    reports: list[PreparedReport] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    n = rejected = dup = 0
    for line, row in rows:
        n += 1
        if n > MAX_ROWS:
            raise BadInput(f"more than {MAX_ROWS} rows in one import; split the file", detail={"line": line})
        if None in row:
            problems.append(Problem("more cells than header columns", "row", None, line, rejected=True))
            rejected += 1
            continue
        report = _row_report(line, row, problems)
        if report is None:
            rejected += 1
        elif report.id in seen:
            dup += 1
            problems.append(Problem(f"report_id repeats line {seen[report.id]}; stored once", "report_id",
                                    report.id, line, report.id))
        else:
            seen[report.id] = line
            reports.append(report)
    return ParsedFile(reports, problems, n, rejected, dup)


def _row_report(line: int, row: dict[str, str | None], problems: list[Problem]) -> PreparedReport | None:
    rid = unicodedata.normalize("NFKC", _cell(row, "report_id"))
    bad: list[Problem] = []
    if not rid or len(rid) > 64 or not rid.isprintable():
        bad.append(Problem("report_id must be 1-64 printable characters", "report_id", rid[:80], line))
    try:
        ts = parse_iso(_cell(row, "ts"))
    except ValueError as exc:
        ts = None
        bad.append(Problem(str(exc), "ts", _cell(row, "ts")[:80], line, rid or None))
    code = fraud_type_code(_cell(row, "type"))
    if code is None:
        bad.append(Problem("unknown fraud type; one of the codes of `precinct fraud types` or their Chinese "
                           "names", "type", _cell(row, "type")[:80], line, rid or None))
    try:
        cents = to_cents(_cell(row, "loss"))
    except ValueError as exc:
        cents = 0
        bad.append(Problem(str(exc), "loss", _cell(row, "loss")[:80], line, rid or None))
    channel = fold(_cell(row, "channel")) or None
    if channel is not None and channel not in CHANNELS:
        bad.append(Problem(f"channel is one of {', '.join(CHANNELS)}", "channel", channel, line, rid or None))
    currency = (_cell(row, "currency") or "CNY").upper()
    if currency not in CURRENCIES:
        bad.append(Problem(f"currency is one of {', '.join(sorted(CURRENCIES))}", "currency", currency, line,
                           rid or None))
    victim_phone = None
    if _cell(row, "victim_phone"):
        try:
            victim_phone = normalize_phone(_cell(row, "victim_phone"))
        except InvalidIdentifier as exc:
            bad.append(Problem(exc.reason, "victim_phone", _cell(row, "victim_phone")[:80], line, rid or None))
    if bad or ts is None or code is None:
        problems.extend(Problem(p.reason, p.field, p.value, p.line, p.report_id, rejected=True) for p in bad)
        return None
    items = [(kind, raw, None, column) for column, kind in LIST_COLUMNS.items() for raw in split_list(row.get(column))]
    idents = _identifiers(items, rid, line, problems)
    return PreparedReport(id=rid, ts=ts, fraud_type=code, loss_cents=cents, currency=currency, channel=channel,
                          victim_name=_cell(row, "victim_name") or None, victim_phone=victim_phone,
                          description=_cell(row, "description") or None, identifiers=idents, line=line)
