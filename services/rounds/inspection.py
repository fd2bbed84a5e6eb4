"""The quarterly inspection: every website and column of a round checked, what is wrong filed.

A round's scope is its issuer's subtree (a round without an issuer: the whole registry): its
operating websites and columns are checked page by page, its offline or deregistered websites
only for their domain. Which checks run and which category a "present" outcome is filed under
come from the category catalogue: for a target kind and a check, the first category in sort
order (not retired) that names the check and applies to the kind. Rules of the inspection:

* an operating website: ``site_reachable``, ``column_fresh`` (its homepage) and
  ``broken_links``. Broken links are checked on homepages only: column pages' links are not
  followed at inspection (each homepage already links to its columns);
* a column: ``column_fresh``; a column where it found no dated entry at all is then asked
  ``column_blank``, and a blank column is filed as blank only, not also as stale;
* an offline or deregistered website: ``domain_live`` only;
* a site whose homepage is unreachable is filed under the reachability category only: its
  homepage's other checks and its columns cannot be judged (counted as unknown);
* an ``unknown`` outcome files nothing; it is counted and the first few are reported;
* reachability is sampled briefly: ``check_inspection_reach_samples`` visits (default 3) over
  ``check_inspection_reach_window_seconds`` (default 0: at once), not the week-long rule.

Work goes in chunks of at most ``check_inspection_batch`` check requests (whole sites, chunks
may span several rounds): one ``run_checks`` call and one transaction per chunk, so memory
stays bounded and a rerun repeats only what a failed chunk did not commit. Findings go
through ``transitions.open_case`` (the path of the findings API): a rerun updates the case of
the same round, target and category, never a second one. Each target judged (at least one
outcome fixed or present) gets its round's verdict "inspected" (not an offline website: its
domain is checked, no page of it); existing verdicts are kept.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import select

from services.cases import transitions
from services.cases.finding_refs import Known
from services.checks import CheckOutcome, CheckRequest, run_checks, save_outcomes
from services.checks.store import request_for
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.issuer_models import Issuer
from services.db.models import Case, Category, CheckResult, Round, Target, Unit, Verdict
from services.registry.catalogue import applies_to
from services.rounds.rounds import get_round

#: How a case opened by the inspection names its source.
SOURCE = "自动检查"
#: The checks each kind of target gets at inspection (when a category names the check).
WEBSITE_CHECKS = ("site_reachable", "column_fresh", "broken_links")
COLUMN_CHECKS = ("column_fresh",)
CLOSED_CHECKS = ("domain_live",)
REACH, FRESH, BLANK = "site_reachable", "column_fresh", "column_blank"
CLOSED_STATUSES = ("offline", "deregistered")
KINDS = ("website", "column")
UNKNOWN_EXAMPLES = 20

#: One chunk: (round id, target ids) pairs; a site's homepage and columns are never split.
Chunk = list[tuple[int, list[int]]]


@dataclass
class Tally:
    """What an inspection (or one chunk of it) did."""

    rounds: int = 0
    targets: int = 0  # targets checked, closed websites included
    pages: int = 0  # operating websites and columns checked
    requests: int = 0  # check requests run
    unknown: int = 0  # outcomes that file nothing because nothing could be told
    created: int = 0
    updated: int = 0
    inspected: int = 0  # verdicts recorded (new ones)
    filed: Counter = field(default_factory=Counter)  # category code → findings
    unknown_examples: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("targets", "pages", "requests", "unknown", "created", "updated", "inspected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.filed.update(other.filed)
        room = UNKNOWN_EXAMPLES - len(self.unknown_examples)
        self.unknown_examples += other.unknown_examples[: max(0, room)]

    @property
    def findings(self) -> int:
        return sum(self.filed.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"filed": dict(sorted(self.filed.items())), "findings": self.findings}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Tally:
        values = {k: v for k, v in data.items() if k != "findings"}
        return cls(**values | {"filed": Counter(values.get("filed", {}))})


def routes(uow: UnitOfWork) -> dict[tuple[str, str], str]:
    """(check, target kind) → the category a "present" outcome is filed under."""
    found: dict[tuple[str, str], str] = {}
    categories = uow.session.scalars(
        select(Category)
        .where(Category.check.is_not(None), Category.retired.is_not(True))
        .order_by(Category.sort_order, Category.code)
    )
    for category in categories:
        for kind in KINDS:
            if applies_to(category, kind):
                found.setdefault((category.check, kind), category.code)
    return found


def _checks_of(kind: str, status: str, routed: dict[tuple[str, str], str]) -> tuple[str, ...]:
    if kind == "website":
        names = CLOSED_CHECKS if status in CLOSED_STATUSES else WEBSITE_CHECKS
    else:
        names = COLUMN_CHECKS if status not in CLOSED_STATUSES else ()
    return tuple(name for name in names if (name, kind) in routed)


def plan(uow: UnitOfWork, round_codes: list[str], *, max_requests: int) -> list[Chunk]:
    """The rounds' targets in chunks of at most ``max_requests`` requests (whole sites)."""
    routed = routes(uow)
    if not routed:
        raise ValidationFailed(
            ["问题类别目录中没有指定自动检查的类别，无法检查（请先运行 rectify db upgrade）"]
        )
    rounds = [get_round(uow, code) for code in dict.fromkeys(round_codes)]
    issuer_paths = dict(
        uow.session.execute(
            select(Issuer.id, Unit.path).join(Unit, Unit.id == Issuer.unit_id)
        ).all()
    )
    by_path: dict[str, list[int]] = defaultdict(list)  # issuer unit path → round ids
    everywhere = []
    for round_ in rounds:
        if round_.issuer_id is None:
            everywhere.append(round_.id)
        else:
            by_path[issuer_paths[round_.issuer_id]].append(round_.id)
    rows = uow.session.execute(
        select(Target.id, Target.kind, Target.status, Target.parent_target_id, Unit.path)
        .join(Unit, Unit.id == Target.unit_id)
        .where(Target.kind.in_(KINDS))
        .order_by(Target.id)
    )
    # Per round: site key (the website's id, or a lone column's own) → (target ids, requests).
    sites: dict[int, dict[int, list]] = defaultdict(dict)
    kinds: dict[int, str] = {}
    for target_id, kind, status, parent_id, path in rows:
        wanted = len(_checks_of(kind, status, routed))
        if not wanted:
            continue
        kinds[target_id] = kind
        covering = [*everywhere, *_covering(by_path, path)]
        key = parent_id if kind == "column" and kinds.get(parent_id) == "website" else target_id
        for round_id in covering:
            site = sites[round_id].setdefault(key, [[], 0])
            site[0].append(target_id)
            site[1] += wanted
    return _packed(sites, rounds, max_requests)


