"""Decode a page: declared charset, then UTF-8, then GB18030 (a superset of GBK/GB2312)."""

from __future__ import annotations

import codecs
import re

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
#: Chinese sites often declare GB2312 but use GBK characters; GB18030 decodes all of them.
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030"}


def _normalise(name: str | None) -> str | None:
    if not name:
        return None
    try:
        canonical = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    return _WIDER.get(name.strip().lower(), _WIDER.get(canonical, canonical))


def declared_charset(content_type: str | None, body: bytes) -> str | None:
    """The charset named by the Content-Type header, else by a <meta> in the first 4 KB."""
    if content_type:
        match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", content_type, re.IGNORECASE)
        if match and (name := _normalise(match.group(1))):
            return name
    match = _META.search(body[:4096])
    return _normalise(match.group(1).decode("ascii")) if match else None


def decode_page(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return the page text and the charset used to decode it."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace"), "utf-8"
    declared = declared_charset(content_type, body)
    for charset in dict.fromkeys(c for c in (declared, "utf-8", "gb18030") if c):
        try:
            return body.decode(charset), charset
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode(declared or "utf-8", errors="replace"), declared or "utf-8"
