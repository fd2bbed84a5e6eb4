"""Import of the registry and of findings from CSV, XLSX or YAML rows: check everything, then write.

Every error names the file (and sheet), the spreadsheet row (header = row 1) and the column.
An import with any error writes nothing; re-importing a file creates no duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

from services.core.errors import ValidationFailed
from services.core.progress import Progress, silent
from services.core.uow import UnitOfWork
from services.imports import block_rows as br
from services.imports import category_rows as cr
from services.imports import finding_rows as fr
from services.imports import issuer_rows as ir
from services.imports import registry_rows as rr
from services.imports import round_rows as ro
from services.imports import setting_rows as sr
from services.imports.kinds import ALL_KINDS, CATALOGUE_KINDS, REGISTRY_KINDS, ROUND_KINDS
from services.imports.report import KIND_LABELS, Counts, ImportReport
from services.imports.rows import Problems, Row, parse_table
from services.imports.schema import TableKind, detect
from services.imports.tables import RawTable, from_records, read_file

__all__ = [
    "KIND_LABELS",
    "Counts",
    "ImportReport",
    "from_records",
    "import_findings",
    "import_registry",
    "import_tables",
    "read_tables",
]


#: Columns naming a round whose existing cases an import may refer to.
_ROUND_REFS = ("round_code", "previous_round")


def read_tables(paths: list[Path], progress: Progress = silent) -> list[RawTable]:
    """Read every file; unreadable files are all reported together."""
    tables, errors = [], []
    for done, path in enumerate(paths, 1):
        try:
            tables.extend(read_file(Path(path)))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
        progress(done, len(paths))
    if errors:
        raise ValidationFailed(errors)
    return tables


def import_registry(
    uow: UnitOfWork, paths: list[Path], *, progress: Progress = silent
) -> ImportReport:
    """Import units, targets (监测对象), categories (问题类别) and issuers (发文机关) from
    CSV/XLSX files, in one transaction."""
    return import_tables(uow, read_tables(paths, progress), kinds=REGISTRY_KINDS)


def import_findings(
    uow: UnitOfWork,
    paths: list[Path],
    *,
    round_code: str | None = None,
    progress: Progress = silent,
) -> ImportReport:
    """Import rounds, inspection scope, board figures, findings, notices and history (and the
    categories they name, 问题类别)."""
    kinds = ROUND_KINDS | CATALOGUE_KINDS
    tables = read_tables(paths, progress)
    return import_tables(uow, tables, kinds=kinds, round_code=round_code, progress=progress)


def import_tables(
    uow: UnitOfWork,
    tables: list[RawTable],
    *,
    kinds: dict[str, TableKind] = ALL_KINDS,
    round_code: str | None = None,
    progress: Progress = silent,
) -> ImportReport:
    """Check every row of every table; raise ValidationFailed with all errors, or write them all
    (``progress``: the findings written, of all)."""
    problems = Problems()
    rows = _parse(tables, kinds, problems, round_code=round_code)
    units = rr.check_units(uow, rows["units"], problems)
    targets = rr.check_targets(uow, rows["targets"], rows["units"], problems)
    ir.check_issuers(uow, rows["issuers"], rows["units"], problems)
    issuers_known = ir.known_issuers(uow, rows["issuers"])
    ro.check_rounds(rows["rounds"], problems)
    ir.check_round_issuers(rows["rounds"], issuers_known, problems, owners=ir.round_owners(uow))
    known = ro.known(uow, rows["rounds"], rows["targets"])
    settings = sr.check_settings(
        uow,
        rows["notice_settings"],
        rounds_known=set(known.rounds),
        issuers_known=issuers_known,
        problems=problems,
    )
    ro.check_verdicts(rows["verdicts"], known, problems)
    ro.check_board_figures(rows["board_figures"], known, problems)
    planned = cr.check_categories(uow, rows["categories"], problems)
    catalogue = cr.index_after(uow, planned)
    sr.check_references(
        uow,
        settings,
        categories={e.code: e.name for e in catalogue.entries.values()},
        unit_rows=rows["units"],
        problems=problems,
    )
    for kind in ("notices", "history"):  # findings: in check_findings, in column order
        fr.resolve_categories(rows[kind], catalogue, problems)
    named = {r[f] for k in ("findings", "notices", "history") for r in rows[k] for f in _ROUND_REFS}
    in_db = fr.existing_cases(uow, named - {None})
    fr.check_findings(rows["findings"], known, in_db, problems, catalogue=catalogue)
    for kind in ("notices", "history"):
        fr.check_case_refs(rows[kind], in_db, rows["findings"], problems)
    fr.check_history(rows["history"], in_db, problems, uow)
    built = br.check_blocks(uow, rows, known, problems)
    if problems:
        raise ValidationFailed(problems.sorted())

    report = ImportReport(sources=list(dict.fromkeys(t.source for t in tables)))
    rr.apply_units(uow, units, report)
    rr.apply_targets(uow, targets, report)
    ir.apply_issuers(uow, rows["issuers"], report)
    cr.apply_categories(uow, planned, report)
    ro.apply_rounds(uow, rows["rounds"], report)
    sr.apply_settings(uow, settings, report)
    ro.apply_verdicts(uow, rows["verdicts"], report)
    ro.apply_board_figures(uow, rows["board_figures"], report)
    by_round, written = _by_round(rows), 0
    for code in sorted(by_round, key=lambda c: (known.rounds.get(c) or date.min, c)):
        group = by_round[code]
        for row in group["findings"]:
            fr.apply_finding(uow, row, report, by_key=in_db)
            written += 1
            progress(written, len(rows["findings"]))
        fr.apply_history(uow, group["history"], report, by_key=in_db)
        fr.apply_notices(uow, group["notices"], report, by_key=in_db)
    br.apply_blocks(uow, built, report)
    uow.flush()
    return report


def _parse(
    tables: list[RawTable],
    kinds: dict[str, TableKind],
    problems: Problems,
    *,
    round_code: str | None,
) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = defaultdict(list)
    round_field_kinds = set(ROUND_KINDS) - {"rounds"}
    for table in tables:
        kind = detect(table, kinds)
        if kind is None:
            names = "、".join(k.sheet_names[0] for k in kinds.values())
            problems.add(
                f"{table.label}：第 1 行",
                f"无法识别表格内容（应为：{names}；请检查表头、工作表名或 CSV 文件名）",
            )
            continue
        defaults = {"round_code": round_code} if round_code else {}
        parsed = parse_table(table, kind, problems, defaults=defaults, release=True)
        if round_code and kind.code in round_field_kinds:
            for row in parsed:
                if row["round_code"] != round_code:
                    problems.add(
                        row.at("round_code"),
                        f"轮次「{row['round_code']}」与指定的 --round {round_code} 不一致",
                    )
        rows[kind.code].extend(parsed)
    return rows


def _by_round(rows: dict[str, list[Row]]) -> dict[str, dict[str, list[Row]]]:
    grouped: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for kind in ("findings", "history", "notices"):
        for row in rows[kind]:
            grouped[row["round_code"]][kind].append(row)
    return grouped