def _covering(by_path: dict[str, list[int]], path: str) -> list[int]:
    """The rounds whose issuer's unit is ``path`` or above it."""
    found = []
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        found += by_path.get("/" + "/".join(parts[:depth]) + "/", ())
    return found


def _packed(sites: dict[int, dict[int, list]], rounds: list[Round], max_requests: int):
    chunks: list[Chunk] = []
    chunk: dict[int, list[int]] = {}
    size = 0
    for round_ in rounds:
        for target_ids, wanted in sites.get(round_.id, {}).values():
            if size and size + wanted > max_requests:
                chunks.append(list(chunk.items()))
                chunk, size = {}, 0
            chunk.setdefault(round_.id, []).extend(target_ids)
            size += wanted
    if chunk:
        chunks.append(list(chunk.items()))
    return chunks


@dataclass(frozen=True)
class _Asked:
    round_code: str
    target: Target
    request: CheckRequest

    @property
    def key(self) -> tuple[str, int]:
        return (self.round_code, self.target.id)


def inspect_chunk(uow: UnitOfWork, chunk: Chunk, *, actor: str) -> Tally:
    """Check one chunk's targets, file what is present, record verdicts; one commit."""
    routed = routes(uow)
    settings = uow.settings
    quick = settings.model_copy(
        update={
            "check_reach_samples": settings.check_inspection_reach_samples,
            "check_reach_window_seconds": settings.check_inspection_reach_window_seconds,
        }
    )
    codes = dict(
        uow.session.execute(
            select(Round.id, Round.code).where(Round.id.in_([r for r, _ in chunk]))
        ).all()
    )
    ids = {t for _, target_ids in chunk for t in target_ids}
    targets = {
        t.id: t
        for t in uow.session.scalars(select(Target).where(bulk.ids_in(uow.session, Target.id, ids)))
    }
    asked = [
        _Asked(
            codes[round_id],
            target,
            request_for(
                target, check=name, category_code=routed[(name, target.kind)], settings=settings
            ),
        )
        for round_id, target_ids in chunk
        for target in (targets[t] for t in target_ids)
        for name in _checks_of(target.kind, target.status, routed)
    ]
    outcomes = _run([a.request for a in asked], quick, uow)
    # A column without any dated entry: asked whether it is blank (filed as blank, not stale).
    follow = [
        _Asked(
            a.round_code,
            a.target,
            replace(a.request, check=BLANK, category_code=routed[(BLANK, a.target.kind)]),
        )
        for a, o in zip(asked, outcomes, strict=True)
        if _maybe_blank(a, o, routed)
    ]
    blanks = dict(
        zip(
            (a.key for a in follow),
            zip(follow, _run([a.request for a in follow], quick, uow), strict=True),
            strict=True,
        )
    )
    tally = Tally(requests=len(asked) + len(follow))
    findings, judged = _judged(list(zip(asked, outcomes, strict=True)), blanks, tally)
    _file(uow, findings, tally, actor=actor)
    tally.inspected = _record_verdicts(uow, judged, codes)
    checked = {a.key: a.target for a in asked}
    tally.targets = len(checked)
    tally.pages = sum(t.status not in CLOSED_STATUSES for t in checked.values())
    uow.commit()
    return tally


