"""``rectify category list|show|add|edit|retire``: the problem-category catalogue."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.context import console, handled_errors, open_app, print_json, print_wide
from services.core.errors import ValidationFailed
from services.registry import catalogue
from services.registry.category_spec import (
    ALL_KINDS,
    WORDING_KEYS,
    CategorySpec,
    changes_from_text,
    kinds_label,
    parse_kind,
)

app = typer.Typer(
    help="问题类别：列出、新增、修改、停用（导入见 rectify import registry 的「问题类别」表）",
    no_args_is_help=True,
)

_KINDS = "适用对象，如「网站、专栏」「政务新媒体」或「全部」"
_CLEAR = '；给空字符串 "" 表示清空'


def _text_options(
    name: str | None,
    kinds: str | None,
    severity: str | None,
    days: str | None,
    mode: str | None,
    check: str | None,
    theme: str | None,
    rule: str | None,
    order: str | None,
) -> dict[str, str | None]:
    return {
        "name": name,
        "target_kinds": kinds,
        "severity": severity,
        "deadline_days": days,
        "deadline_mode": mode,
        "check": check,
        "theme": theme,
        "rule": rule,
        "sort_order": order,
    }


def _parsed(values: dict[str, str | None]) -> dict:
    try:
        return changes_from_text(values)
    except ValueError as exc:
        raise ValidationFailed([str(exc)]) from None


def _wording_kind(kind: str | None) -> str:
    try:
        return parse_kind(kind or "")
    except ValueError as exc:
        raise ValidationFailed([str(exc)]) from None


@app.command(
    "list",
    help="列出问题类别（含已停用的）：代码、名称、适用对象、严重程度、期限、自动检查、通报主题",
)
def list_cmd(
    kind: str = typer.Option(
        None, "--kind", help="只列适用于该对象类型的，如「网站」「政务新媒体」"
    ),
    search: str = typer.Option(None, "--search", help="代码或名称包含该文字"),
    retired: bool = typer.Option(None, "--retired/--active", help="只列已停用的 / 只列在用的"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（含各对象类型的通报表述）"),
) -> None:
    """List the catalogue, retired categories included unless filtered."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        only = _wording_kind(kind) if kind else ALL_KINDS
        rows = catalogue.list_categories(
            uow, retired=retired, kind=None if only == ALL_KINDS else only, text=search
        )
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"问题类别（{len(rows)} 个）")
    for header in (
        "代码",
        "名称",
        "适用对象",
        "严重程度",
        "整改期限",
        "自动检查",
        "通报主题",
        "停用",
    ):
        # The code is what the other commands and imports take: never cut, never folded.
        table.add_column(header, no_wrap=header == "代码", overflow="fold")
    for r in rows:
        table.add_row(
            r.code,
            r.name,
            r.kinds_label,
            r.severity_label,
            r.deadline_label,
            r.check_label if r.check else "人工核实",  # the code is in --json
            r.theme or "",
            "已停用" if r.retired else "",
        )
    print_wide(table)


