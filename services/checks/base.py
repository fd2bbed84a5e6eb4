"""What every automated check is built from, and the table of checks.

A check is ONE module in ``services/checks/kinds/``: an async function decorated with
``@check("column_fresh", label="栏目是否及时更新")``. Discovery imports every module of that
package once (the first time the table is read), so a new check needs no import list and no
separate label table: its name and its Chinese label live on the decorator.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from services.checks.fetch import FetchFailed, Page
from services.checks.model import (
    MANUAL,
    MANUAL_LABEL,
    CannotTell,
    CheckContext,
    CheckOutcome,
    CheckRequest,
    Outcome,
)

CheckFunction = Callable[[CheckRequest, CheckContext], Awaitable[CheckOutcome]]
#: The package whose modules are the checks; every module in it is imported by discovery.
KINDS_PACKAGE = "services.checks.kinds"


@dataclass(frozen=True)
class Check:
    """A registered check: the name the category catalogue uses, its label, its function."""

    name: str
    label: str
    run: CheckFunction


#: Filled by ``@check`` as discovery imports the check modules; read through ``checks()``.
_TABLE: dict[str, Check] = {}


def check(name: str, *, label: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under the name the category catalogue uses, with its Chinese label."""
    if not name or name == MANUAL or not label:
        raise ValueError(f"a check needs a name other than {MANUAL!r} and a label: {name!r}")

    def decorate(run: CheckFunction) -> CheckFunction:
        known = _TABLE.get(name)
        if known is not None and _origin(known.run) != _origin(run):
            raise ValueError(
                f"check {name!r} is defined twice: {_origin(known.run)} and {_origin(run)}"
            )
        _TABLE[name] = Check(name=name, label=label, run=run)
        return run

    return decorate


def _origin(run: CheckFunction) -> str:
    return f"{run.__module__}.{run.__qualname__}"


@functools.cache
def _discover() -> None:
    """Import every module of the kinds package (once): each registers its checks."""
    package = importlib.import_module(KINDS_PACKAGE)
    for module in pkgutil.iter_modules(package.__path__, f"{KINDS_PACKAGE}."):
        if not module.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(module.name)


def checks() -> dict[str, Check]:
    """Every registered check by name (the check modules are imported on the first call)."""
    _discover()
    return _TABLE


def find(name: str) -> Check | None:
    """The check of that name, or None when no module defines it."""
    return checks().get(name)


def names() -> list[str]:
    """The registered check names, sorted."""
    return sorted(checks())


def label_of(name: str | None) -> str:
    """The Chinese label of a check name (None and ``manual``: a supervisor verifies)."""
    if not name or name == MANUAL:
        return MANUAL_LABEL
    found = find(name)
    return found.label if found else name


def answer(request: CheckRequest, outcome: Outcome, summary: str, **details: Any) -> CheckOutcome:
    """Build a check's outcome for ``request``."""
    return CheckOutcome(
        case_id=request.case_id,
        check=request.check or MANUAL,
        outcome=outcome,
        summary=summary,
        details=details,
        target_code=request.target_code,
    )


#: Pages visited by the checks of one address (the runner runs them one after another):
#: column_fresh and column_blank of one column page fetch and read it once.
VISITED: ContextVar[dict[str, Page | FetchFailed] | None] = ContextVar("visited", default=None)


async def page_of(request: CheckRequest, context: CheckContext) -> Page:
    """Fetch the request's page, or raise CannotTell saying why it could not be read."""
    if not request.url:
        raise CannotTell("监测对象未登记网址，无法自动检查")
    visited = VISITED.get()
    try:
        found = visited.get(request.url) if visited is not None else None
        if found is None:
            try:
                found = await context.fetcher.get(request.url)
            except FetchFailed as exc:
                found = exc
            if visited is not None:
                visited[request.url] = found
        if isinstance(found, FetchFailed):
            raise found
        page = found
    except FetchFailed as exc:
        raise CannotTell(
            f"页面无法打开（{exc}），无法判断", error=str(exc), kind=exc.kind
        ) from None
    if not page.ok:
        raise CannotTell(
            f"页面返回 HTTP {page.status}，无法判断",
            page=page.evidence(keep_chars=context.settings.check_page_keep_chars),
        )
    return page
