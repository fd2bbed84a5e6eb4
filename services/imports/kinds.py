"""The table kinds: registry (units, targets) and round data (rounds, verdicts, boards, findings)."""

from __future__ import annotations

from dataclasses import replace

from services.core.deadlines import MODES
from services.db.models import Case, CaseEvent, CaseNotice, Category, Round, Target, Unit
from services.imports.block_rows import BLOCK_KINDS
from services.imports.category_rows import check_cell, kind_cell, kinds_cell
from services.imports.issuer_rows import ISSUERS
from services.imports.schema import Column, TableKind, boolean, choice, day, integer, text
from services.imports.setting_rows import NOTICE_SETTINGS
from services.registry.units import TARGET_KINDS, TARGET_STATUSES, UNIT_KINDS
from states import NOTICE_LEVELS
from states.lifecycle import TRIGGER_LABELS, Trigger

PLATFORMS = {
    "wechat": "wechat",
    "微信": "wechat",
    "微信公众号": "wechat",
    "weibo": "weibo",
    "微博": "weibo",
    "douyin": "douyin",
    "抖音": "douyin",
    "toutiao": "toutiao",
    "今日头条": "toutiao",
    "头条": "toutiao",
    "kuaishou": "kuaishou",
    "快手": "kuaishou",
    "app": "app",
    "客户端": "app",
    "other": "other",
    "其他": "other",
}
SEVERITIES = {
    "veto": "veto",
    "单项否决": "veto",
    "deduction": "deduction",
    "扣分": "deduction",
    "扣分项": "deduction",
}
LEVELS = {
    "city": "city",
    "province": "province",
    "county": "county",
    "市级": "city",
    "省级": "province",
    "县级": "county",
    "市": "city",
    "省": "province",
    "县": "county",
} | {issuer: level for level, issuer in NOTICE_LEVELS.items()}


def _codes(labels: dict[str, str]) -> dict[str, str]:
    """Code → code plus Chinese label → code."""
    return {code: code for code in labels} | {label: code for code, label in labels.items()}


TRIGGERS = _codes({str(t): TRIGGER_LABELS.get(t, str(t)) for t in Trigger})
DEADLINE_MODES = {m: m for m in MODES} | {"自然日": "calendar", "工作日": "working"}

_ROUND = Column("round_code", ("轮次", "检查轮次", "round", "round_code"), text)
_TARGET = Column("target_code", ("对象代码", "监测对象代码", "target", "target_code"), text)
_CATEGORY = Column("category_code", ("问题类别", "类别代码", "category", "category_code"), text)
_SYNTHETIC = Column("synthetic", ("合成数据", "虚构", "synthetic"), boolean)

UNITS = TableKind(
    code="units",
    label="单位",
    sheet_names=("单位", "units"),
    columns=(
        Column("code", ("单位代码", "code"), text, required=True),
        Column("name", ("单位名称", "name"), text, required=True),
        Column("kind", ("类型", "单位类型", "kind"), choice(_codes(UNIT_KINDS)), required=True),
        Column("parent_code", ("上级单位代码", "上级单位", "parent_code"), text),
        Column("short_name", ("简称", "short_name"), text),
        Column("contact_name", ("联系人", "contact_name"), text),
        Column("contact_email", ("联系人邮箱", "contact_email"), text),
        Column("leader_name", ("领导", "负责人", "leader_name"), text),
        Column("leader_email", ("领导邮箱", "负责人邮箱", "leader_email"), text),
        _SYNTHETIC,
    ),
)

