"""JSON API under /api/v1: the same use cases as the pages, authenticated by API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.access import api_tokens
from services.access.users import UserView
from services.cases import actions, queries, transitions
from services.cases import detail as case_detail
from services.registry import listings
from services.rounds import published
from web.deps import MAX_ID, RowId, Uow
from web.filters import list_filters


class ErrorOut(BaseModel):
    """Every refusal of the API: a Chinese message, and the list when there are several."""

    detail: str
    errors: list[str] = Field(default_factory=list)


ERRORS = {
    400: ("请求参数无效或数据不合规则", ErrorOut),
    401: ("缺少、无效或已撤销的 API 令牌", ErrorOut),
    403: ("不在令牌所属用户的管辖范围内，或该用户无权操作", ErrorOut),
    404: ("记录不存在", ErrorOut),
    409: ("状态不允许该操作，或版本号已过期（并发修改）", ErrorOut),
}
router = APIRouter(
    prefix="/api/v1",
    tags=["api v1"],
    responses={
        code: {"model": model, "description": text} for code, (text, model) in ERRORS.items()
    },
)


def api_user(uow: Uow, authorization: Annotated[str | None, Header()] = None) -> UserView:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    user = api_tokens.resolve_token(uow, token)
    uow.commit()
    return user


ApiUser = Annotated[UserView, Depends(api_user)]
Filters = Annotated[queries.CaseFilters, Depends(list_filters)]


class CasePageOut(BaseModel):
    items: list[queries.CaseRow]
    next_cursor: str | None


class TransitionIn(BaseModel):
    trigger: str = Field(description="notify | start | verify | reject | escalate")
    note: str | None = Field(default=None, description="备注；退回（reject）时必填理由")
    expected_version: int | None = Field(
        default=None, ge=0, le=MAX_ID, description="案件版本号，防止并发覆盖"
    )


class FindingIn(BaseModel):
    round: str = Field(description="检查轮次代码，如 2021Q2")
    target: str = Field(description="监测对象代码")
    category: str = Field(description="问题类别代码或中文名称，如 column_stale 或 栏目更新不及时")
    description: str = ""
    severity: str | None = Field(default=None, description="veto | deduction；默认取类别的")
    source: str = "automated"
    evidence: dict[str, Any] = Field(default_factory=dict)


class IngestOut(BaseModel):
    case_id: int
    created: bool
    state: str


class FindingsIn(BaseModel):
    findings: list[FindingIn] = Field(
        description=f"检测发现，一次至多 {actions.MAX_BATCH_FINDINGS} 条",
    )


class BatchOut(BaseModel):
    """One result per finding, in the order sent."""

    items: list[IngestOut]


@router.get("/cases", response_model=CasePageOut, summary="案件列表（筛选、排序、键集分页）")
def list_cases(
    uow: Uow, user: ApiUser, filters: Filters, limit: Annotated[int, Query(ge=1, le=500)] = 100
):
    filters.scope_path = user.scope_path
    page = queries.page_cases(uow, filters, size=limit)
    return CasePageOut(items=page.rows, next_cursor=page.next_cursor)


@router.get("/cases/{case_id}", summary="案件详情")
def get_case(case_id: RowId, uow: Uow, user: ApiUser) -> case_detail.CaseDetail:
    return case_detail.case_detail(uow, case_id, scope_path=user.scope_path)


@router.get("/cases/{case_id}/events", summary="案件处理记录")
def case_events(case_id: RowId, uow: Uow, user: ApiUser) -> list[case_detail.EventView]:
    return case_detail.case_detail(uow, case_id, scope_path=user.scope_path).events


@router.get("/cases/{case_id}/submissions", summary="责任单位提交的整改材料")
def case_submissions(case_id: RowId, uow: Uow, user: ApiUser) -> list[case_detail.SubmissionView]:
    return case_detail.case_detail(uow, case_id, scope_path=user.scope_path).submissions


@router.post("/cases/{case_id}/transitions", summary="执行案件操作")
def transition(
    case_id: RowId, body: TransitionIn, uow: Uow, user: ApiUser
) -> transitions.TransitionResult:
    return actions.act(
        uow,
        user=user,
        case_id=case_id,
        trigger=body.trigger,
        note=body.note,
        expected_version=body.expected_version,
    )


@router.post(
    "/findings",
    response_model=IngestOut,
    status_code=201,
    summary="上报检测发现（同一轮次、对象、类别重复上报时更新原案件）",
    responses={200: {"description": "已更新原有案件"}},
)
def ingest(body: FindingIn, uow: Uow, user: ApiUser):
    result = actions.ingest_finding(uow, user=user, finding=_finding(body))
    out = IngestOut(case_id=result.case_id, created=result.created, state=result.state)
    return JSONResponse(out.model_dump(), status_code=201 if result.created else 200)


def _finding(body: FindingIn) -> transitions.Finding:
    return transitions.Finding(
        round_code=body.round,
        target_code=body.target,
        category_code=body.category,
        description=body.description,
        severity=body.severity,
        source=body.source,
        evidence=body.evidence,
    )


@router.post(
    "/findings/batch",
    response_model=BatchOut,
    summary="批量上报检测发现（全部有效才写入；任一条无效则整批不写入并列出每条问题）",
)
def ingest_batch(body: FindingsIn, uow: Uow, user: ApiUser) -> BatchOut:
    results = actions.ingest_findings(
        uow, user=user, findings=[_finding(item) for item in body.findings]
    )
    return BatchOut(
        items=[IngestOut(case_id=r.case_id, created=r.created, state=r.state) for r in results]
    )


@router.get("/units", summary="单位")
def units(uow: Uow, user: ApiUser) -> list[listings.UnitRow]:
    return listings.list_units(uow, scope_path=user.scope_path)


@router.get("/targets", summary="监测对象")
def targets(
    uow: Uow,
    user: ApiUser,
    unit: str | None = None,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[listings.TargetRow]:
    return listings.list_targets(
        uow, scope_path=user.scope_path, unit_code=unit, after_id=after_id, limit=limit
    )


@router.get("/rounds", summary="检查轮次")
def rounds(uow: Uow, user: ApiUser) -> list[listings.RoundRow]:
    return published.with_states(uow, listings.list_rounds(uow, scope_path=user.scope_path))
