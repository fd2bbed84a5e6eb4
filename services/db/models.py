"""SQLAlchemy 2 typed models. States are stored as strings; timestamps are time-zone aware."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.db.types import AwareDateTime

if TYPE_CHECKING:
    from services.db.issuer_models import Issuer

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: AwareDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Unit(Base):
    """单位: a node of the supervision tree (city office → counties, departments)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))  # county_gov, city_dept, park_committee, ...
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: Materialised path of codes, "/city/county/": a subtree is ``path LIKE '/city/%'``.
    path: Mapped[str] = mapped_column(String(1000))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    leader_name: Mapped[str | None] = mapped_column(String(100))
    leader_email: Mapped[str | None] = mapped_column(String(200))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    # On PostgreSQL in pattern order: a subtree's ``LIKE 'prefix%'`` then reads the index
    # whatever the database's collation (under any but "C" a plain index cannot serve LIKE).
    __table_args__ = (
        Index("ix_units_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )


class Target(Base):
    """监测对象: a website, information-disclosure column, new-media account or message board."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # website | column | new_media | message_board
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(1000))
    domain: Mapped[str | None] = mapped_column(String(253))
    site_code: Mapped[str | None] = mapped_column(String(40))  # 网站标识码
    parent_target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id"))
    platform: Mapped[str | None] = mapped_column(String(40))  # wechat, weibo, douyin, ...
    account_name: Mapped[str | None] = mapped_column(String(200))
    registered_entity: Mapped[str | None] = mapped_column(String(300))  # 注册主体
    column_type: Mapped[str | None] = mapped_column(String(40))  # news | notice | policy | other
    status: Mapped[str] = mapped_column(String(20), default="operating")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)

    unit: Mapped[Unit] = relationship()

    __table_args__ = (
        CheckConstraint("kind IN ('website', 'column', 'new_media', 'message_board')", name="kind"),
        CheckConstraint("status IN ('operating', 'offline', 'deregistered')", name="status"),
    )


class Category(Base):
    """A problem category of the catalogue (data, not an enum: supervisors add more)."""

    __tablename__ = "categories"
    __table_args__ = (Index("uq_categories_name", "name", unique=True),)

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))  # unique: imports name it either way
    target_kind: Mapped[str] = mapped_column(String(20))  # website | column | new_media | ... | any
    severity: Mapped[str] = mapped_column(String(20))  # veto | deduction
    deadline_days: Mapped[int | None] = mapped_column(Integer)
    deadline_mode: Mapped[str | None] = mapped_column(String(10))  # calendar | working
    check: Mapped[str | None] = mapped_column(String(60))  # automated check name, if any
    rule: Mapped[str | None] = mapped_column(Text)  # the rule behind it, as text
    notice_heading: Mapped[str | None] = mapped_column(Text)  # how the notice introduces it
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    #: The target kinds it applies to when more than one (["website", "column"]); empty: the
    #: single ``target_kind``.
    target_kinds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: The notice theme (a heading of 存在的主要问题) it is grouped under; none: its own heading.
    theme: Mapped[str | None] = mapped_column(String(200))
    #: Its notice wording, per target kind: {"_": {...}, "new_media": {"heading": ..,
    #: "phrase": .., "elaboration": ..}}; keys as in reports/templates/notice_categories.yaml.
    wording: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Retired: kept for the cases that name it, offered for no new finding.
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class Round(Base):
    """检查轮次: one quarter's inspection, with its inventory and deadline settings."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # 2021Q2
    #: The office that runs the round over its subtree (none: the installation's defaults).
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    notice_date: Mapped[date | None] = mapped_column(Date)
    doc_number: Mapped[str | None] = mapped_column(String(100))  # e.g. X政办字〔2021〕72号
    #: An explicit rectification deadline for every case of the round (overrides categories).
    deadline: Mapped[date | None] = mapped_column(Date)
    deadline_days: Mapped[int | None] = mapped_column(Integer)
    deadline_mode: Mapped[str | None] = mapped_column(String(10))
    published_at: Mapped[datetime | None]
    # Inventory figures of the quarter (reported, not derivable from the registry).
    nm_registered: Mapped[int | None] = mapped_column(Integer)  # 新增登记政务新媒体
    nm_wechat_closed: Mapped[int | None] = mapped_column(Integer)  # 关停注销微信公众号
    nm_other_deregistered: Mapped[int | None] = mapped_column(Integer)  # 注销其他账号
    #: Editable notice texts (requirements, preamble, ...), keyed by section.
    notice_texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The notice's data blocks beyond cases (commendations, consultation, reprints,
    #: clean-up, in-round recheck): {kind: {...}}, validated by services.rounds.blocks.
    blocks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    issuer: Mapped[Issuer | None] = relationship()


class BoardFigure(Base):
    """A message board's figures for a round: messages received, replies overdue."""

    __tablename__ = "board_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    messages_received: Mapped[int] = mapped_column(Integer, default=0)
    replies_overdue: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("round_id", "target_id"),)


class Verdict(Base):
    """Per round and target: inspected or not; qualified unless a veto case or an override."""

    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    inspected: Mapped[bool] = mapped_column(Boolean, default=True)
    #: None: derived from veto-level cases. True/False: a supervisor's override.
    qualified_override: Mapped[bool | None] = mapped_column(Boolean)
    override_reason: Mapped[str | None] = mapped_column(Text)
    praise: Mapped[str | None] = mapped_column(Text)  # 通报表扬, with the reason

    __table_args__ = (UniqueConstraint("round_id", "target_id"),)


#: Partial indexes of the live dashboard (services/reports/): veto cases, escalated cases.
VETO_ONLY = {f"{db}_where": text("severity = 'veto'") for db in ("postgresql", "sqlite")}
ESCALATED_ONLY = {f"{db}_where": text("state = 'escalated'") for db in ("postgresql", "sqlite")}


class Case(Base):
    """整改案件: one problem of one target found in one round."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    severity: Mapped[str] = mapped_column(String(20))  # veto | deduction
    description: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    state: Mapped[str] = mapped_column(String(20), default="found")
    deadline: Mapped[date | None] = mapped_column(Date)
    deadline_mode: Mapped[str | None] = mapped_column(String(10))
    notified_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    #: The deadline the last overdue escalation was for (so a sweep escalates once per deadline).
    escalated_for_deadline: Mapped[date | None] = mapped_column(Date)
    #: Cumulative notices along the repeat chain, this case's own included.
    notices_city: Mapped[int] = mapped_column(Integer, default=0)
    notices_province: Mapped[int] = mapped_column(Integer, default=0)
    notices_county: Mapped[int] = mapped_column(Integer, default=0)
    #: The earlier round's case this one continues; an open one was carried over (state
    #: ``continued``) when this case was opened.
    previous_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), unique=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    target: Mapped[Target] = relationship()
    unit: Mapped[Unit] = relationship()
    round: Mapped[Round] = relationship()
    category: Mapped[Category] = relationship()
    previous: Mapped[Case | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("round_id", "target_id", "category_code", name="finding"),
        # Keyset pages in id order for a state, or a round and state (bench/README.md, EXPLAIN).
        Index("ix_cases_state_id", "state", "id"),
        Index("ix_cases_round_state", "round_id", "state", "id"),
        # Open cases in deadline order: the overdue list, the dashboard's most overdue and
        # the sweep (the term as ``queries.in_overdue_states`` renders it, so that SQLite
        # matches it too).
        Index(
            "ix_cases_open_deadline",
            "deadline",
            "id",
            postgresql_where=text("state IN ('notified', 'rectifying', 'escalated')"),
            sqlite_where=text("state IN ('notified', 'rectifying', 'escalated')"),
        ),
        # Covering indexes for the dashboard's counts (bench_web). Every index costs each
        # state change a write: deadlines are read through ix_cases_open_deadline only.
        Index("ix_cases_state_unit", "state", "unit_id"),
        Index("ix_cases_state_category", "state", "category_code"),
        Index("ix_cases_veto_target", "round_id", "target_id", **VETO_ONLY),
        Index("ix_cases_escalated", "escalation_level", "id", **ESCALATED_ONLY),
        CheckConstraint(
            "state IN ('found', 'notified', 'rectifying', 'submitted', 'verified', 'escalated', "
            "'continued')",
            name="state",
        ),
        CheckConstraint("severity IN ('veto', 'deduction')", name="severity"),
    )


class CaseNotice(Base):
    """One notice (通报) of a case's problem, by this city or a higher level."""

    __tablename__ = "case_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))  # city | province
    issuer: Mapped[str] = mapped_column(String(200))
    notified_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))  # document number


