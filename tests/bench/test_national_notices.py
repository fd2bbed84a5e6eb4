"""The national notices stage: one Markdown notice, one DOCX notice and one ledger per office's
round, each naming its own office and printing its own round's figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bench.national import notices
from bench.national.plan import Plan
from services.rounds import rounds
from tests.builders import a_case, a_target, a_unit, an_issuer

OFFICES = {"n-k0000": ("甲县", 1), "n-k0001": ("乙县", 3)}  # office → (name, problem columns)


def test_each_round_gets_its_own_markdown_docx_and_ledger(app, tmp_path):
    with app.uow() as uow:
        a_unit(uow, "n-c000", name="某市", kind="city_gov")
        for code, (name, columns) in OFFICES.items():
            a_unit(uow, code, name=name, kind="county_gov", parent_code="n-c000")
            an_issuer(uow, code, level="county", name=f"{name}人民政府办公室")
            round_code = Plan.round_code(code)
            rounds.upsert_round(
                uow,
                rounds.RoundSpec(
                    code=round_code,
                    period_start=date(2021, 7, 1),
                    period_end=date(2021, 9, 30),
                    notice_date=date(2021, 10, 18),
                    issuer_code=code,
                ),
            )
            department = a_unit(uow, f"{code}-d", name=f"{name}教育局", parent_code=code)
            site = a_target(uow, f"{code}-w", unit_code=department.code, name=f"{name}教育网")
            for c in range(columns):
                column = a_target(
                    uow, f"{code}-c{c}", unit_code=department.code, kind="column",
                    name=f"{name}栏目{c}", parent_target_code=site.code,
                )  # fmt: skip
                a_case(uow, state="notified", round_code=round_code, target_code=column.code)
        uow.commit()
    jobs = [
        notices.Job(Plan.round_code(code), name, tmp_path / "notices", cases=columns)
        for code, (name, columns) in OFFICES.items()
    ]

    done = notices.render_all(app.settings, jobs, workers=1)

    assert (done.items, done.unit) == (2, "notices")
    assert {k: done.details[k] for k in ("md", "docx", "ledger")} == {
        "md": 2,
        "docx": 2,
        "ledger": 2,
    }
    for code, (name, columns) in OFFICES.items():
        round_code = Plan.round_code(code)
        markdown = (tmp_path / "notices" / f"{round_code}通报.md").read_text("utf-8")
        docx = notices.docx_text((tmp_path / "notices" / f"{round_code}通报.docx").read_bytes())
        ledger = (tmp_path / "notices" / f"{round_code}整改台账.csv").read_text("utf-8-sig")
        other = next(n for c, (n, _) in OFFICES.items() if c != code)
        for text in (markdown, docx):
            assert f"{name}人民政府办公室关于2021年三季度" in text
            assert text.count(f"{name}栏目") == columns  # its problems, each column named
            assert other not in text
        assert ledger.count(f"{name}栏目") == columns
        assert other not in ledger

    miscounted = [replace(jobs[0], cases=jobs[0].cases + 1)]
    with pytest.raises(RuntimeError, match="rows for"):  # a ledger missing a case is caught
        notices.render_all(app.settings, miscounted, workers=1)

    limit = notices.limit_of(app.settings, jobs)  # the same rendering, no database while timed
    assert limit["items"] == 2 and limit["per_second"] > 0
