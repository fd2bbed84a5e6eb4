"""The registry stage: the plan's registry written as the documented import files and loaded
through ``rectify import``; its limit, the same unit and target rows written by COPY.

Files (in ``q.workdir / "import"``):

* ``登记.xlsx``: sheets 单位 (40,000 units, each with its 联系人邮箱) and 监测对象 (14,000
  websites, each followed by its 30 columns);
* ``新媒体账号.csv``: the 150,000 new-media accounts (a table of 监测对象 by its headers);
* ``发文机关.csv``: one issuing office per county; ``轮次.csv``: one round per office.

``stored_units`` / ``stored_targets`` give the rows exactly as the import stores them (ids in
import order, unit paths, parent ids): the COPY limit writes them and the test compares them.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
from openpyxl import Workbook
from sqlalchemy.engine import make_url

from bench.national import measure
from bench.national.plan import NOTICE_DAY, PERIOD, Plan, Unit  # noqa: F401 (re-exported)
from bench.national.quarter import Done, Quarter, fresh_database

RECTIFY = ".venv/bin/rectify"
#: The plan's unit kinds as the registry knows them (services/registry/units.py UNIT_KINDS).
UNIT_KIND = {"province": "other", "city": "city_gov", "county": "county_gov"}
UNIT_KIND_LABEL = {"other": "其他", "city_gov": "市政府", "county_gov": "县区政府"}
UNIT_KIND_LABEL["city_dept"] = "市直部门"
#: The 30 columns of every website: (name, column type), types as column_stale_days knows them.
COLUMN_KINDS = (
    ("工作动态", "news"),
    ("通知公告", "notice"),
    ("政策文件", "policy"),
    ("政策解读", "policy"),
    ("部门动态", "news"),
    ("人事信息", "other"),
    ("财政预决算", "other"),
    ("政府采购", "notice"),
    ("建议提案办理", "other"),
    ("统计信息", "other"),
)
PLATFORMS = (("wechat", "微信公众号"), ("weibo", "微博"), ("douyin", "抖音"))
PLATFORMS += (("toutiao", "今日头条"), ("kuaishou", "快手"))
STATUS_LABEL = {"operating": "运行中", "offline": "已下线"}
UNIT_HEADERS = ("单位代码", "单位名称", "类型", "上级单位代码", "联系人", "联系人邮箱")
TARGET_HEADERS = ("对象代码", "主办单位代码", "对象类型", "名称", "网址", "域名")
TARGET_HEADERS += ("所属网站代码", "栏目类型", "状态")
ACCOUNT_HEADERS = ("对象代码", "主办单位代码", "对象类型", "名称", "平台", "账号名称", "注册主体")
ISSUER_HEADERS = ("单位代码", "机关名称", "机关简称", "层级", "文号格式")
ROUND_HEADERS = ("轮次", "标题", "开始日期", "结束日期", "通报日期", "发文机关代码")


def unit_kind(unit: Unit) -> str:
    return UNIT_KIND.get(unit.kind, "city_dept")


def column_kind(column: int) -> tuple[str, str]:
    """The name and column type of a website's column ``column`` (0-based)."""
    name, kind = COLUMN_KINDS[column % len(COLUMN_KINDS)]
    return (
        name if column < len(COLUMN_KINDS) else f"{name}{column // len(COLUMN_KINDS) + 1}"
    ), kind


def site_status(plan: Plan, site: int) -> str:
    """A ``closed`` website is registered as offline (已下线), its columns with it."""
    return "offline" if plan.site_problem(site) == "closed" else "operating"


def platform(index: int) -> tuple[str, str]:
    return PLATFORMS[index % len(PLATFORMS)]


# -- rows as stored -----------------------------------------------------------------------------
UNIT_COLUMNS = ("id", "code", "name", "kind", "parent_id", "path", "contact_email", "synthetic")
TARGET_COLUMNS = (
    "id code unit_id kind name url domain parent_target_id platform account_name "
    "registered_entity column_type status synthetic"
).split()


def stored_units(plan: Plan) -> Iterator[tuple]:
    """Each unit as the import stores it (ids in file order: parents come first in the plan)."""
    ids: dict[str, int] = {}
    paths: dict[str, str] = {}
    for number, unit in enumerate(plan.units, 1):
        ids[unit.code] = number
        parent = unit.parent_code
        paths[unit.code] = (paths[parent] if parent else "/") + unit.code + "/"
        yield (
            number,
            unit.code,
            unit.name,
            unit_kind(unit),
            ids[parent] if parent else None,
            paths[unit.code],
            unit.email,
            False,
        )


def _page_rows(q_port: int, plan: Plan) -> Iterator[tuple]:
    """(code, unit, kind, name, url, domain, parent code, column type, status, platform,
    account name, registered entity) of every website, its columns, then every account."""
    names = {u.code: u.name for u in plan.units}
    for site in plan.websites:
        status = site_status(plan, site.index)
        base = f"http://{site.host}:{q_port}"
        owner = names[site.unit_code]
        yield (site.code, site.unit_code, "website", f"{owner}门户网站", base + "/", site.host,
               None, None, status, None, None, None)  # fmt: skip
        for column in range(plan.sizes.columns):
            name, kind = column_kind(column)
            yield (site.column_code(column), site.unit_code, "column", name,
                   base + site.column_path(column), None, site.code, kind, status,
                   None, None, None)  # fmt: skip
    for account in plan.accounts:
        code, label = platform(account.index)
        owner = names[account.unit_code]
        name = f"{owner}{label}{account.index}"
        yield (account.code, account.unit_code, "new_media", name, None, None, None, None,
               "operating", code, name, owner)  # fmt: skip


