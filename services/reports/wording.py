"""Chinese wording of numbers, dates and quarters as official notices print them."""

from __future__ import annotations

from datetime import date

# 2021年7月19日: dates are worded alike in notices and emails.
from notifications.render import cn_date as cn_date

DIGITS = "零一二三四五六七八九"


def cn_numeral(n: int) -> str:
    """0–99 in Chinese numerals, as used by （一）…（十一） and 通报一次."""
    if not 0 <= n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return DIGITS[ones]
    head = "" if tens == 1 else DIGITS[tens]
    return f"{head}十{DIGITS[ones] if ones else ''}"


def cn_times(n: int) -> str:
    """How many times, as a notice says it: 一次, 两次, 三次."""
    return f"{'两' if n == 2 else cn_numeral(n)}次"


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_name(day: date) -> str:
    """二季度."""
    return f"{cn_numeral(quarter_of(day))}季度"


def quarter_label(day: date) -> str:
    """2021年二季度."""
    return f"{day.year}年{quarter_name(day)}"


def section_number(n: int) -> str:
    """（一）, （二）, …"""
    return f"（{cn_numeral(n)}）"


def chapter_number(n: int) -> str:
    """一、, 二、, …"""
    return f"{cn_numeral(n)}、"
