"""The national quarter's whole pipeline on three offices (``bench national`` at 0.001).

The same stages ``make bench-national`` measures, checked for what a person would notice:
every planted problem on the loopback sites found exactly once, every email delivered once,
every notice printed with its own office's figures, every fixed problem verified at recheck.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from bench.bench_national import run_stages
from bench.national.quarter import open_quarter
from services.db.models import Case, CaseEvent, OutboxMessage, Round, Target, Unit

SCALE = 0.001  # 3 offices, 40 units, 14 websites (434 pages), 150 accounts, 10 findings


def _cases(session) -> list[tuple[str, str, str, str, str]]:
    """(target code, target kind, category, state, round code) of every case."""
    rows = session.execute(
        select(Target.code, Target.kind, Case.category_code, Case.state, Round.code)
        .join(Target, Case.target_id == Target.id)
        .join(Round, Case.round_id == Round.id)
    )
    return [tuple(row) for row in rows]


def test_a_small_national_quarter_finds_notifies_prints_and_verifies(tmp_path):
    with open_quarter(SCALE, tmp_path) as quarter:
        plan = quarter.plan
        stages = run_stages(quarter, limits=False, echo=lambda *_: None)
        app = quarter.app()
        with app.uow() as uow:
            session = uow.session
            cases = _cases(session)
            sites = [c for c in cases if c[1] in ("website", "column")]
            found = Counter((code, category) for code, _, category, _, _ in sites)
            expected = plan.expected_findings()
            # Every planted problem found exactly once, and nothing that was not planted.
            assert set(found) == expected
            assert set(found.values()) == {1}
            # Each in its own office's round.
            owner = {w.code: w.office_code for w in plan.websites}
            for code, _, _, _, round_code in sites:
                assert round_code == plan.round_code(owner[code.split("-")[0]])
            accounts = {c[0] for c in cases if c[1] == "new_media"}
            rounds = {plan.round_code(o.code) for o in plan.offices}
            nm = session.execute(
                select(Target.code, Target.kind, Target.name, Round.code)
                .join(Case, Case.target_id == Target.id)
                .join(Round, Case.round_id == Round.id)
                .where(Target.kind == "new_media")
            ).all()
            assert accounts == {a.code for a in plan.nm_finding_accounts()}

            # One notice email per unit with cases, each delivered once (the sweep's
            # reminders and escalations come later and wait for the next dispatch).
            with_cases = set(session.scalars(select(Unit.code).join(Case, Case.unit_id == Unit.id)))
            notices = session.execute(
                select(Unit.code, OutboxMessage.status)
                .join(Unit, OutboxMessage.unit_id == Unit.id)
                .where(OutboxMessage.channel == "email", OutboxMessage.template == "round_notice")
            ).all()
            assert {status for _, status in notices} == {"sent"}
            assert Counter(code for code, _ in notices) == Counter(with_cases)
            delivered = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "sent")
            )
            assert quarter.facts["messages_delivered"] == delivered >= len(notices)
            assert stages["deliver"]["sink_received"] == delivered

            # Every fixed problem verified at recheck; what is still there is not.
            states = {(code, category): state for code, _, category, state, _ in sites}
            for (code, category), state in states.items():
                site = int(code[1:6])
                key = (site,) if "-" not in code else (site, int(code.split("-c")[1]))
                if plan.still_present(*key):
                    assert state != "verified", (code, category)
                else:
                    assert state == "verified", (code, category, state)
            verifies = session.scalar(
                select(func.count()).select_from(CaseEvent).where(CaseEvent.trigger == "verify")
            )
            assert verifies == sum(1 for s in states.values() if s == "verified")
            assert stages["recheck"]["unknown_pages"] == 0, stages["recheck"]
        app.close()

        # Every notice prints its own office's figures and names its own accounts only.
        folder = quarter.workdir / "notices"
        accounts_of = {r: {n for _, _, n, rc in nm if rc == r} for r in rounds}
        for office in plan.offices:
            code = plan.round_code(office.code)
            text = (folder / f"{code}通报.md").read_text("utf-8-sig")
            assert text.startswith(f"**{office.name}")
            operating = sum(
                1
                for w in plan.websites
                if w.office_code == office.code and plan.site_problem(w.index) != "closed"
            )
            assert f"登记在运行政府网站{operating}个" in text
            columns = {t for t, kind, _, _, rc in sites if kind == "column" and rc == code}
            assert f"问题专栏{len(columns)}个" in text
            for other, names in accounts_of.items():
                for name in names:
                    assert (name in text) == (other == code), (code, name)
            assert (folder / f"{code}通报.docx").stat().st_size > 0

    assert stages["inspection"]["items"] == plan.sizes.pages
    assert stages["nm_findings"]["items"] == len(plan.nm_finding_accounts())
    assert stages["notices"]["items"] == len(plan.offices)