def stored_targets(plan: Plan, port: int) -> Iterator[tuple]:
    """Each target as the import stores it: websites and columns (the workbook), then the
    accounts (the CSV), ids in that order."""
    unit_ids = {u.code: n for n, u in enumerate(plan.units, 1)}
    ids: dict[str, int] = {}
    for number, row in enumerate(_page_rows(port, plan), 1):
        code, unit, kind, name, url, domain, parent, ctype, status, plat, acct, entity = row
        if kind != "new_media":
            ids[code] = number
        yield (number, code, unit_ids[unit], kind, name, url, domain,
               ids[parent] if parent else None, plat, acct, entity, ctype, status, False)  # fmt: skip


# -- the import files ---------------------------------------------------------------------------
def write_files(q: Quarter) -> dict[str, Path]:
    """Write the registry, account, issuer and round files; their paths by role."""
    plan, folder = q.plan, q.workdir / "import"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "registry": folder / "登记.xlsx",
        "accounts": folder / "新媒体账号.csv",
        "issuers": folder / "发文机关.csv",
        "rounds": folder / "轮次.csv",
    }
    book = Workbook(write_only=True)
    units = book.create_sheet("单位")
    units.append(UNIT_HEADERS)
    for unit in plan.units:
        units.append((unit.code, unit.name, UNIT_KIND_LABEL[unit_kind(unit)],
                      unit.parent_code, f"{unit.name}联络员", unit.email))  # fmt: skip
    targets = book.create_sheet("监测对象")
    targets.append(TARGET_HEADERS)
    with paths["accounts"].open("w", newline="", encoding="utf-8") as out:
        accounts = csv.writer(out)
        accounts.writerow(ACCOUNT_HEADERS)
        for row in _page_rows(q.fixtures.port, plan):
            code, unit, kind, name, url, domain, parent, ctype, status, plat, acct, entity = row
            if kind == "new_media":
                accounts.writerow(
                    (code, unit, "政务新媒体", name, dict(PLATFORMS)[plat], acct, entity)
                )
            else:
                label = "政府网站" if kind == "website" else "信息公开专栏"
                targets.append((code, unit, label, name, url, domain, parent, ctype,
                                STATUS_LABEL[status]))  # fmt: skip
    book.save(paths["registry"])
    with paths["issuers"].open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(ISSUER_HEADERS)
        for office in plan.offices:
            writer.writerow((office.code, f"{office.name}人民政府办公室", f"{office.name}政府办",
                             "县级", f"{office.name}政办字〔{{year}}〕{{n}}号"))  # fmt: skip
    with paths["rounds"].open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(ROUND_HEADERS)
        for office in plan.offices:
            writer.writerow((Plan.round_code(office.code), f"{office.name}2021年第三季度政府网站和政务新媒体检查情况",
                             PERIOD[0].isoformat(), PERIOD[1].isoformat(), NOTICE_DAY.isoformat(),
                             office.code))  # fmt: skip
    return paths


def _rectify(q: Quarter, *args: str) -> dict:
    """Run ``rectify import …`` in a child process; its JSON report's counts."""
    done = subprocess.run(
        [RECTIFY, "import", *args, "--json"],
        env=os.environ | q.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rectify import {args[0]} failed: {done.stderr[-4000:]}")
    return json.loads(done.stdout)["counts"]


def _created(counts: dict, kind: str) -> int:
    return counts.get(kind, {}).get("created", 0) + counts.get(kind, {}).get("updated", 0)


def load(q: Quarter) -> Done:
    """Write the import files and load the registry and accounts through ``rectify import
    registry`` (one command, all or nothing)."""
    paths = q.facts.get("import_files") or write_files(q)
    q.facts["import_files"] = paths
    counts = _rectify(q, "registry", str(paths["registry"]), str(paths["accounts"]))
    units, targets = _created(counts, "units"), _created(counts, "targets")
    sizes = q.plan.sizes
    return Done(
        items=units + targets,
        unit="rows",
        details={
            "units": units,
            "targets": targets,
            "websites": sizes.websites,
            "columns": sizes.websites * sizes.columns,
            "accounts": sizes.accounts,
            "xlsx_mb": round(paths["registry"].stat().st_size / 2**20, 1),
            "csv_mb": round(paths["accounts"].stat().st_size / 2**20, 1),
        },
    )


def rounds(q: Quarter) -> Done:
    """Load the issuing offices (``rectify import registry``), then their rounds
    (``rectify import findings``)."""
    paths = q.facts.get("import_files") or write_files(q)
    q.facts["import_files"] = paths
    issuers = _created(_rectify(q, "registry", str(paths["issuers"])), "issuers")
    made = _created(_rectify(q, "findings", str(paths["rounds"])), "rounds")
    return Done(items=issuers + made, unit="rows", details={"issuers": issuers, "rounds": made})


# -- the limit ----------------------------------------------------------------------------------
def _copy(url: str, units: list[tuple], targets: list[tuple]) -> int:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for table, columns, rows in (
            ("units", UNIT_COLUMNS, units),
            ("targets", TARGET_COLUMNS, targets),
        ):
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
    return len(units) + len(targets)


def copy_limit(q: Quarter) -> dict:
    """The same unit and target rows written by COPY into a fresh database, from tuples
    computed beforehand (no file read, no check)."""
    units = list(stored_units(q.plan))
    targets = list(stored_targets(q.plan, q.fixtures.port))
    with fresh_database() as url:
        items, seconds, cpu = measure.timed(_copy, url, units, targets)
    return {
        "items": items,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "per_second": round(items / seconds, 1) if seconds else 0.0,
        "what": "PostgreSQL COPY of the same unit and target rows (precomputed tuples)",
    }
