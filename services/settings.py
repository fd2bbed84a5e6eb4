"""One settings object, read from ``RECTIFY_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECTIFY_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'rectify.db'}",
        description="SQLAlchemy URL; the embedded default is a SQLite file under var/",
    )
    data_dir: Path = Field(default=PROJECT_ROOT / "var" / "data")
    timezone: str = "Asia/Shanghai"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(default="", description="signs unit links and session cookies")

    # Deadlines and escalation (DOMAIN-RULES §6: configurable defaults, not law).
    default_deadline_days: int = 10
    default_deadline_mode: str = "calendar"  # calendar | working
    repeat_offender_threshold: int = 2  # notified this many times or more → escalate at once
    reminder_days_before: list[int] = [3, 1]

    # SMTP (notifications issue).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_tls: bool = False
    mail_from: str = "rectify@localhost"
    mail_from_name: str = "市政府办公室政府网站监管"
    supervisor_email: str = ""

    # Pass rates (DOMAIN-RULES §5).
    pass_rate_decimals: int = 2
    pass_rate_rule: str = "round_half_up"  # round_half_up | truncate


def load_settings(**overrides) -> Settings:
    """Read settings from the environment; keyword overrides win (tests use them)."""
    return Settings(**overrides)
