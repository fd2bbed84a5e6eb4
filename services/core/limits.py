"""The ranges numbers must keep to before they reach the database (a PostgreSQL ``integer``).

A larger id or count overflows the driver (SQLite past 2⁶³, PostgreSQL past 2³¹) and used to
answer 500: every entry point refuses it first, naming the field and this range.
"""

from __future__ import annotations

#: The largest id, version or count a row can hold.
MAX_ID = 2_147_483_647


def out_of_range(label: str, value: int, low: int, high: int) -> str | None:
    """A Chinese message naming ``label`` when ``value`` is outside low..high, else None."""
    if low <= value <= high:
        return None
    return f"{label}超出范围（{low}–{high}）：{_short(value)}"


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:20]}…（{len(text)} 位）"
