"""One settings object, read from ``RECTIFY_*`` environment variables."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The platform's place for an application's data (``~/.local/share/rectify`` on Linux,
    ``$XDG_DATA_HOME/rectify`` when set); a service sets ``RECTIFY_DATA_DIR`` (e.g.
    ``/var/lib/rectify``)."""
    return Path(user_data_dir("rectify", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECTIFY_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="where the installation keeps its files: attachments/, the default SQLite"
        " database, the Prefect server of `rectify up` (prefect/); never the source tree",
    )
    database_url: str = Field(
        default_factory=lambda data: f"sqlite:///{data['data_dir'] / 'rectify.db'}",
        description="SQLAlchemy URL; the embedded default is rectify.db in data_dir",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="the zone every time a person reads is shown in, and days are counted in",
    )
    as_of: date | None = Field(
        default=None,
        description="run this process as of this day, over the day stored in the database"
        " (`rectify clock`); empty: the stored day, else today",
    )
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(default="", description="signs unit links and session cookies")
    archive_key: str = Field(
        default="", description="signs backup archives (HMAC-SHA256); empty: secret_key"
    )

    # Batches of a recheck or sweep run, spread over Dask worker processes (flows/distributed.py).
    dask_address: str = Field(
        default="",
        description="a running Dask scheduler (tcp://host:8786) whose `dask worker` processes,"
        " on any machine, run the batches; empty: the flow run starts a local cluster",
    )
    batch_workers: int = Field(
        default=0,
        description="worker processes of the local cluster; 0: the CPU count on PostgreSQL,"
        " one in-process worker on SQLite (one writer)",
    )

    # Deadlines and escalation: configurable defaults, not law.
    default_deadline_days: int = 10
    default_deadline_mode: str = "calendar"  # calendar | working
    repeat_offender_threshold: int = 2  # notified this many times or more → escalate at once
    reminder_days_before: list[int] = [3, 1]

    # SMTP: where the outbox delivers mail.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_tls: bool = False  # implicit TLS (port 465); smtp_starttls upgrades a plain connection
    smtp_timeout_seconds: float = 30.0
    outbox_concurrency: int = 8  # SMTP connections the dispatcher keeps open while sending
    robot_concurrency: int = Field(
        default=4, description="robot messages (企业微信、钉钉、飞书) the dispatcher posts at once"
    )
    robot_timeout_seconds: float = Field(
        default=10.0, description="how long the dispatcher waits for a robot webhook's answer"
    )
    mail_from: str = "rectify@localhost"
    mail_from_name: str = "市政府办公室政府网站监管"
    supervisor_email: str = ""
    outbox_backlog_alert: int = Field(
        default=500,
        description="the dispatch run emits a `rectify.outbox.backlog` Prefect event (which"
        " `rectify alerts install` turns into a notice) when more messages than this wait",
    )
    alert_urls: str = Field(
        default="",
        description="Apprise URLs (space- or comma-separated: wecombot://, dingtalk://,"
        " mailto://, json://…) the operators' alerts go to; empty: no automations installed",
    )

    # Pass rates: decimals and rounding (a round may override both).
    pass_rate_decimals: int = 2
    pass_rate_rule: str = "round_half_up"  # round_half_up | truncate

    # Web: uploads, login throttling.
    upload_max_mb: int = 20  # per attachment
    upload_max_files: int = 10
    import_max_mb: int = 50  # a browser import's files together (the CLI has no limit)
    login_max_failures: int = 5  # within the window, per account name (from any address)
    login_window_minutes: int = 15
    trusted_proxies: str = Field(
        default="",
        description="addresses (comma-separated, CIDR allowed) of the reverse proxies whose"
        " X-Forwarded-For/-Proto `rectify serve` believes; empty: none, not even loopback",
    )
    # Operators: logs and the metrics endpoint.
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="json: one JSON object per log line (time, level, logger, message,"
        " request_id) from the web app and the commands; text: logging left as it is",
    )
    metrics_token: str = Field(
        default="",
        description="a bearer token /metrics asks for (Authorization: Bearer …); empty:"
        " /metrics answers only requests from loopback that no proxy forwarded",
    )

    # Automated checks: the national inspection rules as configurable defaults.
    check_user_agent: str = "rectify-recheck/0.1 (政府网站检查复核)"
    check_timeout_seconds: float = 15.0  # a visit fails when the page has not loaded in 15 s
    check_max_concurrency: int = 100  # requests in flight over all hosts
    check_per_host_concurrency: int = 4  # requests in flight to one host
    check_dns_nameservers: list[str] = []  # empty: the system's resolvers
    check_dns_port: int = 53
    check_dns_timeout_seconds: float = 5.0
    check_reach_samples: int = 20  # national rule: ≥ 20 visits a day for a week
    check_reach_window_seconds: float = 600.0  # shortened for rechecks; 604800 = one week
    check_reach_failure_threshold: float = 0.05
    # The quarterly inspection (services/rounds/inspection.py): a short reachability sample
    # per site, and check requests per chunk (one run of the checks, one transaction).
    check_inspection_reach_samples: int = 3
    check_inspection_reach_window_seconds: float = 0.0
    check_inspection_batch: int = 2000
    column_stale_days: dict[str, int] = {
        "homepage": 14,  # a website target's own page is its homepage (首页不更新: 2 weeks)
        "news": 14,
        "notice": 180,
        "policy": 180,
        "other": 30,
    }
    column_stale_days_by_target: dict[str, int] = {}  # target code → days, overrides the type
    check_max_links: int = 300  # links requested per page at most
    check_page_keep_chars: int = 4000  # the trimmed copy of a page kept as evidence

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"RECTIFY_TIMEZONE 不是已知的时区名：{value}（如 Asia/Shanghai）"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The zone of ``timezone``."""
        return ZoneInfo(self.timezone)


def load_settings(**overrides) -> Settings:
    """Read settings from the environment; keyword overrides win (tests use them)."""
    return Settings(**overrides)