TARGETS = TableKind(
    code="targets",
    label="监测对象",
    sheet_names=("监测对象", "targets"),
    columns=(
        Column("code", ("对象代码", "code"), text, required=True),
        Column("unit_code", ("主办单位代码", "主办单位", "unit_code"), text, required=True),
        Column("kind", ("对象类型", "类型", "kind"), choice(_codes(TARGET_KINDS)), required=True),
        Column("name", ("名称", "对象名称", "name"), text, required=True),
        Column("url", ("网址", "url"), text),
        Column("domain", ("域名", "domain"), text),
        Column("site_code", ("网站标识码", "site_code"), text),
        Column("parent_target_code", ("所属网站代码", "parent_target_code"), text),
        Column("platform", ("平台", "platform"), choice(PLATFORMS)),
        Column("account_name", ("账号名称", "account_name"), text),
        Column("registered_entity", ("注册主体", "registered_entity"), text),
        Column("column_type", ("栏目类型", "column_type"), text),
        Column("status", ("状态", "status"), choice(_codes(TARGET_STATUSES))),
        _SYNTHETIC,
    ),
)

ROUNDS = TableKind(
    code="rounds",
    label="检查轮次",
    sheet_names=("轮次", "检查轮次", "rounds"),
    columns=(
        Column("code", ("轮次", "检查轮次", "code"), text, required=True),
        Column("title", ("标题", "通报标题", "title"), text),
        Column("period_start", ("开始日期", "period_start"), day),
        Column("period_end", ("结束日期", "period_end"), day),
        Column("notice_date", ("通报日期", "notice_date"), day),
        Column("doc_number", ("文号", "doc_number"), text),
        Column("deadline", ("整改期限", "deadline"), day),
        Column("deadline_days", ("整改天数", "deadline_days"), integer),
        Column("deadline_mode", ("期限方式", "deadline_mode"), choice(DEADLINE_MODES)),
        Column("nm_registered", ("新增登记新媒体", "nm_registered"), integer),
        Column("nm_wechat_closed", ("关停注销微信公众号", "nm_wechat_closed"), integer),
        Column("nm_other_deregistered", ("注销其他新媒体", "nm_other_deregistered"), integer),
        # Whether the round's notice prints these follow-up paragraphs (default: yes).
        Column("print_unreported", ("通报未报送单位", "print_unreported"), boolean),
        Column("print_still_unfixed", ("通报复查仍未整改", "print_still_unfixed"), boolean),
        # The issuing office as its notice prints it (over notice_texts.yaml's default).
        Column("office", ("发文机关", "office"), text),
        Column("office_short", ("发文机关简称", "office_short"), text),
        # The issuing office that runs the round: the unit code of an issuer (发文机关 sheet).
        Column("issuer_code", ("发文机关代码", "issuer_code"), text),
    ),
)

VERDICTS = TableKind(
    code="verdicts",
    label="检查范围",
    sheet_names=("检查范围", "检查结果", "verdicts"),
    columns=(
        _ROUND,
        _TARGET,
        # A row without a target code covers every operating target of this kind.
        Column("target_kind", ("对象类型", "target_kind"), choice(_codes(TARGET_KINDS))),
        Column("inspected", ("是否检查", "inspected"), boolean),
        Column("qualified_override", ("人工判定合格", "qualified_override"), boolean),
        Column("override_reason", ("判定理由", "override_reason"), text),
        Column("praise", ("表扬", "praise"), text),
    ),
)

BOARD_FIGURES = TableKind(
    code="board_figures",
    label="留言办理",
    sheet_names=("留言办理", "board_figures"),
    columns=(
        _ROUND,
        _TARGET,
        Column("messages_received", ("留言数", "messages_received"), integer, required=True),
        Column("replies_overdue", ("超期未回复数", "replies_overdue"), integer),
    ),
)

FINDINGS = TableKind(
    code="findings",
    label="问题",
    sheet_names=("问题", "发现问题", "findings"),
    columns=(
        _ROUND,
        Column("target_code", _TARGET.aliases, text, required=True),
        Column("category_code", _CATEGORY.aliases, text, required=True),
        Column("description", ("问题描述", "description"), text),
        Column("severity", ("严重程度", "severity"), choice(SEVERITIES)),
        Column("source", ("来源", "source"), text),
        Column("previous_round", ("上一轮次", "previous_round"), text),
        Column("found_on", ("发现日期", "found_on"), day),
        _SYNTHETIC,
    ),
)

