"""The filtered case list as CSV (UTF-8 with BOM, opens in Excel) or XLSX, formulas inert."""

from __future__ import annotations

from services.cases.queries import CaseRow
from services.reports.tables import csv_bytes, xlsx_bytes
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
    "县级通报次数",
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
        row.notices_county,
        row.description,
    ]


def to_csv(rows: list[CaseRow]) -> bytes:
    return csv_bytes(HEADERS, map(_values, rows))


def to_xlsx(rows: list[CaseRow]) -> bytes:
    return xlsx_bytes(HEADERS, map(_values, rows), sheet="整改案件")
