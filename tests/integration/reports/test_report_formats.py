"""The notice as Markdown, HTML and DOCX; the ledger as CSV and XLSX; trends; the CLI."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from docx import Document
from docx.shared import Pt
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.cases import transitions
from services.core.errors import ValidationFailed
from services.db.models import Target
from services.reports.docx import render_docx
from services.reports.exports import ledger_download, notice_download
from services.reports.ledger import HEADERS, ledger_csv, ledger_rows, ledger_xlsx
from services.reports.notice import build_notice
from services.reports.render import render_html, render_markdown
from services.reports.trends import trend_rows, trend_svg
from tests.builders import a_case
from tests.integration.reports.notice_scenario import (
    Q2,
    a_previous_quarter,
    a_quarter_with_problems,
    reported,
)


def a_notice(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        a_previous_quarter(uow, fixed=True)
        uow.commit()
    with app.uow() as uow:
        return build_notice(uow, Q2), trend_rows(uow, until=Q2)


def test_docx_reads_back_with_the_same_paragraphs_as_the_markdown(app, tmp_path):
    notice, _ = a_notice(app)
    markdown = render_markdown(notice)
    path = tmp_path / "notice.docx"
    path.write_bytes(render_docx(notice))

    document = Document(str(path))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts == [block.full_text for block in notice.blocks]
    assert all(text in markdown for text in texts)
    title = next(p for p in document.paragraphs if p.text == notice.title)
    fonts = title.runs[0]._element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == (
        "方正小标宋简体"
    )
    assert title.runs[0].font.name == "宋体"
    body = next(p for p in document.paragraphs if p.text.startswith("（二）2021年二季度"))
    assert body.runs[0].font.size == Pt(16)
    assert round(document.sections[0].page_width.mm) == 210


def _tool(name: str, package: str) -> str:
    """A Debian tool the test needs; ``make test`` installs its package when it is missing."""
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is missing: apt-get install --no-install-recommends {package}")
    return found


def test_the_docx_notice_converts_to_a_pdf_with_its_chinese_text(app, tmp_path):
    soffice = _tool("soffice", "libreoffice-writer-nogui")
    pdftotext = _tool("pdftotext", "poppler-utils")
    pdfinfo = _tool("pdfinfo", "poppler-utils")
    notice, _ = a_notice(app)
    path = tmp_path / "notice.docx"
    path.write_bytes(render_docx(notice))
    subprocess.run(
        [
            soffice,
            # A profile of its own: concurrent runs (and a user's open LibreOffice) do not clash.
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    pdf = tmp_path / "notice.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    info = subprocess.run([pdfinfo, pdf], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, flags=re.M).group(1))
    assert pages == 4  # A4, 16 pt 仿宋 body in Noto CJK (installed by `make test`)
    text = subprocess.run(
        [pdftotext, "-layout", pdf, "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert flat.startswith("临沧市人民政府办公室")
    assert re.sub(r"\s+", "", notice.title) in flat
    for heading in ("一、总体情况", "二、存在的主要问题", "三、下一步工作要求"):
        assert heading in flat
    assert "网站合格率75.00%" in flat


def test_markdown_has_the_title_and_chapters_as_headings(app):
    notice, _ = a_notice(app)
    markdown = render_markdown(notice)

    assert markdown.startswith("**临沧市人民政府办公室**\n\n某政办字〔2021〕72号\n\n# 临沧市")
    assert "\n## 一、总体情况\n" in markdown
    assert "\n## 二、存在的主要问题\n" in markdown


def test_html_is_a_printable_a4_page_with_a_trends_appendix_and_inline_svg(app):
    notice, trends = a_notice(app)
    html = render_html(notice, trends=trends)

    assert "@page { size: A4;" in html
    assert f'<h1 class="title">{notice.title}</h1>' in html
    assert '<p class="n">（二）2021年二季度政府网站普查情况' in html
    assert "<td>2021Q1</td><td>0.00%</td>" in html
    assert "<td>2021Q2</td><td>75.00%</td><td>50.00%</td><td>33.33%</td>" in html
    svg = html[html.index("<svg") : html.index("</svg>") + 6]
    ET.fromstring(svg)  # well-formed
    assert "<script" not in html


def test_trends_count_open_overdue_and_escalated_cases_per_round(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        late = a_previous_quarter(uow, fixed=False)
        transitions.transition(uow, case_id=late, trigger="escalate", actor="督查员")
        uow.commit()
    with app.uow() as uow:
        rows = {row.round_code: row for row in trend_rows(uow)}
        svg = trend_svg(list(rows.values()))

    q1 = rows["2021Q1"]
    assert (q1.cases, q1.open, q1.overdue, q1.escalated) == (1, 1, 1, 1)
    assert (rows["2021Q2"].cases, rows["2021Q2"].open, rows["2021Q2"].overdue) == (4, 4, 0)
    assert rows["2021Q2"].escalated == 0
    assert str(rows["2021Q2"].rates["website"]) == "75.00"
    # Only websites were inspected in both rounds: one line; a point per rate that exists.
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 4
    assert "2021Q1 已超期 1" in svg


def test_ledger_lists_every_case_with_its_dates_in_csv_and_xlsx(app, tmp_path):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        case_id = a_previous_quarter(uow, fixed=False)
        reported(uow, case_id, on=date(2021, 4, 28))
        transitions.transition(uow, case_id=case_id, trigger="escalate", actor="督查员")
        uow.commit()
    with app.uow() as uow:
        rows = ledger_rows(uow, "2021Q1")
        q2 = ledger_rows(uow, Q2)

    assert len(rows) == 1 and len(q2) == 4
    row = rows[0]
    assert (row.unit, row.category, row.state, row.deadline) == (
        "某市人民政府",
        "严重表述错误",
        "已升级",
        date(2021, 4, 29),
    )
    assert (row.submitted_on, row.verified_on, row.escalations) == (date(2021, 4, 28), None, 1)
    table = list(csv.reader(io.StringIO(ledger_csv(rows).decode("utf-8-sig"))))
    assert table[0] == list(HEADERS)
    assert table[1][1:3] == ["某市人民政府", "某市人民政府门户网站"]
    assert table[1][7:11] == ["2021-04-29", "2021-04-28", "", "1"]
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(ledger_xlsx(q2))
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == list(HEADERS)
    assert sheet.max_row == 5


def run_cli(settings, monkeypatch, *args):
    monkeypatch.setenv("RECTIFY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RECTIFY_DATA_DIR", str(settings.data_dir))
    return CliRunner().invoke(cli_app, ["--as-of", "2021-07-19", *args])


def test_cli_writes_the_notice_and_the_ledger_in_every_format(app, settings, monkeypatch, tmp_path):
    a_notice(app)
    for fmt in ("md", "html", "docx"):
        result = run_cli(
            settings, monkeypatch, "notice", Q2, "--format", fmt, "-o", str(tmp_path / f"n.{fmt}")
        )
        assert result.exit_code == 0, result.output
    for fmt in ("csv", "xlsx"):
        result = run_cli(
            settings, monkeypatch, "ledger", Q2, "--format", fmt, "-o", str(tmp_path / f"l.{fmt}")
        )
        assert result.exit_code == 0, result.output
    assert "网站合格率75.00%" in (tmp_path / "n.md").read_text(encoding="utf-8")
    assert "<svg" in (tmp_path / "n.html").read_text(encoding="utf-8")
    assert Document(str(tmp_path / "n.docx")).paragraphs[0].text == "临沧市人民政府办公室"
    assert load_workbook(tmp_path / "l.xlsx").active.max_row == 5
    shown = run_cli(settings, monkeypatch, "notice", Q2)
    assert "三、下一步工作要求" in shown.output


def test_cli_refuses_an_unknown_round_or_format_in_chinese(app, settings, monkeypatch):
    missing = run_cli(settings, monkeypatch, "notice", "2030Q1")
    bad_format = run_cli(settings, monkeypatch, "ledger", "2021Q2", "--format", "pdf")

    assert missing.exit_code == 2 and "检查轮次 2030Q1 不存在" in missing.output
    assert bad_format.exit_code != 0 and "格式应为 csv、xlsx 之一" in bad_format.output


def test_downloads_carry_a_chinese_file_name_and_content_type_for_the_web_page(app):
    a_notice(app)
    with app.uow() as uow:
        docx = notice_download(uow, Q2, fmt="docx")
        html = notice_download(uow, Q2, fmt="html")
        xlsx = ledger_download(uow, Q2, fmt="xlsx")
        with pytest.raises(ValidationFailed) as refused:
            notice_download(uow, Q2, fmt="pdf")

    assert (docx.filename, docx.content[:2]) == ("2021Q2通报.docx", b"PK")
    assert docx.content_type.endswith("wordprocessingml.document")
    assert html.content_type == "text/html; charset=utf-8" and b"<svg" in html.content
    assert (xlsx.filename, xlsx.content[:2]) == ("2021Q2整改台账.xlsx", b"PK")
    assert "格式应为 md、html、docx 之一" in str(refused.value)


def test_html_escapes_names_from_the_registry(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        a_case(uow, category="broken_links", target_code="w_city")
        target = uow.session.scalar(select(Target).where(Target.code == "w_city"))
        target.name = "<script>alert(1)</script>门户网站"
        uow.flush()
        html = render_html(build_notice(uow, Q2))

    assert "&lt;script&gt;alert(1)&lt;/script&gt;门户网站存在不可用链接" in html
    assert "<script>" not in html
