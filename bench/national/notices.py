"""Stage: every office's quarterly notice (Markdown and DOCX) and its ledger, written to files.

What ``rectify notice ROUND --format md|docx -o …`` and ``rectify ledger ROUND -o ….csv`` write,
through the same services (``services.reports``), the data of a group of rounds read together
(``build_notices``, ``ledger_downloads``), in this process or a pool of worker processes (each
with its own App) over the rounds. The limit: the same rendering from notice data read once
beforehand, no database reads while timed.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from io import BytesIO, StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bench.national.measure import timed
from bench.national.plan import NOTICE_DAY, Plan
from services.bootstrap import App, build_app
from services.core.settings import Settings
from services.db.models import Case, Round
from services.reports.docx import render_docx
from services.reports.exports import ledger_downloads
from services.reports.notice import build_notice, build_notices
from services.reports.render import render_markdown

if TYPE_CHECKING:  # the quarter module imports Prefect: not in the worker processes
    from bench.national.quarter import Done, Quarter

KINDS = ("md", "docx", "ledger")
#: Worker processes over the rounds (one per core measured best); 1 renders in this process.
WORKERS = int(os.environ.get("BENCH_NOTICE_WORKERS", "2"))
#: Rounds whose notices and ledgers a worker reads together (one query per kind of data).
GROUP = 50


@dataclass(frozen=True)
class Job:
    """One office's round: its code, the office's name (the file must name it), the outputs."""

    round_code: str
    office: str
    outdir: Path
    cases: int  # the ledger's rows: the round's cases (an office may have none)


def jobs_of(q: Quarter) -> list[Job]:
    outdir = q.workdir / "notices"
    app = q.app()
    try:
        with app.uow() as uow:
            query = select(Round.code, func.count(Case.id)).join(Case).group_by(Round.code)
            cases = dict(uow.session.execute(query).all())
    finally:
        app.close()
    return [
        Job(code, o.name, outdir, cases.get(code, 0))
        for o in q.plan.offices
        if (code := Plan.round_code(o.code))
    ]


def notices(q: Quarter) -> Done:
    """Render every office's notice as MD and DOCX and write its ledger (CSV)."""
    settings = q.settings()
    return render_all(settings, jobs_of(q), workers=WORKERS)


def render_all(settings: Settings, jobs: Sequence[Job], *, workers: int = 1) -> Done:
    """Write ``<round>通报.md``, ``<round>通报.docx``, ``<round>整改台账.csv`` per job."""
    from bench.national.quarter import Done  # here: a spawned worker imports this module

    for outdir in {job.outdir for job in jobs}:
        outdir.mkdir(parents=True, exist_ok=True)
    if workers <= 1 or len(jobs) < 2 * workers:
        parts = [_render_chunk(settings, list(jobs))]
    else:
        chunks = [list(jobs[i::workers]) for i in range(workers)]
        spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads
        with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
            parts = list(pool.map(_render_chunk, [settings] * workers, chunks))
    counts = {kind: sum(p["counts"][kind] for p in parts) for kind in KINDS}
    seconds = {kind: round(sum(p["seconds"][kind] for p in parts), 2) for kind in KINDS}
    problems = [problem for p in parts for problem in p["problems"]]
    if problems:
        raise RuntimeError(f"{len(problems)} notice files wrong, e.g. {problems[:3]}")
    details: dict[str, Any] = {
        "md": counts["md"],
        "docx": counts["docx"],
        "ledger": counts["ledger"],
        "workers": max(1, min(workers, len(parts))),
        "seconds_per_kind": seconds,  # summed over workers (CPU-ish: each worker is one core)
    }
    return Done(items=counts["docx"], unit="notices", details=details)


