"""``rectify round show|set|unset|issuer``: a round's issuing office, document number, and the
texts and options of its notice."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.context import console, handled_errors, open_app, print_json
from cli.issuers import cleared, show_options, show_texts, text_value, values_given
from services.core.errors import ValidationFailed
from services.reports import notice_sources
from services.rounds import edits, issuers, notice_settings, rounds

_DOC_NUMBER = ("文号", "doc_number")
_KIND = "对象类型（按类型分别设置时）：website（政府网站）、column（专栏）、new_media（政务新媒体）"
_NAME = "通报文本（如「主送机关」「下一步工作要求」）、通报设置项（如「合格率小数位数」）或「文号」"


def register(round_app: typer.Typer) -> None:
    round_app.command(
        "show", help="显示检查轮次的发文机关、文号，以及每段通报文本和通报设置的来源"
    )(show)
    # A value such as -1 is a value (refused by the option's check, naming it), not an option.
    loose = {"ignore_unknown_options": True}
    round_app.command("set", help=f"设置检查轮次的一项：{_NAME}", context_settings=loose)(set_cmd)
    round_app.command("unset", help="清除检查轮次的一项，恢复发文机关或系统的默认")(unset)
    round_app.command("issuer", help="指定检查轮次的发文机关（单位代码）；--none 取消")(issuer)


def show(
    round_code: str = typer.Argument(..., help="检查轮次，如 2021Q2"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Show a round's issuer, document number, texts (with their source) and options."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        round_ = rounds.get_round(uow, round_code)
        issuer = round_.issuer
        head = {
            "code": round_.code,
            "issuer": issuer.unit.code if issuer else None,
            "issuer_name": issuer.name if issuer else None,
            "doc_number": round_.doc_number,
            "doc_pattern": issuer.doc_pattern if issuer else None,
        }
        texts = notice_sources.round_texts(round_)
        options = notice_sources.option_sources(
            issuer.options if issuer else None, round_.notice_texts
        )
    if as_json:
        print_json({**head, "texts": texts, "options": options})
        return
    office = (
        f"{head['issuer_name']}（{head['issuer']}）" if issuer else "未指定（使用系统默认文本）"
    )
    number = head["doc_number"] or (
        f"未填写（由机关按「{head['doc_pattern']}」编号后用 rectify round set 填写）"
        if head["doc_pattern"]
        else "未填写"
    )
    console.print(f"[bold]检查轮次[/bold]：{head['code']}", highlight=False)
    console.print(f"[bold]发文机关[/bold]：{office}", highlight=False)
    console.print(f"[bold]文号[/bold]：{number}", highlight=False)
    show_texts(texts)
    show_options(options)


def set_cmd(
    round_code: str = typer.Argument(..., help="检查轮次，如 2021Q2"),
    name: str = typer.Argument(..., help=_NAME),
    values: list[str] = typer.Argument(None, help="值；下一步工作要求、分组统计、问题主题可给多项"),
    kind: str = typer.Option(None, "--kind", help=_KIND),
    file: Path = typer.Option(None, "--file", help="从文件读取（每个非空行一段或一项）"),
) -> None:
    """Set a round's text, option or document number."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        done = "已设置"
        if name.strip() in _DOC_NUMBER:
            number = " ".join(values_given(values, file)).strip()
            edits.set_round_doc_number(uow, round_code, number)
            what, done = "文号", "已设置" if number else "已清除"
        else:
            found = issuers.setting_named(name)
            if isinstance(found, str):
                value = text_value(found, values, file, clearing="rectify round unset")
                edits.set_round_texts(uow, round_code, {found: value})
                what = notice_settings.TEXTS[found]
                done = "已清除" if cleared(found, value) else done
            else:
                given = values_given(values, file)
                edits.set_round_option_values(uow, round_code, name, given, kind=kind)
                what = found.label
        uow.commit()
    console.print(f"{done}检查轮次 {round_code} 的「{what}」", highlight=False)


def unset(
    round_code: str = typer.Argument(..., help="检查轮次，如 2021Q2"),
    name: str = typer.Argument(..., help=_NAME),
    kind: str = typer.Option(None, "--kind", help=_KIND),
) -> None:
    """Clear a round's own text, option or document number."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        if name.strip() in _DOC_NUMBER:
            edits.set_round_doc_number(uow, round_code, None)
            what = "文号"
        else:
            found = issuers.setting_named(name)
            if isinstance(found, str):
                edits.set_round_texts(uow, round_code, {found: None})
                what = notice_settings.TEXTS[found]
            else:
                edits.clear_round_option(uow, round_code, name, kind=kind)
                what = found.label
        uow.commit()
    console.print(f"已清除检查轮次 {round_code} 的「{what}」", highlight=False)


def issuer(
    round_code: str = typer.Argument(..., help="检查轮次，如 2021Q2"),
    unit_code: str = typer.Argument(None, help="发文机关的单位代码（单位表中的单位代码）"),
    none: bool = typer.Option(False, "--none", help="取消发文机关（使用系统默认文本）"),
) -> None:
    """Name the round's issuing office."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        if not none and not unit_code:
            raise ValidationFailed(["请给出发文机关的单位代码，或用 --none 取消"])
        round_ = edits.set_round_issuer(uow, round_code, None if none else unit_code)
        name = round_.issuer.name if round_.issuer else None
        uow.commit()
    console.print(
        f"检查轮次 {round_code} 的发文机关：{name or '未指定（使用系统默认文本）'}", highlight=False
    )