NOTICES = TableKind(
    code="notices",
    label="通报记录",
    sheet_names=("通报记录", "notices"),
    columns=(
        _ROUND,
        Column("target_code", _TARGET.aliases, text, required=True),
        Column("category_code", _CATEGORY.aliases, text, required=True),
        Column("level", ("通报层级", "level"), choice(LEVELS), required=True),
        Column("issuer", ("通报机关", "issuer"), text),
        Column("notified_on", ("通报日期", "notified_on"), day, required=True),
        Column("reference", ("文号", "reference"), text),
    ),
)

HISTORY = TableKind(
    code="history",
    label="处理记录",
    sheet_names=("处理记录", "history"),
    columns=(
        _ROUND,
        Column("target_code", _TARGET.aliases, text, required=True),
        Column("category_code", _CATEGORY.aliases, text, required=True),
        Column("trigger", ("操作", "trigger"), choice(TRIGGERS), required=True),
        Column("date", ("日期", "操作日期", "date"), day, required=True),
        Column("actor", ("操作人", "actor"), text),
        Column("note", ("说明", "处理意见", "note"), text),
        Column("reason", ("升级原因", "reason"), choice({"overdue": "overdue", "超期": "overdue"})),
    ),
)


#: 问题类别: a row per category (表述对象 empty), and optionally a row per target kind with that
#: kind's wording (表述对象 网站/政务新媒体/...): see services/imports/category_rows.py.
CATEGORIES = TableKind(
    code="categories",
    label="问题类别",
    sheet_names=("问题类别", "categories"),
    columns=(
        Column("code", ("类别代码", "code"), text, required=True),
        Column("name", ("类别名称", "category_name"), text),
        Column("target_kinds", ("适用对象", "target_kinds"), kinds_cell),
        Column("severity", ("严重程度", "severity"), choice(SEVERITIES)),
        Column("deadline_days", ("整改天数", "deadline_days"), integer),
        Column("deadline_mode", ("期限方式", "deadline_mode"), choice(DEADLINE_MODES)),
        Column("check", ("自动检查", "check"), check_cell),
        Column("theme", ("通报主题", "theme"), text),
        Column("heading", ("通报标题", "heading"), text),
        Column("phrase", ("通报表述", "phrase"), text),
        Column("elaboration", ("表述说明", "elaboration"), text),
        Column("wording_kind", ("表述对象", "对象类型", "wording_kind"), kind_cell),
        Column("rule", ("依据", "rule"), text),
        Column("retired", ("停用", "retired"), boolean),
        Column("sort_order", ("排序", "sort_order"), integer),
    ),
)


def _sized(kind: TableKind, model: type, renames: dict[str, str] | None = None) -> TableKind:
    """The kind with each text column limited to the length of the model column it fills."""
    columns = []
    for column in kind.columns:
        name = (renames or {}).get(column.field, column.field)
        stored = model.__table__.c.get(name)
        length = getattr(stored.type, "length", None) if stored is not None else None
        columns.append(replace(column, max_len=length) if column.parse is text else column)
    return replace(kind, columns=tuple(columns))


UNITS = _sized(UNITS, Unit)
TARGETS = _sized(TARGETS, Target)
ROUNDS = _sized(ROUNDS, Round)
FINDINGS = _sized(FINDINGS, Case)
NOTICES = _sized(NOTICES, CaseNotice)
HISTORY = _sized(HISTORY, CaseEvent)
CATEGORIES = _sized(CATEGORIES, Category)
CATALOGUE_KINDS = {CATEGORIES.code: CATEGORIES}
REGISTRY_KINDS = {k.code: k for k in (UNITS, TARGETS, ISSUERS)} | CATALOGUE_KINDS
ROUND_KINDS = {
    k.code: k
    for k in (ROUNDS, VERDICTS, BOARD_FIGURES, FINDINGS, NOTICES, HISTORY, NOTICE_SETTINGS)
} | BLOCK_KINDS  # 复查, 通报表扬, 模拟咨询, 重要信息转载, 清理整合
ALL_KINDS = REGISTRY_KINDS | ROUND_KINDS
