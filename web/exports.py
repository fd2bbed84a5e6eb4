"""The filtered case list as CSV (UTF-8 with BOM, opens in Excel) or XLSX."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from services.cases.queries import CaseRow
from states.lifecycle import STATE_LABELS
from web.templating import SEVERITY_LABELS, day

HEADERS = [
    "编号",
    "检查轮次",
    "责任单位",
    "监测对象",
    "问题类别",
    "严重程度",
    "状态",
    "整改期限",
    "超期天数",
    "升级次数",
    "市级通报次数",
    "省级通报次数",
    "问题描述",
]


def _values(row: CaseRow) -> list:
    return [
        row.id,
        row.round,
        row.unit,
        row.target,
        row.category_name,
        SEVERITY_LABELS.get(row.severity, row.severity),
        STATE_LABELS.get(row.state, row.state),
        day(row.deadline) if row.deadline else "",
        row.overdue_days,
        row.escalation_level,
        row.notices_city,
        row.notices_province,
        row.description,
    ]


def _safe(value):
    """Neutralise spreadsheet formulas in text cells (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_csv(rows: list[CaseRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([_safe(v) for v in _values(row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[CaseRow]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("整改案件")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([_safe(v) for v in _values(row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
