"""Atom feeds (RFC 4287) of active alerts and published bulletins, built with lxml."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Entry:
    """One feed entry; ``link`` points at the full document (a CAP file or a bulletin page)."""

    id: str
    title: str
    updated: dt.datetime
    summary: str
    link: str
    link_type: str = "text/html"
    lang: str | None = None


def _t(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}", **attrs)
    if text is not None:
        el.text = text
    return el


def feed(*, feed_id: str, title: str, self_url: str, author: str, updated: dt.datetime,
         entries: list[Entry]) -> bytes:
    """An Atom feed document (UTF-8 bytes)."""
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _sub(root, "id", feed_id)
    _sub(root, "title", title)
    _sub(root, "updated", _t(max([updated, *[e.updated for e in entries]])))
    _sub(root, "link", rel="self", href=self_url, type="application/atom+xml")
    _sub(_sub(root, "author"), "name", author)
    for e in entries:
        entry = _sub(root, "entry")
        if e.lang:
            entry.set("{http://www.w3.org/XML/1998/namespace}lang", e.lang)
        _sub(entry, "id", e.id)
        _sub(entry, "title", e.title)
        _sub(entry, "updated", _t(e.updated))
        _sub(entry, "summary", e.summary)
        _sub(entry, "link", rel="alternate", href=e.link, type=e.link_type)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