class CaseEvent(Base):
    """Append-only history of a case: every transition and every recorded act."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(40))  # a Trigger, or created/extend_deadline/...
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    actor_kind: Mapped[str] = mapped_column(String(20))  # user | unit | system
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: sha256 over the case's previous event hash and this event (``services.db.event_chain``).
    hash: Mapped[str | None] = mapped_column(String(64))


class Submission(Base):
    """A unit's rectification report for a case, and the supervisor's review of it."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    responsible_person: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    submitted_at: Mapped[datetime]
    review_result: Mapped[str | None] = mapped_column(String(20))  # accepted | rejected
    reviewer: Mapped[str | None] = mapped_column(String(200))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]

    attachments: Mapped[list[Attachment]] = relationship(back_populates="submission")


class Attachment(Base):
    """A file of a submission, stored on disk under a random name, outside any served folder."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    submission: Mapped[Submission] = relationship(back_populates="attachments")


class OutboxMessage(Base):
    """A notice written in the transaction that caused it (an email, or a robot message);
    delivered later, never twice."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency key of the cause
    template: Mapped[str] = mapped_column(String(60))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    to_addrs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cc_addrs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    #: ``email``, or the kind of the robot (``channel_id``, a ``UnitChannel``) it goes to.
    channel: Mapped[str] = mapped_column(String(20), default="email", server_default="email")
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("unit_channels.id"), index=True)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        # The dispatcher's claim reads (status, next_attempt_at) from the index alone, not
        # every due row from the table; lists by status use it too.
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
    )


class CheckResult(Base):
    """The outcome of an automated (or manual) check of a case, with what was seen."""

    __tablename__ = "check_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    check: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(20))  # fixed | present | unknown
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    checked_at: Mapped[datetime]
    run_ref: Mapped[str | None] = mapped_column(String(100))  # flow run id, command, person

    __table_args__ = (
        CheckConstraint("outcome IN ('fixed', 'present', 'unknown')", name="outcome"),
    )


# The access tables (accounts, sessions, tokens, portal links) live beside these, in their own
# module; importing it here puts them on ``Base.metadata`` wherever the schema is used.
from services.db import (  # noqa: E402, F401
    access_models,
    channel_models,
    count_models,
    issuer_models,
    settings_models,
)
