"""FastAPI's refusals of a request's parameters (path, query, form, JSON) in Chinese, each
naming the parameter and, for a number, the range its declaration allows."""

from __future__ import annotations

import typing
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from fastapi import Request
from pydantic import BaseModel

SOURCES = {"path": "path_params", "query": "query_params", "header": "header_params"}
SOURCES |= {"cookie": "cookie_params", "body": "body_params"}
RANGE_ERRORS = ("greater_than_equal", "less_than_equal", "greater_than", "less_than")
TYPE_WORDS = {
    "int": "整数",
    "float": "数字",
    "bool": "是或否（true/false、1/0）",
    "date": "日期（YYYY-MM-DD）",
    "datetime": "日期时间",
    "string": "文字",
    "list": "列表",
    "dict": "JSON 对象",
    "model": "JSON 对象",
}


def messages(request: Request, errors: typing.Sequence[Any]) -> list[str]:
    """One Chinese sentence per error of a ``RequestValidationError``."""
    found = [_message(request, dict(error)) for error in errors]
    return list(dict.fromkeys(found))  # a list's items failing alike are said once


def _message(request: Request, error: dict[str, Any]) -> str:
    loc = tuple(error.get("loc") or ())
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    name = ".".join(str(part) for part in loc[1:] if isinstance(part, str))
    if kind == "json_invalid":
        return "请求内容不是有效的 JSON"
    if not name:
        return "请求内容应为 JSON 对象" if loc[:1] == ("body",) else "请求内容无效"
    if kind == "missing":
        return f"缺少参数 {name}"
    if kind in RANGE_ERRORS:
        low, high = _bounds(request, loc)
        low = ctx.get("ge", ctx.get("gt", low)) if low is None else low
        high = ctx.get("le", ctx.get("lt", high)) if high is None else high
        return f"参数 {name} 超出范围（{_range(low, high)}）"
    if kind == "string_too_long":
        return f"参数 {name} 过长（上限 {ctx.get('max_length')} 字）"
    if kind == "string_too_short":
        return f"参数 {name} 过短（至少 {ctx.get('min_length')} 字）"
    if kind in ("literal_error", "enum"):
        return f"参数 {name} 应为 {ctx.get('expected', '允许的值之一')}"
    word = TYPE_WORDS.get(kind.split("_", 1)[0])
    return f"参数 {name} 应为{word}" if word else f"参数 {name} 无效"


def _range(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{low}–{high}"
    return f"不小于 {low}" if low is not None else f"不大于 {high}"


def _bounds(request: Request, loc: tuple) -> tuple[Any, Any]:
    """The ge/le (or gt/lt) the route declares for the parameter at ``loc``, where found."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or len(loc) < 2 or loc[0] not in SOURCES:
        return None, None
    fields = list(_fields(dependant, SOURCES[loc[0]]))
    field = next((f for f in fields if loc[1] in (f.alias, f.name)), None)
    annotation, metadata, rest = None, [], loc[2:]
    if field is not None:
        annotation, metadata = field.field_info.annotation, list(field.field_info.metadata)
    elif loc[0] == "body" and len(fields) == 1:  # one JSON model: loc names its fields
        annotation, rest = fields[0].field_info.annotation, loc[1:]
    for part in rest:
        annotation, metadata = _inside(annotation, part)
    low = next(
        (m.ge if isinstance(m, Ge) else m.gt for m in metadata if isinstance(m, Ge | Gt)), None
    )
    high = next(
        (m.le if isinstance(m, Le) else m.lt for m in metadata if isinstance(m, Le | Lt)), None
    )
    return low, high


def _fields(dependant: Any, attribute: str):
    yield from getattr(dependant, attribute, [])
    for sub in getattr(dependant, "dependencies", []):
        yield from _fields(sub, attribute)


def _inside(annotation: Any, part: Any) -> tuple[Any, list]:
    """One step into a model's field (a name) or a list's item (an index), with its metadata."""
    if isinstance(part, str) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
        info = annotation.model_fields.get(part)
        return (info.annotation, list(info.metadata)) if info else (None, [])
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(part, int) and args:
        item = args[0]
        if typing.get_origin(item) is typing.Annotated:
            base, *extra = typing.get_args(item)
            return base, [m for e in extra for m in getattr(e, "metadata", [e])]
        return item, []
    return None, []
