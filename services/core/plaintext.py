"""Text typed or pasted by people: refuse the characters nobody means to type."""

from __future__ import annotations

import re
import unicodedata

#: C0 controls (tab and newlines aside), DEL and the bidirectional overrides and isolates that
#: make text read differently from what it is (``报告\u202egnp.pdf`` shows as 报告fdp.png).
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


#: A file name holds none of them, nor tab, line feed, carriage return or the C1 controls: a
#: name travels in a download's header line, where a line feed ends the header.
_INVISIBLE_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def invisible(value: str | None) -> str | None:
    """Where the first invisible control character of ``value`` is, in Chinese; None if clean."""
    return _where(_INVISIBLE.search(value or ""))


def invisible_in_filename(name: str | None) -> str | None:
    """Like :func:`invisible` for a file name, where tab, CR, LF and C1 controls count too."""
    return _where(_INVISIBLE_IN_NAME.search(name or ""))


def visible_filename(name: str) -> str:
    """``name`` with each character :func:`invisible_in_filename` refuses replaced by ``_``."""
    return _INVISIBLE_IN_NAME.sub("_", name)


def _where(found: re.Match[str] | None) -> str | None:
    if found is None:
        return None
    return f"第 {found.start() + 1} 个字符是不可见的控制字符（U+{ord(found.group()):04X}）"


#: What starts a formula: ``= + - @`` and their full-width forms ``＝ ＋ － ＠``, which an
#: IME types in place of the ASCII ones and which some spreadsheets (WPS among them) accept.
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")


def inert_for_spreadsheet(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe.

    A formula character counts after any leading whitespace or invisible characters too
    (``"\\t=cmd"``, ``"\\r=cmd"``, ``" =1+1"``, ``"\\n@SUM(1)"``, a zero-width space or a
    byte-order mark before ``=``): spreadsheets drop them when they read a cell. Full-width
    ``＝ ＋ － ＠`` are guarded as well (decided: a stray apostrophe before text that begins
    with a full-width minus costs less than a formula run by a spreadsheet that folds them).
    """
    if isinstance(value, str) and _formula_start(value):
        return "'" + value
    return value


def _formula_start(value: str) -> bool:
    for char in value:
        if char in _FORMULA_START:
            return True
        if not (char.isspace() or unicodedata.category(char) in ("Cc", "Cf")):
            return False
    return False