@app.command("show", help="显示一个问题类别的全部设置和各对象类型的通报表述（代码或名称）")
def show_cmd(
    category: str = typer.Argument(..., help="类别代码或名称"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Show one category with its wording per kind."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        view = catalogue.get_category(uow, category)
    if as_json:
        print_json(view)
        return
    lines = [
        ("代码", view.code),
        ("名称", view.name),
        ("适用对象", view.kinds_label),
        ("严重程度", view.severity_label),
        ("整改期限", view.deadline_label),
        ("自动检查", view.check_label),
        ("通报主题", view.theme or "（无：单独成段）"),
        ("通报标题", view.notice_heading or "（用类别名称）"),
        ("依据", view.rule or ""),
        ("状态", "已停用" if view.retired else "在用"),
    ]
    for kind, entry in view.wording.items():
        label = "全部对象" if kind == ALL_KINDS else kinds_label((kind,))
        for key, text in entry.items():
            lines.append((f"{label}·{WORDING_KEYS.get(key, key)}", text))
    for label, value in lines:
        console.print(f"[bold]{label}[/bold]：{value}", highlight=False, soft_wrap=True)


@app.command("add", help="新增问题类别（代码和名称都不能与已有类别重复）")
def add_cmd(
    code: str = typer.Argument(..., help="类别代码（字母、数字、下划线），如 popup_window"),
    name: str = typer.Argument(..., help="中文名称，如「首页弹窗过大」"),
    severity: str = typer.Option(..., "--severity", help="严重程度：单项否决 或 扣分"),
    kinds: str = typer.Option("", "--kinds", help=_KINDS + "（默认全部）"),
    days: str = typer.Option("", "--days", help="默认整改天数（不填用轮次或系统默认）"),
    mode: str = typer.Option("", "--mode", help="期限方式：自然日 或 工作日"),
    check: str = typer.Option("", "--check", help="自动检查名称（不填：人工核实）"),
    theme: str = typer.Option("", "--theme", help="通报中归入的主题（「存在的主要问题」下的标题）"),
    rule: str = typer.Option("", "--rule", help="依据的规则或文件"),
    order: str = typer.Option("", "--order", help="排序（小的在前，默认 100）"),
    heading: str = typer.Option("", "--heading", help="通报标题（该类问题在通报中的段落开头）"),
    phrase: str = typer.Option(
        "", "--phrase", help="通报表述：点名对象后接的文字，如「首页弹窗过大」"
    ),
    elaboration: str = typer.Option("", "--elaboration", help="表述说明：标题后的一句说明"),
) -> None:
    """Add a category."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        values = _text_options(name, kinds, severity, days, mode, check, theme, rule, order)
        changes = _parsed(values)
        spec = CategorySpec(code=code.strip(), name=changes.pop("name") or "", severity="")
        words = {"heading": heading, "phrase": phrase, "elaboration": elaboration}
        changes |= catalogue.wording_changes(None, ALL_KINDS, words)
        category = catalogue.add_category(uow, spec.changed(**changes))
        uow.commit()
        console.print(f"已新增问题类别 {category.code}（{category.name}）", highlight=False)


@app.command("edit", help="修改问题类别：只改给出的选项，其余不变" + _CLEAR)
def edit_cmd(
    category: str = typer.Argument(..., help="类别代码或名称"),
    name: str = typer.Option(None, "--name", help="新的中文名称"),
    kinds: str = typer.Option(None, "--kinds", help=_KINDS),
    severity: str = typer.Option(None, "--severity", help="严重程度：单项否决 或 扣分"),
    days: str = typer.Option(None, "--days", help="默认整改天数" + _CLEAR),
    mode: str = typer.Option(None, "--mode", help="期限方式：自然日 或 工作日" + _CLEAR),
    check: str = typer.Option(None, "--check", help="自动检查名称；「无」表示人工核实"),
    theme: str = typer.Option(None, "--theme", help="通报主题" + _CLEAR),
    rule: str = typer.Option(None, "--rule", help="依据" + _CLEAR),
    order: str = typer.Option(None, "--order", help="排序"),
    wording_for: str = typer.Option(
        None, "--for", help="下面三项表述适用的对象类型，如「政务新媒体」（默认全部对象）"
    ),
    heading: str = typer.Option(None, "--heading", help="通报标题" + _CLEAR),
    phrase: str = typer.Option(None, "--phrase", help="通报表述" + _CLEAR),
    elaboration: str = typer.Option(None, "--elaboration", help="表述说明" + _CLEAR),
) -> None:
    """Change some fields of a category; the others keep their values."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        values = _text_options(name, kinds, severity, days, mode, check, theme, rule, order)
        changes = _parsed(values)
        kind = _wording_kind(wording_for)
        words = {"heading": heading, "phrase": phrase, "elaboration": elaboration}
        changes |= catalogue.wording_changes(catalogue.resolve(uow, category), kind, words)
        if not changes:
            raise ValidationFailed(["没有给出要修改的内容（见 rectify category edit --help）"])
        saved = catalogue.edit_category(uow, category, changes)
        uow.commit()
        console.print(f"已保存问题类别 {saved.code}（{saved.name}）", highlight=False)


@app.command("retire", help="停用问题类别：已有案件保留，新发现的问题不能再用它；--undo 恢复启用")
def retire_cmd(
    category: str = typer.Argument(..., help="类别代码或名称"),
    undo: bool = typer.Option(False, "--undo", help="恢复启用"),
) -> None:
    """Retire a category (or bring it back with --undo)."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        saved = catalogue.set_retired(uow, category, not undo)
        uow.commit()
        state = "已恢复启用" if undo else "已停用"
        console.print(f"问题类别 {saved.code}（{saved.name}）{state}", highlight=False)
