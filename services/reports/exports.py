"""Downloads of a round's reports (what the web page's buttons and the CLI hand out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.reports.docx import render_docx
from services.reports.ledger import LedgerRow, ledger_csv, ledger_xlsx, ledgers
from services.reports.notice import build_notice
from services.reports.notice_reads import rounds_named
from services.reports.render import render_html, render_markdown
from services.reports.tables import CSV_TYPE, XLSX_TYPE
from services.reports.trends import trend_rows

NOTICE_FORMATS = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
LEDGER_FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    content: bytes


def _check(fmt: str, allowed: dict[str, str]) -> None:
    if fmt not in allowed:
        raise ValidationFailed([f"格式应为 {'、'.join(allowed)} 之一，而不是「{fmt}」"])


def notice_download(uow: UnitOfWork, round_code: str, *, fmt: str) -> Download:
    """The round's notice as md, html (with the trends appendix) or docx."""
    _check(fmt, NOTICE_FORMATS)
    notice = build_notice(uow, round_code)
    if fmt == "md":
        content = render_markdown(notice).encode("utf-8")
    elif fmt == "html":
        content = render_html(notice, trends=trend_rows(uow, until=round_code)).encode("utf-8")
    else:
        content = render_docx(notice)
    return Download(f"{round_code}通报.{fmt}", NOTICE_FORMATS[fmt], content)


def ledger_download(
    uow: UnitOfWork, round_code: str, *, fmt: str, scope_path: str | None = None
) -> Download:
    """The round's rectification ledger (整改台账) as csv or xlsx, of a unit subtree if given."""
    return ledger_downloads(uow, [round_code], fmt=fmt, scope_path=scope_path)[0]


def ledger_downloads(
    uow: UnitOfWork, round_codes: Sequence[str], *, fmt: str, scope_path: str | None = None
) -> list[Download]:
    """The ledgers of several rounds, in the order given, their rows read together."""
    _check(fmt, LEDGER_FORMATS)
    round_list = rounds_named(uow, round_codes)
    rows = ledgers(uow, round_list, scope_path=scope_path)
    return [_ledger(uow, round_.code, rows[round_.id], fmt) for round_ in round_list]


def _ledger(uow: UnitOfWork, round_code: str, rows: list[LedgerRow], fmt: str) -> Download:
    if fmt == "csv":
        content = ledger_csv(rows, tz=uow.clock.tz)
    else:
        content = ledger_xlsx(rows, title=f"{round_code}整改台账", tz=uow.clock.tz)
    return Download(f"{round_code}整改台账.{fmt}", LEDGER_FORMATS[fmt], content)