def refresh_statistics(uow: UnitOfWork) -> None:
    """After a whole inspection: the planner's statistics of what it filed (a verdict for
    every page, a case and a check result for each finding) read again, in one commit."""
    tables = (Verdict.__table__, Case.__table__, CheckResult.__table__)
    bulk.refresh_statistics(uow.session, *tables)
    uow.commit()


def _run(requests: list[CheckRequest], settings, uow: UnitOfWork) -> list[CheckOutcome]:
    if not requests:
        return []
    return asyncio.run(run_checks(requests, settings=settings, clock=uow.clock))


def _maybe_blank(asked: _Asked, outcome: CheckOutcome, routed: dict) -> bool:
    return (
        asked.request.check == FRESH
        and asked.target.kind == "column"
        and outcome.outcome == "present"
        and outcome.details.get("dated_entries") == 0
        and (BLANK, "column") in routed
    )


Pair = tuple[_Asked, CheckOutcome]


def _judged(
    pairs: list[Pair], blanks: dict[tuple[str, int], Pair], tally: Tally
) -> tuple[list[Pair], set[tuple[str, int]]]:
    """What to file, and which targets were judged (an outcome other than unknown)."""
    unreachable = {a.key for a, o in pairs if a.request.check == REACH and o.outcome == "present"}
    findings: list[Pair] = []
    judged: set[tuple[str, int]] = set()
    for asked, outcome in pairs:
        site = (asked.round_code, asked.target.parent_target_id or asked.target.id)
        if asked.request.check != REACH and (asked.key in unreachable or site in unreachable):
            _unknown(tally, asked, "站点无法访问，无法判断")
            continue
        if asked.key in blanks and asked.request.check == FRESH:
            blank = blanks[asked.key]
            if blank[1].outcome != "fixed":  # fixed: entries appeared meanwhile, stale after all
                asked, outcome = blank
        if outcome.outcome == "unknown":
            _unknown(tally, asked, outcome.summary)
            continue
        if asked.target.status not in CLOSED_STATUSES:  # a closed site is not a page inspected
            judged.add(asked.key)
        if outcome.outcome == "present":
            findings.append((asked, outcome))
    return findings, judged


def _unknown(tally: Tally, asked: _Asked, why: str) -> None:
    tally.unknown += 1
    if len(tally.unknown_examples) < UNKNOWN_EXAMPLES:
        tally.unknown_examples.append(f"{asked.target.code}（{asked.request.check}）：{why}")


def _file(uow: UnitOfWork, findings: list[Pair], tally: Tally, *, actor: str) -> None:
    """Open (or update) a case per finding through the findings' path; keep the outcomes."""
    filed = [
        transitions.Finding(
            round_code=asked.round_code,
            target_code=asked.target.code,
            category_code=asked.request.category_code,
            description=outcome.summary,
            source=SOURCE,
            evidence={"check": outcome.check, **outcome.details},
        )
        for asked, outcome in findings
    ]
    known = Known.load(uow, filed)
    for finding, (_, outcome) in zip(filed, findings, strict=True):
        case, created = transitions.open_case(
            uow, finding, actor=actor, actor_kind="system", known=known
        )
        tally.filed[finding.category_code] += 1
        if created:
            tally.created += 1
        else:
            tally.updated += 1
        outcome.case_id = case.id
    save_outcomes(uow, [o for _, o in findings], run_ref=actor)


def _record_verdicts(uow: UnitOfWork, judged: set[tuple[str, int]], codes: dict[int, str]) -> int:
    """A verdict "inspected" for each judged target that has none yet in its round."""
    if not judged:
        return 0
    round_ids = {code: round_id for round_id, code in codes.items()}
    wanted = {(round_ids[code], target_id) for code, target_id in judged}
    have = set(
        uow.session.execute(
            select(Verdict.round_id, Verdict.target_id).where(
                bulk.ids_in(uow.session, Verdict.round_id, {r for r, _ in wanted}),
                bulk.ids_in(uow.session, Verdict.target_id, {t for _, t in wanted}),
            )
        ).all()
    )
    rows = [{"round_id": r, "target_id": t, "inspected": True} for r, t in sorted(wanted - have)]
    bulk.insert_rows(uow.session, Verdict.__table__, ("round_id", "target_id", "inspected"), rows)
    return len(rows)