def _render_chunk(settings: Settings, jobs: list[Job]) -> dict[str, Any]:
    app = build_app(settings, as_of=NOTICE_DAY)
    counts = dict.fromkeys(KINDS, 0)
    seconds = dict.fromkeys(KINDS, 0.0)
    problems: list[str] = []
    try:
        for start in range(0, len(jobs), GROUP):
            group = jobs[start : start + GROUP]
            files, spent = _render_group(app, group)
            for job, written in zip(group, files, strict=True):
                for kind, (path, content) in written.items():
                    path.write_bytes(content)
                    counts[kind] += 1
                    problems += _problems(path, content, job, kind)
            for kind in KINDS:
                seconds[kind] += spent[kind]
    finally:
        app.close()
    return {"counts": counts, "seconds": seconds, "problems": problems}


def _render_group(
    app: App, jobs: list[Job]
) -> tuple[list[dict[str, tuple[Path, bytes]]], dict[str, float]]:
    """A group's notices built together (as ``build_notices`` builds them) and rendered as MD
    and DOCX; their ledgers as ``ledger_downloads`` writes them. The files of each job, and
    the wall seconds of each kind (the notices' build counted with the Markdown)."""
    codes = [job.round_code for job in jobs]
    with app.uow() as uow:
        built, build_s, _ = timed(build_notices, uow, codes)
        md, md_s, _ = timed(lambda: [render_markdown(n).encode("utf-8") for n in built])
        docx, docx_s, _ = timed(lambda: [render_docx(n) for n in built])
        ledgers, ledger_s, _ = timed(lambda: ledger_downloads(uow, codes, fmt="csv"))
    spent = {"md": build_s + md_s, "docx": docx_s, "ledger": ledger_s}
    files = [
        {
            "md": (job.outdir / f"{job.round_code}通报.md", md[i]),
            "docx": (job.outdir / f"{job.round_code}通报.docx", docx[i]),
            "ledger": (job.outdir / ledgers[i].filename, ledgers[i].content),
        }
        for i, job in enumerate(jobs)
    ]
    return files, spent


def _problems(path: Path, content: bytes, job: Job, kind: str) -> list[str]:
    """What is wrong with a file: empty; a notice not naming its office; a ledger without one
    row per case of the round, or (with rows) not naming the office's units."""
    if not content:
        return [f"{path.name}: empty"]
    if kind == "docx":
        text = docx_text(content)
    else:
        text = content.decode("utf-8-sig")
    if kind == "ledger":
        rows = sum(1 for _ in csv.reader(StringIO(text))) - 1  # below the header
        if rows != job.cases:
            return [f"{path.name}: {rows} rows for {job.cases} cases"]
        if not rows:
            return []  # an office without a case: the header alone
    return [] if job.office in text else [f"{path.name}: does not name {job.office}"]


def docx_text(content: bytes) -> str:
    """The text of a DOCX's body (its paragraphs' runs), without python-docx."""
    with zipfile.ZipFile(BytesIO(content)) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    return "\n".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))


def render_limit(q: Quarter) -> dict[str, Any]:
    """Rendering the same notices (MD + DOCX) from data read once beforehand: no database."""
    return limit_of(q.settings(), jobs_of(q))


def limit_of(settings: Settings, jobs: Sequence[Job]) -> dict[str, Any]:
    app = build_app(settings, as_of=NOTICE_DAY)
    try:
        with app.uow() as uow:  # untimed: every round's notice data, once
            built = [build_notice(uow, job.round_code) for job in jobs]
    finally:
        app.close()
    if built:  # templates compiled, DOCX skeleton laid out: once per process, not timed
        render_markdown(built[0]), render_docx(built[0])
    render: Callable[[], int] = lambda: sum(  # noqa: E731
        len(render_markdown(n)) + len(render_docx(n)) > 0 for n in built
    )
    items, seconds, cpu = timed(render)
    return {
        "items": items,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "per_second": round(items / seconds, 1) if seconds else 0.0,
        "what": "MD + DOCX of every round's notice from notice data read beforehand, one process",
    }
