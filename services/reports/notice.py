"""The quarterly notice (通报) of a round as a model: numbered blocks of text, from the data."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from services.core import deadlines
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Round
from services.reports import followups as followups_service
from services.reports.files import TEMPLATES, load_yaml
from services.reports.notice_blocks import BlockViews, block_views
from services.reports.notice_reads import NoticeReads, rounds_named
from services.reports.problems import ProblemSection, problem_sections
from services.reports.sections import section_order
from services.reports.stats import RateSettings, RoundStats, round_stats
from services.reports.wording import (
    chapter_number,
    cn_date,
    cn_numeral,
    quarter_label,
    quarter_name,
    section_number,
)
from services.rounds import notice_settings, rounds
from services.rounds.setting_checks import render_text, template_error

BLOCK_KINDS = (
    "office",
    "doc_number",
    "title",
    "addressees",
    "h1",
    "n",
    "p",
    "signature",
    "date",
    "issued",
)

#: The single-paragraph texts a notice prints, each rendered with the notice's words.
_PARAGRAPHS = (
    "addressees",
    "preamble",
    "no_problems",
    "deadline_paragraph",
    "signature",
    "issued",
    "column_noun",
)

#: A block marker inside a line: a template tag swallowed the line break before it.
_RUN_ON = re.compile(rf"(?:{'|'.join(BLOCK_KINDS)})\|")


@dataclass(frozen=True)
class Block:
    """One paragraph of the notice; ``number`` is 一、 or （一） where the kind is numbered."""

    kind: str
    text: str
    number: str = ""

    @property
    def full_text(self) -> str:
        return f"{self.number}{self.text}"


@dataclass(frozen=True)
class Notice:
    round_code: str
    office: str
    title: str
    doc_number: str | None
    notice_date: date
    deadline: date
    blocks: tuple[Block, ...]
    stats: RoundStats
    sections: tuple[ProblemSection, ...]
    followups: followups_service.Followups
    views: BlockViews = BlockViews()  # the round's data blocks beyond cases

    @property
    def text(self) -> str:
        """The notice as plain text, one paragraph a line (what every format contains)."""
        return "\n".join(block.full_text for block in self.blocks)


@cache
def _environment(template_dir: Path) -> Environment:
    """One environment per template folder: its templates compiled once, recompiled when
    their file changes (Jinja's auto_reload), so an office's edit applies without a restart."""
    return Environment(
        loader=FileSystemLoader(template_dir),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # each section ends its last line (see notice.j2)
        extensions=["jinja2.ext.do"],
    )


def notice_texts(round_: Round, *, template_dir: Path = TEMPLATES) -> dict[str, Any]:
    """The texts a round's notice prints: notice_texts.yaml, under its issuing office's
    (its names, then its texts), under the round's own (``Round.notice_texts``)."""
    texts = text_defaults(round_, template_dir=template_dir)
    texts.update(_texts_in(round_.notice_texts))
    if not isinstance(texts.get("requirements"), list):
        raise ValidationFailed(["通报文本 requirements（下一步工作要求）应为段落列表"])
    return texts


def text_defaults(round_: Round, *, template_dir: Path = TEMPLATES) -> dict[str, Any]:
    """What the round would print without its own texts: the installation's defaults under
    its issuing office's."""
    texts = dict(load_yaml(template_dir / "notice_texts.yaml"))
    issuer = round_.issuer
    if issuer is not None:
        texts.update(office=issuer.name, office_short=issuer.short_name)
        texts.update(_texts_in(issuer.texts))
    return texts


def _texts_in(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The texts among stored settings (options sit beside them); empty ones do not count."""
    return {
        key: value
        for key, value in (stored or {}).items()
        if key not in notice_settings.SETTING_KEYS and value not in (None, "", [])
    }


def notice_deadline(uow: UnitOfWork, round_: Round, *, notice_day: date) -> date:
    """The round's rectification deadline: explicit, else counted from the notice date."""
    if round_.deadline is not None:
        return round_.deadline
    days = round_.deadline_days or uow.settings.default_deadline_days
    mode = round_.deadline_mode or uow.settings.default_deadline_mode
    try:
        return deadlines.add_days(notice_day, days, mode)
    except (ValueError, OverflowError) as exc:  # e.g. a year the working-day calendar lacks
        raise ValidationFailed(
            [
                f"无法由通报日期（notice_date）{notice_day.isoformat()} 推算整改期限"
                f"（整改天数 deadline_days {days}，期限方式 deadline_mode {mode}）：{exc}；"
                f"请为检查轮次 {round_.code} 填写整改期限（deadline）"
            ]
        ) from None


def build_notice(
    uow: UnitOfWork,
    round_code: str,
    *,
    rates: RateSettings | None = None,
    template_dir: Path | None = None,
) -> Notice:
    """Assemble a round's notice from the database; works whatever state its cases are in."""
    return build_notices(uow, [round_code], rates=rates, template_dir=template_dir)[0]


def build_notices(
    uow: UnitOfWork,
    round_codes: Sequence[str],
    *,
    rates: RateSettings | None = None,
    template_dir: Path | None = None,
) -> list[Notice]:
    """The notices of several rounds, in the order given, their data read for all of them
    at once (``notice_reads``: one query per kind of data, not some twenty per round)."""
    chosen = rounds_named(uow, round_codes)
    for round_ in chosen:  # a round stored with bad settings is named, not a crash
        rounds.check_stored(round_)
    reads = NoticeReads(uow, list(dict.fromkeys(chosen)))
    return [_notice(uow, round_, reads, rates, template_dir) for round_ in chosen]


def _notice(
    uow: UnitOfWork,
    round_: Round,
    reads: NoticeReads,
    rates: RateSettings | None,
    template_dir: Path | None,
) -> Notice:
    notice_day = round_.notice_date or uow.clock.today()
    deadline = notice_deadline(uow, round_, notice_day=notice_day)
    stats = round_stats(uow, round_.code, rates=rates, round_=round_, reads=reads)
    settings, sections, follow, views = _composed(reads, round_, notice_day, template_dir)
    template_dir = template_dir or TEMPLATES
    env = _environment(template_dir)
    words = {
        "quarter_label": quarter_label(round_.period_start),
        "quarter": quarter_name(round_.period_start),
        "deadline": cn_date(deadline),
        "notice_date": cn_date(notice_day),
        "departments": stats.scope.departments,
    }
    texts = notice_texts(round_, template_dir=template_dir)
    words["office"] = _render(texts["office"], words, key="office")
    words["office_short"] = _render(texts["office_short"], words, key="office_short")
    title = round_.title or _render(texts["title"], words, key="title")
    if title.startswith("关于"):  # a round titled without its issuer: 关于2021年二季度…的通报
        title = f"{words['office']}{title}"
    previous = stats.previous
    prev_label = (
        f"{previous.period_start_year}年{cn_numeral(previous.quarter)}季度" if previous else ""
    )
    context = dict(
        **words,
        title=title,
        doc_number=round_.doc_number,
        **{key: _render(texts[key], words, key=key) for key in _PARAGRAPHS},
        requirements=[_render(text, words, key="requirements") for text in texts["requirements"]],
        prev=previous,
        prev_label=prev_label,
        kinds=stats.kinds,
        scope=stats.scope,
        inventory=stats.inventory,
        boards=stats.boards,
        sections=sections,
        followups=follow,
        blocks=views,
        section_names=section_order(settings, views.present()),
    )
    try:
        body = env.get_template("notice.j2").render(**context)
    except TemplateError as exc:
        raise ValidationFailed([f"通报模板 notice.j2 有误：{exc}"]) from None
    return Notice(
        round_code=round_.code,
        office=words["office"],
        title=title,
        doc_number=round_.doc_number,
        notice_date=notice_day,
        deadline=deadline,
        blocks=tuple(_numbered(_without_empty_chapters(_parse(body)))),
        stats=stats,
        sections=tuple(sections),
        followups=follow,
        views=views,
    )


def _composed(reads: NoticeReads, round_: Round, notice_day: date, template_dir: Path | None):
    """The round's options, its problem sections, follow-ups and data blocks."""
    settings = notice_settings.settings_of(
        round_.notice_texts, round_.issuer.options if round_.issuer is not None else None
    )
    sections = problem_sections(
        reads,
        round_,
        notice_day=notice_day,
        quarter=quarter_name(round_.period_start),
        settings=settings,
        template_dir=template_dir,  # none: problems' own default (tests point it elsewhere)
    )
    follow = followups_service.followups(
        reads, round_, as_of=notice_day, printed=followups_service.printed(round_)
    )
    praised = [(p.code, p.reason) for p in follow.praised]
    views = block_views(
        reads.uow, round_, settings=settings, as_of=notice_day, praised=praised, reads=reads
    )
    if views.commendations is not None:  # praise is printed once: in the 通报表扬 block
        follow = replace(follow, praised=())
    return settings, sections, follow, views


def _render(text: str, words: dict[str, str], *, key: str) -> str:
    """One editable text, rendered with the notice's words; a mistake in it is named."""
    try:
        rendered = render_text(text, words)
    except Exception as exc:  # noqa: BLE001 - a text stored before a rule is named, not a crash
        label = notice_settings.TEXTS.get(key, key)
        raise ValidationFailed(
            [f"通报文本「{label}（{key}）」有误：{template_error(exc)}"]
        ) from None
    return " ".join(rendered.split())


def _parse(body: str) -> list[Block]:
    blocks = []
    for line in body.splitlines():
        if not line.strip():
            continue
        kind, sep, text = line.partition("|")
        if not sep or kind not in BLOCK_KINDS or _RUN_ON.search(text):
            raise ValueError(f"notice template line without a known kind: {line[:40]!r}")
        blocks.append(Block(kind=kind, text=text.strip()))
    return blocks


def _without_empty_chapters(blocks: list[Block]) -> list[Block]:
    """A chapter heading with no paragraph under it (e.g. 总体情况 of a round with no figures
    yet) is not printed, so the chapters that follow keep consecutive numbers."""
    kept = []
    for i, block in enumerate(blocks):
        following = blocks[i + 1].kind if i + 1 < len(blocks) else None
        if block.kind == "h1" and following not in ("n", "p"):
            continue
        kept.append(block)
    return kept


def _numbered(blocks: list[Block]) -> list[Block]:
    """一、 for each h1, （一） for each n within it (reset at every h1)."""
    chapter = section = 0
    result = []
    for block in blocks:
        if block.kind == "h1":
            chapter, section = chapter + 1, 0
            block = Block(block.kind, block.text, chapter_number(chapter))
        elif block.kind == "n":
            section += 1
            block = Block(block.kind, block.text, section_number(section))
        result.append(block)
    return result
