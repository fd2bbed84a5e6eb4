"""Text typed or pasted by people: refuse the characters nobody means to type."""

from __future__ import annotations

import re

#: C0 controls (tab and newlines aside), DEL and the bidirectional overrides and isolates that
#: make text read differently from what it is (``报告\u202egnp.pdf`` shows as 报告fdp.png).
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def invisible(value: str | None) -> str | None:
    """Where the first invisible control character of ``value`` is, in Chinese; None if clean."""
    found = _INVISIBLE.search(value or "")
    if found is None:
        return None
    return f"第 {found.start() + 1} 个字符是不可见的控制字符（U+{ord(found.group()):04X}）"


def inert_for_spreadsheet(value: object) -> object:
    """Text that a spreadsheet would run as a formula (=, +, -, @) gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
