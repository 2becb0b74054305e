"""Normalising the identifiers victims report, so that the same fraudster's number links reports.

Victims write identifiers as they saw them: ``+86 138-0013-8000``, ``１３８００１３８０００``,
``HTTP://Pay.Example.com/x``, ``6222 0212 3456 7890``. Each kind has one canonical form:

=========  ==========================================================================================
kind       canonical form
=========  ==========================================================================================
phone      E.164 (``+8613800138000``); numbers without a country code are read as Chinese (+86)
account    the digits alone (8 to 34 of them); spaces, dashes and dots dropped
url        the registrable domain (``example.com``; ``a.github.io`` stays, being a private suffix), or
           the IP address; from the Public Suffix List shipped with ``publicsuffixlist`` (offline)
app        the name, full-width to half-width (NFKC), case-folded, inner blanks collapsed
payment    as ``app`` with blanks removed (Alipay, WeChat Pay, UnionPay ids)
social     as ``payment`` (WeChat, QQ, Douyin handles)
=========  ==========================================================================================

Every function raises :class:`InvalidIdentifier` with the reason when a value cannot be an
identifier of its kind; importers report it per row.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from typing import Any, Final
from urllib.parse import urlsplit

KINDS: Final = ("account", "phone", "url", "app", "payment", "social")
DEFAULT_REGION: Final = "CN"
MAX_RAW_LENGTH: Final = 256
_ACCOUNT_SEPARATORS = re.compile(r"[\s\-./_]+")
_BLANKS = re.compile(r"\s+")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


class InvalidIdentifier(ValueError):
    """A value that cannot be an identifier of its kind; ``reason`` says why (English)."""

    def __init__(self, kind: str, value: str, reason: str) -> None:
        super().__init__(f"{kind} {value!r}: {reason}")
        self.kind = kind
        self.value = value
        self.reason = reason


def fold(text: str) -> str:
    """Full-width to half-width (Unicode NFKC), case-folded, blanks trimmed and collapsed."""
    return _BLANKS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _checked(kind: str, value: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(kind, str(value), "not text")
    if len(value) > MAX_RAW_LENGTH:
        raise InvalidIdentifier(kind, value[:40] + "…", f"longer than {MAX_RAW_LENGTH} characters")
    folded = fold(value)
    if not folded:
        raise InvalidIdentifier(kind, value, "empty")
    return folded


@functools.lru_cache(maxsize=200_000)
def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """A phone number in E.164 form.

    Parameters
    ----------
    value : str
        As written: ``+86 138-0013-8000``, ``13800138000``, ``0086 138 0013 8000``, ``010-6552 9988``.
    region : str
        ISO 3166 country assumed for numbers written without a country code (default CN, +86).

    Returns
    -------
    str
        E.g. ``+8613800138000``.

    Raises
    ------
    InvalidIdentifier
        When the text is not a number, or not a valid number of its country.
    """
    import phonenumbers

    text = _checked("phone", value)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier("phone", value, f"not a phone number ({_parse_reason(exc)})") from None
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or f"+{number.country_code}"
        raise InvalidIdentifier("phone", value, f"not a valid number for {where} "
                                f"(wrong length or prefix)")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _parse_reason(exc: Any) -> str:
    reasons = {0: "unknown country code", 1: "no digits", 2: "too short after the country code",
               3: "too short", 4: "too long"}
    return reasons.get(int(getattr(exc, "error_type", -1)), str(exc))


def normalize_account(value: str) -> str:
    """A bank account or card number as its digits (8 to 34), separators dropped.

    Raises
    ------
    InvalidIdentifier
        When anything but digits and separators (blank, ``-``, ``.``, ``/``, ``_``) is left, or the
        number of digits is outside 8..34.
    """
    text = _checked("account", value)
    digits = _ACCOUNT_SEPARATORS.sub("", text)
    if not digits.isdigit() or not digits.isascii():
        bad = sorted({c for c in digits if not (c.isascii() and c.isdigit())})
        raise InvalidIdentifier("account", value, f"account numbers are digits only; found {''.join(bad[:5])!r}")
    if not 8 <= len(digits) <= 34:
        raise InvalidIdentifier("account", value, f"{len(digits)} digits; an account number has 8 to 34")
    return digits


@functools.lru_cache(maxsize=1)
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=False)  # the list shipped in the package: no download


@functools.lru_cache(maxsize=200_000)
def normalize_url(value: str) -> str:
    """The registrable domain of a URL or bare host name (or its IP address).

    ``HTTP://Pay.Example.com/x`` and ``pay.example.com`` both give ``example.com``;
    ``https://shop.example.com.cn:8443`` gives ``example.com.cn``; ``a.github.io`` stays (a private
    suffix of the Public Suffix List); internationalised names are kept in their Unicode form.

    Raises
    ------
    InvalidIdentifier
        No host, a malformed host, or a host that is itself a public suffix (``com.cn``).
    """
    text = _checked("url", value).replace(" ", "")
    if not _SCHEME.match(text):
        text = "http://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise InvalidIdentifier("url", value, f"not a URL ({exc})") from None
    host = host.rstrip(".")
    if not host:
        raise InvalidIdentifier("url", value, "no host name")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidIdentifier("url", value, "host name is not a valid internationalised name") from None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidIdentifier("url", value, f"{host!r} is not a domain name")
    registrable = _psl().privatesuffix(ascii_host)
    if registrable is None:
        raise InvalidIdentifier("url", value, f"{host!r} is a public suffix or an unknown top-level domain")
    try:
        return str(registrable.encode("ascii").decode("idna"))
    except UnicodeError:
        return str(registrable)


def normalize_name(value: str, kind: str = "app") -> str:
    """An app name: NFKC, case-folded, inner blanks collapsed to one."""
    return _checked(kind, value)


def normalize_handle(value: str, kind: str = "social") -> str:
    """A payment or social-media account id: NFKC, case-folded, all blanks removed."""
    return _checked(kind, value).replace(" ", "")


def normalize(kind: str, value: str) -> str:
    """Normalise ``value`` as an identifier of ``kind`` (one of :data:`KINDS`)."""
    if kind == "phone":
        return normalize_phone(value)
    if kind == "account":
        return normalize_account(value)
    if kind == "url":
        return normalize_url(value)
    if kind == "app":
        return normalize_name(value, kind)
    if kind in ("payment", "social"):
        return normalize_handle(value, kind)
    raise InvalidIdentifier(kind, value, f"unknown identifier kind; one of {', '.join(KINDS)}")


def split_list(cell: str | None) -> list[str]:
    """A ``;``-separated CSV cell as its non-blank items (full-width ``；`` accepted too)."""
    if not cell:
        return []
    return [item.strip() for item in cell.replace("；", ";").split(";") if item.strip()]
