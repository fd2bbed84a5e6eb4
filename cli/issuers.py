"""``rectify issuer list|show|add|edit|text|option``: issuing offices (发文机关) and their
notice defaults."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.context import console, handled_errors, open_app, print_json, print_table
from services.core.errors import NotFound, ValidationFailed
from services.reports import notice_sources
from services.rounds import issuers, notice_settings

app = typer.Typer(
    help="发文机关：列出、查看、新增、修改，设置其通报文本和通报设置（导入见「发文机关」「通报设置」表）",
    no_args_is_help=True,
)

_LEVELS = "、".join(f"{k}（{v}）" for k, v in issuers.LEVELS.items())
#: The texts an issuer keeps (its names are its own fields: issuer edit --name/--short-name).
_ISSUER_TEXTS = {k: v for k, v in notice_settings.TEXTS.items() if k not in issuers.NAME_TEXTS}
_TEXTS = "、".join(_ISSUER_TEXTS.values())
_KIND = "对象类型（按类型分别设置时）：website（政府网站）、column（专栏）、new_media（政务新媒体）"


def values_given(values: list[str] | None, file: Path | None) -> list[str]:
    """The values of a command line, or the paragraphs of a file (one per non-empty line)."""
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationFailed([f"无法读取文件 {file}：{exc}"]) from None
        return [line.strip() for line in lines if line.strip()]
    return list(values or [])


def show_texts(rows: list[notice_sources.TextSource]) -> None:
    for row in rows:
        console.print(f"[bold]{row.label}[/bold]（{row.key}，{row.source}）：", highlight=False)
        for paragraph in (row.value if isinstance(row.value, list) else [row.value]) or [""]:
            console.print(f"  {paragraph or '（空）'}", highlight=False, soft_wrap=True)


def show_options(rows: list[notice_sources.OptionSource]) -> None:
    if not rows:
        console.print("通报设置：均为系统默认", highlight=False)
        return
    print_table(
        "通报设置",
        ["设置项", "对象类型", "值", "来源"],
        [
            [
                f"{r.label}（{r.path}）",
                notice_settings.KIND_LABELS.get(r.kind, "全部"),
                r.shown,
                r.source,
            ]
            for r in rows
        ],
    )


@app.command("list", help="列出发文机关：单位代码、机关名称、简称、层级、文号格式")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """List the issuing offices."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        rows = [
            {
                "unit_code": i.unit.code,
                "name": i.name,
                "short_name": i.short_name,
                "level": i.level,
                "doc_pattern": i.doc_pattern,
            }
            for i in issuers.list_issuers(uow)
        ]
    if as_json:
        print_json(rows)
        return
    print_table(
        f"发文机关（{len(rows)} 个）",
        ["单位代码", "机关名称", "简称", "层级", "文号格式"],
        [
            [
                r["unit_code"],
                r["name"],
                r["short_name"],
                issuers.LEVELS[r["level"]],
                r["doc_pattern"] or "",
            ]
            for r in rows
        ],
    )


