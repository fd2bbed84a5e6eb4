"""The shapes of a round's data blocks (services/rounds/blocks.py): pydantic models, the
Chinese names of their fields, and pydantic's complaints in Chinese."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.core.limits import MAX_ID

#: Block kinds and their Chinese names (the import sheets bear the same names).
KINDS = {
    "recheck": "复查",
    "commendations": "通报表扬",
    "consultation": "模拟咨询",
    "reprint": "重要信息转载",
    "cleanup": "清理整合",
}
REPRINT_RESULTS = {"good": "及时", "late": "不及时", "missing": "未转载"}
#: Every field as forms and errors name it.
FIELD_LABELS = {
    "initial": "初查日期",
    "recheck": "复查日期",
    "targets": "表扬对象",
    "reported": "报送单位",
    "target": "对象代码",
    "reason": "表扬理由",
    "unit": "单位代码",
    "task": "事项",
    "questions": "咨询问题",
    "asked": "提问日期",
    "answered": "答复日期",
    "question": "问题内容",
    "deployed": "部署条数",
    "sampled": "抽查条数",
    "checked": "检查对象数",
    "results": "转载对象",
    "result": "转载情况",
    "accounts": "待清理账号",
    "name": "账号名称",
    "deregistered": "是否已注销",
}


def _day(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"应为日期（YYYY-MM-DD），而不是「{str(value)[:40]}」")


def _count(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{1,10}", value.strip()):
        value = int(value.strip())
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise ValueError(f"应为 0–{MAX_ID} 之间的整数，而不是「{str(value)[:40]}」")
    return value


def _text(limit: int) -> Any:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("不能为空")
        if len(value.strip()) > limit:
            raise ValueError(f"过长（{len(value.strip())} 字，上限 {limit} 字）")
        return value.strip()

    return BeforeValidator(check)


Day = Annotated[date, BeforeValidator(_day)]
Count = Annotated[int, BeforeValidator(_count)]
Code = Annotated[str, _text(100)]
Short = Annotated[str, _text(200)]
Long = Annotated[str, _text(1000)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Recheck(_Shape):
    initial: Day
    recheck: Day


class Praise(_Shape):
    target: Code
    reason: Long


class Reported(_Shape):
    unit: Code
    task: Short


class Commendations(_Shape):
    targets: list[Praise] = []
    reported: list[Reported] = []


class Question(_Shape):
    target: Code
    asked: Day
    answered: Day | None = None
    question: Long | None = None


class Consultation(_Shape):
    questions: list[Question] = Field(min_length=1)


class Reprinted(_Shape):
    target: Code
    result: Literal["good", "late", "missing"]


class Reprint(_Shape):
    deployed: Count
    sampled: Count
    checked: Count | None = None
    results: list[Reprinted] = []


class Account(_Shape):
    name: Short
    unit: Code | None = None
    deregistered: bool = False


class Cleanup(_Shape):
    task: Short | None = None
    accounts: list[Account] = Field(min_length=1)


SHAPES: dict[str, type[_Shape]] = {
    "recheck": Recheck,
    "commendations": Commendations,
    "consultation": Consultation,
    "reprint": Reprint,
    "cleanup": Cleanup,
}


def message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "missing":
        return "不能为空"
    if kind == "extra_forbidden":
        return "不是可用的字段"
    if kind == "too_short":
        return "至少应有一项"
    if kind == "literal_error":
        shown = "、".join(f"{v}（{k}）" for k, v in REPRINT_RESULTS.items())
        return f"无效，可选：{shown}"
    if kind == "bool_type" or kind == "bool_parsing":
        return "应为 是 或 否"
    if kind in ("list_type", "model_type", "dict_type", "model_attributes_type"):
        return "格式不对（应为列表或键值表）"
    return f"无效（{kind}）"