@app.command("show", help="显示发文机关及其每段通报文本（注明来自默认还是本机关）和通报设置")
def show_cmd(
    unit_code: str = typer.Argument(..., help="发文机关的单位代码（单位表中的单位代码）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Show an issuer, each of its texts with where it comes from, and its options."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        issuer = issuers.get_issuer(uow, unit_code)
        head = {
            "unit_code": issuer.unit.code,
            "unit_name": issuer.unit.name,
            "name": issuer.name,
            "short_name": issuer.short_name,
            "level": issuer.level,
            "doc_pattern": issuer.doc_pattern,
        }
        texts = notice_sources.issuer_texts(issuer)
        options = notice_sources.option_sources(issuer.options)
    if as_json:
        print_json({**head, "texts": texts, "options": options})
        return
    for label, value in (
        ("单位", f"{head['unit_code']}（{head['unit_name']}）"),
        ("机关名称", head["name"]),
        ("机关简称", head["short_name"]),
        ("层级", issuers.LEVELS[head["level"]]),
        ("文号格式", head["doc_pattern"] or "（无：文号由机关另行编排）"),
    ):
        console.print(f"[bold]{label}[/bold]：{value}", highlight=False)
    show_texts(texts)
    show_options(options)


@app.command("add", help="把一个单位登记为发文机关")
def add_cmd(
    unit_code: str = typer.Argument(..., help="单位代码（须为已登记的单位）"),
    name: str = typer.Argument(..., help="机关名称，如「XX市人民政府办公室」"),
    short_name: str = typer.Argument(..., help="机关简称，如「市政府办公室」"),
    level: str = typer.Option(..., "--level", help=f"层级：{_LEVELS}"),
    doc_pattern: str = typer.Option(
        None,
        "--doc-pattern",
        help="文号格式，含 {n}（序号），可含 {year}，如「X政办字〔{year}〕{n}号」",
    ),
) -> None:
    """Register a unit as an issuing office."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        try:
            issuers.get_issuer(uow, unit_code)
        except NotFound:
            pass
        else:
            raise ValidationFailed([f"单位 {unit_code} 已是发文机关，修改请用 rectify issuer edit"])
        spec = issuers.IssuerSpec(unit_code.strip(), name, short_name, _level(level), doc_pattern)
        issuer = issuers.upsert_issuer(uow, spec)
        uow.commit()
        console.print(f"已登记发文机关 {unit_code}（{issuer.name}）", highlight=False)


def _level(text: str) -> str:
    lookup = {**{k: k for k in issuers.LEVELS}, **{v: k for k, v in issuers.LEVELS.items()}}
    return lookup.get((text or "").strip().lower(), text)


@app.command("edit", help='修改发文机关：只改给出的选项；--doc-pattern "" 清除文号格式')
def edit_cmd(
    unit_code: str = typer.Argument(..., help="发文机关的单位代码"),
    name: str = typer.Option(None, "--name", help="机关名称"),
    short_name: str = typer.Option(None, "--short-name", help="机关简称"),
    level: str = typer.Option(None, "--level", help=f"层级：{_LEVELS}"),
    doc_pattern: str = typer.Option(None, "--doc-pattern", help="文号格式，含 {n}，可含 {year}"),
) -> None:
    """Change some fields of an issuer; the others keep their values."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        issuer = issuers.get_issuer(uow, unit_code)
        spec = issuers.IssuerSpec(
            unit_code=issuer.unit.code,
            name=issuer.name if name is None else name,
            short_name=issuer.short_name if short_name is None else short_name,
            level=issuer.level if level is None else _level(level),
            doc_pattern=issuer.doc_pattern if doc_pattern is None else (doc_pattern or None),
        )
        issuers.upsert_issuer(uow, spec)
        uow.commit()
        console.print(f"已保存发文机关 {unit_code}（{spec.name}）", highlight=False)


@app.command("text", help=f"设置发文机关的一段默认通报文本（{_TEXTS}）；--clear 恢复系统默认")
def text_cmd(
    unit_code: str = typer.Argument(..., help="发文机关的单位代码"),
    name: str = typer.Argument(..., help="文本名称或键，如「主送机关」或 addressees"),
    values: list[str] = typer.Argument(None, help="文本；下一步工作要求可给多段，每段一个参数"),
    file: Path = typer.Option(None, "--file", help="从文件读取文本（每个非空行一段）"),
    clear: bool = typer.Option(False, "--clear", help="清除本机关的文本，恢复系统默认"),
) -> None:
    """Set (or clear) one default text of an issuer."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        issuer = issuers.get_issuer(uow, unit_code)
        key = text_key(name)
        value = None if clear else text_value(key, values, file)
        issuers.set_texts(uow, issuer, {key: value})
        uow.commit()
        done = "已清除" if cleared(key, value) else "已设置"
        console.print(
            f"{done}发文机关 {unit_code} 的「{notice_settings.TEXTS[key]}」", highlight=False
        )


def text_key(name: str) -> str:
    """The key of an issuer's text, by its label or key; an option or an unknown name is
    refused, listing the texts."""
    name = (name or "").strip()
    keys = {label: key for key, label in _ISSUER_TEXTS.items()}
    if name in _ISSUER_TEXTS or name in keys:
        return keys.get(name, name)
    if name in issuers.NAME_TEXTS or name in (notice_settings.TEXTS[k] for k in issuers.NAME_TEXTS):
        raise ValidationFailed(
            [
                f"发文机关的名称和简称请用 rectify issuer edit --name / --short-name 修改，而不是「{name}」"
            ]
        )
    try:
        notice_settings.find(name)
    except notice_settings.OptionError:
        shown = "、".join(f"{v}（{k}）" for k, v in _ISSUER_TEXTS.items())
        raise ValidationFailed([f"没有名为「{name[:40]}」的通报文本，可用：{shown}"]) from None
    raise ValidationFailed([f"「{name[:40]}」是通报设置项，请用 rectify issuer option 设置"])


def cleared(key: str, value: object) -> bool:
    """An empty text clears what was set (the default applies again)."""
    return issuers.normal_text(key, value) is None


def text_value(
    key: str, values: list[str] | None, file: Path | None, *, clearing: str = "--clear"
) -> str | list[str]:
    given = values_given(values, file)
    if not given:
        raise ValidationFailed(
            [f"请给出「{notice_settings.TEXTS[key]}」的文本，或用 {clearing} 清除"]
        )
    if key in notice_settings.LIST_TEXTS:
        return given
    if len(given) > 1:
        raise ValidationFailed(
            [f"「{notice_settings.TEXTS[key]}」只有一段，请把文本放在一对引号中"]
        )
    return given[0]


@app.command(
    "option",
    help="设置发文机关的一项默认通报设置（如 合格率小数位数 1）；--clear 清除",
    context_settings={"ignore_unknown_options": True},  # -1 is a value, refused by its check
)
def option_cmd(
    unit_code: str = typer.Argument(..., help="发文机关的单位代码"),
    name: str = typer.Argument(
        ..., help="设置项名称或路径，如「合格率小数位数」或 pass_rate.decimals"
    ),
    values: list[str] = typer.Argument(None, help="值；分组统计、问题主题可给多项，每项一个参数"),
    kind: str = typer.Option(None, "--kind", help=_KIND),
    file: Path = typer.Option(None, "--file", help="从文件读取各项（每个非空行一项）"),
    clear: bool = typer.Option(False, "--clear", help="清除该设置，恢复系统默认"),
) -> None:
    """Set (or clear) one default option of an issuer."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        issuer = issuers.get_issuer(uow, unit_code)
        if clear:
            issuers.clear_option(uow, issuer, name, kind=kind)
        else:
            issuers.set_option_values(uow, issuer, name, values_given(values, file), kind=kind)
        uow.commit()
        console.print(
            f"{'已清除' if clear else '已设置'}发文机关 {unit_code} 的「{name}」", highlight=False
        )
